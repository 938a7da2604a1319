"""The hit test (命中测试): what the chain saw for one question, as plain JSON-ready data.

Built from the `Trace` the chain attached to its answer, so it shows exactly the candidates,
scores and decision that produced the answer — never a second, separate search.
"""

from __future__ import annotations

from typing import Any

from rag.models import Answer


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def explanation(answer: Answer) -> dict[str, Any]:
    trace = answer.trace
    out: dict[str, Any] = {"answer": answer.to_dict()}
    if trace is None:
        return out
    query = trace.query
    out["stage"] = trace.stage
    out["timings_ms"] = {k: round(v * 1000, 2) for k, v in trace.timings.items()}
    if query is not None:
        out["query"] = {"raw": query.raw, "normalised": query.text, "standalone": query.standalone,
                        "language": query.lang, "traditional": query.traditional,
                        "details": [k.name for k in query.details], "parts": list(query.parts),
                        "rare_terms": query.rare}
    out["retrievals"] = [{
        "query": r.query, "lookup": r.ref, "degraded": r.degraded, "stats": {k: _round(v) for k, v in r.stats.items()},
        "candidates": [{"clause": h.chunk.clause_key, "chunk": h.chunk.chunk_id, "label": h.chunk.label,
                        "fused": _round(h.score), "bm25": _round(h.bm25), "dense": _round(h.dense),
                        "key_bm25": _round(h.key_bm25), "key_dense": _round(h.key_dense), "rare": list(h.rare),
                        "via": h.via} for h in r.hits],
    } for r in trace.retrievals]
    out["parts"] = [{
        "part": p.part, "reason": p.reason, "detail": p.detail.name if p.detail else None,
        "decision": None if p.decision is None else {
            "answers": p.decision.answers, "probability": _round(p.decision.probability),
            "why": p.decision.reason, "features": {k: _round(v) for k, v in p.decision.features.items()}},
        "sentences": [{"clause": e.chunk.clause_key, "sentence": e.sentence, "score": _round(e.score),
                       "features": {k: _round(v) for k, v in e.features.items()}} for e in p.evidence[:10]],
    } for p in trace.parts]
    return out
