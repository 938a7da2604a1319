"""Typed results of the chain (defined once; ui/ and eval/ consume only these)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from index.models import Chunk


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the evidence that ranked it."""

    chunk: Chunk
    score: float
    bm25: float | None = None
    dense: float | None = None
    via: str = "hybrid"  # hybrid | lookup | bm25 | dense
    key_bm25: float | None = None  # BM25 of the clause's plain-language keys
    key_dense: float | None = None  # best cosine of one of its keys
    rare: tuple[str, ...] = ()  # rare question terms the clause contains
    features: dict[str, float] = field(default_factory=dict, compare=False)  # scaled inputs of `score`


@dataclass(frozen=True)
class Related:
    """A clause worth reading, without a claim that it answers the question."""

    doc_id: str
    clause_id: str
    label: str


@dataclass(frozen=True)
class Citation(Related):
    """A clause that answers, with a quote that is a verbatim substring of the clause.

    `start`/`end` are character offsets of `quote` in the document's text file as stored in the
    corpus (`text[start:end] == quote`); -1 until the chain has located the quote.
    """

    quote: str
    start: int = -1
    end: int = -1

    @property
    def clause_key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"


@dataclass(frozen=True)
class Dropped:
    """A sentence of a generated answer that was removed, and why (unsupported number, no citation…)."""

    sentence: str
    reason: str


@dataclass(frozen=True)
class Trace:
    """What the chain saw on the way to an answer (the hit-test page renders it; never serialised
    with the answer). Loosely typed: it holds rag's Query, Retrieval and PartResult objects."""

    stage: str = ""
    query: Any = None
    retrievals: tuple[Any, ...] = ()
    parts: tuple[Any, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The design's output contract; `to_dict` is exactly what `ask --json` prints."""

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    mode: str
    latency_ms: float = 0.0
    related: tuple[Related, ...] = ()
    reason: str = ""
    standalone_question: str = ""
    dropped_citations: tuple[str, ...] = ()
    dropped_sentences: tuple[Dropped, ...] = ()
    degraded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    trace: Trace | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "trace"}
        data["extra"] = dict(self.extra)
        data["citations"] = [asdict(c) for c in self.citations]
        data["related"] = [asdict(r) for r in self.related]
        data["dropped_citations"] = list(self.dropped_citations)
        data["dropped_sentences"] = [asdict(d) for d in self.dropped_sentences]
        order = ["question", "answer", "refused", "citations", "mode", "latency_ms", "related"]
        return {key: data[key] for key in order} | {
            key: value for key, value in data.items() if key not in order
        }
