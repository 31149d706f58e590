"""Faithfulness judges, and how well a judge agrees with people.

A judge reads an article and some summary sentences and says, for each sentence, whether the article
supports it. Two judges ship:

* :class:`ModelJudge` asks the configured model (prompt ``prompts/judge_faithfulness.md``, one call per
  summary, cached like every model call);
* :class:`LexicalJudge` is a free baseline: a sentence is supported when most of its content words occur in
  the article and every number it writes does too.

:func:`measure_judge` scores a judge against the XSum hallucination annotations (Maynez et al. 2020, read
from ``../shared/data/xsum-faith/``, never committed) with :func:`load_xsum`: balanced accuracy, and
precision/recall of "unfaithful" against the annotators' majority.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from factkit._cache import CallCache, cache_key
from factkit._context import current_context
from factkit._errors import InputError, describe
from factkit._grounding import overlap, unsupported_numbers
from factkit._models import CallUsage, Usage
from factkit._prompts import Prompt, escape_article, load_prompt

from ._scores import SentenceVerdict

if TYPE_CHECKING:
    from factkit._api import Extractor
    from factkit.backends import ChatBackend

__all__ = [
    "JUDGES",
    "LEXICAL_THRESHOLD",
    "MODEL_JUDGES",
    "EvidenceJudge",
    "Judge",
    "JudgeResult",
    "JudgeScores",
    "LexicalJudge",
    "ModelJudge",
    "VerifyJudge",
    "XsumPair",
    "judge_scores",
    "load_xsum",
    "measure_judge",
]

R = TypeVar("R", bound=BaseModel)
#: Evidence sentences the evidence judge shows the model.
EVIDENCE_SENTENCES = 3
#: Share of a sentence's content words that must occur in the article for the lexical judge.
LEXICAL_THRESHOLD = 0.7


class JudgeResult(BaseModel):
    """The verdicts on a list of sentences, and what the judging cost."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[SentenceVerdict]
    usage: Usage = Field(default_factory=Usage)

    @property
    def faithful(self) -> bool:
        """True when every sentence is supported."""
        return all(v.supported for v in self.verdicts)


class Judge(Protocol):
    """Anything that judges summary sentences against an article."""

    name: str

    def judge(self, article: str, sentences: Sequence[str]) -> JudgeResult:
        """A verdict for each sentence, in order."""
        ...


class LexicalJudge:
    """Supported = at least ``threshold`` of the sentence's content words occur in the article, and every
    number written in digits occurs too (years excepted). No model; a baseline for the model judge."""

    name = "lexical"

    def __init__(self, threshold: float = LEXICAL_THRESHOLD) -> None:
        self.threshold = threshold

    def judge(self, article: str, sentences: Sequence[str]) -> JudgeResult:
        verdicts = []
        for sentence in sentences:
            share = overlap(sentence, article)
            numbers = unsupported_numbers(sentence, article)
            supported = share >= self.threshold and not numbers
            if numbers:
                reason = f"numbers not in the article: {', '.join(numbers)}"
            else:
                reason = f"{share:.0%} of its content words are in the article"
            verdicts.append(SentenceVerdict(sentence=sentence, supported=supported, reason=reason))
        return JudgeResult(verdicts=verdicts)


class VerifyJudge:
    """The checker behind :func:`factkit.verify`: its rules (names, numbers, negation, who did what; the pinned spaCy
    parse when installed), then the model's entailment on the evidence, combined as calibrated
    (``benchmarks/verify_calibrate.py``). Supported only when the verdict is ``supported``. ``model=None``: the
    rules alone (the ``rules`` judge: no model call, ~0.03 s a summary)."""

    def __init__(self, model: Any = "auto") -> None:
        self.model = model
        self.name = "rules" if model is None else "verify"

    def judge(self, article: str, sentences: Sequence[str]) -> JudgeResult:
        from factkit._document import Document
        from factkit.checker import verify

        doc = Document.from_text(article)
        verdicts = []
        for sentence in sentences:
            v = verify(sentence, doc, model=self.model)
            verdicts.append(SentenceVerdict(sentence=sentence, supported=v.label == "supported", reason=v.reason))
        return JudgeResult(verdicts=verdicts)


# ------------------------------------------------------------------------------------------ model judge


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int = Field(description="The sentence number.")
    reason: str = Field("", max_length=300, description="What the article does not support, or 'supported'.")
    supported: bool = Field(description="True only if the article supports everything the sentence says.")


class JudgeReply(BaseModel):
    """What the model answers: one verdict per numbered sentence."""

    model_config = ConfigDict(extra="ignore")

    verdicts: list[_Verdict] = Field(description="One entry per sentence, in order.")

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> JudgeReply:
        ctx = current_context(info) or {}
        expected = ctx.get("sentences")
        if isinstance(expected, int) and not ctx.get("final_attempt", True):
            got = {v.n for v in self.verdicts}
            missing = sorted(set(range(1, expected + 1)) - got)
            if missing:
                raise ValueError(
                    f"give a verdict for every sentence 1..{expected}; missing: {', '.join(map(str, missing))}"
                )
        return self


class ModelJudge:
    """Asks a model, through factkit's backend seam, whether the article supports each sentence.

    One call per list of sentences; a sentence the model gives no verdict for counts as not supported.
    Calls are cached (same key scheme as extraction) when ``cache`` is given.
    """

    name = "model"

    def __init__(
        self,
        backend: ChatBackend,
        *,
        prompt: str | Path = "judge_faithfulness",
        cache: CallCache | None = None,
        max_reasks: int = 1,
        max_chars: int | None = None,
    ) -> None:
        self.backend = backend
        self.prompt: Prompt = load_prompt(prompt)
        self.cache = cache
        self.max_reasks = max_reasks
        self.max_chars = max_chars or int(getattr(backend, "max_chars", 24_000))

    @classmethod
    def from_extractor(cls, extractor: Extractor, *, prompt: str | Path = "judge_faithfulness") -> ModelJudge:
        """The judge that uses an extractor's model, cache and re-ask settings."""
        reasks = extractor.settings.max_reasks
        backend = extractor.backend
        return cls(
            backend,
            prompt=prompt,
            cache=extractor.cache,
            max_reasks=int(getattr(backend, "default_reasks", 1)) if reasks is None else reasks,
            max_chars=extractor.max_chars,
        )

    def _article(self, article: str) -> str:
        if len(article) <= self.max_chars:
            return article
        cut = article.rfind(" ", 0, self.max_chars)
        return article[: cut if cut > 0 else self.max_chars] + " [...]"

    def judge(self, article: str, sentences: Sequence[str]) -> JudgeResult:
        if not sentences:
            return JudgeResult(verdicts=[])
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, start=1))
        messages = self.prompt.render(article=escape_article(self._article(article)), sentences=numbered)
        reply, usage = _ask(self, messages, JudgeReply, {"sentences": len(sentences)})
        by_number = {v.n: v for v in reply.verdicts}
        verdicts = []
        for i, sentence in enumerate(sentences, start=1):
            v = by_number.get(i)
            if v is None:
                verdicts.append(SentenceVerdict(sentence=sentence, supported=False, reason="no verdict given"))
            else:
                verdicts.append(SentenceVerdict(sentence=sentence, supported=v.supported, reason=v.reason))
        return JudgeResult(verdicts=verdicts, usage=Usage(calls=[usage] if usage is not None else []))


def _ask(
    judge: ModelJudge | EvidenceJudge, messages: list[dict[str, str]], reply_model: type[R], context: dict[str, Any]
) -> tuple[R, CallUsage | None]:
    """One judging call through the backend seam, or its cached answer."""
    cache = judge.cache
    key = cache_key(judge.backend.cache_identity(), judge.prompt.id, reply_model, messages) if cache else None
    if key is not None and cache is not None:
        hit = cache.get(key)
        if hit is not None:
            raw, cached_usage = hit
            try:
                reply = reply_model.model_validate_json(raw, context={**context, "final_attempt": True})
                return reply, cached_usage.model_copy(update={"cached": True, "latency_s": 0.0})
            except ValidationError:
                pass
    completion = judge.backend.complete(
        messages, reply_model, context=context, max_reasks=judge.max_reasks, purpose="judge"
    )
    if key is not None and cache is not None:
        cache.put(key, completion.raw or completion.value.model_dump_json(), completion.usage)
    return completion.value, completion.usage


class EvidenceReply(BaseModel):
    """What the model answers about one claim and its evidence sentences."""

    model_config = ConfigDict(extra="ignore")

    answer: Literal["yes", "no"] = Field(description="yes: the evidence says what the claim says.")
    reason: str = Field("", max_length=120, description="What differs, in a few words.")


class EvidenceJudge:
    """The :func:`factkit.verify` checker first; a sentence it finds supported then goes to the model with only its
    evidence sentences (prompt ``prompts/judge_evidence.md``: a few hundred tokens instead of the article), which
    can still say no (who did what to whom, which the checker reads from words). A sentence the checker finds
    contradicted or not in the article costs no call."""

    name = "evidence"

    def __init__(
        self,
        backend: ChatBackend,
        *,
        prompt: str | Path = "judge_evidence",
        cache: CallCache | None = None,
        max_reasks: int = 1,
        nlp: Any = "auto",
    ) -> None:
        self.backend = backend
        self.prompt: Prompt = load_prompt(prompt)
        self.cache = cache
        self.max_reasks = max_reasks
        self.nlp = nlp

    @classmethod
    def from_extractor(cls, extractor: Extractor, *, prompt: str | Path = "judge_evidence") -> EvidenceJudge:
        """The judge that uses an extractor's model, cache, re-ask settings and spaCy pipeline."""
        reasks = extractor.settings.max_reasks
        backend = extractor.backend
        return cls(
            backend,
            prompt=prompt,
            cache=extractor.cache,
            max_reasks=int(getattr(backend, "default_reasks", 1)) if reasks is None else reasks,
            nlp=extractor._entity_sources()[0],
        )

    def judge(self, article: str, sentences: Sequence[str]) -> JudgeResult:
        from factkit._document import Document
        from factkit.checker import verify

        doc = Document.from_text(article)
        verdicts, calls = [], []
        for sentence in sentences:
            v = verify(sentence, doc, nlp=self.nlp)
            if v.label != "supported":
                verdicts.append(SentenceVerdict(sentence=sentence, supported=False, reason=v.reason))
                continue
            evidence = "\n".join(span.text for span in v.evidence[:EVIDENCE_SENTENCES])
            messages = self.prompt.render(article=escape_article(evidence), claim=sentence)
            reply, usage = _ask(self, messages, EvidenceReply, {})
            if usage is not None:
                calls.append(usage)
            supported = reply.answer == "yes"
            reason = v.reason if supported else f"the model reads the evidence differently: {reply.reason or 'no'}"
            verdicts.append(SentenceVerdict(sentence=sentence, supported=supported, reason=reason))
        return JudgeResult(verdicts=verdicts, usage=Usage(calls=calls))


#: The judges by name, each made from an extractor (only the model judges use it).
JUDGES: dict[str, Callable[[Any], Judge]] = {
    "lexical": lambda extractor: LexicalJudge(),
    "verify": lambda extractor: VerifyJudge(extractor.backend if extractor is not None else "auto"),
    "rules": lambda extractor: VerifyJudge(None),
    "model": lambda extractor: ModelJudge.from_extractor(extractor),
    "evidence": lambda extractor: EvidenceJudge.from_extractor(extractor),
}
#: The judges that call the model.
MODEL_JUDGES = frozenset(["model", "evidence"])


# ------------------------------------------------------------------------------------ xsum measurement


class XsumPair(BaseModel):
    """One (BBC article, summary) pair of the XSum hallucination annotations."""

    model_config = ConfigDict(extra="ignore")

    bbcid: str
    system: str
    document: str
    summary: str
    faithful_majority: bool = Field(description="At most one of three annotators marked a hallucinated span.")


def load_xsum(path: str | Path, *, limit: int | None = None) -> list[XsumPair]:
    """Read ``xsum_faith_dev.jsonl.gz`` (or a plain ``.jsonl``): the first ``limit`` pairs, or all.

    Raises :class:`InputError` naming the file and line for anything unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(
            "no such file; pass the XSum faithfulness data, e.g. "
            "--data ../shared/data/xsum-faith/xsum_faith_dev.jsonl.gz",
            source=str(p),
        )
    opener: Callable[..., Any] = gzip.open if p.suffix == ".gz" else open
    pairs: list[XsumPair] = []
    try:
        with opener(p, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if limit is not None and len(pairs) >= limit:
                    break
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    record["bbcid"] = str(record.get("bbcid", ""))
                    pairs.append(XsumPair.model_validate(record))
                except (json.JSONDecodeError, ValidationError, TypeError, AttributeError) as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise InputError(f"line {number}: not an XSum pair ({first})", source=str(p)) from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file ({describe(exc)})", source=str(p)) from None
    if not pairs:
        raise InputError("the file holds no pairs", source=str(p))
    return pairs


class JudgeScores(BaseModel):
    """A judge against the annotators' majority. Positive class: unfaithful."""

    model_config = ConfigDict(extra="forbid")

    judge: str
    pairs: int = Field(description="Pairs judged (errors excluded).")
    errors: int = Field(0, description="Pairs the judge failed on.")
    unfaithful: int = Field(description="Pairs the annotators' majority found unfaithful.")
    tp: int = Field(description="Unfaithful, flagged unfaithful.")
    fp: int = Field(description="Faithful, flagged unfaithful.")
    fn: int = Field(description="Unfaithful, passed as faithful.")
    tn: int = Field(description="Faithful, passed as faithful.")
    balanced_accuracy: float = Field(description="Mean of the recall of each class.")
    accuracy: float
    unfaithful_precision: float
    unfaithful_recall: float
    unfaithful_f1: float
    faithful_recall: float = Field(description="Faithful pairs passed as faithful (specificity).")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_s: float = 0.0

    def metrics(self) -> dict[str, float]:
        """The flat metrics the gates read."""
        return {
            "balanced_accuracy": self.balanced_accuracy,
            "accuracy": self.accuracy,
            "unfaithful_precision": self.unfaithful_precision,
            "unfaithful_recall": self.unfaithful_recall,
            "unfaithful_f1": self.unfaithful_f1,
            "faithful_recall": self.faithful_recall,
        }


def judge_scores(name: str, gold_faithful: Iterable[bool], judged_faithful: Iterable[bool]) -> JudgeScores:
    """Confusion counts and scores of judged labels against gold labels (unfaithful = positive)."""
    tp = fp = fn = tn = 0
    for gold, judged in zip(gold_faithful, judged_faithful, strict=True):
        if not gold and not judged:
            tp += 1
        elif gold and not judged:
            fp += 1
        elif not gold and judged:
            fn += 1
        else:
            tn += 1
    n = tp + fp + fn + tn
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return JudgeScores(
        judge=name,
        pairs=n,
        unfaithful=tp + fn,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        balanced_accuracy=round((recall + specificity) / 2, 4),
        accuracy=round((tp + tn) / n, 4) if n else 0.0,
        unfaithful_precision=round(precision, 4),
        unfaithful_recall=round(recall, 4),
        unfaithful_f1=round(f1, 4),
        faithful_recall=round(specificity, 4),
    )


def measure_judge(
    judge: Judge,
    pairs: Sequence[XsumPair],
    *,
    on_pair: Callable[[int, XsumPair, bool | None], None] | None = None,
) -> JudgeScores:
    """Judge every pair's summary against its article; a summary is faithful when all its sentences are
    supported. A pair the judge fails on (model error) is counted in ``errors`` and left out."""
    from ._text import split_sentences

    started = time.perf_counter()
    gold: list[bool] = []
    judged: list[bool] = []
    errors = 0
    prompt_tokens = completion_tokens = 0
    for index, pair in enumerate(pairs):
        verdict: bool | None
        try:
            result = judge.judge(pair.document, split_sentences(pair.summary) or [pair.summary])
        except Exception as exc:  # a failed call must not stop the measurement; it is counted instead
            errors += 1
            usage = getattr(exc, "usage", None)
            if isinstance(usage, Usage):
                prompt_tokens += usage.prompt_tokens
                completion_tokens += usage.completion_tokens
            verdict = None
        else:
            verdict = result.faithful
            gold.append(pair.faithful_majority)
            judged.append(verdict)
            prompt_tokens += result.usage.prompt_tokens
            completion_tokens += result.usage.completion_tokens
        if on_pair is not None:
            on_pair(index, pair, verdict)
    scores = judge_scores(judge.name, gold, judged)
    return scores.model_copy(
        update={
            "errors": errors,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "duration_s": round(time.perf_counter() - started, 3),
        }
    )
