"""`Assistant.answer(question, history) -> Answer`: the one entry point the CLI, UI and eval use."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.catalog import load_catalog
from index.chunk import split_sentences
from index.models import Document
from index.settings import Settings
from rag import compose
from rag.extract import ExtractConfig, extract, is_injection, related_of
from rag.faq import FaqEntry, FaqMatch, load_faq, match_faq
from rag.followup import rewrite
from rag.models import Answer, Citation, Related
from rag.normalize import is_english, is_traditional, normalize, to_traditional
from rag.retrieve import HybridRetriever, Retrieval
from rag.scope import asks_basis, cited_question, english_coverage, foreign_places
from rag.sentences import SentenceVectors
from rag.targets import answer_targets, extract_targets

Turn = dict[str, str]
_REASONS = {"weak_evidence": "out_of_scope", "no_hits": "out_of_scope"}
MIN_ENGLISH_COVERAGE = 0.5
MODES = ("extractive", "llm")
_TARGETS_Q = re.compile(
    r"量化指标|有哪些指标|哪些具体指标|指标有哪些|数量目标|量化目标|quantitative (targets|indicators)", re.I
)


class ModeError(ValueError):
    """A mode that is unknown, or LLM mode without a configured endpoint."""


class Assistant:
    """Holds the retriever (and its in-memory index view) for the life of a process."""

    def __init__(self, settings: Settings, *, embeddings: Any = None, config: ExtractConfig | None = None) -> None:
        self.settings = settings
        self.config = config or ExtractConfig()
        self.retriever = HybridRetriever(settings=settings, k=settings.top_k, embeddings=embeddings)
        self.sentences = SentenceVectors(
            self.retriever.embedder, SentenceVectors.path_for(settings.data_dir, self.retriever.embedder.model_id)
        )
        self._faq: tuple[float, list[FaqEntry]] = (-1.0, [])
        self._faq_lock = threading.Lock()

    @cached_property
    def llm(self) -> Any:
        """The LLM answerer, created on first use (LLM mode only)."""
        from rag.llm import LLMAnswerer

        return LLMAnswerer(self.settings)

    def warm(self, progress: Any = None, max_chunks: int = 5000) -> int:
        """Embed every sentence of a small corpus ahead of time (cached on disk); returns how many were new."""
        chunks = self.retriever.view().chunks
        if len(chunks) > max_chunks:
            return 0  # large corpora embed sentences on first use instead
        sentences = [s.strip() for c in chunks for s in split_sentences(c.text) if len(s.strip()) >= 2]
        return self.sentences.warm(sentences, progress=progress)

    def faq_entries(self) -> list[FaqEntry]:
        """corpus/faq.jsonl, re-read when the office edits it (mtime check)."""
        path = Path(self.settings.corpus_dir) / "faq.jsonl"
        mtime = path.stat().st_mtime if path.exists() else 0.0
        with self._faq_lock:
            if mtime != self._faq[0]:
                self._faq = (mtime, load_faq(path) if path.exists() else [])
            return self._faq[1]

    @cached_property
    def documents(self) -> dict[str, Document]:
        return {d.doc_id: d for d in load_catalog(self.settings.corpus_dir)}

    def corpus_text(self) -> str:
        return self.retriever.view().corpus_text

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
        result: Answer | None = None
        for item in self._answer(text, turns, mode, streaming):
            if isinstance(item, Answer):
                result = item
            else:
                yield item
        assert result is not None
        latency = round((time.perf_counter() - started) * 1000, 2)
        yield Answer(**{**result.__dict__, "latency_ms": latency})

    def _answer(self, question: str, history: list[Turn], mode: str, streaming: bool) -> Iterator[str | Answer]:
        if mode == "llm" and history:
            history_rewritten = self.llm.rewrite_followup(question.strip(), history)
            question_for_search, history = history_rewritten, []
        else:
            question_for_search = question
        answer, retrieval = self._extractive(question_for_search, history)
        # LLM mode only rephrases what the documents answer: refusals and catalog answers stay as they are.
        if mode != "llm" or retrieval is None or answer.refused:
            yield Answer(**{**answer.__dict__, "question": question})
            return
        fallback = Answer(**{**answer.__dict__, "question": question})
        args = (question_for_search, retrieval.hits, self.retriever.view().clause_text, lambda: fallback, history)
        items = self.llm.stream(*args) if streaming else iter([self.llm.answer(*args)])
        for item in items:
            yield Answer(**{**item.__dict__, "question": question}) if isinstance(item, Answer) else item

    def _extractive(self, question: str, history: list[Turn]) -> tuple[Answer, Retrieval | None]:
        """The extractive answer, and the retrieval behind it (None when answered before retrieval)."""
        stripped = question.strip()
        if not stripped:
            return self._refuse(question, "empty", "请输入您的问题,例如:“企业标准总师要培育多少名?”"), None
        if len(stripped) > self.settings.max_question_chars:
            limit = self.settings.max_question_chars
            return self._refuse(question, "too_long", f"问题过长(超过{limit}字),请精简后再问。"), None
        if is_injection(stripped):
            return self._refuse(question, "injection", compose.INJECTION_TEXT), None
        view = self.retriever.view()
        standalone = rewrite(stripped, history, view.sections)
        english = is_english(stripped)
        early = self._scope(question, normalize(standalone), english) or self._curated(question, standalone, history)
        if early is not None:
            return early, None
        retrieval = self.retriever.search(standalone)
        scorer = (lambda texts: self.sentences.similarities(texts, retrieval.vector)) if retrieval.vector else None
        focus = stripped if standalone != stripped else ""
        extraction = extract(retrieval, view, self.config, english=english, scorer=scorer, focus=focus)
        related = related_of(retrieval.hits)
        primary = self._title(self.settings.primary_doc)
        warning = {"warning": retrieval.warning} if retrieval.warning else {}
        if not extraction.citations:
            text = compose.refusal(primary, extraction.detail, related, english)
            refusal = self._refuse(question, _REASONS.get(extraction.reason, extraction.reason), text, related,
                                   retrieval.query, retrieval.degraded)
            return Answer(**{**refusal.__dict__, "extra": warning}), retrieval
        text = compose.answer_text(extraction.citations, self._title, english)
        if is_traditional(stripped) and not english:
            text = _traditional(text, extraction.citations)
        answer = Answer(question, text, False, extraction.citations, "extractive", standalone_question=retrieval.query,
                        degraded=retrieval.degraded, reason="lookup" if retrieval.ref else "", extra=warning)
        return answer, retrieval

    def _scope(self, question: str, standalone: str, english: bool) -> Answer | None:
        """Questions answered (or refused) from the catalog and scope rules, before retrieval."""
        docs = list(self.documents.values())
        cited = cited_question(standalone, docs)
        if cited is not None and cited.asks_content:
            related = self._preamble_related()
            return self._refuse(question, "cited_document_missing", compose.missing_text(cited.documents, english),
                                related, standalone)
        if asks_basis(standalone) or (cited is not None and not cited.asks_content):
            basis = self._basis(question, standalone, english)
            if basis is not None:
                return basis
        if places := foreign_places(standalone, self.corpus_text()):
            return self._refuse(question, "out_of_scope", compose.place_text(self._title(self.settings.primary_doc),
                                                                             places, english), (), standalone)
        if english and english_coverage(standalone) < MIN_ENGLISH_COVERAGE:
            return self._refuse(question, "out_of_scope", compose.refusal(self._title(self.settings.primary_doc),
                                                                          None, (), True), (), standalone)
        return None

    def _curated(self, question: str, standalone: str, history: list[Turn]) -> Answer | None:
        """The targets table, or a curated FAQ entry the question closely restates."""
        if _TARGETS_Q.search(standalone):
            text, citations = answer_targets(extract_targets(self.retriever.view().chunks))
            if citations:
                return Answer(question, text, False, citations, "extractive", standalone_question=standalone,
                              reason="targets")
        if not self.settings.faq or history:
            return None
        match = match_faq(standalone, self.faq_entries(), self.retriever.embedder.embed_documents)
        return self._faq_answer(question, standalone, match) if match else None

    def _faq_answer(self, question: str, standalone: str, match: FaqMatch) -> Answer | None:
        """A curated answer, cited like any other: every clause must exist and every quote be verbatim."""
        view = self.retriever.view()
        citations = []
        for key in match.entry.clauses:
            chunks = view.by_clause.get(key)
            if not chunks:
                return None  # a stale entry (clause renumbered or removed): answer from the text instead
            clause = view.clause_text(key)
            quoted = [q for q in re.findall(r"“([^”]+)”", match.entry.answer) if q in clause]
            quote = quoted[0] if quoted else clause
            citations.append(Citation(chunks[0].doc_id, chunks[0].clause_id, chunks[0].label, quote))
        return Answer(question, match.entry.answer, False, tuple(citations), "faq", standalone_question=standalone,
                      reason="faq", extra={"faq_id": match.entry.id, "matched": match.matched, "method": match.method})

    def _preamble_related(self) -> tuple[Related, ...]:
        chunks = self.retriever.view().by_clause.get(f"{self.settings.primary_doc}:序言", [])
        return tuple(Related(c.doc_id, c.clause_id, c.label) for c in chunks[:1])

    def _basis(self, question: str, standalone: str, english: bool) -> Answer | None:
        """“依据哪些文件?”: the catalog's cited documents, cited to the sentence of 序言 naming them."""
        primary = self.documents.get(self.settings.primary_doc)
        key = f"{self.settings.primary_doc}:序言"
        preamble = self.retriever.view().clause_text(key)
        if primary is None or not primary.cites or not preamble:
            return None
        cited = [self.documents[d] for d in primary.cites if d in self.documents]
        sentences = re.findall(r"[^。]*。", preamble) or [preamble]
        quote = max(sentences, key=lambda s: sum(_names_doc(d, s) for d in cited)).strip()
        chunk = self.retriever.view().by_clause[key][0]
        citation = Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote)
        text = compose.basis_text(self._title(primary.doc_id), cited, citation, english)
        if is_traditional(question) and not english:
            text = _traditional(text, (citation,))
        return Answer(question, text, False, (citation,), "extractive", standalone_question=standalone,
                      reason="catalog")

    def _title(self, doc_id: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.citation_title if doc else doc_id

    def _refuse(self, question: str, reason: str, text: str, related: tuple[Related, ...] = (),
                query: str = "", degraded: bool = False) -> Answer:
        return Answer(question, text, True, (), "extractive", related=related, reason=reason,
                      standalone_question=query, degraded=degraded)


def _names_doc(doc: Document, sentence: str) -> bool:
    return doc.title.strip("《》")[-8:] in sentence or bool(doc.number and doc.number in sentence)


def _traditional(text: str, citations: tuple[Citation, ...]) -> str:
    """Convert the prose to Traditional but keep every quote verbatim in the original."""
    converted = to_traditional(text)
    for c in citations:
        converted = converted.replace(to_traditional(c.quote), c.quote)
    return converted
