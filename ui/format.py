"""View-model functions: typed answers → Markdown/plain text for people (pure, no Gradio)."""

from __future__ import annotations

import html

from rag.models import Answer


def escape_md(text: str) -> str:
    """Text shown as text: HTML escaped and Markdown control characters neutralised."""
    escaped = html.escape(text, quote=False)
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]<>#|!~" else ch for ch in escaped)


def answer_markdown(answer: Answer) -> str:
    """The chat reply: the answer, then one card line per citation (or the related clauses)."""
    parts = [escape_md(answer.answer).replace("\n", "  \n")]
    if answer.citations:
        parts.append("**引用条款**")
        parts += [
            f"> **{escape_md(c.label)}**【{escape_md(c.clause_id)}】  \n> “{escape_md(c.quote)}”"
            for c in answer.citations
        ]
    elif answer.related:
        names = "、".join(f"{escape_md(r.label)}【{escape_md(r.clause_id)}】" for r in answer.related)
        parts.append(f"**你可能想看**: {names}")
    footer = f"模式: {answer.mode}" + (f" · {escape_md(answer.reason)}" if answer.reason else "")
    if answer.degraded:
        footer += " · ⚠ 向量检索暂不可用,仅用关键词检索"
    parts.append(f"<sub>{footer} · {answer.latency_ms:.0f} ms</sub>")
    return "\n\n".join(parts)
