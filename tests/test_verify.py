"""verify(claim, article): supported / contradicted / not_found, with exact evidence offsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import factkit
from factkit._document import Document
from factkit.checker._verify import SUPPORT_THRESHOLD, Verdict, verify

SEED = Path(__file__).resolve().parent.parent / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
ARTICLE = SEED.read_text(encoding="utf-8")
HIKERS = "Volunteers rescued the hikers on Sunday; police arrived later. The mayor approved the budget on Monday."


def _nlp() -> Any:
    pytest.importorskip("spacy")
    from factkit._ner import PIPELINE, load_pipeline

    nlp = load_pipeline(PIPELINE)
    if nlp is None:
        pytest.skip("the spaCy pipeline is not installed")
    return nlp


@pytest.fixture(params=["rules", "spacy"])
def nlp(request: pytest.FixtureRequest) -> Any:
    return None if request.param == "rules" else _nlp()


def _exact(v: Verdict, article: str) -> None:
    assert v.evidence
    for span in v.evidence:
        assert article[span.start : span.end] == span.text


def test_judge_ruled_for_cambodians_without_criminal_charges_is_contradicted(nlp: Any) -> None:
    claim = (
        "The judge ruled in favor of the Cambodians, citing their long-term presence and lack of evidence of "
        "criminal charges."
    )
    v = verify(claim, ARTICLE, nlp=nlp)
    assert v.label == "contradicted"
    assert any("convicted of various criminal charges" in s.text for s in v.evidence)
    assert "criminal charges" in v.reason
    _exact(v, ARTICLE)


def test_paraphrase_is_supported(nlp: Any) -> None:
    v = verify("Immigration authorities arrested about 100 Cambodians in raids last October.", ARTICLE, nlp=nlp)
    assert v.label == "supported"
    assert v.score >= SUPPORT_THRESHOLD
    assert any("arrested approximately 100 Cambodians" in s.text for s in v.evidence)
    _exact(v, ARTICLE)


def test_number_not_in_article_fails_and_is_named(nlp: Any) -> None:
    v = verify("Immigration authorities arrested about 300 Cambodians in raids last October.", ARTICLE, nlp=nlp)
    assert v.label in ("contradicted", "not_found")
    assert "300" in v.reason
    assert v.score < SUPPORT_THRESHOLD


def test_negated_claim_is_contradicted(nlp: Any) -> None:
    assert verify("The mayor approved the budget.", HIKERS, nlp=nlp).label == "supported"
    v = verify("The mayor did not approve the budget.", HIKERS, nlp=nlp)
    assert v.label == "contradicted"
    assert [s.text for s in v.evidence] == ["The mayor approved the budget on Monday."]


def test_wrong_actor_is_not_supported(nlp: Any) -> None:
    assert verify("Volunteers rescued the hikers.", HIKERS, nlp=nlp).label == "supported"
    assert verify("The hikers were rescued by volunteers.", HIKERS, nlp=nlp).label == "supported"
    for claim in ("Police rescued the hikers.", "The hikers were rescued by police."):
        v = verify(claim, HIKERS, nlp=nlp)
        assert v.label == "contradicted", claim
        assert "police" in v.reason.lower()


def test_claim_about_something_else_is_not_found() -> None:
    v = verify("The Finnish parliament voted to raise fishing quotas in the Baltic.", ARTICLE)
    assert v.label == "not_found"
    assert v.score < SUPPORT_THRESHOLD


def test_evidence_offsets_are_exact_and_a_document_is_accepted() -> None:
    article = "Intro line.\n\n  The mayor approved the budget on Monday.  Volunteers rescued the hikers."
    doc = Document.from_text(article)
    for given in (article, doc):
        v = verify("The mayor approved the budget.", given)
        assert v.label == "supported"
        assert [(s.text, article[s.start : s.end]) for s in v.evidence] == [
            ("The mayor approved the budget on Monday.", "The mayor approved the budget on Monday.")
        ]
    assert Verdict.model_validate(v.model_dump()) == v
    with pytest.raises(ValueError):
        Verdict.model_validate({**v.model_dump(), "extra": 1})


def test_worst_sentence_of_a_two_sentence_claim_decides() -> None:
    v = verify("The mayor approved the budget. Police rescued the hikers.", HIKERS)
    assert v.label == "contradicted"
    assert len(v.evidence) == 2


def test_a_faithful_tldr_of_the_seed_is_supported_and_the_cli_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from factkit.cli import main

    seed = Path(__file__).resolve().parent.parent / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
    good = (
        "A federal judge blocks prompt deportation of 92 Cambodian citizens from the United States without first "
        "allowing them a chance to challenge the action in court."
    )
    assert factkit.verify(good, seed.read_text(encoding="utf-8")).label == "supported"
    bad = (
        "The judge ruled in favor of the Cambodians, citing their long-term presence and lack of evidence of "
        "criminal charges."
    )
    assert main(["verify", bad, str(seed)]) == 1
    assert "contradicted" in capsys.readouterr().out


def test_a_contradicted_tldr_is_rejected_and_replaced_by_an_extractive_one() -> None:
    from factkit.testing import FakeModel, grounded_answer

    seed = Path(__file__).resolve().parent.parent / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
    text = seed.read_text(encoding="utf-8")

    def handler(request: dict[str, object]) -> dict[str, object]:
        answer = grounded_answer(request)
        answer["headline"] = "Judge blocks deportation of Cambodians"
        answer["tldr"] = (
            "The judge ruled in favor of the Cambodians, citing their long-term presence and lack of evidence of "
            "criminal charges."
        )
        return answer

    settings = factkit.resolve_settings(backend="fake", model="fake", cache=False, env={"FACTKIT_FACTS": "llm"})
    result = factkit.Extractor(backend=FakeModel(handler=handler), settings=settings).extract(text)
    assert "lack of evidence" not in result.summary.tldr
    assert result.summary.tldr in text  # the extractive fallback: the article's own words
    assert any("tldr" in r.reason and "contradicted" in r.reason for r in result.rejected)
    assert result.summary.headline == "Judge blocks deportation of Cambodians"


def test_crediting_the_owner_is_not_a_different_doer() -> None:
    article = "Maria Lopez opened the Lagos office of Acme Corporation on Tuesday. She hired 40 engineers there."
    assert verify("Acme opens Lagos office", article, nlp=None).label == "supported"


def test_a_doer_cut_off_by_a_comma_is_still_the_doer(nlp: Any) -> None:
    # the seed's 'U.S. District Judge Cormac Carney in Santa Ana, California federal court ruled': the clause
    # after the comma starts with 'California federal court', but the judge is who ruled
    claim = "A U.S. judge ruled that 92 Cambodians cannot be deported immediately."
    assert verify(claim, ARTICLE, nlp=nlp).label == "supported"
    assert verify("A volunteer rescued the hikers.", "Police said a volunteer rescued the hikers.", nlp=nlp).label == (
        "supported"
    )
    swapped = verify("Police rescued the hikers.", "Volunteers rescued the hikers; police arrived later.", nlp=nlp)
    assert swapped.label == "contradicted"


AFGHAN = (
    "A group of Afghan teenagers was awarded a silver medal for courageous achievement on Tuesday in the FIRST Global "
    "Challenge Robot Olympics in Washington. The group whose three robots earned the most points won that match. "
    "This year, the European team won the competition overall, with the silver medal going to Poland."
)


def test_a_winner_the_article_names_as_another_party_is_contradicted() -> None:
    nlp = _nlp()
    v = verify("Afghan girls win FIRST Global Challenge Robot Olympics", AFGHAN, nlp=nlp)
    assert v.label == "contradicted"
    assert "European team won the competition" in v.reason
    assert any("European team won" in s.text for s in v.evidence)
    _exact(v, AFGHAN)
    # what the article does say stays supported
    assert verify("Afghan teenagers were awarded a silver medal.", AFGHAN, nlp=nlp).label == "supported"
    assert verify("The European team won the FIRST Global competition.", AFGHAN, nlp=nlp).label == "supported"


def test_a_name_against_a_description_or_a_common_act_is_not_another_party() -> None:
    nlp = _nlp()
    article = (
        "Barnet council apologised after voters were turned away. Andrew Travers left the authority by mutual "
        "agreement after the error, officials said. Mr Keys said the report was startling."
    )
    # 'the chief executive' may be Andrew Travers: a description is not compared with a name
    assert verify("The chief executive of Barnet council has left his role.", article, nlp=nlp).label != "contradicted"
    # everybody 'says': another party saying something is no contradiction
    assert verify("Barnet council said the report was startling.", article, nlp=nlp).label != "contradicted"


_BAD_TLDR = (
    "The judge ruled in favor of the Cambodians, citing their long-term presence and lack of evidence of criminal "
    "charges."
)
_GOOD_TLDR = "A federal judge blocked the prompt deportation of 92 Cambodian citizens from the United States."


@pytest.mark.parametrize("second", [_GOOD_TLDR, _BAD_TLDR])
def test_an_unsupported_tldr_is_reasked_once_over_http_then_replaced(
    fake_server: Any, make_extractor: Any, second: str
) -> None:
    from conftest import task_of

    from factkit.testing import Reply, grounded_answer

    tldrs = iter([_BAD_TLDR, second, _GOOD_TLDR])

    def handler(request: dict[str, Any]) -> Reply:
        answer = grounded_answer(request)
        if task_of(request) == "facts":
            answer["headline"] = "Judge blocks deportation of Cambodians"
            answer["tldr"] = next(tldrs)
        return Reply.json(answer)

    fake_server.set_handler(handler)
    result = make_extractor(facts="llm").extract(ARTICLE)
    facts_calls = [r for r in fake_server.chat_requests if task_of(r.json) == "facts"]
    assert len(facts_calls) == 2  # asked, then re-asked once, never a third time
    reask = " ".join(str(m.get("content")) for m in facts_calls[1].messages[2:])
    assert "tldr" in reask and "contradicted" in reask  # the re-ask says what was wrong
    if second == _GOOD_TLDR:
        assert result.summary.tldr == _GOOD_TLDR
        assert not [r for r in result.rejected if r.kind == "summary"]
    else:
        assert "lack of evidence" not in result.summary.tldr
        assert result.summary.tldr in ARTICLE  # the extractive fallback, in the article's own words
        assert any("tldr" in r.reason and "contradicted" in r.reason for r in result.rejected)


def test_a_denial_in_other_words_is_not_the_opposite(nlp: Any) -> None:
    # 'blocked the prompt deportation of 92' and 'cannot immediately deport 92' both deny; only the reach differs
    v = verify(_GOOD_TLDR, ARTICLE, nlp=nlp)
    assert v.label == "supported", v.reason
    # the opposite still is one
    assert verify("The judge allowed the deportation of the 92 Cambodians.", HIKERS + " " + ARTICLE, nlp=nlp).label != (
        "supported"
    )


def test_a_name_or_proper_adjective_is_not_taken_for_the_act(nlp: Any) -> None:
    """Rules read the words before a shared word as its doer: a shared 'Afghan' has none ('All-girl Afghan team'
    against 'the six-member Afghan team' is not a different doer)."""
    article = (
        "A group of Afghan teenagers was awarded a silver medal for courageous achievement on Tuesday in the FIRST "
        "Global Challenge Robot Olympics in Washington D.C. The six - member Afghan team, which consists entirely of "
        "girls, had been denied visas. This year, the European team won the competition overall, with the silver medal "
        "going to Poland."
    )
    claim = "All-girl Afghan team wins silver medal for courageous achievement"
    assert verify(claim, article, nlp=nlp).label == "supported"
    # the act itself still has its doer: another named party is contradicted
    v = verify("Poland won the competition overall.", article, nlp=nlp)
    assert v.label == "contradicted", v


_CLOCK = (
    "Texas student Ahmed Mohamed inspires social movement\n\n"
    "News of police response to a boy's digital clock in Texas last week has inspired a global social movement in "
    "support of the youth. Ahmed Mohamed, a 14-year-old boy from Irving, Texas, was arrested at his school after he "
    "brought a clock he had made. Messages of support came from around the world."
)


def test_a_place_given_to_what_the_article_calls_global_is_contradicted(nlp: Any) -> None:
    """'in Texas' belongs to the clock; the movement is global. Saying 'a movement in Texas' narrows it."""
    v = verify("Ahmed Mohamed inspires social movement in Texas", _CLOCK, nlp=nlp)
    assert v.label == "contradicted", v
    assert "global social movement" in v.reason and "Texas" in v.reason
    assert any("global social movement" in s.text for s in v.evidence)
    _exact(v, _CLOCK)
    # the place the article does give, and the article's own scope, are fine
    for claim in ("Ahmed Mohamed inspires a global social movement", "A boy in Texas was arrested over a clock"):
        assert verify(claim, _CLOCK, nlp=nlp).label == "supported", claim
    # the same words in a title-case headline
    assert verify("Ahmed Mohamed Inspires Social Movement in Texas After Arrest", _CLOCK, nlp=nlp).label == (
        "contradicted"
    )


@pytest.mark.parametrize(
    ("claim", "article"),
    [
        # the article puts the place on the wide thing itself, or on what it does
        ("Protests in Paris turned violent", "Nationwide protests turned violent in Paris on Saturday, police said."),
        ("Protests in the U.S. turned violent on Sunday", "Nationwide protests in the U.S. turned violent on Sunday."),
        ("The lockdown in India began on March 25.", "India's nationwide lockdown began on March 25."),
        # the local part of a global thing, given in another sentence
        (
            "The pandemic in the US has killed more than a million people.",
            "The global pandemic began in early 2020. In the US, more than a million people have died of it.",
        ),
        # 'global' is not said of the claim's thing ('rose'), or the claim says it too
        ("Brent crude rose in London on Monday.", "Global oil prices rose on Monday. In London, Brent crude rose 2%."),
        ("The global pandemic in Italy hit hospitals hard.", "The global pandemic hit hospitals in Italy hard."),
        (
            "Climate Strikes in Paris Draw Thousands",
            "Global climate strikes drew thousands of people in Paris on Friday.",
        ),
    ],
)
def test_a_place_the_article_gives_the_wide_thing_or_its_local_part_is_not_narrowing(
    claim: str, article: str, nlp: Any
) -> None:
    assert verify(claim, article, nlp=nlp).label == "supported"


def test_a_thing_the_article_also_puts_in_that_place_is_not_narrowed(nlp: Any) -> None:
    # a thing the article puts in that place too is not narrowed
    both = _CLOCK + " Students started a social movement in Texas as well."
    assert verify("Ahmed Mohamed inspires social movement in Texas", both, nlp=nlp).label == "supported"


def test_a_narrowed_headline_is_rejected_and_the_title_takes_its_place() -> None:
    from factkit.testing import FakeModel, grounded_answer

    def handler(request: dict[str, object]) -> dict[str, object]:
        answer = grounded_answer(request)
        answer["headline"] = "Ahmed Mohamed inspires social movement in Texas"
        return answer

    settings = factkit.resolve_settings(backend="fake", model="fake", cache=False, env={"FACTKIT_FACTS": "llm"})
    result = factkit.Extractor(backend=FakeModel(handler=handler), settings=settings).extract(_CLOCK)
    assert result.summary.headline == "Texas student Ahmed Mohamed inspires social movement"
    assert any("headline" in r.reason and "global social movement" in r.reason for r in result.rejected)


def test_a_place_named_by_its_people_is_in_the_article() -> None:
    article = "Those rulings involved Iraqis, Indonesians and Somalians, he said. The Chinese delegation left."
    for claim in ("The rulings involved Iraq, Indonesia and Somalia.", "The delegation from China left."):
        v = verify(claim, article, nlp=None, model=None)
        assert "does not have" not in v.reason, v.reason
    # a name that only starts like one of the article's is still missing
    v = verify("Police said Johns left the delegation.", "Police said Johnson left it.", nlp=None, model=None)
    assert "does not have Johns" in v.reason


def test_a_date_the_article_states_in_other_words_is_not_a_missing_number() -> None:
    doc = Document.from_text("A federal judge late on Thursday blocked the deportation of the men.", "2018-01-26")
    v = verify("The judge blocked the deportation on Thursday, January 25, 2018.", doc, nlp=None, model=None)
    assert v.rule != "number_missing" and v.label == "supported", v.reason
    wrong = verify("The judge blocked the deportation on Monday, January 22, 2018.", doc, nlp=None, model=None)
    assert wrong.rule == "number_missing" and wrong.label == "not_found"
