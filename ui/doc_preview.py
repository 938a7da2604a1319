"""A document's parse preview and the catalog, as escaped HTML / table rows (pure; 管理 → 文档 shows them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from index.documents import Preview
from index.models import Document
from ui.format import esc

CATALOG_HEADERS = ["ID", "标题", "状态", "文号", "日期", "正文", "取代"]
_ACTIONS = {"new": "doc_new", "attach": "doc_attach", "replace": "doc_replace_action"}
_SNIPPET = 48


def catalog_rows(docs: Sequence[Document]) -> list[list[Any]]:
    return [[d.doc_id, d.title, d.status, d.number, d.date, d.path or "—", d.supersedes] for d in docs]


def preview_html(preview: Preview, s: Mapping[str, str]) -> str:
    """Summary (clauses, coverage, action), errors, warnings, then the clause tree with ids."""
    out = ['<div class="pqa-doc-preview">']
    if preview.clauses:
        action = s.get(_ACTIONS.get(preview.action, ""), preview.action or "—")
        summary = s["doc_clauses"].format(n=len(preview.clauses), pct=f"{preview.coverage:.1%}", action=action)
        out.append(f'<div class="pqa-doc-summary">{esc(summary)}</div>')
    if preview.errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in preview.errors)
        out.append(f'<div class="pqa-doc-errors"><b>✖ {esc(s["doc_errors"])}</b><ul>{items}</ul></div>')
    if preview.warnings:
        items = "".join(f'<li class="pqa-warn-{esc(w.kind)}">{esc(w.message)}</li>' for w in preview.warnings)
        out.append(f'<div class="pqa-doc-warnings"><b>⚠ {esc(s["doc_warnings"])} ({len(preview.warnings)})</b>'
                   f'<ul>{items}</ul></div>')
    if preview.clauses:
        out.append('<table class="pqa-doc-tree"><tbody>')
        path: tuple[str, ...] = ()
        for row in preview.clauses:
            for depth, heading in enumerate(row.heading_path):
                if path[: depth + 1] != row.heading_path[: depth + 1]:
                    out.append(f'<tr class="pqa-doc-heading"><td colspan="3" style="padding-left:{depth}em">'
                               f'{esc(heading)}</td></tr>')
            path = row.heading_path
            snippet = row.text.replace("\n", " ")
            snippet = snippet if len(snippet) <= _SNIPPET else snippet[: _SNIPPET - 1] + "…"
            out.append(f'<tr class="pqa-doc-clause"><td style="padding-left:{len(row.heading_path)}em">'
                       f'<span class="pqa-id">【{esc(row.clause_id)}】</span></td><td>{esc(row.label)}</td>'
                       f'<td class="pqa-doc-snippet">{esc(snippet)} <small>({row.chars})</small></td></tr>')
        out.append("</tbody></table>")
    out.append("</div>")
    return "".join(out)
