"""The systems under comparison: policyqa itself, dense-only, BM25-only and a naive LangChain RAG.

Every system turns a gold question into an `Outcome` (ranked clause keys + answer + citations),
so one scorer treats them alike. Baselines never refuse; their "answer" is the top clause (dense,
BM25) or the top chunk (naive), cited as the clause(s) it comes from — what a user of a plain
retriever would read.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eval.gold import GoldItem
from eval.metrics import Outcome, dedupe
from index.build import load_corpus
from index.catalog import read_text
from index.embed import make_embeddings
from index.models import Clause
from index.settings import Settings
from index.store import client_for

NAIVE_CHUNK_SIZE = 500
NAIVE_OVERLAP = 50
NAIVE_PREFIX = "baseline-naive-"
Span = tuple[str, int, int]  # clause key, start, end (a clause may have several paragraphs)


class System(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def run(self, item: GoldItem, depth: int) -> Outcome: ...


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass
class Policyqa:
    """The assistant as users get it; retrieval is scored on the query it actually searched."""

    assistant: Any
    mode: str = "extractive"
    name: str = "policyqa"
    description: str = (
        "hybrid retrieval (BM25 + dense over clauses and plain-language keys, fitted fusion, clause lookup) + answerer"
    )

    def run(self, item: GoldItem, depth: int) -> Outcome:
        answer = self.assistant.answer(item.question, history=list(item.history), mode=self.mode)
        trace = answer.trace
        if trace is not None and trace.retrievals:  # what the answer was built from: no second search
            hits = [h for r in trace.retrievals for h in r.hits]
        else:
            hits = list(self.assistant.retriever.search(answer.standalone_question or item.question,
                                                        k=depth * 3, mode="hybrid").hits)
        ranked = dedupe(h.chunk.clause_key for h in hits)[:depth]
        citations = tuple((f"{c.doc_id}:{c.clause_id}", c.quote) for c in answer.citations)
        return Outcome(tuple(ranked), answer.answer, answer.refused, citations,
                       float(answer.latency_ms), answer.mode, answer.reason)


@dataclass
class RetrieverOnly:
    """One side of our hybrid retriever over our clause chunks (`mode` dense or bm25)."""

    retriever: Any
    clause_texts: dict[str, str]
    mode: str

    @property
    def name(self) -> str:
        return f"{self.mode}-only"

    @property
    def description(self) -> str:
        return f"{self.mode} over policyqa's clause chunks; answer = top-1 clause, never refuses"

    def run(self, item: GoldItem, depth: int) -> Outcome:
        started = time.perf_counter()
        hits = self.retriever.search(item.question, k=depth * 3, mode=self.mode).hits
        latency = _ms(started)
        ranked = dedupe(h.chunk.clause_key for h in hits)[:depth]
        if not hits:
            return Outcome((), "", False, (), latency, "baseline")
        top = hits[0].chunk
        return Outcome(tuple(ranked), self.clause_texts.get(top.clause_key, top.text), False,
                       ((top.clause_key, top.text),), latency, "baseline")


def clause_spans(raw: str, clauses: Sequence[Clause]) -> list[Span]:
    """Where each clause's paragraphs sit in the raw text, searched in document order.

    Paragraphs are located one by one because a clause such as 一(二) has an opening and a closing
    paragraph with its sub-items in between.
    """
    spans: list[Span] = []
    cursor = 0
    for clause in clauses:
        pos, first = cursor, None
        for para in (p for p in clause.text.split("\n") if p.strip()):
            at = raw.find(para, pos)
            if at < 0:
                continue
            spans.append((clause.key, at, at + len(para)))
            first = at if first is None else first
            pos = at + len(para)
        cursor = first if first is not None else cursor
    return spans


def overlaps(start: int, end: int, spans: Sequence[Span], raw: str) -> list[tuple[str, str]]:
    """(clause key, overlapping text) for clauses a chunk covers, largest overlap first."""
    best: dict[str, tuple[int, str]] = {}
    for key, lo, hi in spans:
        a, b = max(start, lo), min(end, hi)
        if b > a:
            size = (best[key][0] if key in best else 0) + (b - a)
            longest = max(best[key][1] if key in best else "", raw[a:b], key=len)
            best[key] = (size, longest)
    return [(key, text) for key, (_, text) in sorted(best.items(), key=lambda kv: -kv[1][0])]


class NaiveRag:
    """RecursiveCharacterTextSplitter(500, 50) over raw text, same embedder, Chroma top-k."""

    name = "naive-rag"
    description = (f"LangChain RecursiveCharacterTextSplitter({NAIVE_CHUNK_SIZE}, {NAIVE_OVERLAP}) "
                   "over raw text + Chroma top-k; answer = top chunk, never refuses")

    def __init__(self, settings: Settings) -> None:
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        docs, clauses = load_corpus(settings)
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_OVERLAP, add_start_index=True)
        self.raw: dict[str, str] = {}
        self.spans: dict[str, list[Span]] = {}
        pieces = []
        for doc in (d for d in docs if d.has_text):
            raw = self.raw[doc.doc_id] = read_text(settings.corpus_dir, doc)
            self.spans[doc.doc_id] = clause_spans(raw, [c for c in clauses if c.doc_id == doc.doc_id])
            pieces += splitter.create_documents([raw], metadatas=[{"doc_id": doc.doc_id}])
        embeddings = make_embeddings(settings.embedding)
        digest = hashlib.sha256(embeddings.model_id.encode())
        for piece in pieces:
            digest.update(f"{piece.metadata['doc_id']}:{piece.metadata['start_index']}:".encode())
            digest.update(piece.page_content.encode())
        client, name = client_for(settings), f"{NAIVE_PREFIX}{digest.hexdigest()[:16]}"
        for stale in client.list_collections():  # left by earlier corpora or embedders
            if stale.name.startswith(NAIVE_PREFIX) and stale.name != name:
                client.delete_collection(stale.name)
        self.store = Chroma(client=client, embedding_function=embeddings, collection_name=name,
                            collection_metadata={"hnsw:space": "cosine"})
        if len(self.store.get(include=[])["ids"]) != len(pieces):  # new, or left half-written
            self.store.reset_collection()
            self.store.add_documents(pieces, ids=[f"c{i}" for i in range(len(pieces))])
        self.chunks = len(pieces)

    def run(self, item: GoldItem, depth: int) -> Outcome:
        started = time.perf_counter()
        found = self.store.similarity_search(item.question, k=min(depth, self.chunks))
        latency = _ms(started)
        per_chunk = [self._cited(doc.metadata, doc.page_content) for doc in found]
        ranked = dedupe(key for cited in per_chunk for key, _ in cited)[:depth]
        if not found:
            return Outcome((), "", False, (), latency, "baseline")
        return Outcome(tuple(ranked), found[0].page_content, False, tuple(per_chunk[0]), latency,
                       "baseline")

    def _cited(self, meta: dict[str, Any], text: str) -> list[tuple[str, str]]:
        doc_id, start = str(meta["doc_id"]), int(meta["start_index"])
        return overlaps(start, start + len(text), self.spans.get(doc_id, []), self.raw[doc_id])
