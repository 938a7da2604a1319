"""View-model functions: typed answers and clauses → escaped HTML / plain text (pure, no Gradio).

Every string that came from a user, the corpus or the chain goes through `esc`, the one escaping
function, so the app never hands raw text to a component that renders HTML or Markdown. Every
formatter returns a single line of HTML starting with a block tag: the chat's Markdown renderer
passes such a block through whole (a blank line would end it and let the rest be read as Markdown).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote as urlquote

from rag.models import Answer, Citation, Related
from rag.verify import Line, clause_span

Span = tuple[int, int]
_CN_NUM = "一二三四五六七八九十"
_REF = re.compile(rf"^[{_CN_NUM}]+、(?:\([{_CN_NUM}]+\))?\d*")
_PARA = re.compile(r"^¶(\d+)$")


_BREAK = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def esc(text: object) -> str:
    """The one escaping function: HTML-escaped (quotes too), every line break a `<br>`, NUL as U+FFFD.

    Safe in element content and in quoted attributes, and never a line break in the output, so a
    field can neither open a tag nor end the surrounding HTML block and turn into Markdown.
    """
    return _BREAK.sub("<br>", html.escape(str(text), quote=True)).replace("\x00", "\ufffd")


# ---------------------------------------------------------------- citation form


def citation_ref(label: str, clause_id: str) -> str:
    """The clause as a reader cites it: “二、(七)2”, “三、(三)”; bullets and preambles by their label."""
    if "-" not in clause_id and (m := _REF.match(label)):
        return m[0]
    if m := _PARA.match(clause_id):
        return f"第{m[1]}段"
    return label or clause_id


def citation_line(title: str, label: str, clause_id: str) -> str:
    """依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》二、(七)2"""
    return f"依据{title}{citation_ref(label, clause_id)}"


def copy_text(answer: Answer, titles: Mapping[str, str]) -> str:
    """What the copy button puts on the clipboard: the answer, then one 依据… line per citation."""
    lines = [answer.answer.strip()]
    cites = [citation_line(titles.get(c.doc_id, c.doc_id), c.label, c.clause_id) for c in answer.citations]
    if cites:
        lines += ["", *dict.fromkeys(cites)]
    return "\n".join(lines)


def open_href(doc_id: str, clause_id: str, *, span: tuple[int, int] | None = None) -> str:
    """The in-page link the app's click handler turns into “open in 条文查阅” (sanitisers keep href);
    `span`, a citation's start/end in the document, rides along as `@start-end` so 条文查阅 marks it."""
    at = f"@{span[0]}-{span[1]}" if span else ""
    return "#pqa-open=" + urlquote(f"{doc_id}:{clause_id}{at}", safe="")


# ---------------------------------------------------------------- highlight spans


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans (overlapping or touching ones joined)."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def quote_spans(text: str, quote: str) -> list[Span]:
    """Where a citation's quote sits in its clause: exactly, else sentence by sentence in order; [] unless
    every sentence of the quote is found (then the card shows the whole quote as not located, never a part
    of it highlighted as if it were all)."""
    quote = quote.strip()
    if not quote:
        return []
    if (at := text.find(quote)) >= 0:
        return [(at, at + len(quote))]
    spans: list[Span] = []
    pos = 0
    for piece in re.findall(r"[^。;!?…]+[。;!?]?", quote):
        piece = piece.strip(" .")
        if len(piece) < 2:
            continue
        if (at := text.find(piece, pos)) < 0:
            return []
        spans.append((at, at + len(piece)))
        pos = at + len(piece)
    return merge_spans(spans)


def cited_spans(c: Citation, clause_text: str, lines: Sequence[Line] = ()) -> list[Span]:
    """Where the citation lies in its clause's text: exactly its [start, end) when the offsets map into
    the clause and the text there is the quote (so the cited one of two equal phrases is marked), else
    wherever the quote's words occur (`quote_spans`: a citation without offsets, an older index)."""
    if c.start >= 0 and (span := clause_span(c.start, c.end, lines)) and clause_text[span[0]:span[1]] == c.quote:
        return [span]
    return quote_spans(clause_text, c.quote)


def default_fold(ch: str) -> str:
    """One character as search compares it: NFKC, case-folded, whitespace dropped."""
    return "" if ch.isspace() else unicodedata.normalize("NFKC", ch).casefold()


def keyword_spans(text: str, query: str, fold: Callable[[str], str] = default_fold) -> list[Span]:
    """Every hit of every space-separated term (all terms must occur), in original-text offsets."""
    terms = ["".join(fold(ch) for ch in term) for term in query.split()]
    terms = [term for term in terms if term]
    if not terms:
        return []
    folded, owner = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
        folded.append(f)
        owner.extend([i] * len(f))
    haystack = "".join(folded)
    spans: list[Span] = []
    for term in terms:
        found = [m.start() for m in re.finditer(re.escape(term), haystack)]
        if not found:
            return []
        spans += [(owner[s], owner[s + len(term) - 1] + 1) for s in found]
    return merge_spans(spans)


def highlight_html(text: str, spans: Sequence[Span]) -> str:
    """Text escaped, each span wrapped in <mark> (escaping first, so a span can't open a tag)."""
    out, pos = [], 0
    for start, end in merge_spans(spans):
        out += [esc(text[pos:start]), f"<mark>{esc(text[start:end])}</mark>"]
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- chat answer


def question_html(question: str) -> str:
    """The user's own chat bubble: their text, shown as text."""
    return f'<div class="pqa-question">{esc(question)}</div>'


def partial_html(text: str) -> str:
    """An answer while it streams in."""
    return f'<div class="pqa-text">{esc(text)}</div>'


def note_html(text: str) -> str:
    """A short notice in the chat (thinking…, busy, too long)."""
    return f'<div class="pqa-note">{esc(text)}</div>'


def copy_box(text: str, button: str) -> str:
    """A copy button and its (hidden) text, one span per line; the page script joins them."""
    lines = "".join(f'<span class="pqa-copyline">{esc(line)}</span>' for line in _BREAK.split(text))
    return f'<div class="pqa-copybox"><button class="pqa-copy" type="button">{esc(button)}</button>' \
           f'<div class="pqa-copytext">{lines}</div></div>'


def interp_html(text: str, label: str) -> str:
    """A reviewed plain-language note under a clause, labelled so nobody mistakes it for policy text."""
    return f'<div class="pqa-interp"><span class="pqa-interp-label">{esc(label)}</span> {esc(text)}</div>'


def citation_card(c: Citation, clause_text: str, title: str, s: Mapping[str, str], note: str = "",
                  lines: Sequence[Line] = ()) -> str:
    """Label, clause id, the clause with the quote marked, its reviewed 解读 (if any), the link into 条文查阅.

    `lines` map document offsets into `clause_text` (rag.verify.lines_of the clause's chunks)."""
    spans = cited_spans(c, clause_text, lines) if clause_text else []
    located = (c.start, c.end) if c.start >= 0 and c.end > c.start else None
    body = highlight_html(clause_text, spans) if spans else \
        f'<span class="pqa-note">{esc(s["quote_missing"])}</span><br><mark>{esc(c.quote)}</mark>'
    extra = interp_html(note, s["interp_label"]) if note else ""
    return (f'<div class="pqa-card"><div class="pqa-card-head"><span class="pqa-label">{esc(c.label)}</span>'
            f'<span class="pqa-id">【{esc(c.clause_id)}】</span></div>'
            f'<div class="pqa-doc">{esc(title)}</div><div class="pqa-clause">{body}</div>{extra}'
            f'<a class="pqa-open" href="{open_href(c.doc_id, c.clause_id, span=located)}">{esc(s["open"])} ›</a></div>')


def earlier_versions(answer: Answer) -> list[dict[str, str]]:
    """`answer.extra["earlier_versions"]` (rag's versions="all"), keeping only well-formed items."""
    items = answer.extra.get("earlier_versions") if isinstance(answer.extra, dict) else None
    keys = ("doc_id", "clause_id", "label", "quote", "status")
    return [{k: str(item.get(k) or "") for k in keys} for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict) and item.get("quote")]


def earlier_html(items: Sequence[Mapping[str, str]], s: Mapping[str, str]) -> str:
    """One line per changed clause: how the earlier version (征求意见稿) worded it."""
    lines = "".join(f'<div class="pqa-earlier"><span class="pqa-earlier-label">'
                    f'{esc(s["earlier_in"].format(status=item.get("status") or s["earlier_version"]))}</span>'
                    f' <span class="pqa-id">【{esc(item.get("clause_id", ""))}】</span>“{esc(item.get("quote", ""))}”'
                    f'</div>' for item in items)
    return f'<div class="pqa-earlier-box">{lines}</div>' if lines else ""


def related_html(related: Sequence[Related], s: Mapping[str, str]) -> str:
    links = "".join(f'<li><a class="pqa-open" href="{open_href(r.doc_id, r.clause_id)}">{esc(r.label)}'
                    f'【{esc(r.clause_id)}】</a></li>' for r in related)
    return f'<div class="pqa-related"><b>{esc(s["related"])}</b><ul>{links}</ul></div>'


def meta_html(answer: Answer, s: Mapping[str, str]) -> str:
    """Mode, any LLM fallback (with its reason), degraded retrieval, latency: visible on every answer."""
    fallback = answer.mode == "extractive-fallback"
    mode = "extractive" if fallback else answer.mode
    parts = [f'{esc(s["mode_label"])}: {esc(s.get("mode_" + mode, mode))}']
    if fallback:
        parts.append(f'⚠ {esc(s["fallback"])}' + (f" ({esc(answer.reason)})" if answer.reason else ""))
    if answer.degraded:
        parts.append(f'⚠ {esc(s["degraded"])}')
    parts.append(f"{answer.latency_ms:.0f} ms")
    return f'<div class="pqa-meta">{" · ".join(parts)}</div>'


def answer_html(answer: Answer, *, strings: Mapping[str, str], titles: Mapping[str, str],
                clause_texts: Mapping[str, str], notes: Mapping[str, str] | None = None,
                clause_lines: Mapping[str, Sequence[Line]] | None = None) -> str:
    """The chat reply: answer text, mode line, citation cards (with reviewed 解读 from `notes`, by clause key,
    once per clause; each citation's span marked through `clause_lines`, by clause key), earlier versions'
    wording, or 你可能想看, and the copy button.

    One HTML block without blank lines, so the chat's Markdown renderer passes it through whole.
    """
    notes, lines = notes or {}, clause_lines or {}
    noted: set[str] = set()

    def note(c: Citation) -> str:
        key = f"{c.doc_id}:{c.clause_id}"
        if key in noted:
            return ""
        noted.add(key)
        return notes.get(key, "")

    parts = [f'<div class="pqa-answer{" pqa-refused" if answer.refused else ""}">',
             f'<div class="pqa-text">{esc(answer.answer.strip())}</div>',
             meta_html(answer, strings)]
    if answer.citations:
        parts.append(f'<div class="pqa-cards-title">{esc(strings["cited"])}</div><div class="pqa-cards">')
        parts += [citation_card(c, clause_texts.get(c.clause_key, ""), titles.get(c.doc_id, c.doc_id), strings,
                                note(c), lines.get(c.clause_key, ())) for c in answer.citations]
        parts.append("</div>")
        parts.append(earlier_html(earlier_versions(answer), strings))
    elif answer.related:
        parts.append(related_html(answer.related, strings))
    parts += [copy_box(copy_text(answer, titles), strings["copy"]), "</div>"]
    return "".join(parts)


# ---------------------------------------------------------------- CSV


def csv_cell(value: Any) -> Any:
    """Spreadsheet-safe cell: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (RFC 4180 quoting, \\r\\n line ends); write it with utf-8-sig so Excel reads Chinese."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()
