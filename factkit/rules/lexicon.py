"""The word lists the rules read, each kind once; the regexes that read them are generated from them.

- :data:`SPEECH_VERBS`: the verbs that introduce what someone said, as lemmas, each once. The parse reads them all
  (:data:`SPEECH_LEMMAS`: a token is a verb there, with a subject); the surface patterns, which cannot tell a verb
  from a noun nor see what it governs, read :data:`SPEECH_FORMS`: the past form of each verb marked for them, and
  the present forms of a few ('says' and 'tells', not 'states' or 'reports', which are as often plural nouns).
- :data:`SPEAKER_PRONOUNS`: the pronouns a speaker may be named by ('she said'), resolved to a person later.
- :data:`SMALL_WORDS`: the words a title leaves in lower case ('Contract with America').
- :data:`PICTURE_WORDS` and :data:`CREDIT_LABELS`: what labels a picture or its credit ('Image: Jane Doe', 'Credit:
  AP', 'Source: Reuters').
"""

from __future__ import annotations

from ._table import alternation

#: Verbs that introduce what someone said (lemmas), alphabetical, each with whether the surface patterns read it too.
#: ``True``: the verb introduces speech on its own ('said', 'told', 'noted'). ``False``: the parse reads it, which
#: sees its subject and object, and the surface patterns do not: alone, its past form is as often no attribution
#: ('Schiff called on the administration', 'Ban Ki-moon condemned what he called ...', 'Julie Hirschfeld Davis
#: reported from Midway', 'the holiday is observed'; measured on PolNeAR and its sentence facts, see CHANGELOG).
SPEECH_VERBS: dict[str, bool] = {
    "accuse": False,
    "acknowledge": True,
    "add": True,
    "admit": True,
    "announce": True,
    "answer": False,
    "argue": True,
    "ask": True,
    "blast": False,
    "boast": True,
    "brand": False,
    "call": False,
    "caution": True,
    "chant": True,
    "charge": True,
    "cite": False,
    "claim": True,
    "comment": True,
    "complain": True,
    "concede": True,
    "conclude": True,
    "condemn": False,
    "confirm": False,
    "contend": False,
    "continue": True,
    "counter": True,
    "criticize": False,
    "declare": True,
    "defend": False,
    "demand": True,
    "deny": False,
    "deride": False,
    "describe": False,
    "dismiss": False,
    "dub": False,
    "emphasize": True,
    "exclaim": False,
    "explain": True,
    "hail": False,
    "insist": True,
    "joke": True,
    "label": False,
    "lament": False,
    "mock": False,
    "muse": False,
    "note": True,
    "observe": False,
    "plead": False,
    "pledge": False,
    "post": False,
    "praise": False,
    "predict": True,
    "proclaim": False,
    "promise": False,
    "quip": True,
    "quote": False,
    "recall": True,
    "remark": True,
    "repeat": False,
    "reply": True,
    "report": False,
    "respond": True,
    "say": True,
    "scoff": False,
    "scold": False,
    "shout": True,
    "sing": True,
    "state": True,
    "stress": True,
    "suggest": False,
    "tell": True,
    "testify": True,
    "tweet": True,
    "urge": False,
    "vow": False,
    "warn": True,
    "wonder": False,
    "write": True,
    "yell": True,
}

#: Past forms that do not add -ed (or -d, -ied) to the lemma.
_PAST = {
    "say": "said",
    "tell": "told",
    "write": "wrote",
    "sing": "sang",
    "quip": "quipped",
    "admit": "admitted",
    "dub": "dubbed",
}


def past(lemma: str) -> str:
    """The past form of a speech verb ('said', 'noted', 'replied')."""
    if lemma in _PAST:
        return _PAST[lemma]
    if lemma.endswith("e"):
        return lemma + "d"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ied"
    return lemma + "ed"


def present(lemma: str) -> str:
    """The third person present form of a speech verb ('says', 'stresses', 'replies')."""
    if lemma.endswith(("s", "sh", "ch", "x", "z")):
        return lemma + "es"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies"
    return lemma + "s"


#: The speech verbs whose present form the surface patterns read too ('says', 'tells'); the others' present forms
#: are as often plural nouns ('states', 'reports', 'claims', 'charges', 'notes').
PRESENT_READ = frozenset(["add", "ask", "say", "sing", "tell", "write"])

#: The lemmas, for the parse.
SPEECH_LEMMAS = frozenset(SPEECH_VERBS)
_SURFACE = [verb for verb, surface in SPEECH_VERBS.items() if surface]
#: The forms the surface patterns read: the past form of each verb they read, the present forms of
#: :data:`PRESENT_READ`, and 'say'.
SPEECH_FORMS: tuple[str, ...] = tuple(
    sorted({"say", *(past(v) for v in _SURFACE), *(present(v) for v in _SURFACE if v in PRESENT_READ)})
)
#: A regex alternation of :data:`SPEECH_FORMS` (non-capturing).
SPEECH = alternation(SPEECH_FORMS)

#: The pronouns a speaker may be named by.
SPEAKER_PRONOUNS = frozenset(["he", "she", "they"])

#: The words a title leaves in lower case.
SMALL_WORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "vs"]
)

#: The words that label a picture on a page ('Image: Jane Doe', 'Photo: AP'), or end a name the tagger ran into a
#: caption ('Andreas Granqvist Image').
PICTURE_WORDS: tuple[str, ...] = ("Image", "Photo", "Picture", "Video", "File")
#: The words that label a credit ('Credit: AP', 'Source: Reuters').
CREDIT_LABELS: tuple[str, ...] = ("Credit", "Source")
