"""管理 → 通俗解读: the office edits a clause's plain-language record and marks it reviewed.

A record (index/interpretations.py) holds the 解读, everyday phrasings, explained terms and their English.
Saving writes corpus/interpretations/<doc_id>.jsonl atomically (`save_interpretation`) and runs the one
re-index path (the phrasings and terms are retrieval keys). Only a record marked reviewed, with the
reviewer's name and a date, is shown to users — as “解读(非政策原文)”, never as policy text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import gradio as gr

from index.interpretations import Interpretation, Term, save_interpretation
from index.settings import Settings
from rag.chain import Assistant
from ui.dashboard import TZ
from ui.format import esc
from ui.i18n import Translator, t
from ui.notes import Notes
from ui.reindex import reindex

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
REINDEX: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "pqa-reindex"}
TEXT_CHARS = 2000


def lines(value: Any) -> list[str]:
    return [ln.strip() for ln in (value if isinstance(value, str) else "").splitlines() if ln.strip()]


def parse_terms(value: Any) -> tuple[Term, ...]:
    """One term per line: `术语 | 解释 | English` (full-width ｜ too; the last two may be empty)."""
    terms = []
    for line in lines(value):
        term, explanation, english = ([p.strip() for p in line.replace("｜", "|").split("|")] + ["", ""])[:3]
        if term:
            terms.append(Term(term, explanation, english))
    return tuple(terms)


def terms_text(terms: tuple[Term, ...]) -> str:
    return "\n".join(" | ".join([x.term, x.explanation, x.english]).rstrip(" |") for x in terms)


def status_line(record: Interpretation | None, lang: str) -> str:
    if record is None:
        return esc(t(lang, "note_none"))
    if record.reviewed:
        return esc(t(lang, "note_shown").format(by=record.reviewed_by, at=record.reviewed_at))
    return esc(t(lang, "note_hidden"))


class NoteEditor:
    def __init__(self, settings: Settings, bot: Assistant, notes: Notes) -> None:
        self.settings, self.bot, self.notes = settings, bot, notes

    def choices(self, authed: Any) -> Any:
        if authed is not True:
            raise gr.Error("请先登录 / please log in")
        records = self.notes.records()
        view = self.bot.retriever.view()
        firsts = sorted((c for c in view.chunks if c.part == 1), key=lambda c: (c.doc_id, c.order))
        marks = {True: "✓", False: "○"}
        out = [(f"{marks[records[c.clause_key].reviewed] if c.clause_key in records else '·'} {c.clause_key} "
                f"{c.label[:24]}", c.clause_key) for c in firsts]
        return gr.update(choices=out)

    def load(self, authed: Any, key: Any, lang: str) -> tuple[Any, ...]:
        if authed is not True:
            raise gr.Error("请先登录 / please log in")
        record = self.notes.records().get(key) if isinstance(key, str) else None
        today = datetime.now(TZ).date().isoformat()
        if record is None:
            return "", "", "", "", "", "", False, today, status_line(None, lang)
        return (record.interpretation, "\n".join(record.phrasings), terms_text(record.terms), record.interpretation_en,
                "\n".join(record.phrasings_en), record.reviewed_by, record.reviewed, record.reviewed_at or today,
                status_line(record, lang))

    def save(self, authed: Any, key: Any, text: Any, phrasings: Any, terms: Any, text_en: Any, phrasings_en: Any,
             reviewer: Any, reviewed: Any, when: Any, lang: str,
             progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if authed is not True:
            raise gr.Error("请先登录 / please log in")
        view = self.bot.retriever.view()
        if not isinstance(key, str) or key not in view.by_clause:
            return gr.update(), "⚠ 请选择条款 / pick a clause"
        doc_id, _, clause_id = key.partition(":")
        reviewer = reviewer.strip()[:100] if isinstance(reviewer, str) else ""
        when = when.strip()[:40] if isinstance(when, str) else ""
        if reviewed is True and not (reviewer and when):
            return gr.update(), "⚠ 标记已审核需要审核人和日期 / a review needs a name and a date"
        record = Interpretation(doc_id, clause_id, text.strip()[:TEXT_CHARS] if isinstance(text, str) else "",
                                tuple(lines(phrasings)), parse_terms(terms),
                                text_en.strip()[:TEXT_CHARS] if isinstance(text_en, str) else "",
                                tuple(lines(phrasings_en)), reviewer if reviewed is True else "",
                                when if reviewed is True else "")
        try:
            save_interpretation(self.settings.corpus_dir, record)
        except (ValueError, OSError) as exc:
            return gr.update(), f"⚠ {esc(exc)}"
        progress(0, desc="indexing")
        _ok, message = reindex(self.settings, lambda done, total: progress((done, total), desc="indexing"))
        return self.choices(authed), f"{status_line(record, lang)}<br>{message}"


def build_notes(settings: Settings, bot: Assistant, notes: Notes, tr: Translator, lang: gr.Radio,
                authed: gr.State) -> Any:
    """The tab; returns the handler that fills the clause list (run when the tab opens) and its output."""
    h = NoteEditor(settings, bot, notes)
    clause = tr.add(gr.Dropdown([], value=None, label=t("zh", "note_clause"), elem_id="pqa-note-clause"),
                    label="note_clause")
    status = gr.Markdown(elem_id="pqa-note-status")
    text = tr.add(gr.Textbox(label=t("zh", "note_text"), lines=4, max_length=TEXT_CHARS, elem_id="pqa-note-text"),
                  label="note_text")
    with gr.Row():
        phrasings = tr.add(gr.Textbox(label=t("zh", "note_phrasings"), lines=5, max_length=60_000,
                                      elem_id="pqa-note-phrasings"), label="note_phrasings")
        terms = tr.add(gr.Textbox(label=t("zh", "note_terms"), lines=5, max_length=60_000, elem_id="pqa-note-terms"),
                       label="note_terms")
    with gr.Accordion("English", open=False):
        text_en = tr.add(gr.Textbox(label=t("zh", "note_text_en"), lines=3, max_length=TEXT_CHARS,
                                    elem_id="pqa-note-text-en"), label="note_text_en")
        phrasings_en = tr.add(gr.Textbox(label=t("zh", "note_phrasings_en"), lines=3, max_length=60_000,
                                         elem_id="pqa-note-phrasings-en"), label="note_phrasings_en")
    with gr.Row():
        reviewer = tr.add(gr.Textbox(label=t("zh", "note_reviewer"), max_length=100, elem_id="pqa-note-reviewer"),
                          label="note_reviewer")
        when = tr.add(gr.Textbox(label=t("zh", "note_date"), max_length=40, elem_id="pqa-note-date"),
                      label="note_date")
        reviewed = tr.add(gr.Checkbox(False, label=t("zh", "note_reviewed"), elem_id="pqa-note-reviewed"),
                          label="note_reviewed")
    save = tr.add(gr.Button(t("zh", "note_save"), variant="primary", elem_id="pqa-note-save"), value="note_save")
    msg = gr.Markdown(elem_id="pqa-note-msg")
    fields = [text, phrasings, terms, text_en, phrasings_en, reviewer, reviewed, when]
    clause.change(h.load, [authed, clause, lang], [*fields, status], **PRIVATE)
    save.click(h.save, [authed, clause, *fields, lang], [clause, msg], **REINDEX, **PRIVATE)
    return h.choices, clause
