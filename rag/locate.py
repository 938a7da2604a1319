"""Where a quote lies in its document's text: `start`/`end` offsets a reader can check.

Every citation of every mode passes through `locate_all` before it leaves the chain. A quote is
one contiguous span of the document: when it runs across a break in the clause (the closing
paragraph of 一(二) follows its four sub-items, not the opening paragraph) it becomes one citation
per contiguous piece, never a joined string that the document does not contain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from index.models import Chunk
from rag.models import Answer, Citation
from rag.view import IndexView


@dataclass(frozen=True)
class _Segment:
    pos: int  # where the line begins in the clause text
    length: int
    doc_start: int
    joined: bool  # one "\n" lies between the previous line and this one in the document


def _segments(chunks: Sequence[Chunk]) -> tuple[str, list[_Segment]]:
    text, segments, pos = "", [], 0
    for chunk in chunks:
        lines = chunk.text.split("\n")
        for k, (line, span) in enumerate(zip(lines, chunk.spans, strict=False)):
            segments.append(_Segment(pos, len(line), span.start, span.joined))
            pos += len(line) + (1 if k < len(lines) - 1 else 0)
        text += chunk.text
    return text, segments


def pieces(quote: str, chunks: Sequence[Chunk]) -> list[tuple[str, int, int]]:
    """(text, start, end) of each contiguous piece of `quote` in the document; [] when not found."""
    text, segments = _segments(chunks)
    at = text.find(quote) if quote else -1
    if at < 0 or not segments:
        return []
    lo_q, hi_q = at, at + len(quote)
    out: list[tuple[int, int, int, int]] = []  # clause-text lo/hi, document start/end
    for seg in segments:
        lo, hi = max(lo_q, seg.pos), min(hi_q, seg.pos + seg.length)
        if lo >= hi:
            continue
        doc_lo = seg.doc_start + lo - seg.pos
        doc_hi = doc_lo + hi - lo
        if out:
            p_lo, p_hi, p_doc_lo, p_doc_hi = out[-1]
            same_line = doc_lo == p_doc_hi and lo == p_hi  # a line continued in the next chunk
            next_line = seg.joined and lo == seg.pos and doc_lo == p_doc_hi + 1 and lo == p_hi + 1
            if same_line or next_line:
                out[-1] = (p_lo, hi, p_doc_lo, doc_hi)
                continue
        out.append((lo, hi, doc_lo, doc_hi))
    return [(text[lo:hi], doc_lo, doc_hi) for lo, hi, doc_lo, doc_hi in out]


def locate(citation: Citation, view: IndexView) -> list[Citation]:
    """The citation with its offsets, split at breaks; unchanged when the quote is not in the clause."""
    found = pieces(citation.quote, view.by_clause.get(citation.clause_key, []))
    if not found:
        return [citation]
    return [replace(citation, quote=q, start=a, end=b) for q, a, b in found]


def locate_all(answer: Answer, view: IndexView) -> Answer:
    if not answer.citations:
        return answer
    return replace(answer, citations=tuple(c for cite in answer.citations for c in locate(cite, view)))
