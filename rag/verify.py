"""`policyqa verify`: saved answers checked against the corpus, so anyone can hold a quote to its source.

A citation passes when its document is in the catalog with a text, `text[start:end] == quote` on
that text exactly as the index reads it (index.catalog.read_text: the file whose sha256 the catalog
records, decoded), and the span lies inside the cited clause without crossing a break (sub-items
between two paragraphs, a blank line). Pure functions: the caller reads the answers file, the catalog
and the texts (ui/cli.py); nothing here opens a file. `clause_span` also tells the UI where a
citation lies in the clause text it shows, so a card highlights the cited span, not the first
occurrence of the same words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from index.models import Clause, Span

_CLIP = 40


@dataclass(frozen=True)
class Line:
    """One line of a clause as shown (or one piece of it, when a chunk boundary cuts the line)."""

    pos: int  # where it begins in the clause text (the lines joined by "\n", chunk texts concatenated)
    start: int  # where it begins in the document's text
    length: int
    joined: bool  # the document has exactly one "\n" between the previous line and this one

    @property
    def end(self) -> int:
        return self.start + self.length


def lines_of(parts: Iterable[tuple[str, Sequence[Span]]]) -> tuple[Line, ...]:
    """The lines of a clause from its parts: (clause.text, clause.spans), or each chunk's (text, spans)."""
    out: list[Line] = []
    pos = 0
    for text, spans in parts:
        rows = text.split("\n")
        if len(spans) != len(rows):  # a part without offsets (an index built before spans): no mapping
            return ()
        for k, (row, span) in enumerate(zip(rows, spans, strict=True)):
            out.append(Line(pos, span.start, len(row), span.joined))
            pos += len(row) + (1 if k < len(rows) - 1 else 0)
    return tuple(out)


def _continues(prev: Line, line: Line) -> bool:
    """`line` follows `prev` without a break: the same line cut by a chunk, or the next one after one "\n"."""
    cut = line.start == prev.end and line.pos == prev.pos + prev.length
    newline = line.joined and line.start == prev.end + 1 and line.pos == prev.pos + prev.length + 1
    return cut or newline


def clause_span(start: int, end: int, lines: Sequence[Line]) -> tuple[int, int] | None:
    """Where the document span [start, end) lies in the clause text; None unless it lies inside one
    unbroken run of the clause's lines."""
    if not 0 <= start < end:
        return None
    at = next((i for i, line in enumerate(lines) if line.start <= start < line.end), None)
    if at is None:
        return None
    first = lines[at]
    prev = first
    for line in lines[at:]:
        if line is not first and not _continues(prev, line):
            return None
        if end <= line.end:
            return first.pos + start - first.start, line.pos + end - line.start
        prev = line
    return None


# ---------------------------------------------------------------- checking saved answers


@dataclass(frozen=True)
class Source:
    """A document as the index reads it: its text, and the lines of each of its clauses."""

    text: str
    clauses: Mapping[str, tuple[Line, ...]]

    @classmethod
    def of(cls, text: str, clauses: Iterable[Clause]) -> Source:
        return cls(text, {c.clause_id: lines_of([(c.text, c.spans)]) for c in clauses})


@dataclass(frozen=True)
class Failure:
    """One citation that does not hold, with where it was (line of the file, n-th citation) and why."""

    line: int
    number: int
    doc_id: str
    clause_id: str
    start: Any
    end: Any
    reason: str


@dataclass(frozen=True)
class Report:
    answers: int
    citations: int
    failures: tuple[Failure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


class InputError(ValueError):
    """The answers file cannot be read as answers; the message names the line."""


def read_answers(text: str) -> list[tuple[int, list[Any]]]:
    """(line number, citations) of each answer: `ask --json` output, /api/ask bodies or chat.completion
    bodies (all carry a top-level `citations` list), one JSON object per line; blank lines are skipped."""
    answers = []
    for number, raw in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit inside a quote
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("citations"), list):
            raise InputError(f"line {number}: not an answer (expected a JSON object with a `citations` list: "
                             "`policyqa ask --json` output, an /api/ask body or a chat.completion body)")
        answers.append((number, record["citations"]))
    return answers


def _clip(text: str) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def problem(cite: Any, sources: Mapping[str, Source | None]) -> str | None:
    """Why a citation does not hold against the corpus; None when it does.

    `sources` holds every catalog entry: a Source for a document with text, None for metadata only.
    """
    if not isinstance(cite, dict):
        return "not a citation object"
    doc_id, clause_id, quote = cite.get("doc_id"), cite.get("clause_id"), cite.get("quote")
    start, end = cite.get("start"), cite.get("end")
    if not isinstance(doc_id, str) or not isinstance(clause_id, str) or not isinstance(quote, str):
        return "doc_id, clause_id and quote must be strings"
    if doc_id not in sources:
        return f"unknown document {doc_id!r} (not in corpus/catalog.toml)"
    source = sources[doc_id]
    if source is None:
        return f"document {doc_id!r} has no text in the corpus (metadata only)"
    if not quote:
        return "empty quote"
    if type(start) is not int or type(end) is not int or start < 0:
        return f"no offsets (start={start!r}, end={end!r})"
    if not start < end <= len(source.text):
        return f"offsets {start}-{end} outside the text (0-{len(source.text)})"
    found = source.text[start:end]
    if found != quote:
        at = source.text.find(quote)
        where = f"; the quote occurs at {at}-{at + len(quote)}" if at >= 0 else "; the quote occurs nowhere in it"
        return f"text[{start}:{end}] is “{_clip(found)}”, not the quote “{_clip(quote)}”{where}"
    lines = source.clauses.get(clause_id)
    if lines is None:
        return f"unknown clause {clause_id!r} in {doc_id!r}"
    if clause_span(start, end, lines) is None:
        return f"span {start}-{end} is not inside clause {clause_id} (or crosses a break in it)"
    return None


def verify(answers: Sequence[tuple[int, Sequence[Any]]], sources: Mapping[str, Source | None]) -> Report:
    failures = []
    for line, citations in answers:
        for number, cite in enumerate(citations, start=1):
            if (reason := problem(cite, sources)) is not None:
                get = cite.get if isinstance(cite, dict) else (lambda _key: None)
                failures.append(Failure(line, number, str(get("doc_id")), str(get("clause_id")), get("start"),
                                        get("end"), reason))
    return Report(len(answers), sum(len(c) for _line, c in answers), tuple(failures))


def render(report: Report) -> list[str]:
    """One line per failing citation, then the summary."""
    lines = [f"line {f.line}, citation {f.number} ({f.doc_id}:{f.clause_id} [{f.start}:{f.end}]): {f.reason}"
             for f in report.failures]
    passed = report.citations - len(report.failures)
    verdict = "all hold" if report.ok else f"{len(report.failures)} FAILED"
    lines.append(f"{report.answers} answers, {report.citations} citations: {passed} hold, {verdict}")
    return lines
