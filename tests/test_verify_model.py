"""The claim checker's model half: entailment on the evidence, through the real openai client over HTTP to a server
on 127.0.0.1 that the test controls (and the real embedded model, marked ``local``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import factkit
from factkit import InputError, resolve_settings
from factkit.backends.base import p_yes_from_logprobs
from factkit.backends.openai_backend import OpenAIBackend
from factkit.checker._entail import choose_evidence
from factkit.checker._verify import CALIBRATION, combine, rules_verdict, verify
from factkit.testing import FakeOpenAIServer, Reply

SEED = Path(__file__).resolve().parent.parent / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
SECRET = "k3y-verify-never-leaks-8c1d"
HIKERS = (
    "Three hikers went missing on Mount Hood on Friday. Volunteers rescued the hikers on Sunday morning. "
    "The sheriff said all three were in good health."
)


@pytest.fixture
def backend(fake_server: FakeOpenAIServer) -> OpenAIBackend:
    settings = resolve_settings(
        base_url=fake_server.base_url, api_key=SECRET, model="fake-model", retry_wait_multiplier=0.0, timeout=5.0
    )
    return OpenAIBackend(settings)


def _questions(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.chat_requests]


def test_a_claim_made_of_the_articles_words_is_not_supported_when_the_model_says_no(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    # the rules alone pass it: every content word is in the article
    claim = "The volunteers went missing on Mount Hood on Friday."
    assert verify(claim, HIKERS, model=None, nlp=None).label == "supported"
    fake_server.push(Reply.yes_no(0.03))
    v = verify(claim, HIKERS, model=backend, nlp=None)
    assert (v.label, v.decided_by, v.model_score) == ("not_found", "model", 0.03)
    assert v.score < CALIBRATION.threshold
    assert "does not state it" in v.reason
    # one yes/no question: one token, with log-probabilities, the evidence and the claim in the prompt
    (question,) = _questions(fake_server)
    assert question["max_tokens"] == 1 and question["logprobs"] is True
    prompt = "\n".join(m["content"] for m in question["messages"])
    assert "Three hikers went missing on Mount Hood on Friday." in prompt and claim in prompt
    assert SECRET not in v.model_dump_json()


def test_a_paraphrase_the_model_finds_stated_is_supported_with_its_evidence(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(Reply.yes_no(0.97))
    v = verify("Volunteers saved the missing hikers.", HIKERS, model=backend, nlp=None)
    assert (v.label, v.decided_by, v.model_score) == ("supported", "model", 0.97)
    assert any(e.text == "Volunteers rescued the hikers on Sunday morning." for e in v.evidence)
    for e in v.evidence:
        assert HIKERS[e.start : e.end] == e.text


def test_a_number_the_article_gives_otherwise_decides_without_asking_the_model(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    article = "Police arrested 12 protesters in Leeds on Monday. The protest was peaceful until the evening."
    v = verify("Police arrested 40 protesters in Leeds on Monday.", article, model=backend, nlp=None)
    assert (v.label, v.decided_by, v.rule, v.model_score) == ("contradicted", "rules", "number", None)
    assert "12" in v.reason
    assert fake_server.chat_requests == []


def test_a_number_the_article_does_not_have_is_final(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    article = "Police arrested protesters in Leeds on Monday. The protest was peaceful until the evening."
    v = verify("Police arrested 40 protesters in Leeds on Monday.", article, model=backend, nlp=None)
    assert (v.label, v.decided_by, v.rule) == ("not_found", "rules", "number_missing") and "40" in v.reason
    assert fake_server.chat_requests == []


def test_a_who_did_what_doubt_stands_when_the_model_agrees_and_falls_when_it_does_not(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    claim = "The hikers rescued the volunteers on Sunday morning."
    assert rules_verdict(claim, HIKERS, nlp=None).rule == "actor"
    fake_server.push(Reply.yes_no(0.02), Reply.yes_no(0.99))
    agreed = verify(claim, HIKERS, model=backend, nlp=None)
    assert (agreed.label, agreed.decided_by) == ("contradicted", "model")
    assert agreed.reason.startswith("the article says") and "the model agrees" in agreed.reason
    overruled = verify(claim, HIKERS, model=backend, nlp=None)
    assert (overruled.label, overruled.decided_by) == ("supported", "model")
    assert "the actor rule doubted it" in overruled.reason


def test_the_weakest_sentence_decides_and_each_is_asked_alone(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(Reply.yes_no(0.96), Reply.yes_no(0.04))
    v = verify("Three hikers went missing. The sheriff said they were hurt.", HIKERS, model=backend, nlp=None)
    assert v.label == "not_found" and v.model_score == 0.04
    assert "The sheriff said they were hurt." in v.reason
    asked = [q["messages"][-1]["content"] for q in _questions(fake_server)]
    assert "Claim: Three hikers went missing." in asked[0] and "Claim: The sheriff said" in asked[1]


def test_an_endpoint_without_logprobs_is_asked_for_a_constrained_answer(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(Reply.yes_no(None), Reply.json({"answer": "no"}))
    v = verify("Volunteers saved the missing hikers.", HIKERS, model=backend, nlp=None)
    assert v.model_score == 0.0 and v.label == "not_found"
    first, second = _questions(fake_server)
    assert first["logprobs"] is True
    assert "response_format" in second or "tools" in second


def test_p_yes_from_logprobs_reads_both_answers_and_ignores_other_tokens() -> None:
    from openai.types.chat import ChatCompletion

    def completion(top: dict[str, float]) -> ChatCompletion:
        content = [
            {"token": max(top, key=top.__getitem__), "logprob": max(top.values()), "bytes": None, "top_logprobs": []}
        ]
        content[0]["top_logprobs"] = [{"token": t, "logprob": lp, "bytes": None} for t, lp in top.items()]
        choice = {
            "index": 0,
            "finish_reason": "length",
            "message": {"role": "assistant", "content": "x"},
            "logprobs": {"content": content},
        }
        return ChatCompletion.model_validate(
            {"id": "1", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}
        )

    assert p_yes_from_logprobs(completion({"Yes": -0.1, " no": -2.4, "The": -3.0})) == pytest.approx(
        0.9048 / (0.9048 + 0.0907), abs=1e-3
    )
    assert p_yes_from_logprobs(completion({"The": -0.1, "A": -2.0})) is None


def test_the_combination_rises_with_each_signal() -> None:
    assert combine(0.9, 0.9) > combine(0.9, 0.2) and combine(0.9, 0.6) > combine(0.3, 0.6)


# ---------------------------------------------------------------------------------------------- bounds


def test_a_claim_longer_than_a_few_sentences_is_refused_before_any_call(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    words = HIKERS.split()
    huge = " ".join(words[i % len(words)] for i in range(20_000))
    with pytest.raises(InputError, match="a claim is a sentence or a few"):
        verify(huge, HIKERS, model=backend)
    with pytest.raises(InputError, match="sentences"):
        verify(" ".join(["The hikers went missing."] * 9), HIKERS, model=backend)
    assert fake_server.chat_requests == []


def test_the_article_limit_applies_to_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTKIT_MAX_INPUT_CHARS", "100")
    with pytest.raises(InputError, match="more than the limit of 100"):
        verify("Volunteers rescued the hikers.", HIKERS, model=None)


def test_a_salad_of_the_articles_words_is_not_supported(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    text = SEED.read_text(encoding="utf-8")
    salad = (
        "Carney deportation Cambodians judge immigration custody Santa Ana federal court ruled prompt citizens "
        "Cambodia raids convictions hearing lawyers detention."
    )
    assert rules_verdict(salad, text, nlp=None).label == "supported"  # what the words alone said before
    v = verify(salad, text, model=backend, nlp=None)
    assert v.label == "not_found" and "not a sentence" in v.reason
    assert fake_server.chat_requests == []
    # a real sentence of the same words is no salad
    fake_server.push(Reply.yes_no(0.9))
    ok = "A federal judge in Santa Ana blocked the prompt deportation of Cambodian citizens held in custody."
    assert "not a sentence" not in verify(ok, text, model=backend, nlp=None).reason


def test_evidence_covers_the_claims_rare_words_first() -> None:
    doc = factkit._document.Document.from_text(HIKERS)
    chosen = choose_evidence(doc, "Volunteers found the hikers", k=1)
    assert [s.text for s in chosen] == ["Volunteers rescued the hikers on Sunday morning."]


# ------------------------------------------------------------------------------------ in the pipeline


def test_a_headline_the_model_does_not_find_stated_is_rejected_over_http(
    monkeypatch: pytest.MonkeyPatch, make_extractor: Any, script: Any, fake_server: FakeOpenAIServer, seed_text: str
) -> None:
    from factkit.testing import grounded_answer

    monkeypatch.setenv("FACTKIT_VERIFY", "model")

    def facts(request: dict[str, Any]) -> Any:
        answer = grounded_answer(request)
        answer["headline"] = "Judge sides with government on Cambodian deportations"
        return answer

    asked: list[str] = []

    def route(request: dict[str, Any]) -> Reply:
        if request.get("max_tokens") == 1 and request.get("logprobs"):
            asked.append(request["messages"][-1]["content"])
            return Reply.yes_no(0.02)
        return script.server_reply(request)

    script.on("facts", facts).on("entities", grounded_answer)
    fake_server.set_handler(route)
    result = make_extractor(facts="llm").extract(seed_text)
    assert result.summary.headline != "Judge sides with government on Cambodian deportations"
    assert any(r.kind == "summary" and "headline" in r.reason and "does not state" in r.reason for r in result.rejected)
    assert any("Judge sides with government" in q for q in asked)
    assert SECRET not in result.model_dump_json()


def test_a_model_written_fact_the_checker_does_not_find_stated_is_rejected(
    monkeypatch: pytest.MonkeyPatch, make_extractor: Any, script: Any, fake_server: FakeOpenAIServer, seed_text: str
) -> None:
    from factkit.testing import grounded_answer

    monkeypatch.setenv("FACTKIT_VERIFY", "model")
    invented = "The Cambodians had been convicted of various criminal charges before arriving in the United States."
    paraphrase = "A federal judge said the administration cannot immediately deport 92 Cambodians."

    def facts(request: dict[str, Any]) -> Any:
        answer = grounded_answer(request)
        answer["headline"] = "U.S. judge blocks prompt deportation of Cambodians"  # the title: copied
        answer["facts"] = [
            {"s": [4], "kind": "event", "statement": invented},
            {"s": [2], "kind": "event", "statement": paraphrase},
        ]
        return answer

    def route(request: dict[str, Any]) -> Reply:
        if request.get("max_tokens") == 1 and request.get("logprobs"):
            return Reply.yes_no(0.01 if "before arriving" in request["messages"][-1]["content"] else 0.99)
        return script.server_reply(request)

    script.on("facts", facts).on("entities", grounded_answer)
    fake_server.set_handler(route)
    result = make_extractor(facts="llm").extract(seed_text)
    assert len(result.facts) == 1 and "before arriving" not in result.facts[0].statement
    (why,) = [r for r in result.rejected if r.kind == "fact"]
    assert why.item["statement"] == invented and "does not state it" in why.reason


# ---------------------------------------------------------------------------------------- the real model


@pytest.mark.local
@pytest.mark.timeout(900)
def test_the_embedded_model_tells_a_reversed_relation_from_a_paraphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    monkeypatch.setenv("FACTKIT_VERIFY", "model")
    text = SEED.read_text(encoding="utf-8")
    true = verify("A federal judge in California temporarily halted the deportation of 92 Cambodians.", text)
    false = verify("The Cambodians ruled that Judge Carney could stay in custody.", text)
    assert true.decided_by == "model" and false.decided_by == "model"
    assert true.model_score is not None and false.model_score is not None
    assert true.model_score > false.model_score
    assert true.label == "supported" and false.label != "supported"


# ------------------------------------------------------------------ found by an adversarial review


def test_a_final_verdict_of_one_sentence_is_the_claims(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    fake_server.set_handler(lambda request: Reply.yes_no(0.99))
    for other in ("The sheriff said the hikers were not in good health.", "Zebras sang loudly."):
        v = verify(f"Volunteers rescued 40 hikers on Sunday morning. {other}", HIKERS, model=backend, nlp=None)
        assert (v.label, v.rule, v.decided_by) == ("not_found", "number_missing", "rules"), other


def test_a_claim_without_words_is_not_found_and_asks_nothing(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    for claim in ("...", "?", "\u200b", "—"):
        assert verify(claim, HIKERS, model=backend, nlp=None).label == "not_found", claim
    assert fake_server.chat_requests == []


def test_the_evidence_is_bounded_however_long_the_sentence(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    article = "Volunteers rescued the hikers " + "and the dogs " * 6000 + "on Sunday."
    fake_server.push(Reply.yes_no(0.9))
    verify("Volunteers rescued the hikers.", article, model=backend, nlp=None)
    (question,) = _questions(fake_server)
    assert len(question["messages"][-1]["content"]) < 4000


def test_an_endpoint_that_refuses_logprobs_is_asked_for_answers_from_then_on(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(Reply.error(400), Reply.json({"answer": "yes"}), Reply.json({"answer": "no"}))
    assert verify("Volunteers saved the missing hikers.", HIKERS, model=backend, nlp=None).model_score == 1.0
    assert verify("Volunteers found the missing hikers.", HIKERS, model=backend, nlp=None).model_score == 0.0
    assert [bool(q.get("logprobs")) for q in _questions(fake_server)] == [True, False, False]


def test_a_transport_failure_is_not_asked_again_in_another_form(fake_server: FakeOpenAIServer) -> None:
    settings = resolve_settings(
        base_url=fake_server.base_url, api_key=SECRET, model="m", retry_wait_multiplier=0.0, transport_retries=1
    )
    fake_server.set_handler(lambda request: Reply.error(503))
    with pytest.raises(factkit.TransportError):
        verify("Volunteers saved the missing hikers.", HIKERS, model=OpenAIBackend(settings), nlp=None)
    assert len(fake_server.chat_requests) == 2  # one try and one retry, no second round


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"Based": -0.01, "yes": -6.0}, None),  # the model meant to say something else
        ({"Yes": math.log(0.4), "yes": math.log(0.4), "No": math.log(0.2)}, 0.8),  # spellings add up
        ({"yes": -0.2, "The": -3.0}, 0.817 / (0.817 + 0.0498)),  # "no" unlisted: at most the least likely listed
    ],
)
def test_p_yes_adds_spellings_and_never_rounds_a_missing_side_to_zero(
    top: dict[str, float], expected: float | None
) -> None:
    from openai.types.chat import ChatCompletion

    first = max(top, key=top.__getitem__)
    content = [
        {
            "token": first,
            "logprob": top[first],
            "bytes": None,
            "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top.items()],
        }
    ]
    choice = {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": first}}
    response = ChatCompletion.model_validate(
        {
            "id": "1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{**choice, "logprobs": {"content": content}}],
        }
    )
    got = p_yes_from_logprobs(response)
    assert got == pytest.approx(expected, abs=1e-3) if expected is not None else got is None


def test_a_name_is_not_found_in_a_word_that_merely_starts_with_it() -> None:
    article = "The Danish prime minister spoke in Copenhagen. Polish workers were there."
    v = rules_verdict("Officials said Dan spoke in Copenhagen.", article, nlp=None)
    assert "does not have Dan" in v.reason


def test_a_date_range_keeps_its_own_numbers() -> None:
    doc = factkit._document.Document.from_text("The judge ruled on January 25, 2018 in the case.", "2018-01-26")
    v = rules_verdict("The judge ruled on January 25-29, 2018 in the case.", doc, nlp=None)
    assert v.rule in ("number", "number_missing") and "29" in v.reason and v.label != "supported"


def test_a_tldr_too_long_to_be_a_claim_is_replaced_not_an_error() -> None:
    from factkit._summary import ground_fact_list
    from factkit._wire import WireFacts

    doc = factkit._document.Document.from_text(SEED.read_text(encoding="utf-8"))
    wire = WireFacts.model_validate(
        {
            "headline": "Judge blocks deportation",
            "tldr": "The judge ruled. " * 9,
            "facts": [{"s": [2], "kind": "event", "statement": "A federal judge ruled on the deportations."}],
        }
    )
    out, problems = ground_fact_list(doc, wire, nlp=None)
    assert out.tldr != wire.tldr and any("tldr" in p for p in problems)
