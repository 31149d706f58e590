"""The word lists the rules read, each kind once; the regexes that read them are generated from them.

- :data:`SPEECH_VERBS`: the verbs that introduce what someone said, as lemmas. The parse reads the lemmas (a token
  is a verb there); the surface patterns, which cannot tell a verb from a noun, read :data:`SPEECH_FORMS`: every
  verb's past form, and its present forms where they are not also common nouns ('says' and 'tells', not 'states'
  or 'reports').
- :data:`SPEAKER_PRONOUNS`: the pronouns a speaker may be named by ('she said'), resolved to a person later.
- :data:`SMALL_WORDS`: the words a title leaves in lower case ('Contract with America').
"""

from __future__ import annotations

from ._table import alternation

#: Verbs that introduce what someone said (lemmas), alphabetical.
SPEECH_VERBS: tuple[str, ...] = (
    "accuse",
    "acknowledge",
    "add",
    "admit",
    "announce",
    "answer",
    "argue",
    "ask",
    "blast",
    "boast",
    "brand",
    "call",
    "caution",
    "chant",
    "charge",
    "cite",
    "claim",
    "comment",
    "complain",
    "concede",
    "conclude",
    "condemn",
    "confirm",
    "contend",
    "continue",
    "counter",
    "criticize",
    "declare",
    "defend",
    "demand",
    "deny",
    "deride",
    "describe",
    "dismiss",
    "dub",
    "emphasize",
    "exclaim",
    "explain",
    "hail",
    "insist",
    "joke",
    "label",
    "lament",
    "mock",
    "muse",
    "note",
    "observe",
    "plead",
    "pledge",
    "post",
    "praise",
    "predict",
    "proclaim",
    "promise",
    "quip",
    "quote",
    "recall",
    "remark",
    "repeat",
    "reply",
    "report",
    "respond",
    "say",
    "scoff",
    "scold",
    "shout",
    "sing",
    "state",
    "stress",
    "suggest",
    "tell",
    "testify",
    "tweet",
    "urge",
    "vow",
    "warn",
    "wonder",
    "write",
    "yell",
)

#: The forms the surface patterns read (today's list, to be generated from :data:`SPEECH_VERBS`).
SPEECH_FORMS: tuple[str, ...] = (
    "acknowledged",
    "added",
    "adds",
    "admitted",
    "announced",
    "argued",
    "asked",
    "asks",
    "boasted",
    "cautioned",
    "chanted",
    "charged",
    "claimed",
    "commented",
    "complained",
    "conceded",
    "concluded",
    "continued",
    "countered",
    "declared",
    "demanded",
    "emphasized",
    "explained",
    "insisted",
    "joked",
    "noted",
    "predicted",
    "quipped",
    "recalled",
    "remarked",
    "replied",
    "responded",
    "said",
    "sang",
    "say",
    "says",
    "shouted",
    "sings",
    "stated",
    "stressed",
    "tells",
    "testified",
    "told",
    "tweeted",
    "warned",
    "writes",
    "wrote",
    "yelled",
)
#: The lemmas, for the parse (today's list).
SPEECH_LEMMAS = frozenset(SPEECH_VERBS) - {"comment"}
#: A regex alternation of :data:`SPEECH_FORMS` (non-capturing).
SPEECH = alternation(SPEECH_FORMS)

#: The pronouns a speaker may be named by.
SPEAKER_PRONOUNS = frozenset(["he", "she", "they"])

#: The words a title leaves in lower case.
SMALL_WORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "vs"]
)
