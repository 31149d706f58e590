"""The pipeline: text -> Document -> prompt -> model seam (cached) -> wire record -> grounding -> records."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from ._cache import CallCache, cache_key
from ._config import Settings, cache_root, resolve_settings
from ._context import article_deadline
from ._custom import ground_custom, wire_model_for
from ._document import Document, Sentence, chunk_sentences, split_sentences
from ._entities import article_places, speaker_name
from ._errors import FactkitError, OutputError, UsageError
from ._grounding import article_numbers, article_words, normalized_article, overlap
from ._models import CallUsage, CustomExtraction, DateMention, Entity, Extraction, Fact, Rejected, Summary, Usage
from ._ner import PIPELINE, load_pipeline, ner_wire, parse, speaker_finder, widen_mentions
from ._prompts import Prompt, escape_article, load_prompt
from ._records import (
    Grounded,
    article_quantities,
    concepts_for_facts,
    date_mentions,
    drop_hidden,
    ground_entity_list,
    key_points_of,
    link_facts,
    sentence_facts,
    summary_of,
    with_concepts,
)
from ._standalone import stand_alone
from ._summary import fuller_tldr, ground_fact_list, ground_headline
from ._wire import WireEntities, WireFacts, WireHeadline
from .backends import ChatBackend, backend_class, make_backend
from .backends.base import on_request_sent
from .rules.quotes import attribute_quotes

log = logging.getLogger("factkit")
M = TypeVar("M", bound=BaseModel)

#: Characters of article per model call for remote models; the local backend sets its own.
DEFAULT_MAX_CHARS = 24_000

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _call_pool() -> ThreadPoolExecutor:
    """Threads for the concurrent calls of one article (shared; a job never waits for another job)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="factkit-call")
        return _pool


#: The parts of an extraction, for ``only=``.
PARTS = frozenset({"entities", "quotes", "dates", "quantities", "facts", "summary"})


def _parts(only: Iterable[str] | None) -> frozenset[str]:
    if only is None:
        return PARTS
    chosen = frozenset(p.strip() for p in (only.split(",") if isinstance(only, str) else only) if p.strip())
    unknown = chosen - PARTS
    if unknown or not chosen:
        raise UsageError(f"only={sorted(chosen)!r}: choose among {', '.join(sorted(PARTS))}")
    return chosen


class Pipeline:
    """The one-article pipeline (text -> prompt -> model -> grounding -> records), configured once. Batches live
    above it, in :mod:`factkit.batch`; the public class is :class:`factkit.Extractor`."""

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        backend: ChatBackend | None = None,
        settings: Settings | None = None,
        prompt: str | Path | None = None,
        custom_prompt: str | Path | None = None,
        cache: bool | None = None,
        max_reasks: int | None = None,
        max_chars: int | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        if settings is None:
            overrides: dict[str, Any] = {}
            if cache is not None:
                overrides["cache"] = cache
            if max_reasks is not None:
                overrides["max_reasks"] = max_reasks
            backend_name = getattr(backend, "name", None) if backend is not None else None
            settings = resolve_settings(
                model=model or (backend.model if backend is not None else None),
                base_url=base_url,
                api_key=api_key,
                backend=backend_name if backend_name in ("openai", "local", "fake") else None,
                **overrides,
            )
        self.settings = settings
        self._backend = backend
        #: Whether the backend is (to be) built from :attr:`settings`, so another process can rebuild it.
        self.backend_from_settings = backend is None
        self.prompt = load_prompt(prompt or "extract")
        self.custom_prompt = load_prompt(custom_prompt or "custom")
        self.max_chars = max_chars
        #: The parts every :meth:`extract` returns unless it says otherwise (``None``: all of them).
        self.only: frozenset[str] | None = None if only is None else _parts(only)
        self._cache: CallCache | None = None
        self._lock = threading.Lock()

    # -- lazily built pieces ---------------------------------------------------------------------------
    @property
    def backend(self) -> ChatBackend:
        if self._backend is None:
            with self._lock:  # batches reach here from several threads at once
                if self._backend is None:
                    self._backend = make_backend(self.settings)
                    if self.settings.backend == "local":
                        log.warning("factkit: no API key or base URL configured; using the embedded local model")
        return self._backend

    @property
    def cache(self) -> CallCache | None:
        if not self.settings.cache:
            return None
        with self._lock:  # the calls of one article run on several threads
            if self._cache is None:
                self._cache = CallCache(cache_root(self.settings) / "calls.sqlite3")
            return self._cache

    def _chunk_chars(self) -> int:
        return self.max_chars or int(getattr(self.backend, "max_chars", DEFAULT_MAX_CHARS))

    # -- the public calls -----------------------------------------------------------------------------
    @overload
    def extract(
        self, text: str | bytes, *, published: Any = None, schema: None = None, only: Iterable[str] | None = None
    ) -> Extraction: ...
    @overload
    def extract(
        self, text: str | bytes, *, published: Any = None, schema: type[M], only: Iterable[str] | None = None
    ) -> CustomExtraction[M]: ...

    def extract(
        self,
        text: str | bytes,
        *,
        published: Any = None,
        schema: type[M] | None = None,
        only: Iterable[str] | None = None,
    ) -> Extraction | CustomExtraction[M]:
        """Summary, facts, entities, quotes and dates of one article, every item grounded by offsets.

        With ``schema``, fills the caller's Pydantic model instead; its ``Evidence`` fields are grounded.
        With ``only`` (some of ``entities``, ``quotes``, ``dates``, ``quantities``, ``facts``, ``summary``), only those
        parts are extracted, the rest left empty: ``only={"entities", "quotes", "dates"}`` makes no model call at all
        where the NER pipeline is installed (a fraction of a second an article); ``only={"quantities"}`` (and dates)
        runs rules alone, no parse and no model. The record's ``quantities`` hold every quantity of the article; the
        facts keep their own.
        """
        parts = _parts(self.only if only is None else only)
        if schema is not None and not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise UsageError(
                f"schema must be a Pydantic model class, not {type(schema).__name__!r}"
                f"{' (an instance)' if isinstance(schema, BaseModel) else ''}; pass e.g. schema=Ruling, not Ruling(...)"
            )
        doc = Document.from_text(text, published, max_chars=self.settings.max_input_chars)
        with self._deadline():
            if schema is not None:
                return self._extract_custom(doc, schema)
            return self._extract(doc, parts)

    def summarize(self, text: str | bytes, *, published: Any = None) -> Summary:
        """Headline, one-sentence tldr and key points, each point with the spans that support it: the summary
        :meth:`extract` returns for the same article (only the parts a summary needs are run)."""
        return self.extract(text, published=published, only={"summary"}).summary

    # -- internals ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        """``FACTKIT_ARTICLE_TIMEOUT``: every model call of the article below ends by then (an outer one holds)."""
        limit = self.settings.article_timeout
        outer = article_deadline.get()
        if limit is None or (outer is not None and outer[0] <= time.monotonic() + limit):
            yield
            return
        token = article_deadline.set((time.monotonic() + limit, limit))
        try:
            yield
        finally:
            article_deadline.reset(token)

    def _judge(self) -> ChatBackend | None:
        """The backend that judges what the model writes (``FACTKIT_VERIFY``): this one, unless the setting says
        rules or the backend answers no yes/no questions (a scripted test double)."""
        if self.settings.verify == "rules":
            return None
        backend = self.backend
        return backend if backend.judges else None

    def _entity_sources(self) -> tuple[Any, bool]:
        """The NER pipeline to use (or ``None``) and whether to ask the LLM for entities as well."""
        choice = self.settings.entities
        nlp = None if choice == "llm" else load_pipeline(PIPELINE if self.settings.ner == "auto" else self.settings.ner)
        if nlp is None:
            return None, True
        if choice == "auto":
            return nlp, self._capabilities().lists_entities
        return nlp, choice == "both"

    def _capabilities(self) -> type[ChatBackend]:
        """What the backend can do (``writes_facts``, ``lists_entities``, ...): read from its class, so a model-free
        pass never builds it."""
        return type(self._backend) if self._backend is not None else backend_class(self.settings)

    def _extract(self, doc: Document, parts: frozenset[str] = PARTS) -> Extraction:
        nlp, ask_llm = self._entity_sources()
        if not parts - {"dates", "quantities"}:
            nlp = None  # rules alone: no parse, no model
        need_facts = bool(parts & {"facts", "summary"})
        from_sentences = self.settings.facts == "sentences" or (
            self.settings.facts == "auto" and not self._capabilities().writes_facts
        )
        # facts that are the article's sentences, with no summary to write, ask the model nothing
        model_facts = need_facts and not (from_sentences and "summary" not in parts)
        # quotes need the people for their speakers; a model-free sweep takes them from NER alone
        ask_llm = ask_llm and bool(parts & {"entities", "quotes"}) and (need_facts or nlp is None)
        # (the chunk size is the backend's: asked only when there is a model call to make, so a model-free
        # sweep never loads the model)
        chunks = chunk_sentences(doc.sentences, self._chunk_chars(), overlap=1) if ask_llm or model_facts else []

        def entities(chunk: list[Sentence]) -> tuple[Any, CallUsage]:
            return self._run_grounded(
                doc, chunk, self.prompt, "entities", WireEntities, lambda w: ground_entity_list(doc, w)
            )

        def facts(chunk: list[Sentence]) -> tuple[Any, CallUsage]:
            judge = self._judge()  # here, not above: a model-free pass builds no backend
            if from_sentences:
                return self._run_grounded(
                    doc, chunk, self.prompt, "headline", WireHeadline, lambda w: ground_headline(doc, w, nlp, judge)
                )
            return self._run_grounded(
                doc, chunk, self.prompt, "facts", WireFacts, lambda w: ground_fact_list(doc, w, nlp, judge)
            )

        # Entities and facts per chunk: the two tasks share the article prefix, so a local model evaluates it
        # once when they run back to back; a remote endpoint gets them all at once.
        tasks = [t for t, wanted in ((entities, ask_llm), (facts, model_facts)) if wanted]
        jobs = [functools.partial(task, chunk) for chunk in chunks for task in tasks]
        dates: list[DateMention] = []
        found: list[Grounded] = []

        def meanwhile() -> None:  # work that needs no model output, done while the calls are in flight
            dates[:] = date_mentions(doc)
            for prepare in (normalized_article, article_numbers, article_words, article_places):
                prepare(doc)  # what grounding the replies reads
            if nlp is not None:
                found.append(ground_entity_list(doc, ner_wire(doc, nlp))[0])

        if jobs:
            results = self._run_calls(jobs, meanwhile)
        else:  # nothing needs the model: it is not even loaded
            meanwhile()
            results = []
        calls = [usage for _, usage in results]
        step = max(1, len(tasks))
        entity_parts: list[Grounded] = [*found, *(g for g, _ in results[0::step])] if ask_llm else found
        fact_parts: list[Grounded] = [g for g, _ in results[int(ask_llm) :: step]] if model_facts else []
        if need_facts and not model_facts:
            fact_parts = [Grounded(facts=[f.model_copy(deep=True) for f in sentence_facts(doc, nlp)])]
        known = merge(entity_parts)
        finder = speaker_finder(parse(doc, nlp)) if nlp is not None else None
        known.quotes = attribute_quotes(
            doc.text, known.entities, functools.partial(speaker_name, entities=known.entities), finder
        )
        drop_hidden(doc, known, dates)
        merged = merge(fact_parts)
        link_facts(doc, merged.facts, known.entities, known.quotes, dates)
        if nlp is not None:
            widen_mentions(parse(doc, nlp), known.entities)
            stand_alone(doc, merged.facts, known.entities, parse(doc, nlp), merged.key_points, merged.tldr)
            concepts_for_facts(merged.facts, parse(doc, nlp))
        if "summary" in parts and (fuller := fuller_tldr(doc.text, merged.facts, merged.tldr)) != merged.tldr:
            # a short lead and the sentences after it: the key points don't repeat them, and the summary stays as
            # long (each sentence the TL;DR took is one key point fewer)
            taken = max(0, len(split_sentences(fuller)) - len(split_sentences(merged.tldr)))  # 'U.S. judge' is one
            merged.tldr = fuller
            points = key_points_of([f for f in merged.facts if not f.needs_context], fuller)
            merged.key_points = points[: max(1, len(points) - taken)]
        quantities = article_quantities(doc) if "quantities" in parts else []
        if nlp is not None:
            quantities = with_concepts(quantities, parse(doc, nlp))
        merged.rejected = [r for part in entity_parts for r in part.rejected] + merged.rejected
        return Extraction(
            summary=summary_of(merged) if "summary" in parts else Summary(headline="", tldr="", key_points=[]),
            facts=merged.facts if "facts" in parts else [],
            entities=known.entities if "entities" in parts else [],
            quotes=known.quotes if "quotes" in parts else [],
            dates=dates if "dates" in parts else [],
            quantities=quantities,
            rejected=merged.rejected,
            usage=Usage(calls=calls),
            model=self.backend.model if jobs else self.settings.model,
            backend=self.backend.name if jobs else self.settings.backend,
            prompt_version=self.prompt.id,
            published=doc.published.isoformat() if doc.published else None,
        )

    def _run_calls(
        self, jobs: Sequence[Callable[[], tuple[Any, CallUsage]]], meanwhile: Callable[[], None]
    ) -> list[tuple[Any, CallUsage]]:
        """Run the model calls of one article: concurrently where the backend allows it (with ``meanwhile``
        done while they are in flight), else in order after ``meanwhile``.

        A failure raises the first failing call's error (in job order) with the usage of every call that
        was made, since their tokens are spent too.
        """
        if not self.backend.parallel_calls:
            meanwhile()
            done: list[tuple[Any, CallUsage]] = []
            for job in jobs:
                try:
                    done.append(job())
                except FactkitError as exc:
                    exc.usage = Usage(calls=[*(u for _, u in done), *(exc.usage.calls if exc.usage else [])])
                    raise
            return done
        # Each job signals once its request has left (or it ended without one, a cache hit say). ``meanwhile``
        # waits for that: started at once it holds the interpreter lock while the requests are being built, and
        # every request would leave up to a thread switch interval (5 ms) later.
        sent = [threading.Event() for _ in jobs]

        def run(job: Callable[[], tuple[Any, CallUsage]], signal: threading.Event) -> tuple[Any, CallUsage]:
            with on_request_sent(signal.set):
                try:
                    return job()
                finally:
                    signal.set()

        futures = [  # each in a copy of this context: the article's deadline holds in the pool's threads too
            _call_pool().submit(contextvars.copy_context().run, run, job, signal)
            for job, signal in zip(jobs, sent, strict=True)
        ]
        for signal in sent:
            signal.wait()
        meanwhile()
        outcomes: list[tuple[Any, CallUsage] | FactkitError] = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except FactkitError as exc:
                outcomes.append(exc)
        failures = [o for o in outcomes if isinstance(o, FactkitError)]
        if failures:
            spent: list[CallUsage] = []
            for o in outcomes:
                spent += (o.usage.calls if o.usage else []) if isinstance(o, FactkitError) else [o[1]]
            failures[0].usage = Usage(calls=spent)
            raise failures[0]
        return [o for o in outcomes if not isinstance(o, FactkitError)]

    def _extract_custom(self, doc: Document, schema: type[M]) -> CustomExtraction[M]:
        wire_model = wire_model_for(schema)
        rejected: list[Rejected] = []

        def ground(wire: BaseModel) -> tuple[Any, list[str]]:
            data, problems, rej = ground_custom(doc, schema, wire)
            rejected[:] = rej
            return data, problems

        data, usage = self._run_grounded(
            doc,
            doc.sentences,
            self.custom_prompt,
            None,
            wire_model,
            ground,
            numbered=False,
            reask_hint="Copy each evidence quote word for word from the article, fix the items, or leave them out.",
        )
        if data is None:
            raise OutputError(
                f"the model's evidence for a required field of {schema.__name__} is not in the article, even "
                "after re-asking; make the field optional or a list so ungrounded items can be dropped",
                usage=Usage(calls=[usage]),
            )
        return CustomExtraction[schema](  # type: ignore[valid-type]
            data=data,
            rejected=rejected,
            usage=Usage(calls=[usage]),
            model=self.backend.model,
            backend=self.backend.name,
            prompt_version=f"{self.custom_prompt.id}+{schema.__name__}",
        )

    def _run_grounded(
        self,
        doc: Document,
        sentences: list[Sentence],
        prompt: Prompt,
        task: str | None,
        wire_model: type[BaseModel],
        ground: Callable[[Any], tuple[Any, list[str]]],
        *,
        numbered: bool = True,
        reask_hint: str | None = None,
    ) -> tuple[Any, CallUsage]:
        """One model call (or a cache hit) whose validation grounds the output; returns the grounded result."""
        if numbered:
            article = escape_article(doc.numbered(sentences))
        else:
            article = escape_article(doc.text[sentences[0].start : sentences[-1].end])
        published = doc.published.isoformat() if doc.published else None
        messages = prompt.render(task, article=article, published=published)
        backend = self.backend
        context: dict[str, Any] = {"ground": ground}
        if reask_hint:
            context["reask_hint"] = reask_hint
        cache = self.cache
        key = cache_key(backend.cache_identity(), prompt.id, wire_model, messages) if cache else None
        if key is not None and cache is not None:
            hit = cache.get(key)
            if hit is not None:
                started = time.perf_counter()
                raw, usage = hit
                context["final_attempt"] = True
                wire_model.model_validate_json(raw, context=context)
                usage = usage.model_copy(update={"cached": True, "latency_s": round(time.perf_counter() - started, 4)})
                return context["result"], usage
        reasks = self.settings.max_reasks
        completion = backend.complete(
            messages,
            wire_model,
            context=context,
            max_reasks=backend.default_reasks if reasks is None else reasks,
            purpose=task or "extract",
        )
        if key is not None and cache is not None:
            cache.put(key, completion.raw or completion.value.model_dump_json(), completion.usage)
        return context["result"], completion.usage


def merge(parts: list[Grounded]) -> Grounded:
    """Merge the grounded parts of a long article: offsets are already global; drop duplicates."""
    if not parts:
        return Grounded()
    if len(parts) == 1:
        return parts[0]
    out = Grounded(headline=parts[0].headline, tldr=parts[0].tldr)
    entities: dict[tuple[str, str], Entity] = {}
    seen_quotes: set[int] = set()
    for part in parts:
        for ent in part.entities:
            k = (ent.name.casefold(), ent.type)
            if k in entities:
                spans = {m.start: m for m in [*entities[k].mentions, *ent.mentions]}
                entities[k].mentions[:] = sorted(spans.values(), key=lambda m: m.start)
            else:
                entities[k] = ent.model_copy(deep=True)
        for q in part.quotes:
            if q.span.start not in seen_quotes:
                seen_quotes.add(q.span.start)
                out.quotes.append(q)
        for f in part.facts:
            if not any(_duplicate(f, g) for g in out.facts):
                out.facts.append(f)
        out.rejected.extend(part.rejected)
    out.entities = list(entities.values())
    out.quotes.sort(key=lambda q: q.span.start)
    out.key_points = key_points_of(out.facts, out.tldr)
    return out


def _duplicate(a: Fact, b: Fact) -> bool:
    same_place = a.evidence.start < b.evidence.end and b.evidence.start < a.evidence.end
    return same_place and overlap(a.statement, b.statement) >= 0.7
