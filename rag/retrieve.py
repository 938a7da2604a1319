"""Hybrid retrieval: BM25 and dense search over chunks and over plain-language keys, fused.

A question that names a clause (“二(七)2”, “第二部分第七条第2项”) goes straight to it. A rare
question term found verbatim in the corpus (RCEP, 领跑者) always brings its clause in. Features are
scaled per question (BM25 by its best score, cosines min-max: e5 similarities bunch within a few
hundredths, so only their order within one question means something) and mixed with weights
fitted on the development splits (answerer.toml [fitted.fusion]).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.embed import PolicyEmbeddings, make_embeddings
from index.models import Chunk, Key
from index.settings import Settings
from index.store import Store
from rag import segmenter
from rag.config import AnswererConfig, load_config
from rag.lexicon import Lexicon, load_lexicon
from rag.models import Hit
from rag.normalize import clip, is_english, normalize
from rag.view import IndexView

_REFRESH_SECONDS = 2.0


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
    rare: dict[str, list[str]] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)  # raw top/mean similarities for the refusal model
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step (the bench's stage breakdown)
    scope: frozenset[str] = frozenset()  # clause keys the question is asked within (“先进制造业那部分…”)


class HybridRetriever:
    """policyqa's retriever over one index; `search` returns typed `Hit`s."""


    def __init__(self, settings: Settings, k: int = 5, embeddings: Any = None,
                 names: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.k = k
        self.embeddings = embeddings
        self.names = names
        self.lexicon: Lexicon = load_lexicon(settings.lexicon_dir)
        segmenter.configure(settings.data_dir)  # jieba's dictionary from the data dir's copy (rag/segmenter.py)
        self.config: AnswererConfig = load_config(settings.lexicon_dir)
        self._store: Store | None = None
        self._view: IndexView | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.views_built = 0  # index generations loaded (the bench checks it stays 1 while answering)

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
                    keys = self.store.key_vectors(info.name) if self.settings.plain_layer else []
                    self._view = IndexView.open(self.store, info.name, self.lexicon, keys,
                                                 self.names)
                    self.views_built += 1
            except Exception:
                if self._view is None:
                    raise
            self._checked = now
            return self._view

    def search(self, question: str, k: int | None = None, mode: str = "hybrid",
               rare: dict[str, list[str]] | None = None, exclude: frozenset[str] = frozenset()) -> Retrieval:
        """Ranked hits. `mode` "dense" or "bm25" runs one chunk-level side alone (the eval's baselines).

        `rare` passes the rare terms the caller already found (the chain's Query); else they are found here.
        """
        k = max(k or self.k, self.config.limits.clauses_considered)
        view = self.view()
        query = clip(normalize(question), self.config.retrieval.query_chars)
        hybrid = mode == "hybrid"
        ref, found = view.named(query, self.settings.primary_doc, exclude) if hybrid else (None, [])
        if found:
            return Retrieval(query, tuple(Hit(c, 1.0, via="lookup") for c in found), ref=ref)
        lexical = lexical_text(query, self.lexicon)
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        bm25 = view.bm25_scores(self._topical(lexical)) if mode != "dense" else np.zeros(len(view.chunks))
        key_bm25 = view.key_bm25_scores(self._topical(f"{query} {lexical}")) if hybrid else np.zeros(0)
        cfg = self.config.retrieval
        if rare is None:
            rare = view.rare_terms(query, cfg.rare_max_df, cfg.rare_min_han, cfg.rare_min_latin,
                                   cfg.rare_min_digits, exclude) if hybrid else {}
        timings["BM25"], clock = time.perf_counter() - clock, time.perf_counter()
        degraded, warning = False, ""
        dense: list[tuple[Chunk, float]] = []
        keys: list[tuple[Key, float]] = []
        vector: list[float] = []
        if mode != "bm25":
            vector = self.embedder.embed_query(query)
            timings["embed query"], clock = time.perf_counter() - clock, time.perf_counter()
            try:
                dense = self.store.dense_search(view.name, vector, min(self.settings.candidates, len(view.chunks)))
            except Exception as exc:  # Chroma down: the in-memory sides still answer, and the answer says so
                degraded, warning = True, f"dense search unavailable ({type(exc).__name__}); BM25 and keys only"
            timings["Chroma query"], clock = time.perf_counter() - clock, time.perf_counter()
            if hybrid:
                keys = view.key_search(vector, cfg.candidates_keys)
        timings["keys"], clock = time.perf_counter() - clock, time.perf_counter()
        weights = self.config.fusion if hybrid else {"bm25": 0.5, "dense": 0.5}
        # “先进制造业那部分…”: asked within that clause, which comes first among the candidates (scores unchanged)
        named = view.scope(query) if hybrid else None
        scope = frozenset(c.clause_key for c in view.lookup(named, self.settings.primary_doc, exclude)) \
            if named else frozenset()
        hits = [h for h in fuse(view, bm25, dense, key_bm25, keys, rare, weights,
                                len(view.chunks) if scope else self.settings.candidates)
                if h.chunk.doc_id not in exclude]  # a superseded version is never an answer
        if scope:
            hits = [h for h in hits if h.chunk.clause_key in scope] + \
                [h for h in hits if h.chunk.clause_key not in scope][: self.settings.candidates]
        timings["fuse"] = time.perf_counter() - clock
        return Retrieval(query, tuple(hits[:k]), degraded=degraded, warning=warning, lexical=lexical,
                         vector=tuple(vector), rare=rare, stats=_stats(dense, keys, degraded), timings=timings,
                         scope=scope)

    def _topical(self, text: str) -> list[str]:
        """BM25's tokens of `text` without the years that frame every target (terms.not_rare): “到2025年…” would
        otherwise draw every question to the one clause that writes the year, the lead of the targets."""
        tokens = self.lexicon.tokenize(text)
        return self.lexicon.without_years(tokens) or tokens


def lexical_text(text: str, lexicon: Lexicon) -> str:
    """What BM25 and term coverage read: the Chinese glossary terms of an English text, else the text with the
    terms of the English phrases it mixes in (“supply chain 标准协同” reads 供应链 too)."""
    if is_english(text):
        return " ".join(lexicon.english_terms(text))
    mixed = lexicon.english_terms(text) if re.search(r"[A-Za-z]{3}", text) else []
    return " ".join([text, *mixed])


def _stats(dense: Sequence[tuple[Chunk, float]], keys: Sequence[tuple[Key, float]],
           degraded: bool = False) -> dict[str, float]:
    """Cosine statistics for the refusal model.

    With Chroma down the chunk cosines are missing; the key cosines (same model, same query, in memory)
    stand in for them so that the fitted model sees values from its training range, not zeros that read
    as "nothing similar" and refuse every question.
    """
    key_sims = [s for _k, s in keys]
    sims = key_sims if degraded and not dense else [s for _c, s in dense]
    return {"dense_top": max(sims, default=0.0), "dense_mean": float(np.mean(sims)) if sims else 0.0,
            "key_top": max(key_sims, default=0.0), "key_mean": float(np.mean(key_sims)) if key_sims else 0.0}


def _minmax(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = (high - low) or 1.0
    return {k: (v - low) / span for k, v in values.items()}


def fuse(view: IndexView, bm25: np.ndarray, dense: Sequence[tuple[Chunk, float]], key_bm25: np.ndarray,
         keys: Sequence[tuple[Key, float]], rare: dict[str, list[str]], weights: dict[str, float],
         candidates: int) -> list[Hit]:
    """Per-chunk features, each scaled to 0..1 for this question, mixed by `weights`.

    Clause-level features (keys, rare terms) count for every chunk of the clause. Each hit keeps
    its raw BM25, cosine and key scores for the refusal model and the hit-test page.
    """
    top_bm25 = float(bm25.max()) if len(bm25) else 0.0
    order: list[int] = [int(i) for i in np.argsort(-bm25)[:candidates]] if top_bm25 > 0 else []
    raw_bm25 = {view.chunks[i].chunk_id: float(bm25[i]) for i in order if bm25[i] > 0}
    raw_dense = {c.chunk_id: s for c, s in dense}
    key_dense: dict[str, float] = {}
    for key, sim in keys:
        key_dense[key.clause_key] = max(sim, key_dense.get(key.clause_key, -1.0))
    top_key = float(key_bm25.max()) if len(key_bm25) else 0.0
    raw_key_bm25 = {view.key_clauses[i]: float(s) for i, s in enumerate(key_bm25) if s > 0}
    rare_by_clause: dict[str, list[str]] = {}
    for term, clauses in rare.items():
        for clause in clauses:
            rare_by_clause.setdefault(clause, []).append(term)
    dense_scaled, key_scaled = _minmax(raw_dense), _minmax(key_dense)
    chunks = view.by_id
    wanted = set(raw_bm25) | set(raw_dense)
    wanted |= {c.chunk_id for key in set(key_dense) | set(raw_key_bm25) | set(rare_by_clause)
               for c in view.by_clause.get(key, [])}
    hits = []
    for cid in wanted:
        chunk = chunks[cid]
        ck = chunk.clause_key
        features = {
            "bm25": raw_bm25.get(cid, 0.0) / top_bm25 if top_bm25 else 0.0,
            "dense": dense_scaled.get(cid, 0.0),
            "key_bm25": raw_key_bm25.get(ck, 0.0) / top_key if top_key else 0.0,
            "key_dense": key_scaled.get(ck, 0.0),
            "rare": 1.0 if ck in rare_by_clause else 0.0,
        }
        if ck not in view.key_text:  # a clause without a plain-language layer: its own text stands in for keys
            features["key_bm25"], features["key_dense"] = features["bm25"], features["dense"]
        score = sum(weights.get(name, 0.0) * value for name, value in features.items())
        via = "hybrid" if raw_bm25 and raw_dense else ("bm25" if raw_bm25 else "dense")
        hits.append(Hit(chunk, score, raw_bm25.get(cid), raw_dense.get(cid), via, raw_key_bm25.get(ck),
                        key_dense.get(ck), tuple(rare_by_clause.get(ck, ())), features))
    return sorted(hits, key=lambda h: (-h.score, h.chunk.order, h.chunk.part))
