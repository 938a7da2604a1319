"""Hybrid retrieval: BM25 over jieba tokens (bm25s) + dense search in Chroma, score-fused.

A question that names a clause (“二(七)2”, “第二部分第七条第2项”) goes straight to it. The
in-memory view (chunks, BM25) is built once per index generation, never per query.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import bm25s
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from index.embed import PolicyEmbeddings, make_embeddings
from index.models import Chunk
from index.settings import Settings
from index.store import Store
from rag.glossary import english_to_terms
from rag.models import Hit
from rag.normalize import is_english, normalize, parse_clause_ref, tokenize

BM25_WEIGHT = 0.5  # calibrated on eval/gold.jsonl: 0.5 beat rank fusion and 0.3/0.6
_REFRESH_SECONDS = 2.0


@dataclass
class IndexView:
    """Everything a query needs from one index generation, held in memory."""

    name: str
    chunks: list[Chunk]
    bm25: bm25s.BM25
    idf: dict[str, float]
    sections: dict[str, str]
    by_clause: dict[str, list[Chunk]] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, name: str, chunks: list[Chunk]) -> IndexView:
        tokens = [tokenize(c.embed_text) for c in chunks]
        bm25 = bm25s.BM25()
        if chunks:
            bm25.index(tokens, show_progress=False)
        df = Counter(t for toks in tokens for t in set(toks))
        n = max(len(chunks), 1)
        idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        sections: dict[str, str] = {}
        items: dict[str, str] = {}
        by_clause: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_clause.setdefault(chunk.clause_key, []).append(chunk)
            if chunk.heading_path and (m := re.match(r"^([一二三四五六七八九十]+)、(.+)$", chunk.heading_path[0])):
                sections.setdefault(m[2], m[1])
                if len(chunk.heading_path) > 1 and (i := re.match(r"^\(([一二三四五六七八九十]+)\)(.+)$",
                                                                  chunk.heading_path[1])):
                    items.setdefault(i[2], f"{m[1]}({i[1]})")
        return cls(name, chunks, bm25, idf, sections, by_clause, items)

    @cached_property
    def corpus_text(self) -> str:
        """All chunk text of this generation, joined once (scope checks search it per question)."""
        return "".join(c.text for c in self.chunks)

    def idf_of(self, token: str) -> float:
        """Unseen tokens weigh like the rarest seen ones: they are what the corpus lacks."""
        return self.idf.get(token, math.log(1 + (len(self.chunks) + 0.5) / 0.5))

    def clause_text(self, key: str) -> str:
        return "".join(c.text for c in self.by_clause.get(key, []))

    def named(self, text: str, primary_doc: str) -> tuple[str | None, list[Chunk]]:
        """The clause reference a text makes (by number, section or item title) and its chunks."""
        ref = parse_clause_ref(text, self.sections, self.items)
        return ref, (self.lookup(ref, primary_doc) if ref else [])

    def lookup(self, ref: str, primary_doc: str) -> list[Chunk]:
        """Chunks of the clause(s) a parsed reference names, primary document first."""
        candidates = [ref]
        if m := re.match(r"^(.+\))(\d)$", ref):
            candidates.append(f"{m[1]}-{m[2]}")  # “总体要求第二条第4项” → 一(二)-4
        docs = sorted({c.doc_id for c in self.chunks}, key=lambda d: d != primary_doc)
        for doc_id in docs:
            for cand in candidates:
                exact = self.by_clause.get(f"{doc_id}:{cand}")
                if exact and re.search(r"\d$", cand):
                    return exact
                inside = [
                    c for c in self.chunks
                    if c.doc_id == doc_id and (c.clause_id == cand or _inside(c.clause_id, cand))
                ]
                if inside:
                    return inside
        return []


def _inside(clause_id: str, prefix: str) -> bool:
    """二(七)2 is inside 二(七); 二(七)12 is not inside 二(七)1."""
    if not clause_id.startswith(prefix) or clause_id == prefix:
        return False
    nxt = clause_id[len(prefix)]
    return nxt == "-" or (prefix.endswith(")") and nxt.isdigit())


@dataclass(frozen=True)
class Retrieval:
    """The outcome of one search: hits in fused order plus how they were found."""

    query: str
    hits: tuple[Hit, ...]
    ref: str | None = None
    degraded: bool = False
    warning: str = ""
    lexical: str = ""  # what BM25 saw: the query, or for English the glossary's Chinese terms
    vector: tuple[float, ...] = ()


class HybridRetriever(BaseRetriever):
    """LangChain retriever over policyqa's index; `search` returns typed `Hit`s."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings
    k: int = 5
    embeddings: Any = None
    _store: Store | None = PrivateAttr(default=None)
    _view: IndexView | None = PrivateAttr(default=None)
    _checked: float = PrivateAttr(default=0.0)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    @property
    def embedder(self) -> PolicyEmbeddings:
        if self.embeddings is None:
            self.embeddings = make_embeddings(self.settings.embedding, self.settings.embed_threads)
        return self.embeddings

    def view(self) -> IndexView:
        """The current index generation; re-read when a rebuild switched the pointer."""
        now = time.monotonic()
        with self._lock:
            if self._view is not None and now - self._checked < _REFRESH_SECONDS:
                return self._view
            try:
                info = self.store.check(self.embedder.model_id)
                if self._view is None or self._view.name != info.name:
                    self._view = IndexView.build(info.name, self.store.chunks(info.name))
            except Exception:
                if self._view is None:
                    raise
            self._checked = now
            return self._view

    def search(self, question: str, k: int | None = None, mode: str = "hybrid") -> Retrieval:
        """Top-k hits. `mode` "dense" or "bm25" runs one side alone (the eval's baselines)."""
        k = k or self.k
        view = self.view()
        query = normalize(question)
        ref, found = view.named(query, self.settings.primary_doc) if mode == "hybrid" else (None, [])
        if found:
            return Retrieval(query, tuple(Hit(c, 1.0, via="lookup") for c in found), ref=ref)
        lexical = " ".join(english_to_terms(query)) if is_english(query) else query
        bm25_ranked = self._bm25(view, lexical) if mode != "dense" else []
        degraded, warning, dense_ranked, vector = False, "", [], []
        if mode != "bm25":
            try:
                vector = self.embedder.embed_query(query)
                n = min(self.settings.candidates, len(view.chunks))
                dense_ranked = self.store.dense_search(view.name, vector, n)
            except Exception as exc:  # Chroma down: answer from BM25 alone, and say so
                degraded, warning = True, f"dense search unavailable ({type(exc).__name__}); BM25 only"
        hits = fuse(bm25_ranked, dense_ranked)[:k]
        return Retrieval(query, tuple(hits), degraded=degraded, warning=warning, lexical=lexical,
                         vector=tuple(vector))

    def _bm25(self, view: IndexView, query: str) -> list[tuple[Chunk, float]]:
        tokens = [t for t in tokenize(query) if t in view.idf]
        if not tokens or not view.chunks:
            return []
        scores = view.bm25.get_scores(tokens)
        order = np.argsort(-scores)[: self.settings.candidates]
        return [(view.chunks[i], float(scores[i])) for i in order if scores[i] > 0]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=hit.chunk.text,
                metadata={"doc_id": hit.chunk.doc_id, "clause_id": hit.chunk.clause_id,
                          "label": hit.chunk.label, "score": hit.score, "via": hit.via},
            )
            for hit in self.search(query).hits
        ]


def fuse(bm25_ranked: list[tuple[Chunk, float]], dense_ranked: list[tuple[Chunk, float]],
         bm25_weight: float = BM25_WEIGHT) -> list[Hit]:
    """Relative-score fusion: BM25 scaled by its best score, cosine min-max scaled, then mixed.

    Unlike rank fusion it keeps how decisive each side is: a clause that BM25 scores far above
    the rest (an exact term such as 二维码) is not pulled down by a dense list whose cosine scores
    bunch within a few hundredths. Each hit keeps its raw BM25 score and dense similarity.
    """
    scores: dict[str, float] = {}
    bm25: dict[str, float] = {}
    dense: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    top = max((s for _c, s in bm25_ranked), default=0.0) or 1.0
    for chunk, score in bm25_ranked:
        scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + bm25_weight * score / top
        bm25[chunk.chunk_id], chunks[chunk.chunk_id] = score, chunk
    sims = [s for _c, s in dense_ranked]
    low, span = (min(sims), (max(sims) - min(sims)) or 1.0) if sims else (0.0, 1.0)
    for chunk, sim in dense_ranked:
        scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + (1 - bm25_weight) * (sim - low) / span
        dense[chunk.chunk_id], chunks[chunk.chunk_id] = sim, chunk
    via = "hybrid" if bm25_ranked and dense_ranked else ("bm25" if bm25_ranked else "dense")
    ordered = sorted(scores, key=lambda cid: -scores[cid])
    return [Hit(chunks[c], scores[c], bm25.get(c), dense.get(c), via) for c in ordered]
