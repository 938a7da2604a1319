"""Document text → clauses, following the document's own numbering (pure functions).

Grammar (ASCII or full-width punctuation): `一、` section · `(一)` item · `1.` numbered item ·
`——` bullet. An item that is only a title (followed by numbered items) is a heading, not a
clause. Before the first heading: lines up to the title line form `公告`, lines after it `序言`.
A text with no recognisable structure falls back to paragraph clauses `¶1`, `¶2`, ….
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.models import Clause, Span

CN_NUM = "一二三四五六七八九十"  # the numerals of document numbering (defined once; rag imports it)
SECTION_RE = re.compile(rf"^([{CN_NUM}]+)、\s*(.*)$")
ITEM_RE = re.compile(rf"^[(（]([{CN_NUM}]+)[)）]\s*(.*)$")
NUMBERED_RE = re.compile(r"^(\d{1,2})[.．](?!\d)\s*(.*)$")
BULLET_RE = re.compile(r"^(?:——|--|－－)\s*(.*)$")
_TITLE_WORDS = ("意见", "纲要", "方案", "办法", "通知", "规定", "决定", "规划", "条例", "细则")
_MAX_TITLE = 30


@dataclass
class _Draft:
    """A clause being assembled while lines are read."""

    clause_id: str
    heading_path: tuple[str, ...]
    label_prefix: str
    paragraphs: list[str]
    starts: list[int]  # where each paragraph begins in the document's text
    bullets: int = 0
    parent: _Draft | None = None
    children: list[_Draft] = field(default_factory=list)


def clause_title(text: str) -> str:
    """The clause's own title: its first sentence when that is short (“优化标准供给结构”)."""
    head = re.split(r"[。;；]", text, maxsplit=1)[0]
    return head if 0 < len(head) <= _MAX_TITLE and head != text else ""


def _strip_end(heading: str) -> str:
    return heading.rstrip("。.;；:： ")


def _is_title_line(line: str) -> bool:
    return (
        len(line) <= 80
        and "。" not in line
        and not line.startswith("附件")
        and any(word in line for word in _TITLE_WORDS)
    )


def _lines(text: str) -> tuple[list[str], list[int]]:
    """Non-empty lines, stripped, with the offset in `text` where each stripped line begins."""
    lines, starts, pos = [], [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        stripped = body.strip()
        if stripped:
            lines.append(stripped)
            starts.append(pos + len(body) - len(body.lstrip()))
        pos += len(raw)
    return lines, starts


def parse_document(doc_id: str, text: str) -> list[Clause]:
    """All clauses of a document, in document order, each line with its offsets in `text`."""
    lines, starts = _lines(text)
    first = next(
        (i for i, line in enumerate(lines) if SECTION_RE.match(line) or ITEM_RE.match(line)),
        None,
    )
    if first is None:
        return _paragraph_clauses(doc_id, lines, starts, text)
    drafts = _preamble(lines[:first], starts[:first]) + _body(lines[first:], starts[first:])
    return [_finish(doc_id, draft, order, text) for order, draft in enumerate(drafts)]


def split_preamble(lines: list[str]) -> tuple[list[str], str | None, list[str]]:
    """(notice lines, title line, opening lines) of the text before the first heading."""
    title_at = next((i for i in reversed(range(len(lines))) if _is_title_line(lines[i])), None)
    if title_at is None:
        return [], None, lines
    return lines[:title_at], lines[title_at], lines[title_at + 1 :]


def _preamble(lines: list[str], starts: list[int]) -> list[_Draft]:
    notice, _title, opening = split_preamble(lines)
    drafts = []
    if notice:
        label = "征求意见公告" if "征求意见" in "".join(notice) else "公告"
        drafts.append(_Draft("公告", (), label, notice, starts[: len(notice)]))
    if opening:
        drafts.append(_Draft("序言", (), "序言", opening, starts[len(lines) - len(opening) :]))
    return drafts


def _body(lines: list[str], starts: list[int]) -> list[_Draft]:
    drafts: list[_Draft] = []
    section: tuple[str, str] = ("", "")  # (numeral, heading)
    item: tuple[str, str] = ("", "")
    current: _Draft | None = None
    for i, (line, at) in enumerate(zip(lines, starts, strict=True)):
        if m := SECTION_RE.match(line):
            section, item, current = (m[1], _strip_end(line)), ("", ""), None
        elif m := ITEM_RE.match(line):
            item = (m[1], _strip_end(line))
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if clause_title(m[2] + "\n") and NUMBERED_RE.match(nxt):
                current = None  # a title-only item: heading of the numbered items below
                continue
            current = _Draft(f"{section[0]}({m[1]})", _path(section), f"{_pre(section)}({m[1]})", [m[2]],
                             [at + m.start(2)])
            drafts.append(current)
        elif m := NUMBERED_RE.match(line):
            prefix = f"{section[0]}({item[0]})" if item[0] else section[0]
            label = f"{_pre(section)}({item[0]})" if item[0] else _pre(section)
            current = _Draft(f"{prefix}{m[1]}", _path(section, item), f"{label}{m[1]}.", [m[2]], [at + m.start(2)])
            drafts.append(current)
        elif (m := BULLET_RE.match(line)) and current is not None:
            parent = current.parent or current
            parent.bullets += 1
            current = _Draft(f"{parent.clause_id}-{parent.bullets}", (*parent.heading_path, ""),
                             "", [m[1]], [at + m.start(1)], parent=parent)
            parent.children.append(current)
            drafts.append(current)
        elif current is not None:
            owner = current.parent or current
            owner.paragraphs.append(line)
            owner.starts.append(at)
        else:  # prose directly under a section heading: the section is the clause
            current = _Draft(section[0] or "¶1", _path(section), _pre(section), [line], [at])
            drafts.append(current)
    return drafts


def _pre(section: tuple[str, str]) -> str:
    return f"{section[0]}、" if section[0] else ""


def _path(*levels: tuple[str, str]) -> tuple[str, ...]:
    return tuple(heading for _num, heading in levels if heading)


def spans_of(paragraphs: list[str], starts: list[int], document: str) -> tuple[Span, ...]:
    """Each paragraph's place in the document; `joined` when only one "\n" lies between it and the last."""
    spans: list[Span] = []
    for para, start in zip(paragraphs, starts, strict=True):
        joined = bool(spans) and document[spans[-1].end : start] == "\n"
        spans.append(Span(start, start + len(para), joined))
    return tuple(spans)


def _finish(doc_id: str, draft: _Draft, order: int, document: str) -> Clause:
    text = "\n".join(draft.paragraphs)
    spans = spans_of(draft.paragraphs, draft.starts, document)
    title = clause_title(text)
    if draft.parent is not None:
        parent_text = "\n".join(draft.parent.paragraphs)
        parent_label = draft.parent.label_prefix + clause_title(parent_text)
        own_heading = parent_label.split("、", 1)[-1]  # "(二)发展目标" without its section
        path = (*draft.parent.heading_path, own_heading)
        label = f"{parent_label} ——{title}" if title else parent_label
    else:
        path = draft.heading_path
        label = draft.label_prefix + title if draft.clause_id not in ("公告", "序言") else draft.label_prefix
    return Clause(doc_id, draft.clause_id, tuple(p for p in path if p), label or draft.clause_id, text, order,
                  spans)


def _paragraph_clauses(doc_id: str, lines: list[str], starts: list[int], document: str) -> list[Clause]:
    return [
        Clause(doc_id, f"¶{n}", (), f"第{n}段", line, n - 1, spans_of([line], [at], document))
        for n, (line, at) in enumerate(zip(lines, starts, strict=True), start=1)
    ]
