"""Every quantitative target in the indexed documents, as a table (pure functions over chunks).

A target is a number + unit that states a threshold: followed by 以上/以内/以下/左右 or preceded by
a verb that sets a level (缩短至, 达到, 不少于…). Counts that describe scope (“3个山区镇”,
“9大重点领域”) and dates, document numbers or phone numbers state no threshold, so they are not
targets. The target year comes from “到2025年” in the clause or, for the —— bullets of a goals
section (一(二)-1…4), in their parent clause (一(二)).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from index.models import Chunk
from rag.models import Citation

_SEGMENT = re.compile(r"[^。;;,,!?!?\n]+")
_YEAR = re.compile(r"到(\d{4})年")


@dataclass(frozen=True)
class Target:
    indicator: str
    value: str
    comparator: str  # 以上 | 以内 | 以下 | 左右 | "" (then `verb` sets the level)
    unit: str
    year: int | None
    doc_id: str
    clause_id: str
    quote: str  # the verbatim clause segment stating the target
    verb: str = ""  # 缩短至, 达到… when the text has one
    label: str = ""
    clause_span: str = field(default="", repr=False)  # verbatim, from the clause's first target to its last

    @property
    def target(self) -> str:
        return f"{self.verb}{self.value}{self.unit}{self.comparator}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("clause_span")
        return data


def _clauses(chunks: Sequence[Chunk]) -> dict[str, tuple[Chunk, str]]:
    """Clause key → (first chunk, whole clause text), in document order."""
    parts: dict[str, list[Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: (c.doc_id, c.order, c.part)):
        parts.setdefault(chunk.clause_key, []).append(chunk)
    return {key: (ps[0], "".join(p.text for p in ps)) for key, ps in parts.items()}


def _year(text: str, before: int, parent: str) -> int | None:
    years = [m for m in _YEAR.finditer(text) if m.start() < before]
    if years:
        return int(years[-1][1])
    found = _YEAR.search(parent)
    return int(found[1]) if found else None


def extract_targets(chunks: Sequence[Chunk], pattern: re.Pattern[str]) -> list[Target]:
    """Targets in document order; each quote is a substring of its clause's text.

    `pattern` is `Lexicon.target` (units, verbs and comparators are reviewed data in patterns.toml).
    """
    clauses = _clauses(chunks)
    out: list[Target] = []
    for chunk, text in clauses.values():
        parent_id = re.sub(r"-\d+$", "", chunk.clause_id)
        parent = clauses.get(f"{chunk.doc_id}:{parent_id}", (chunk, ""))[1] if parent_id != chunk.clause_id else ""
        found: list[tuple[int, int, Target]] = []
        for segment in _SEGMENT.finditer(text):
            seg = segment[0]
            prev = 0
            for m in pattern.finditer(seg):
                if not (m["cmp"] or m["verb"]) or (m["unit"] == "年" and len(m["value"]) == 4):
                    continue
                indicator = seg[prev : m.start()].strip() or seg[: m.start()].strip()
                prev = m.end()
                start, end = segment.start() + len(seg) - len(seg.lstrip()), segment.end()
                target = Target(indicator, m["value"], m["cmp"] or "", m["unit"], _year(text, start, parent),
                                chunk.doc_id, chunk.clause_id, text[start:end].strip(), m["verb"] or "", chunk.label)
                found.append((start, end, target))
        if found:
            span = text[min(s for s, _e, _t in found) : max(e for _s, e, _t in found)]
            out += [_with_span(t, span) for _s, _e, t in found]
    return out


def _with_span(target: Target, span: str) -> Target:
    return Target(**{**target.__dict__, "clause_span": span})


# ---------------------------------------------------------------- renderings

_HEAD = ("序号", "指标", "目标值", "年份", "条款")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def targets_table(targets: Sequence[Target]) -> str:
    """A plain-text table aligned for a terminal (CJK characters count double)."""
    rows = [_HEAD] + [(str(i), t.indicator, t.target, str(t.year or "—"), f"{t.doc_id}:{t.clause_id}")
                      for i, t in enumerate(targets, 1)]
    widths = [max(_width(r[c]) for r in rows) for c in range(len(_HEAD))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


_CSV_FIELDS = ("indicator", "verb", "value", "comparator", "unit", "year", "doc_id", "clause_id", "label", "quote")


def targets_csv(targets: Sequence[Target]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for t in targets:
        writer.writerow({**t.to_dict(), "year": t.year or ""})
    return buffer.getvalue()


def targets_json(targets: Sequence[Target]) -> str:
    return json.dumps([t.to_dict() | {"target": t.target} for t in targets], ensure_ascii=False, indent=2)


def answer_targets(targets: Sequence[Target], texts: Mapping[str, str]) -> tuple[str, tuple[Citation, ...]]:
    """“到2025年有哪些量化指标?”: every target, numbered, each with its 【clause】, and one citation per clause.

    Each citation's quote is the clause's verbatim span from its first target to its last; the sentences
    around the table are `texts` (corpus/language/texts.toml, targets_*).
    """
    if not targets:
        return texts["targets_none"], ()
    years = sorted({t.year for t in targets if t.year})
    head = texts["targets_head_years"].format(years="、".join(map(str, years))) if years else \
        texts["targets_head_plain"]
    lines = [texts["targets_head"].format(head=head, count=len(targets))]
    for i, t in enumerate(targets, 1):
        year = "" if t.year or not years else texts["targets_no_year"]
        lines.append(f"{i}. {t.indicator}:{t.target}{year}【{t.clause_id}】")
    citations: dict[str, Citation] = {}
    for t in targets:
        key = f"{t.doc_id}:{t.clause_id}"
        citations.setdefault(key, Citation(t.doc_id, t.clause_id, t.label, t.clause_span or t.quote))
    return "\n".join(lines), tuple(citations.values())
