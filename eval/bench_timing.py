"""Warm-latency measurement with a per-stage breakdown, taken without editing rag/.

The stages are timed by wrapping rag's public functions and methods at runtime (in the bench
process only; every wrapper is removed afterwards). Time is exclusive: a stage called inside
another (the query embedding inside retrieval) is charged to itself, not to its caller, so the
stages add up to the answer's latency and "other" is what no wrapper covers.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from eval.gold import GoldItem

STAGES = ("index view", "normalise", "follow-up rewrite", "faq match", "scope checks", "retrieve (other)", "BM25",
          "embed query", "Chroma query", "fuse", "embed passages", "sentence scoring", "extract", "compose text",
          "other")
# What the issue calls "compose answer" is extract + sentence scoring + compose text (+ embed passages).
COMPOSE_STAGES = ("extract", "sentence scoring", "compose text", "embed passages")


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of one series (milliseconds or seconds, as given)."""
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "mean": float(statistics.fmean(values)) if values else float("nan"),
            "max": max(values) if values else float("nan"), "n": len(values)}


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median and range over repetitions: what the report prints as `median [min–max]`."""
    vals = [float(v) for v in values]
    if not vals:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0, "values": []}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals),
            "values": [round(v, 4) for v in vals]}


class StageTimer:
    """Exclusive time per stage for the current question (single-threaded use)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []

    def reset(self) -> dict[str, float]:
        done, self.current = dict(self.current), defaultdict(float)
        return done

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append(0.0)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = self._stack.pop()
                self.current[stage] += elapsed - inner
                self.calls[stage] += 1
                if self._stack:
                    self._stack[-1] += elapsed

        return timed


@contextmanager
def patched(targets: Sequence[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]]]) -> Iterator[None]:
    """Replace `owner.name` by `make(original)` for each target present; restore on exit."""
    undo: list[tuple[Any, str, Any, bool]] = []
    try:
        for owner, name, make in targets:
            original = getattr(owner, name, None)
            if original is None:
                continue  # rag/ changed under us: that stage simply lands in "other"
            own = name in getattr(owner, "__dict__", {})
            undo.append((owner, name, owner.__dict__.get(name) if own else None, own))
            setattr(owner, name, make(original))
        yield
    finally:
        for owner, name, previous, own in reversed(undo):
            if own:
                setattr(owner, name, previous)
            else:
                delattr(owner, name)


def stage_targets(assistant: Any, timer: StageTimer) -> list[tuple[Any, str, Callable[..., Any]]]:
    """Where each stage lives in rag/ today (see rag/chain.py, rag/retrieve.py, rag/extract.py)."""
    import rag.chain
    import rag.compose
    import rag.retrieve

    def w(stage: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return lambda fn: timer.wrap(stage, fn)

    retriever = assistant.retriever
    cls = type(retriever)
    targets: list[tuple[Any, str, Callable[..., Any]]] = [
        (cls, "view", w("index view")), (cls, "search", w("retrieve (other)")), (cls, "_bm25", w("BM25")),
        (rag.retrieve, "normalize", w("normalise")), (rag.chain, "normalize", w("normalise")),
        (rag.retrieve, "fuse", w("fuse")), (rag.chain, "rewrite", w("follow-up rewrite")),
        (rag.chain, "match_faq", w("faq match")), (assistant, "_scope", w("scope checks")),
        (rag.chain, "extract", w("extract")), (retriever.embedder, "embed_query", w("embed query")),
        (retriever.embedder, "embed_documents", w("embed passages")),
        (retriever.store, "dense_search", w("Chroma query")), (assistant.sentences, "similarities",
                                                                w("sentence scoring")),
    ]
    for name, fn in vars(rag.compose).items():
        if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == "rag.compose":
            targets.append((rag.compose, name, w("compose text")))
    return targets


@contextmanager
def counting(counts: dict[str, int]) -> Iterator[None]:
    """Count what must not happen per query: IndexView builds, whole-collection reads, corpus joins."""
    from index.store import Store
    from rag.chain import Assistant
    from rag.retrieve import IndexView

    def count(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def counted(*args: Any, **kwargs: Any) -> Any:
                counts[name] = counts.get(name, 0) + 1
                return fn(*args, **kwargs)
            return counted
        return make

    build = IndexView.__dict__["build"].__func__

    def make_build(_fn: Any) -> Any:
        return classmethod(count("IndexView.build")(build))

    with patched([(IndexView, "build", make_build), (Store, "chunks", count("Store.chunks (whole collection)")),
                  (Assistant, "corpus_text", count("Assistant.corpus_text (joins every chunk)"))]):
        yield


def _ask(assistant: Any, item: GoldItem) -> float:
    started = time.perf_counter()
    assistant.answer(item.question, history=list(item.history))
    return (time.perf_counter() - started) * 1000


def measure_answers(assistant: Any, items: Sequence[GoldItem], reps: int) -> dict[str, Any]:
    """First pass (caches cold, models loaded), then `reps` warm passes, each with stage times."""
    timer = StageTimer()
    counts = {"questions": 0, "IndexView.build": 0, "Store.chunks (whole collection)": 0,
              "Assistant.corpus_text (joins every chunk)": 0}
    passes: list[list[float]] = []
    stage_rows: list[dict[str, float]] = []
    first_stages: dict[str, float] = defaultdict(float)
    with patched(stage_targets(assistant, timer)), counting(counts):
        for rep in range(reps + 1):
            latencies = []
            for item in items:
                timer.reset()
                ms = _ask(assistant, item)
                stages = {k: v * 1000 for k, v in timer.reset().items()}
                stages["other"] = max(ms - sum(stages.values()), 0.0)
                latencies.append(ms)
                counts["questions"] += 1
                if rep == 0:
                    for k, v in stages.items():
                        first_stages[k] += v
                else:
                    stage_rows.append(stages)
            passes.append(latencies)
    warm = [summary(p) for p in passes[1:]]
    return {
        "questions": len(items), "reps": reps,
        "first_pass": summary(passes[0]),
        "first_pass_stages_total_ms": {k: round(v, 1) for k, v in first_stages.items()},
        "p50": spread([s["p50"] for s in warm]), "p95": spread([s["p95"] for s in warm]),
        "p99": spread([s["p99"] for s in warm]), "mean": spread([s["mean"] for s in warm]),
        "stages": stage_table(stage_rows),
        "slowest": slowest(items, passes[1:]),
        "counts": counts,
    }


def stage_table(rows: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per stage over all warm questions: mean, median, p95 (ms) and share of total time."""
    total = sum(sum(r.values()) for r in rows) or 1.0
    table = {}
    for stage in STAGES:
        vals = [r.get(stage, 0.0) for r in rows]
        if any(vals):
            table[stage] = {"mean_ms": round(statistics.fmean(vals), 3), "p50_ms": round(pct(vals, 50), 3),
                            "p95_ms": round(pct(vals, 95), 3), "share": round(sum(vals) / total, 4)}
    return table


def slowest(items: Sequence[GoldItem], passes: Sequence[Sequence[float]], n: int = 5) -> list[dict[str, Any]]:
    """The questions whose median warm latency is highest: where a p95 comes from."""
    if not passes:
        return []
    med = [statistics.median(p[i] for p in passes) for i in range(len(items))]
    order = sorted(range(len(items)), key=lambda i: -med[i])[:n]
    return [{"id": items[i].id, "question": items[i].question, "ms": round(med[i], 1)} for i in order]


def chroma_detail(assistant: Any, items: Sequence[GoldItem], reps: int = 3) -> dict[str, float]:
    """Median ms of one dense search, split: Store.dense_search vs a kept Collection handle's query alone.

    The difference is what rag pays per request to look the collection up again (client_for +
    get_collection) and to rebuild Chunk objects from metadata.
    """
    retriever = assistant.retriever
    view, store = retriever.view(), retriever.store
    n = min(retriever.settings.candidates, len(view.chunks))
    vectors = [np.asarray([retriever.embedder.embed_query(item.question)], dtype=np.float32) for item in items[:30]]
    collection = store._collection(view.name)

    def timed(fn: Callable[[np.ndarray], Any]) -> float:
        runs = []
        for _ in range(reps):
            for vec in vectors:
                started = time.perf_counter()
                fn(vec)
                runs.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(runs), 3)

    return {"dense_search_ms": timed(lambda v: store.dense_search(view.name, v[0].tolist(), n)),
            "get_collection_ms": timed(lambda v: store._collection(view.name)),
            "query_on_kept_handle_ms": timed(lambda v: collection.query(
                query_embeddings=v, n_results=n, include=["documents", "metadatas", "distances"])),
            "query_ids_only_ms": timed(lambda v: collection.query(query_embeddings=v, n_results=n, include=[]))}


def measure_search(retriever: Any, items: Sequence[GoldItem], reps: int) -> dict[str, Any]:
    """Retrieval alone (normalise → BM25 + dense → fuse), the part whose cost grows with the corpus."""
    for item in items:
        retriever.search(item.question)
    runs = []
    for _ in range(reps):
        latencies = []
        for item in items:
            started = time.perf_counter()
            retriever.search(item.question)
            latencies.append((time.perf_counter() - started) * 1000)
        runs.append(summary(latencies))
    return {"p50": spread([r["p50"] for r in runs]), "p95": spread([r["p95"] for r in runs]),
            "p99": spread([r["p99"] for r in runs])}
