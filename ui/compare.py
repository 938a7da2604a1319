"""条文对照: two versions of a document side by side, clause by clause (pure functions → escaped HTML).

Clauses are matched by clause_id. A clause found only in one version is added or removed, unless its
text closely matches a clause found only in the other (a clause that moved and was renumbered): then
the two are paired as moved. Within a pair, the characters that differ are marked (difflib on
characters): <del> in the older version, <ins> in the newer. Every text goes through `ui.format.esc`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ui.format import esc

MOVED_RATIO = 0.8  # a removed and an added clause this similar are one clause that moved
_KINDS = ("changed", "added", "removed", "moved", "same")


@dataclass(frozen=True)
class Side:
    clause_id: str
    label: str
    text: str


@dataclass(frozen=True)
class Row:
    kind: str  # same | changed | added | removed | moved
    old: Side | None
    new: Side | None


def sides(view: Any, doc_id: str) -> list[Side]:
    """A document's clauses in order, from an index view (`chunks`, `clause_text`)."""
    firsts = sorted((c for c in view.chunks if c.doc_id == doc_id and c.part == 1), key=lambda c: c.order)
    return [Side(c.clause_id, c.label, view.clause_text(c.clause_key)) for c in firsts]


def _similar(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() >= MOVED_RATIO and matcher.quick_ratio() >= MOVED_RATIO \
        else 0.0


def compare(old: Sequence[Side], new: Sequence[Side]) -> list[Row]:
    """Rows in the newer version's order; removed clauses after the clause that preceded them."""
    old_ids, new_ids = {s.clause_id for s in old}, {s.clause_id for s in new}
    gone = [s for s in old if s.clause_id not in new_ids]
    fresh = [s for s in new if s.clause_id not in old_ids]
    moved: dict[str, Side] = {}  # new clause id → the old clause it was
    pairs = sorted(((_similar(o.text, n.text), i, j) for i, o in enumerate(gone) for j, n in enumerate(fresh)),
                   reverse=True)
    used_old: set[int] = set()
    for ratio, i, j in pairs:
        if ratio < MOVED_RATIO:
            break
        if i not in used_old and fresh[j].clause_id not in moved:
            used_old.add(i)
            moved[fresh[j].clause_id] = gone[i]
    old_by = {s.clause_id: s for s in old}
    rows: list[Row] = []
    for side in new:
        if side.clause_id in old_by:
            before = old_by[side.clause_id]
            rows.append(Row("same" if before.text == side.text else "changed", before, side))
        elif side.clause_id in moved:
            rows.append(Row("moved", moved[side.clause_id], side))
        else:
            rows.append(Row("added", None, side))
    for i, side in enumerate(gone):
        if i in used_old:
            continue
        prior = [s.clause_id for s in old[: old.index(side)] if s.clause_id in new_ids]
        at = next((k + 1 for k, r in enumerate(rows) if prior and r.new and r.new.clause_id == prior[-1]), 0)
        while at < len(rows) and rows[at].kind == "removed":
            at += 1
        rows.insert(at, Row("removed", side, None))
    return rows


def diff_html(a: str, b: str) -> tuple[str, str]:
    """(older, newer) as escaped HTML, the differing characters in <del> / <ins>."""
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(esc(a[i1:i2]))
            right.append(esc(b[j1:j2]))
            continue
        if i2 > i1:
            left.append(f"<del>{esc(a[i1:i2])}</del>")
        if j2 > j1:
            right.append(f"<ins>{esc(b[j1:j2])}</ins>")
    return "".join(left), "".join(right)


def counts(rows: Sequence[Row]) -> dict[str, int]:
    return {kind: sum(r.kind == kind for r in rows) for kind in _KINDS}


def _cell(side: Side | None, body: str, kind: str, s: Mapping[str, str]) -> str:
    if side is None:
        return '<td class="pqa-cmp-none"></td>'
    return (f'<td><div class="pqa-cmp-head"><span class="pqa-id">【{esc(side.clause_id)}】</span> {esc(side.label)}'
            f' <span class="pqa-cmp-kind pqa-cmp-{kind}">{esc(s["compare_" + kind])}</span></div>'
            f'<div class="pqa-cmp-text">{body}</div></td>')


def compare_html(rows: Sequence[Row], old_title: str, new_title: str, s: Mapping[str, str],
                 only_changed: bool = False) -> str:
    """The side-by-side table with a summary line; every field escaped."""
    n = counts(rows)
    summary = s["compare_summary"].format(**n)
    body = []
    for row in rows:
        if only_changed and row.kind == "same":
            continue
        if row.old is not None and row.new is not None:
            left, right = diff_html(row.old.text, row.new.text)
        else:
            left = f"<del>{esc(row.old.text)}</del>" if row.old else ""
            right = f"<ins>{esc(row.new.text)}</ins>" if row.new else ""
        body.append(f'<tr class="pqa-cmp-row pqa-cmp-{row.kind}">{_cell(row.old, left, row.kind, s)}'
                    f'{_cell(row.new, right, row.kind, s)}</tr>')
    return (f'<div class="pqa-compare"><div class="pqa-compare-summary">{esc(summary)}</div>'
            f'<table class="pqa-compare-table"><thead><tr><th>{esc(s["compare_old"])}: {esc(old_title)}</th>'
            f'<th>{esc(s["compare_new"])}: {esc(new_title)}</th></tr></thead><tbody>{"".join(body)}</tbody>'
            f'</table></div>')


def version_pair(documents: Mapping[str, Any], with_text: Sequence[str]) -> tuple[str | None, str | None]:
    """The (older, newer) pair to show first: the newest document that supersedes one with text."""
    for doc_id in reversed(with_text):
        old = documents[doc_id].supersedes if doc_id in documents else ""
        if old in with_text:
            return old, doc_id
    return (with_text[0], with_text[1]) if len(with_text) > 1 else (None, None)
