"""Facts that read alone.

A fact copied from the article is exact, but a sentence often leans on the one before it: "He said the rulings
involved Iraqis", "That number is closer to 40,000", "Microsoft has replaced it". From the parse and the entity
mentions, :func:`stand_alone` finds what a statement leans on, names the person a "he" or "she" stands for when
the article leaves no doubt (the named subject of the sentence right before, which names no one else), and says in
``Fact.needs_context`` what still leans on the article. The evidence stays the exact source span.

Each rule is data (:data:`RULES`): an id, why it exists, and examples it must and must not flag
(``tests/test_standalone.py`` runs them all).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from ._document import Document
from ._models import Entity, Evidence, Fact, KeyPoint
from ._records import says_again
from .rules.lexicon import SPEECH_LEMMAS
from .rules.quotes import open_quotation, passages
from .rules.statements import bare_quote, stands_alone

__all__ = ["RULES", "Rule", "context_needs", "stand_alone"]


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    examples: tuple[str, ...] = field(default_factory=tuple)
    counter_examples: tuple[str, ...] = field(default_factory=tuple)


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "person-pronoun",
            "a he/she/him/his/her with no person before it in the statement stands for someone named earlier",
            ("He said the rulings involved Iraqis.", "Her lawyers appealed the ruling on Monday."),
            ("Judge Cormac Carney said he would rule soon.", "The judge said he would rule soon."),
        ),
        Rule(
            "thing-pronoun",
            "an it/its/they/them/their with no noun before it that it can stand for points at an earlier sentence",
            ("Microsoft has replaced it with three newer versions.", "They were released from custody."),
            ("The Cambodians said they would appeal.", "It is unclear whether the court will agree to hear it."),
        ),
        Rule(
            "first-person",
            "an I/we/my/our outside quotation marks is a speaker's voice with no speaker named",
            ("We should inspire more kids like you to like science.", "I visited the church's offices on Friday."),
            ('"We will appeal," the lawyer said.', "The lawyer said the firm would appeal."),
        ),
        Rule(
            "demonstrative",
            "'this', 'that', 'these' or 'those' as a pronoun, or before a noun that is not a time, points back",
            (
                "Due to that, the religion was relatively secretive.",
                "That number is closer to 40,000, the church estimates.",
            ),
            (
                "The council met this week to vote on the bridge.",
                "Officials said that the bridge would open.",
                "Three judges issued similar rulings. Those rulings involved Iraqis.",
            ),
        ),
        Rule(
            "quotation-piece",
            "a sentence inside a quotation that runs over several sentences has no speaker and no whole quotation",
            ("\"So far, it's the Internet: 1, Scientology: 0.",),
            ('"We will appeal," the lawyer said.',),
        ),
        Rule(
            "quotation-alone",
            "a quotation and nothing else names no one to say it",
            ('"A new obsession is taking hold on the internet."', "‘We will not raise taxes’."),
            ('"We will appeal," the lawyer said.', "The lawyer said the firm would appeal."),
        ),
    )
}

_PERSON = frozenset(["he", "she", "him", "his", "her", "hers", "himself", "herself"])
_THING = frozenset(["it", "its", "they", "them", "their", "theirs"])
_DEMONSTRATIVE = frozenset(["this", "that", "these", "those"])
_FIRST_PERSON = frozenset(["i", "we", "me", "us", "my", "our", "mine", "ours", "myself", "ourselves"])
#: "this week", "that day": a time, not a pointer to an earlier sentence.
_TIME_NOUNS = frozenset(
    [
        "week",
        "weekend",
        "year",
        "month",
        "day",
        "days",
        "time",
        "times",
        "morning",
        "afternoon",
        "evening",
        "night",
        "season",
        "summer",
        "winter",
        "spring",
        "autumn",
        "fall",
        "century",
        "decade",
        "hour",
        "minute",
        "moment",
        "point",
        "stage",
        "quarter",
        "term",
        "era",
        "period",
    ]
)
_SUBJECTS = frozenset(["nsubj", "nsubjpass"])
_OBJECTS = frozenset(["dobj", "obj", "iobj", "dative", "pobj"])


def _inside_quotation(token: Any) -> bool:
    """Whether ``token`` is a word of a quotation of its article (one continued over paragraphs included)."""
    return bool(_quoted_between(token.doc, token.idx, token.idx + 1))


_QUOTED_KEY = "factkit.quoted"


def _quoted_between(parsed: Any, a0: int, b0: int) -> list[tuple[int, int]]:
    """The quotations of the parsed article that overlap ``[a0, b0)`` (:func:`passages`: in order, none inside
    another), found by bisection: an article may hold thousands. They are read once per parse (kept in its
    ``user_data``): spaCy joins ``Doc.text`` anew on every read."""
    found = parsed.user_data.get(_QUOTED_KEY)
    if found is None:
        quoted = passages(parsed.text)
        found = parsed.user_data[_QUOTED_KEY] = ([a for a, _ in quoted], [b for _, b in quoted])
    starts, ends = found
    first, last = bisect.bisect_right(ends, a0), bisect.bisect_left(starts, b0)
    return list(zip(starts[first:last], ends[first:last], strict=True))


def _quotation_of(span: Any) -> str | None:
    """'quotation-piece' when ``span`` opens a quotation it does not close (or the reverse), or a quotation of the
    article runs on past either end of it: it has no whole quotation, nor its speaker. 'quotation-alone' when every
    word of ``span`` is quoted. Else ``None``."""
    text, a0, b0 = span.text, span.start_char, span.end_char
    inside = _quoted_between(span.doc, a0, b0)
    if open_quotation(text) or any(a < a0 or b > b0 for a, b in inside):
        return "quotation-piece"
    quoted = sum(1 for a, b in inside for c in text[max(a, a0) - a0 : min(b, b0) - a0] if c.isalnum())
    if bare_quote(text) or (inside and quoted == sum(1 for c in text if c.isalnum())):
        return "quotation-alone"  # every letter and digit of it is inside a quotation (they never overlap)
    return None


def _expletive(token: Any) -> bool:
    """'It is unclear whether...', 'It was announced that...': an 'it' that stands for a clause after it."""
    if token.lower_ != "it" or token.dep_ not in _SUBJECTS:
        return False
    head = token.head
    predicate = head.lemma_ in ("be", "seem", "appear") or any(c.dep_ == "auxpass" for c in head.children)
    return predicate and any(c.dep_ in ("xcomp", "ccomp", "csubj") and c.i > token.i for c in head.children)


def _has_antecedent(token: Any, span: Any) -> bool:
    """A noun before ``token`` in the statement that it can stand for (not the subject of its own verb when it is
    that verb's object: in 'Microsoft has replaced it', 'it' is not Microsoft; not a word of a quotation when the
    pronoun is outside it)."""
    person = token.lower_ in _PERSON
    for t in span:
        if t.i >= token.i:
            return False
        if t.pos_ not in ("PROPN", "NOUN") or _inside_quotation(t):
            continue  # a quotation's words are its speaker's: '"The team won," he said' - he is not the team
        if token.dep_ in _OBJECTS and t.head == token.head and t.dep_ in _SUBJECTS:
            continue  # a co-argument: a pronoun object never stands for its own verb's subject
        if person and not (t.pos_ == "PROPN" or t.dep_ in _SUBJECTS or t.ent_type_ == "PERSON"):
            continue  # 'In a ruling on Thursday, he...': 'ruling' is no one
        return True
    return False


def context_needs(span: Any) -> list[tuple[str, Any]]:
    """What the statement parsed as ``span`` (a spaCy span) leans on: (rule id, token) pairs, in order."""
    out: list[tuple[str, Any]] = []
    quotation = _quotation_of(span)
    if quotation is not None:
        out.append((quotation, span[0]))
        if quotation == "quotation-alone":
            return out  # its words are its speaker's, whoever that is
    for token in span:
        if _inside_quotation(token):
            continue  # a quotation's words are its speaker's: the quotation as a whole is attributed
        low = token.lower_
        if low in _PERSON and token.pos_ == "PRON":
            if not _has_antecedent(token, span):
                out.append(("person-pronoun", token))
        elif low in _FIRST_PERSON and token.pos_ == "PRON":
            out.append(("first-person", token))
        elif low in _THING and token.pos_ == "PRON":
            if not _expletive(token) and not _has_antecedent(token, span):
                out.append(("thing-pronoun", token))
        elif low in _DEMONSTRATIVE and token.tag_ == "DT":
            if token.dep_ == "det":
                noun = token.head.lemma_.lower()
                said = any(t.i < token.i and t.lemma_.lower() == noun and t.pos_ in ("NOUN", "PROPN") for t in span)
                if noun not in _TIME_NOUNS and not said:  # 'similar rulings ... Those rulings': it is right there
                    out.append(("demonstrative", token))
            elif token.dep_ != "mark":
                out.append(("demonstrative", token))
    return out


_MALE = frozenset(["he", "him", "his", "himself"])
#: Sentence index -> the name its subject he/she was given, the pronoun's gender ("m" or "f") and its offset.
_Resolved = dict[int, tuple[str, str, int]]


def _gender(token: Any) -> str:
    return "m" if token.lower_ in _MALE else "f"


def _previous_subject(
    doc: Document,
    entities: list[Entity],
    parsed: Any,
    start: int,
    named_here: set[str],
    resolved: _Resolved,
    gender: str,
) -> str | None:
    """The person who is the subject of the sentence right before ``start`` ("Lee Gelernt of the ACLU represents
    them."), when that sentence names no one else who could be meant; ``None`` otherwise (an unnamed subject, "a
    government lawyer", or two people: then a "he" could be either, and is left as written).

    Someone the statement itself names (``named_here``) is not who its pronoun stands for ('He traveled to meet
    Devocht' after 'Montalvo contacted Devocht': he is Montalvo). A subject that is itself a he or she that was
    given a name (``resolved``: sentence index -> name, gender and the pronoun's offset) passes the name on to a
    pronoun of the same gender: 'Ann Lee was born in Bern. She joined the choir at 14. In 1995, she was told...'."""
    at = bisect.bisect_right([s.end for s in doc.sentences], start) - 1  # the last sentence ending by ``start``
    if at < 0:
        return None
    prev = doc.sentences[at]
    people = {
        e.name: (m.start, m.end)
        for e in entities
        if e.type == "person" and e.name not in named_here
        for m in e.mentions
        if prev.start <= m.start < prev.end
    }
    span = parsed.char_span(prev.start, prev.end, alignment_mode="expand")
    if span is None:
        return None
    subjects = [t for t in span if t.dep_ in _SUBJECTS and t.head.dep_ == "ROOT"]  # of each main clause
    if at in resolved and not people:
        name, said_as, where = resolved[at]
        if said_as == gender and any(t.idx == where for t in subjects):
            return name
        return None
    if len(people) != 1:
        return None
    ((name, (a, b)),) = people.items()
    for subject in subjects:
        if any(c.dep_ == "conj" for c in subject.children):
            return None  # 'Thomas Sam and his wife Manju Sam': a pair, not one person
        if a <= subject.idx < b or any(a <= t.idx < b for t in subject.subtree if t.i <= subject.i):
            return name
    return None


def stand_alone(
    doc: Document,
    facts: list[Fact],
    entities: list[Entity],
    parsed: Any,
    key_points: list[KeyPoint] | None = None,
    tldr: str = "",
) -> None:
    """Make each fact read alone where the article leaves no doubt, and say what it still leans on.

    A copied sentence whose first lean is a he/she/him/his/her gets the person who is the named subject of the
    sentence right before it, and the only person it names who could be meant (:func:`_previous_subject`), unless
    the article shows that person with the other gender: its statement says the name, the evidence is unchanged,
    an attribution gets its speaker when the pronoun says it. Whatever still leans on an earlier sentence is named in
    ``needs_context``. Key points follow their facts, and one whose
    fact still leans on the article gives way to the next fact that reads alone (never the ``tldr`` again)."""
    resolved: _Resolved = {}
    genders: dict[str, set[str]] | None = None  # read from the article when a pronoun first needs a name
    starts = [s.start for s in doc.sentences]
    for fact in sorted(facts, key=lambda f: f.evidence.start):
        ev = fact.evidence
        span = parsed.char_span(ev.start, ev.end, alignment_mode="expand")
        if span is None:
            continue
        needs = context_needs(span)
        copied = fact.statement == " ".join(ev.text.split())
        if copied and needs and needs[0][0] == "person-pronoun" and not _subject_before(needs[0][1], span):
            token = needs[0][1]
            # a subject he/she is none of the people its own sentence names ('He said Mary Brown was innocent');
            # a his/her may be ('Her coach said Mary Smith had played well')
            named_here = (
                {e.name for e in entities if any(ev.start <= m.start and m.end <= ev.end for m in e.mentions)}
                if token.dep_ == "nsubj"
                else set()
            )
            gender = _gender(token)
            name = _previous_subject(doc, entities, parsed, ev.start, named_here, resolved, gender)
            if name is not None:
                genders = _genders(doc, entities, parsed) if genders is None else genders
                shown = genders.get(name, set())
                if _other(gender) in shown and gender not in shown:
                    name = None  # the article calls that person by the other gender's pronouns or title
            if name is not None:
                if token.dep_ in _SUBJECTS:
                    resolved[bisect.bisect_right(starts, token.idx) - 1] = (name, gender, token.idx)
                words = name + ("’s" if token.tag_ == "PRP$" else "")
                at = token.idx - ev.start
                body = ev.text[:at] + words + ev.text[at + len(token.text) :]
                fact.statement = " ".join(body.split())
                fact.shaped_by.append(PRONOUN_NAMED)
                speaks = token.dep_ == "nsubj" and token.head.lemma_.lower() in SPEECH_LEMMAS
                if fact.kind in ("attribution", "quote") and fact.speaker is None and speaks:
                    fact.speaker = name  # who says it ('she said'), not who is told ('she was told')
                if name not in fact.entities:
                    fact.entities.append(name)
                # the name now stands before the other subject and possessive pronouns of the same gender: they
                # have it to lean on ('she was told to cut contact with her mother'); an object pronoun may be
                # someone else ('He said he would sign him')
                needs = [
                    (rule, t)
                    for rule, t in needs[1:]
                    if not (
                        rule == "person-pronoun" and _gender(t) == gender and (t.dep_ in _SUBJECTS or t.tag_ == "PRP$")
                    )
                ]
        if needs:
            words = ", ".join(dict.fromkeys(_describe(rule, token) for rule, token in needs))
            fact.needs_context = f"leans on an earlier sentence: {words}"
        else:
            fact.needs_context = None
    facts[:] = _with_the_sentence_before(doc, facts, parsed)
    if key_points is None:
        return
    # a key point follows its fact: renamed, or grown into the fact that took in the sentence before it
    keep: list[KeyPoint] = []
    used: set[tuple[int, int]] = set()
    for point in key_points:
        first = point.evidence[0]
        owner = next((f for f in facts if f.evidence.start <= first.start and first.end <= f.evidence.end), None)
        if owner is None or owner.needs_context or (owner.evidence.start, owner.evidence.end) in used:
            continue
        if says_again(owner.statement, tldr):
            continue
        keep.append(KeyPoint(text=owner.statement, evidence=[owner.evidence]))
        used.add((owner.evidence.start, owner.evidence.end))
    for fact in facts:
        if len(keep) >= len(key_points):
            break
        where = (fact.evidence.start, fact.evidence.end)
        if where in used or fact.needs_context or says_again(fact.statement, tldr) or not stands_alone(fact.statement):
            continue
        keep.append(KeyPoint(text=fact.statement, evidence=[fact.evidence]))
        used.add(where)
    key_points[:] = sorted(keep, key=lambda p: p.evidence[0].start)


#: A fact that leans on the sentence right before it takes that sentence in when together they read alone, up to
#: this many characters.
WITH_BEFORE_CHARS = 600
#: ``Fact.shaped_by`` ids of what :func:`stand_alone` does to a statement.
PRONOUN_NAMED = "pronoun-named"
SENTENCE_BEFORE = "sentence-before"


def _with_the_sentence_before(doc: Document, facts: list[Fact], parsed: Any) -> list[Fact]:
    """Facts where one that still leans on an earlier sentence ('He called the journalist "a snide"') has taken in
    the fact right before it ('Brand wasn't happy with the question.'), when that one reads alone and, together,
    nothing of the second still leans: the pronoun's person or thing is then in the statement, in the article's own
    words, and nobody is named by a guess. A quotation with no speaker, and a fact that would grow past
    :data:`WITH_BEFORE_CHARS`, are left as they are, flagged."""
    out: list[Fact] = []
    for fact in facts:
        prev = out[-1] if out else None
        ev = fact.evidence
        if (
            prev is None
            or not fact.needs_context
            or "quotation" in fact.needs_context
            or prev.needs_context
            or prev.evidence.end > ev.start
            or doc.text[prev.evidence.end : ev.start].strip()
            or ev.end - prev.evidence.start > WITH_BEFORE_CHARS
            or not _one_voice(prev, fact)
            or _heading(prev.statement)
        ):
            out.append(fact)
            continue
        span = parsed.char_span(prev.evidence.start, ev.end, alignment_mode="expand")
        if (
            span is None
            or any(t.idx >= ev.start for _, t in context_needs(span))
            or not _subjects_agree(span, ev.start)
        ):
            out.append(fact)
            continue
        out[-1] = _joined(doc, prev, fact)
    return out


def _one_voice(first: Fact, second: Fact) -> bool:
    """Whether joining keeps every quoted or reported word with its own speaker: when both report what someone
    says and both speakers are known, they are one (the joined fact's speaker: :func:`_speaker_of`)."""
    both = first.kind in _SPEAKING and second.kind in _SPEAKING
    return not (both and first.speaker and second.speaker and first.speaker != second.speaker)


_SPEAKING = ("quote", "attribution")


def _speaker_of(first: Fact, second: Fact) -> str | None:
    """The joined fact's speaker: the one who speaks, when one does; when both do, the speaker they share, and none
    when one of them is unknown ('"We will win," Smith told Jones. She said...': she may be Jones)."""
    if first.kind not in _SPEAKING:
        return second.speaker
    if second.kind not in _SPEAKING:
        return first.speaker
    return first.speaker if first.speaker == second.speaker else None


def _heading(statement: str) -> bool:
    """A line in title case with no full stop ('Smith Says The Party Will Win'): a heading, no sentence to lean on."""
    words = [w for w in statement.split() if w[:1].isalpha()]
    return (
        len(words) >= 3
        and statement.rstrip()[-1:] not in ".!?\"”’'"
        and sum(w[0].isupper() for w in words) >= 0.8 * len(words)
    )


def _subjects_agree(span: Any, second: int) -> bool:
    """The subject he/she/they of the second part's sentences agrees in number with a subject of the part before
    ``second`` (the sentence it stands for is then the one before, not one further back: 'A woman was taken to
    hospital. They were released on bail' is not about her); a subject 'it' has one thing before it, not only
    people and plurals. Other pronouns are left to the antecedent check."""
    before = [t for t in span if t.idx < second and t.pos_ in ("NOUN", "PROPN", "PRON") and not _inside_quotation(t)]
    subjects = [t for t in before if t.dep_ in _SUBJECTS]
    for t in span:
        if t.idx < second or t.dep_ not in _SUBJECTS or t.lower_ not in ("he", "she", "it", "they"):
            continue
        if _inside_quotation(t):
            continue
        if t.lower_ == "it":  # a thing: any one thing named before ('familiar with his home. It looks lovely')
            if not any(b.pos_ != "PRON" and not _plural(b) and b.ent_type_ != "PERSON" for b in before):
                return False
        elif not any(_plural(b) == (t.lower_ == "they") for b in subjects):
            return False
    return True


def _plural(token: Any) -> bool:
    """A subject that stands for many: a plural noun, 'they'/'we', or nouns joined by 'and'."""
    if token.pos_ == "PRON":
        return token.lower_ in ("they", "we")
    return token.tag_ in ("NNS", "NNPS") or any(c.dep_ == "conj" for c in token.children)


_KINDS = ("quote", "attribution", "quantity", "event")


def _joined(doc: Document, first: Fact, second: Fact) -> Fact:
    start, end = first.evidence.start, second.evidence.end
    evidence = Evidence(start=start, end=end, text=doc.text[start:end], match="sentence", score=1.0)
    return Fact(
        # the second as written: its pronoun's person is now in the statement, and no name is put in its place
        statement=f"{first.statement} {' '.join(second.evidence.text.split())}",
        kind=min(first.kind, second.kind, key=_KINDS.index),
        subject=first.subject or second.subject,
        evidence=evidence,
        entities=list(dict.fromkeys([*first.entities, *second.entities])),
        quantity=first.quantity or second.quantity,
        quantities=[*first.quantities, *second.quantities],
        date=first.date or second.date,
        date_span=first.date_span if first.date else second.date_span,
        speaker=_speaker_of(first, second),
        # the second is as written again: a name put in its pronoun's place is not in the statement
        shaped_by=[
            *dict.fromkeys([*first.shaped_by, *(r for r in second.shaped_by if r != PRONOUN_NAMED), SENTENCE_BEFORE])
        ],
    )


_TITLE_BEFORE = re.compile(r"\b(Mr|Sir|Lord|Mrs|Ms|Miss|Dame|Lady)\.?\s$")
_MALE_TITLES = frozenset(["Mr", "Sir", "Lord"])


def _other(gender: str) -> str:
    return "f" if gender == "m" else "m"


def _genders(doc: Document, entities: list[Entity], parsed: Any) -> dict[str, set[str]]:
    """The genders the article shows for each person: a title before a mention ("Mr", "Mrs"), and the he/she/his/her
    outside quotation marks of a sentence that names that person and no one else."""
    out: dict[str, set[str]] = {}
    people = [e for e in entities if e.type == "person"]
    for e in people:
        for m in e.mentions:
            title = _TITLE_BEFORE.search(doc.text[max(0, m.start - 6) : m.start])
            if title:
                out.setdefault(e.name, set()).add("m" if title.group(1) in _MALE_TITLES else "f")
    for sentence in doc.sentences:
        named = {e.name for e in people for m in e.mentions if sentence.start <= m.start < sentence.end}
        if len(named) != 1:
            continue
        span = parsed.char_span(sentence.start, sentence.end, alignment_mode="expand")
        if span is None:
            continue
        seen = {_gender(t) for t in span if t.lower_ in _PERSON and t.pos_ == "PRON" and not _inside_quotation(t)}
        out.setdefault(next(iter(named)), set()).update(seen)
    return out


def _subject_before(token: Any, span: Any) -> bool:
    """Another subject before the pronoun in its own sentence ("The new director said she..."): it may be hers."""
    return any(t.i < token.i and t.dep_ in _SUBJECTS and t.pos_ in ("NOUN", "PROPN") for t in span)


def _describe(rule: str, token: Any) -> str:
    if rule == "quotation-piece":
        return "a piece of a longer quotation"
    if rule == "quotation-alone":
        return "a quotation with no one named to say it"
    if rule == "demonstrative" and token.dep_ == "det":
        return f"'{token.text} {token.head.text}'"
    return f"'{token.text}'"
