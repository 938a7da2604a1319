"""Warm-latency measurement with a per-stage breakdown, from the chain's own timing.

The chain calls its stage hook with each stage's duration (query, guard, lookup, catalog, faq,
retrieve) and every retrieval records its steps (BM25, embed query, Chroma query, keys, fuse) in
the answer's trace; the retrieve stage's remainder is extraction and composition. Nothing in rag/
is wrapped or patched.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from eval.gold import GoldItem
from index.stats import percentile

RETRIEVAL_STEPS = ("BM25", "embed query", "Chroma query", "keys", "fuse")
STAGES = ("query", "guard", "lookup", "catalog", "faq", *RETRIEVAL_STEPS, "extract + compose", "other")
COMPOSE_STAGES = ("extract + compose",)


def pct(values: Sequence[float], q: float) -> float:
    """The project's percentile (index/stats.py); NaN for no values, as the report tables expect."""
    value = percentile(values, q)
    return float("nan") if value is None else value


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


def stage_times(answer: Any, hooked: dict[str, float], total_ms: float) -> dict[str, float]:
    """Milliseconds per stage of one answer: the hook's stages, the retrieve stage split into its steps."""
    stages = {k: v * 1000 for k, v in hooked.items() if k != "retrieve"}
    retrieve = hooked.get("retrieve", 0.0) * 1000
    steps: dict[str, float] = defaultdict(float)
    for retrieval in (answer.trace.retrievals if answer.trace else ()):
        for step, seconds in retrieval.timings.items():
            steps[step] += seconds * 1000
    stages.update(steps)
    if "retrieve" in hooked:
        stages["extract + compose"] = max(retrieve - sum(steps.values()), 0.0)
    stages["other"] = max(total_ms - sum(stages.values()), 0.0)
    return stages


def measure_answers(assistant: Any, items: Sequence[GoldItem], reps: int) -> dict[str, Any]:
    """First pass (caches cold, models loaded), then `reps` warm passes, each with stage times.

    The stage hook is the chain's (`Assistant.on_stage`); it is set for the run and restored after.
    """
    hooked: dict[str, float] = {}
    previous: Callable[[str, float], None] | None = assistant.on_stage
    assistant.on_stage = lambda name, seconds: hooked.__setitem__(name, hooked.get(name, 0.0) + seconds)
    assistant.retriever.view()
    views_before = assistant.retriever.views_built
    counts = {"questions": 0, "IndexView.build": 0}
    passes: list[list[float]] = []
    stage_rows: list[dict[str, float]] = []
    first_stages: dict[str, float] = defaultdict(float)
    try:
        for rep in range(reps + 1):
            latencies = []
            for item in items:
                hooked.clear()
                started = time.perf_counter()
                answer = assistant.answer(item.question, history=list(item.history))
                ms = (time.perf_counter() - started) * 1000
                stages = stage_times(answer, hooked, ms)
                latencies.append(ms)
                counts["questions"] += 1
                if rep == 0:
                    for k, v in stages.items():
                        first_stages[k] += v
                else:
                    stage_rows.append(stages)
            passes.append(latencies)
    finally:
        assistant.on_stage = previous
    counts["IndexView.build"] = assistant.retriever.views_built - views_before
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
