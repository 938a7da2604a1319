"""`Assistant.answer(question, history) -> Answer`: the one entry point the CLI, UI and eval use.

The chain builds one `Query`, then runs a short list of stages `(Query, IndexView) -> Answer | None`
in order — guard, clause lookup, catalog, FAQ, retrieve + extract — until one answers. Every
answer carries a `Trace` of what the stages saw (the hit-test page shows it); a stage hook
receives each stage's duration (the bench uses it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any

from index.catalog import load_catalog
from index.models import Document
from index.settings import Settings
from rag.answering import LookupStage, RetrieveStage
from rag.config import load_config
from rag.faq import FaqEntry, FaqSource
from rag.faq_table import faq_source as default_faq_source
from rag.followup import Turn
from rag.lexical import catalog_names
from rag.lexicon import load_lexicon
from rag.locate import locate_all
from rag.models import Answer, Trace
from rag.query import Query, build_query
from rag.retrieve import HybridRetriever
from rag.sentences import SentenceVectors
from rag.stages import CatalogStage, FaqStage
from rag.versions import VERSIONS, current, earlier_lines, earlier_versions, superseded
from rag.view import IndexView

MODES = ("extractive", "llm")
StageHook = Callable[[str, float], None]
Stage = Callable[[Query, IndexView], Answer | None]


class ModeError(ValueError):
    """A mode that is unknown, or LLM mode without a configured endpoint."""


class Assistant:
    """Holds the retriever (and its in-memory index view) for the life of a process."""

    def __init__(self, settings: Settings, *, embeddings: Any = None, on_stage: StageHook | None = None,
                 faq_source: FaqSource | None = None) -> None:
        self.settings = settings
        self.faq_source = faq_source or default_faq_source(settings)  # corpus/faq.jsonl, or the database's table
        self.lexicon = load_lexicon(settings.lexicon_dir)
        self.config = load_config(settings.lexicon_dir)
        self.on_stage = on_stage
        names = catalog_names(tuple(self.documents.values()))  # the same names the index build keyed its artifact by
        self.retriever = HybridRetriever(settings, k=settings.top_k, embeddings=embeddings, names=names)
        self.sentences = SentenceVectors(
            self.retriever.embedder, SentenceVectors.path_for(settings.data_dir, self.retriever.embedder.model_id)
        )
        self._faq: tuple[float, list[FaqEntry]] = (-1.0, [])
        self._faq_lock = threading.Lock()
        self.catalog = CatalogStage(self)
        self.faq = FaqStage(self)
        self.lookup = LookupStage(self)
        self.retrieve = RetrieveStage(self)

    @cached_property
    def llm(self) -> Any:
        """The LLM answerer, created on first use (LLM mode only)."""
        from rag.llm import LLMAnswerer

        return LLMAnswerer(self.settings)

    @cached_property
    def documents(self) -> dict[str, Document]:
        return {d.doc_id: d for d in load_catalog(self.settings.corpus_dir)}

    @cached_property
    def superseded(self) -> frozenset[str]:
        """Documents a newer version replaces: left out of retrieval and citations."""
        return superseded(list(self.documents.values()))

    @cached_property
    def primary(self) -> str:
        """The current version of the primary document (its 正式稿 once one replaces the draft)."""
        return current(list(self.documents.values()), self.settings.primary_doc)

    def title(self, doc_id: str) -> str:
        """The citation title; for a document with versions, which version it is (…(正式稿))."""
        doc = self.documents.get(doc_id)
        if doc is None:
            return doc_id
        versioned = doc_id in self.superseded or any(d.supersedes == doc_id or doc.supersedes
                                                     for d in self.documents.values())
        return f"{doc.citation_title}({doc.status})" if versioned and doc.status else doc.citation_title

    def warm(self, progress: Any = None, max_chunks: int = 5000) -> int:
        """Embed every sentence of a small corpus ahead of time (cached on disk); returns how many were new."""
        view = self.retriever.view()
        if len(view.chunks) > max_chunks:
            return 0  # large corpora embed sentences on first use instead
        return self.sentences.warm([s for c in view.chunks for s in view.sentences(c)], progress=progress)

    def faq_entries(self) -> list[FaqEntry]:
        """The curated entries from `faq_source`, re-read when the office edited them.

        The source is corpus/faq.jsonl (its mtime), or with POLICYQA_DATABASE_URL the database's FAQ table
        (its edit counter, polled at most every 2 s, so an edit reaches every replica within 2 s). The same
        list object is returned until the entries change (FaqStage re-checks them against the index then).
        """
        version = self.faq_source.version()
        with self._faq_lock:
            if version != self._faq[0]:
                self._faq = (version, self.faq_source.list())
            return self._faq[1]

    # --- public entry points ---

    def answer(self, question: str, history: Sequence[Turn] | None = None, mode: str | None = None,
               versions: str = "current") -> Answer:
        """The answer in `mode` (default extractive); LLM mode falls back to extractive on any failure.

        `versions="all"` adds the earlier version's wording of each cited clause where it differs.
        """
        final: Answer | None = None
        for item in self._run(question, history, mode, streaming=False, versions=versions):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Turn] | None = None,
               mode: str | None = None, versions: str = "current") -> Iterator[str | Answer]:
        """Text as it is generated (LLM mode), then the verified Answer, which is authoritative."""
        return self._run(question, history, mode, streaming=True, versions=versions)

    def explain(self, question: str, history: Sequence[Turn] | None = None) -> dict[str, Any]:
        """What the chain saw for this question (the hit-test page and `policyqa explain`)."""
        from rag.explain import explanation

        return explanation(self.answer(question, history))

    # --- the chain ---

    def _run(self, question: str, history: Sequence[Turn] | None, mode: str | None,
             streaming: bool, versions: str = "current") -> Iterator[str | Answer]:
        mode = mode or "extractive"
        if mode not in MODES:
            raise ModeError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if versions not in VERSIONS:
            raise ModeError(f"unknown versions {versions!r}: use one of {', '.join(VERSIONS)}")
        if mode == "llm" and not self.settings.llm_configured:
            raise ModeError("LLM mode needs POLICYQA_LLM_BASE_URL and POLICYQA_LLM_MODEL")
        started = time.perf_counter()
        text = question if isinstance(question, str) else str(question)
        turns = [t for t in (history or []) if isinstance(t, dict) and isinstance(t.get("content"), str)]
        if mode == "llm" and turns:
            text, turns = self.llm.rewrite_followup(text.strip(), turns), []
        result: Answer | None = None
        extractive = self._extractive(text, turns)
        if mode != "llm" or extractive.refused or not extractive.trace or not extractive.trace.retrievals:
            result = extractive  # LLM mode only rephrases what the documents answer
        else:
            hits = extractive.trace.retrievals[0].hits
            args = (text, hits, self.retriever.view().clause_text, lambda: extractive, turns)
            for item in (self.llm.stream(*args) if streaming else iter([self.llm.answer(*args)])):
                if isinstance(item, Answer):
                    result = item
                else:
                    yield item
        assert result is not None
        if versions == "all" and not result.refused:
            result = self._with_earlier(result)
        located = locate_all(result, self.retriever.view())
        latency = round((time.perf_counter() - started) * 1000, 2)
        yield replace(located, question=question, latency_ms=latency)

    def _with_earlier(self, answer: Answer) -> Answer:
        """The earlier version's wording of each cited clause, as answer lines and `extra["earlier_versions"]`."""
        earlier = earlier_versions(answer.citations, list(self.documents.values()), self.retriever.view())
        if not earlier:
            return answer
        lang = answer.trace.query.lang if answer.trace and answer.trace.query else "zh"
        lines = earlier_lines(earlier, self.lexicon, lang)
        text = "\n".join([answer.answer, *lines]) if lines else answer.answer
        return replace(answer, answer=text, extra={**answer.extra, "earlier_versions": [e.to_dict() for e in earlier]})

    def stages(self) -> list[tuple[str, Stage]]:
        return [("guard", self._guard), ("lookup", self.lookup), ("catalog", self.catalog),
                ("faq", self.faq), ("retrieve", self.retrieve)]

    def _extractive(self, question: str, history: Sequence[Turn]) -> Answer:
        view = self.retriever.view()
        started = time.perf_counter()
        query = build_query(question, history, self.lexicon, view, self.config, self.superseded)
        timings = {"query": time.perf_counter() - started}
        for name, stage in self.stages():
            started = time.perf_counter()
            answer = stage(query, view)
            timings[name] = time.perf_counter() - started
            if self.on_stage:
                self.on_stage(name, timings[name])
            if answer is not None:
                trace = answer.trace or Trace(stage=name)
                return replace(answer, trace=replace(trace, stage=name, query=query, timings=timings))
        raise AssertionError("the retrieve stage always answers")

    # --- stages ---

    def refuse(self, query: Query, reason: str, text: str, related: tuple = (), **extra: Any) -> Answer:
        return Answer(query.raw, text, True, (), "extractive", related=related, reason=reason,
                      standalone_question=query.standalone, **extra)

    def _guard(self, query: Query, view: IndexView) -> Answer | None:
        raw = query.raw.strip()
        title = self.title(self.primary)
        if not raw:
            return self.refuse(query, "empty", self.lexicon.text(query.lang, "empty"))
        if len(raw) > self.settings.max_question_chars:
            limit = self.settings.max_question_chars
            return self.refuse(query, "too_long", self.lexicon.text(query.lang, "too_long", limit=limit))
        if self.lexicon.injection.search(query.text.lower()):
            return self.refuse(query, "injection", self.lexicon.text(query.lang, "injection", title=title))
        return None
