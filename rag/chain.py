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
from rag import compose
from rag.config import load_config
from rag.extract import PartResult, answer_lookup, answer_part, related_of
from rag.faq import FaqEntry, FaqSource
from rag.faq_table import faq_source as default_faq_source
from rag.lexicon import load_lexicon
from rag.locate import locate, locate_all
from rag.models import Answer, Related, Trace
from rag.query import Query, Turn, build_query
from rag.retrieve import HybridRetriever, Retrieval
from rag.sentences import SentenceVectors
from rag.stages import CatalogStage, FaqStage
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
        names = tuple(n for d in self.documents.values() for n in (d.title, d.jurisdiction, *d.organisations) if n)
        self.retriever = HybridRetriever(settings, k=settings.top_k, embeddings=embeddings, names=names)
        self.sentences = SentenceVectors(
            self.retriever.embedder, SentenceVectors.path_for(settings.data_dir, self.retriever.embedder.model_id)
        )
        self._faq: tuple[float, list[FaqEntry]] = (-1.0, [])
        self._faq_lock = threading.Lock()
        self.catalog = CatalogStage(self)
        self.faq = FaqStage(self)

    @cached_property
    def llm(self) -> Any:
        """The LLM answerer, created on first use (LLM mode only)."""
        from rag.llm import LLMAnswerer

        return LLMAnswerer(self.settings)

    @cached_property
    def documents(self) -> dict[str, Document]:
        return {d.doc_id: d for d in load_catalog(self.settings.corpus_dir)}

    def title(self, doc_id: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.citation_title if doc else doc_id

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

    def answer(self, question: str, history: Sequence[Turn] | None = None, mode: str | None = None) -> Answer:
        """The answer in `mode` (default extractive); LLM mode falls back to extractive on any failure."""
        final: Answer | None = None
        for item in self._run(question, history, mode, streaming=False):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Turn] | None = None,
               mode: str | None = None) -> Iterator[str | Answer]:
        """Text as it is generated (LLM mode), then the verified Answer, which is authoritative."""
        return self._run(question, history, mode, streaming=True)

    def explain(self, question: str, history: Sequence[Turn] | None = None) -> dict[str, Any]:
        """What the chain saw for this question (the hit-test page and `policyqa explain`)."""
        from rag.explain import explanation

        return explanation(self.answer(question, history))

    # --- the chain ---

    def _run(self, question: str, history: Sequence[Turn] | None, mode: str | None,
             streaming: bool) -> Iterator[str | Answer]:
        mode = mode or "extractive"
        if mode not in MODES:
            raise ModeError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
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
        located = locate_all(result, self.retriever.view())
        latency = round((time.perf_counter() - started) * 1000, 2)
        yield replace(located, question=question, latency_ms=latency)

    def stages(self) -> list[tuple[str, Stage]]:
        return [("guard", self._guard), ("lookup", self._lookup), ("catalog", self.catalog),
                ("faq", self.faq), ("retrieve", self._retrieve)]

    def _extractive(self, question: str, history: list[Turn]) -> Answer:
        view = self.retriever.view()
        started = time.perf_counter()
        query = build_query(question, history, self.lexicon, view, self.config)
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
        title = self.title(self.settings.primary_doc)
        if not raw:
            return self.refuse(query, "empty", self.lexicon.text(query.lang, "empty"))
        if len(raw) > self.settings.max_question_chars:
            limit = self.settings.max_question_chars
            return self.refuse(query, "too_long", self.lexicon.text(query.lang, "too_long", limit=limit))
        if self.lexicon.injection.search(query.text.lower()):
            return self.refuse(query, "injection", self.lexicon.text(query.lang, "injection", title=title))
        return None

    def _lookup(self, query: Query, view: IndexView) -> Answer | None:
        """A question naming one clause (multi-part questions look up per part in the retrieve stage)."""
        if len(query.parts) > 1:
            return None
        ref, chunks = view.named(query.standalone, self.settings.primary_doc)
        if ref and not chunks and ref != "序言":
            return self._no_such_clause(query, view, ref)
        if not chunks:
            return None
        retrieval = Retrieval(query.standalone, tuple(self._lookup_hits(chunks)), ref=ref)
        part = answer_lookup(retrieval, view, self.lexicon, self.config, self._scorer(query.standalone))
        return self._compose(query, view, [part], [retrieval])

    def _no_such_clause(self, query: Query, view: IndexView, ref: str) -> Answer:
        """“保障措施第四条” where there are three: say so and list what the section has."""
        primary = self.settings.primary_doc
        head = ref.split("(")[0] if "(" in ref else ref
        siblings = [c for c in view.chunks if c.doc_id == primary and c.clause_id.startswith(f"{head}(")
                    and c.part == 1][:12]
        where = next((p for c in siblings for p in c.heading_path[:1]), head)
        names = self.lexicon.text(query.lang, "list_join").join(f"{c.label}【{c.clause_id}】" for c in siblings)
        text = self.lexicon.text(query.lang, "no_such_clause", title=self.title(primary), ref=ref, where=where,
                                 names=names)
        related = tuple(Related(c.doc_id, c.clause_id, c.label) for c in siblings[:3])
        return self.refuse(query, "no_such_clause", text, related)

    @staticmethod
    def _lookup_hits(chunks: Sequence[Any]) -> list[Any]:
        from rag.models import Hit

        return [Hit(c, 1.0, via="lookup") for c in chunks]

    def _scorer(self, text: str) -> Callable[[Sequence[str]], list[float]] | None:
        vector = self.retriever.embedder.embed_query(text) if text else []
        return (lambda texts: self.sentences.similarities(texts, vector)) if vector else None

    def _retrieve(self, query: Query, view: IndexView) -> Answer:
        parts, retrievals = [], []
        for text in query.parts:
            ref, chunks = view.named(text, self.settings.primary_doc) if len(query.parts) > 1 else (None, [])
            if chunks:  # a part that names a clause (“发展目标里…,具体举措里…”)
                retrieval = Retrieval(text, tuple(self._lookup_hits(chunks)), ref=ref)
                parts.append(answer_lookup(retrieval, view, self.lexicon, self.config, self._scorer(text)))
                retrievals.append(retrieval)
                continue
            rare = {t: c for t, c in query.rare.items() if t in text}
            retrieval = self.retriever.search(text, rare=rare)
            scorer = ((lambda texts, v=retrieval.vector: self.sentences.similarities(texts, v))
                      if retrieval.vector else None)
            focus = query.focus if len(query.parts) == 1 else ""
            details = (query.details or self.lexicon.asked_details(text)) if focus else self.lexicon.asked_details(text)
            parts.append(answer_part(text, retrieval, view, self.lexicon, self.config, scorer=scorer,
                                     english=query.english, details=details, focus=focus))
            retrievals.append(retrieval)
        return self._compose(query, view, parts, retrievals)

    def _compose(self, query: Query, view: IndexView, parts: list[PartResult],
                 retrievals: list[Retrieval]) -> Answer:
        """One answer from the answered parts; a refusal (with related clauses) when none answered."""
        trace = Trace(retrievals=tuple(retrievals), parts=tuple(parts))
        degraded = any(r.degraded for r in retrievals)
        extra = {"warning": retrievals[0].warning} if retrievals and retrievals[0].warning else {}
        title = self.title(self.settings.primary_doc)
        located = [piece for p in parts for c in p.citations for piece in locate(c, view)]
        citations = list({(c.clause_key, c.quote): c for c in located}.values())
        if not citations:
            related = related_of(retrievals[0].hits) if retrievals else ()
            if mention := next((p.mentioned for p in parts if p.reason == "rare_mentioned" and p.mentioned), None):
                where = Related(mention.chunk.doc_id, mention.chunk.clause_id, mention.chunk.label)
                term = _corpus_spelling(mention.sentence, retrievals[0].rare)
                text = compose.mentioned(title, term, where, related, self.lexicon, query.lang)
                return self.refuse(query, "rare_mentioned", text, (where, *[r for r in related if r != where]),
                                   degraded=degraded, extra=extra, trace=trace)
            first = next((p for p in parts if p.detail is not None), parts[0])
            detail = (first.detail.label_en if query.english else first.detail.label) if first.detail else None
            text = compose.refusal(title, detail, related, self.lexicon, query.lang, self._contact())
            reason = "detail_not_stated" if first.detail else "out_of_scope"
            return self.refuse(query, reason, text, related, degraded=degraded, extra=extra, trace=trace)
        notes = [compose.detail_note(p.detail.label_en if query.english else p.detail.label, self.lexicon, query.lang)
                 for p in parts if p.detail is not None]
        text = compose.answer_text(citations, self.title, self.lexicon, query.lang, notes)
        if query.traditional and not query.english:
            text = compose.traditional(text, citations)
        reason = "lookup" if any(p.reason == "lookup" for p in parts) else ""
        return Answer(query.raw, text, False, tuple(citations), "extractive", standalone_question=query.standalone,
                      degraded=degraded, reason=reason, extra=extra, trace=trace)

    def _contact(self) -> str:
        primary = self.documents.get(self.settings.primary_doc)
        return primary.organisations[0] if primary and primary.organisations else ""


def _corpus_spelling(sentence: str, rare: dict[str, list[str]]) -> str:
    """The rare term as the document writes it (never the user's own spelling)."""
    lowered = sentence.lower()
    for term in sorted(rare, key=len, reverse=True):
        at = lowered.find(term.lower())
        if at >= 0:
            return sentence[at : at + len(term)]
    return ""
