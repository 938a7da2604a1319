"""The 管理 tab (office only): login, feedback + backlog with CSV, FAQ CRUD, re-index.

Hiding the panel is cosmetic; every handler re-checks the session's login state on the server,
because Gradio endpoints can be called without the page.
"""

from __future__ import annotations

import json
import time
from typing import Any

import gradio as gr

from index.build import BuildLockedError, build_index
from index.settings import Settings
from index.store import Store
from rag.chain import Assistant
from ui.auth import check_password
from ui.browse import export_file
from ui.faq_store import FaqError, FaqStore, parse_list
from ui.feedback import BACKLOG_COLUMNS, FEEDBACK_COLUMNS, FeedbackDB
from ui.format import to_csv
from ui.i18n import Translator, t

FEEDBACK_HEADERS = ["时间", "评价", "问题", "说明", "回答", "条款"]
BACKLOG_HEADERS = ["时间", "问题", "原因", "说明", "问题ID"]
FAQ_HEADERS = ["ID", "问题", "条款", "相似问法", "编辑人", "编辑时间"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def short_time(iso: str) -> str:
    return iso.replace("T", " ").replace("+00:00", "Z")


def clip(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def clause_list(citations_json: str) -> str:
    """The stored JSON list of clause keys, as people read it."""
    try:
        return "、".join(json.loads(citations_json or "[]"))
    except (TypeError, ValueError):
        return str(citations_json)


def require(authed: bool) -> None:
    if authed is not True:
        raise gr.Error("请先登录 / please log in")


class AdminHandlers:
    def __init__(self, settings: Settings, bot: Assistant, db: FeedbackDB, faq: FaqStore) -> None:
        self.settings, self.bot, self.db, self.faq = settings, bot, db, faq

    def tables(self) -> tuple[Any, ...]:
        """Feedback, backlog (both newest first, with CSV files) and the FAQ list."""
        fb = self.db.feedback()
        fb_rows = [[short_time(r["created_at"]), "赞 +1" if r["rating"] > 0 else "踩 -1", r["question"],
                    r["comment"] or "", clip(r["answer"]), clause_list(r["citations"])] for r in fb]
        bl = self.db.backlog()
        bl_rows = [[short_time(r["created_at"]), r["question"], r["why"], r["comment"], r["question_id"]] for r in bl]
        fb_csv = export_file("feedback.csv", to_csv(FEEDBACK_COLUMNS, [[r[c] for c in FEEDBACK_COLUMNS] for r in fb]))
        bl_csv = export_file("backlog.csv", to_csv(BACKLOG_COLUMNS, [[r[c] for c in BACKLOG_COLUMNS] for r in bl]))
        return fb_rows, fb_csv, bl_rows, bl_csv, self.faq_rows()

    def faq_rows(self) -> list[list[Any]]:
        try:
            entries = self.faq.list()
        except FaqError as exc:
            gr.Warning(str(exc))
            return []
        return [[e.id, e.question, "、".join(e.clauses), len(e.paraphrases), e.edited_by, short_time(e.edited_at)]
                for e in entries]

    def index_info(self) -> str:
        try:
            info = Store(self.settings).info()
        except Exception as exc:  # no index yet, Chroma unreachable: say so instead of failing the tab
            return f"⚠ {exc}"
        return (f"| index | |\n|---|---|\n| collection | `{info.name}` |\n| embedder | `{info.embedder}` |\n"
                f"| chunker | `{info.chunker}` ({info.chunk_tokens} tokens) |\n| chunks | {info.chunks} |\n"
                f"| built at | {short_time(info.built_at)} |\n| build time | {info.build_seconds:.2f} s |")

    def login(self, password: str, lang: str) -> tuple[Any, ...]:
        if not check_password(self.settings.admin_password, password):
            time.sleep(1.0)  # slows guessing; the constant-time compare hides the rest
            return (False, gr.update(), gr.update(visible=False), t(lang, "login_bad"), "",
                    *[gr.update()] * 6)
        return (True, gr.update(visible=False), gr.update(visible=True), "", "", *self.tables(), self.index_info())

    def logout(self) -> tuple[Any, ...]:
        return False, gr.update(visible=True), gr.update(visible=False)

    def refresh(self, authed: bool) -> tuple[Any, ...]:
        require(authed)
        return (*self.tables(), self.index_info())

    def pick_backlog(self, authed: bool, evt: gr.SelectData) -> Any:
        require(authed)
        row = evt.row_value or []
        return int(row[-1]) if row and str(row[-1]).isdigit() else None

    def backlog_to_faq(self, authed: bool, question_id: int | None) -> tuple[Any, ...]:
        """Prefill the FAQ form from a backlog question (its answer too, unless it was a refusal)."""
        require(authed)
        q = self.db.question(question_id) if question_id is not None else None
        if q is None:
            raise gr.Error("先在待办表中选中一行 / select a backlog row first")
        answer = "" if q["refused"] else q["answer"]
        clauses = clause_list(q["citations"]).replace("、", ", ")
        return gr.Tabs(selected="faq"), "", q["question"], answer, clauses, "", "已填入,请核对答案后保存 / prefilled"

    def pick_faq(self, authed: bool, evt: gr.SelectData) -> tuple[Any, ...]:
        require(authed)
        row = evt.row_value or []
        try:
            e = self.faq.get(str(row[0]))
        except (FaqError, IndexError) as exc:
            raise gr.Error(str(exc)) from exc
        return e.id, e.question, e.answer, ", ".join(e.clauses), "\n".join(e.paraphrases), ""

    def save_faq(self, authed: bool, entry_id: str, question: str, answer: str, clauses: str, paraphrases: str,
                 editor: str) -> tuple[Any, ...]:
        require(authed)
        keys = parse_list(clauses)
        unknown = [k for k in keys if k not in self.bot.retriever.view().by_clause]
        try:
            if unknown:
                raise FaqError(f"索引中没有这些条款 / unknown clauses: {', '.join(unknown)}")
            args = (question, answer, keys, parse_list(paraphrases, lines_only=True))
            entry = self.faq.edit(entry_id, *args, edited_by=editor) if entry_id else \
                self.faq.add(*args, edited_by=editor)
        except FaqError as exc:
            return gr.update(), gr.update(), f"⚠ {exc}"
        return entry.id, self.faq_rows(), f"✓ {entry.id} 已保存 / saved"

    def delete_faq(self, authed: bool, entry_id: str) -> tuple[Any, ...]:
        require(authed)
        try:
            self.faq.delete(entry_id)
        except FaqError as exc:
            return gr.update(), gr.update(), f"⚠ {exc}"
        return "", self.faq_rows(), f"✓ {entry_id} 已删除 / deleted"

    def reindex(self, authed: bool, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        require(authed)
        progress(0, desc="embedding")
        try:
            report = build_index(self.settings, progress=lambda done, total: progress((done, total), desc="embedding"))
        except BuildLockedError as exc:
            return f"⚠ {exc}", self.index_info()
        state = "rebuilt" if report.changed else "unchanged"
        return (f"✓ index {state}: {report.documents} documents, {report.clauses} clauses, {report.chunks} chunks, "
                f"{report.embedded} embedded, {report.reused} reused, {report.seconds:.2f} s", self.index_info())


def build_admin(settings: Settings, bot: Assistant, db: FeedbackDB, faq: FaqStore, tr: Translator,
                lang: gr.Radio) -> None:
    h = AdminHandlers(settings, bot, db, faq)
    authed, picked = gr.State(False), gr.State(None)
    with gr.Column(visible=True, elem_id="pqa-login-box") as login_box:
        password = tr.add(gr.Textbox(type="password", label=t("zh", "password"), elem_id="pqa-password"),
                          label="password")
        login = tr.add(gr.Button(t("zh", "login"), variant="primary", elem_id="pqa-login"), value="login")
        login_msg = gr.Markdown(elem_id="pqa-login-msg")
    with gr.Column(visible=False, elem_id="pqa-admin-panel") as panel:
        with gr.Row():
            refresh = tr.add(gr.Button(t("zh", "refresh"), size="sm", scale=0, min_width=120, elem_id="pqa-refresh"),
                             value="refresh")
            logout = tr.add(gr.Button(t("zh", "logout"), size="sm", scale=0, min_width=120, elem_id="pqa-logout"),
                            value="logout")
        with gr.Tabs(selected="feedback", elem_id="pqa-admin-tabs") as tabs:
            with gr.Tab(t("zh", "tab_feedback"), id="feedback") as tab:
                tr.add(tab, label="tab_feedback")
                tr.add(gr.Markdown(t("zh", "feedback_title")), value="feedback_title")
                fb = gr.Dataframe(headers=FEEDBACK_HEADERS, value=[], type="array", interactive=False, wrap=True,
                                  max_height=320, column_widths=["14%", "7%", "20%", "18%", "29%", "12%"],
                                  elem_id="pqa-feedback-table")
                fb_csv = tr.add(gr.DownloadButton(t("zh", "export_feedback"), size="sm"), label="export_feedback")
                tr.add(gr.Markdown(t("zh", "backlog_title")), value="backlog_title")
                bl = gr.Dataframe(headers=BACKLOG_HEADERS, value=[], type="array", interactive=False, wrap=True,
                                  max_height=320, column_widths=["16%", "34%", "18%", "24%", "8%"],
                                  elem_id="pqa-backlog-table")
                with gr.Row():
                    bl_csv = tr.add(gr.DownloadButton(t("zh", "export_backlog"), size="sm"), label="export_backlog")
                    to_faq = tr.add(gr.Button(t("zh", "add_faq"), size="sm", variant="primary",
                                              elem_id="pqa-add-faq"), value="add_faq")
            with gr.Tab(t("zh", "tab_faq"), id="faq") as tab:
                tr.add(tab, label="tab_faq")
                faq_table = gr.Dataframe(headers=FAQ_HEADERS, value=[], type="array", interactive=False, wrap=True,
                                         max_height=280, elem_id="pqa-faq-table")
                with gr.Row():
                    faq_id = gr.Textbox(label="ID", interactive=False, scale=1, elem_id="pqa-faq-id")
                    editor = tr.add(gr.Textbox(value="管理员", label=t("zh", "faq_editor"), scale=1,
                                               elem_id="pqa-faq-editor"), label="faq_editor")
                fq = tr.add(gr.Textbox(label=t("zh", "faq_question"), elem_id="pqa-faq-q"), label="faq_question")
                fa = tr.add(gr.Textbox(label=t("zh", "faq_answer"), lines=4, elem_id="pqa-faq-a"), label="faq_answer")
                fc = tr.add(gr.Textbox(label=t("zh", "faq_clauses"), elem_id="pqa-faq-c"), label="faq_clauses")
                fp = tr.add(gr.Textbox(label=t("zh", "faq_paraphrases"), lines=3, elem_id="pqa-faq-p"),
                            label="faq_paraphrases")
                with gr.Row():
                    save = tr.add(gr.Button(t("zh", "faq_save"), variant="primary", elem_id="pqa-faq-save"),
                                  value="faq_save")
                    new = tr.add(gr.Button(t("zh", "faq_new"), elem_id="pqa-faq-new"), value="faq_new")
                    delete = tr.add(gr.Button(t("zh", "faq_delete"), variant="stop", elem_id="pqa-faq-delete"),
                                    value="faq_delete")
                faq_msg = gr.Markdown(elem_id="pqa-faq-msg")
            with gr.Tab(t("zh", "tab_index"), id="index") as tab:
                tr.add(tab, label="tab_index")
                info = gr.Markdown(elem_id="pqa-index-info")
                reindex = tr.add(gr.Button(t("zh", "reindex"), variant="primary", elem_id="pqa-reindex"),
                                 value="reindex")
                reindex_msg = gr.Markdown(elem_id="pqa-reindex-msg")

    loaded = [fb, fb_csv, bl, bl_csv, faq_table, info]
    for event in (password.submit, login.click):
        event(h.login, [password, lang], [authed, login_box, panel, login_msg, password, *loaded], **PRIVATE)
    logout.click(h.logout, None, [authed, login_box, panel], **PRIVATE)
    refresh.click(h.refresh, [authed], loaded, **PRIVATE)
    bl.select(h.pick_backlog, [authed], [picked], **PRIVATE)
    to_faq.click(h.backlog_to_faq, [authed, picked], [tabs, faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    faq_table.select(h.pick_faq, [authed], [faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    save.click(h.save_faq, [authed, faq_id, fq, fa, fc, fp, editor], [faq_id, faq_table, faq_msg], **PRIVATE)
    new.click(lambda: ("", "", "", "", "", ""), None, [faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    delete.click(h.delete_faq, [authed, faq_id], [faq_id, faq_table, faq_msg], **PRIVATE)
    reindex.click(h.reindex, [authed], [reindex_msg, info], **PRIVATE)
