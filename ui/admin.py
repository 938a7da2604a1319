"""The 管理 tab (office only): login, feedback + backlog with CSV, FAQ CRUD (with each entry's status),
documents (ui/admin_documents.py), hit test (ui/admin_hittest.py), dashboard (ui/admin_dashboard.py),
plain-language notes (ui/admin_notes.py), re-index.

Hiding the panel is cosmetic; every handler re-checks the session's login state on the server,
because Gradio endpoints can be called without the page. Logins go through `AdminAuth` (throttled per
address and globally, never a sleep in a worker); CSV exports are one-time links from memory that only
a logged-in session gets (ui/exports.py).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import gradio as gr

from index.settings import Settings
from index.store import Store
from rag.chain import Assistant
from ui.admin_dashboard import build_dashboard
from ui.admin_documents import build_documents
from ui.admin_hittest import build_hittest
from ui.admin_notes import build_notes
from ui.assets import DOWNLOAD_JS, SESSION_JS
from ui.auth import AdminAuth
from ui.browse import download_link
from ui.exports import Exports
from ui.faq_store import FaqError, FaqStore, parse_list, with_status
from ui.feedback import BACKLOG_COLUMNS, FEEDBACK_COLUMNS, FeedbackDB
from ui.format import esc, to_csv
from ui.gate import AnswerGate
from ui.i18n import Translator, t
from ui.notes import Notes
from ui.reindex import reindex
from ui.throttle import REFUSAL_DELAY, retry_after

FEEDBACK_HEADERS = ["时间", "评价", "问题", "说明", "回答", "条款"]
BACKLOG_HEADERS = ["时间", "问题", "原因", "说明", "问题ID"]
FAQ_HEADERS = ["ID", "问题", "条款", "相似问法", "编辑人", "编辑时间", "状态"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
MAX_FIELD_CHARS = 20_000


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


def field(value: Any) -> str:
    """A text box's value as the handler may use it: a string, at most MAX_FIELD_CHARS."""
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


class AdminHandlers:
    def __init__(self, settings: Settings, bot: Assistant, db: FeedbackDB, faq: FaqStore,
                 auth: AdminAuth | None = None, exports: Exports | None = None) -> None:
        self.settings, self.bot, self.db, self.faq = settings, bot, db, faq
        self.auth = auth or AdminAuth(settings.admin_password)
        self.exports = exports if exports is not None else Exports()

    def tables(self) -> tuple[Any, ...]:
        """Feedback, backlog (both newest first) and the FAQ list."""
        fb_rows = [[short_time(r["created_at"]), "赞 +1" if r["rating"] > 0 else "踩 -1", r["question"],
                    r["comment"] or "", clip(r["answer"]), clause_list(r["citations"])] for r in self.db.feedback()]
        bl_rows = [[short_time(r["created_at"]), r["question"], r["why"], r["comment"], r["question_id"]]
                   for r in self.db.backlog()]
        return fb_rows, bl_rows, self.faq_rows()

    def export_feedback(self, authed: bool) -> str:
        """A one-time link to the feedback CSV, for a logged-in session only."""
        require(authed)
        rows = [[r[c] for c in FEEDBACK_COLUMNS] for r in self.db.feedback()]
        return self.exports.issue("feedback.csv", to_csv(FEEDBACK_COLUMNS, rows))

    def export_backlog(self, authed: bool) -> str:
        require(authed)
        rows = [[r[c] for c in BACKLOG_COLUMNS] for r in self.db.backlog()]
        return self.exports.issue("backlog.csv", to_csv(BACKLOG_COLUMNS, rows))

    def faq_rows(self) -> list[list[Any]]:
        """Every entry, with whether it still holds against the served index (a stale one is not served)."""
        try:
            entries = self.faq.list()
            statuses = {e["id"]: e for e in with_status(self.faq, self.bot)}  # ok | stale + reason
        except FaqError as exc:
            gr.Warning(esc(exc))
            return []
        rows = []
        for e in entries:
            state = statuses.get(e.id, {})
            shown = "" if not state else (t("zh", "faq_status_ok") if state.get("status") == "ok" else
                                          f'{t("zh", "faq_status_stale")}: {state.get("reason", "")}')
            rows.append([e.id, e.question, "、".join(e.clauses), len(e.paraphrases), e.edited_by,
                         short_time(e.edited_at), shown])
        return rows

    def index_info(self) -> str:
        try:
            info = Store(self.settings).info()
        except Exception as exc:  # no index yet, Chroma unreachable: say so instead of failing the tab
            return f'<div class="pqa-note">⚠ {esc(exc)}</div>'
        rows = [("collection", info.name), ("embedder", info.embedder),
                ("chunker", f"{info.chunker} ({info.chunk_tokens} tokens)"), ("chunks", info.chunks),
                ("built at", short_time(info.built_at)), ("build time", f"{info.build_seconds:.2f} s")]
        cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        return f'<table class="pqa-index">{cells}</table>'

    async def login(self, password: Any, lang: str, request: gr.Request) -> tuple[Any, ...]:
        """Throttled check (ui/throttle.py) without blocking a worker; the right password opens the panel."""
        client = getattr(request, "client", None)
        verdict = self.auth.attempt(getattr(client, "host", None), [password] if isinstance(password, str) else [])
        if not verdict.ok:
            message = t(lang, "login_wait").format(s=retry_after(verdict.wait)) if verdict.wait else \
                t(lang, "login_bad")
            if verdict.wait:
                await anyio.sleep(min(verdict.wait, REFUSAL_DELAY))
            return (False, gr.update(), gr.update(visible=False), message, "", *[gr.update()] * 4, "")
        tables = await anyio.to_thread.run_sync(self.tables)
        info = await anyio.to_thread.run_sync(self.index_info)
        return (True, gr.update(visible=False), gr.update(visible=True), "", "", *tables, info,
                self.auth.open_session())

    def logout(self, session: Any) -> tuple[Any, ...]:
        self.auth.close_session(session if isinstance(session, str) else None)
        return False, gr.update(visible=True), gr.update(visible=False), ""

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
            e = self.faq.get(str(row[0])[:100])
        except (FaqError, IndexError) as exc:
            raise gr.Error(esc(exc)) from exc
        return e.id, e.question, e.answer, ", ".join(e.clauses), "\n".join(e.paraphrases), ""

    def save_faq(self, authed: bool, entry_id: str, question: str, answer: str, clauses: str, paraphrases: str,
                 editor: str) -> tuple[Any, ...]:
        require(authed)
        entry_id, question, answer, editor = field(entry_id), field(question), field(answer), field(editor)
        clauses, paraphrases = field(clauses), field(paraphrases)
        keys = parse_list(clauses)
        unknown = [k for k in keys if k not in self.bot.retriever.view().by_clause]
        try:
            if unknown:
                raise FaqError(f"索引中没有这些条款 / unknown clauses: {', '.join(unknown)}")
            args = (question, answer, keys, parse_list(paraphrases, lines_only=True))
            entry = self.faq.edit(entry_id, *args, edited_by=editor) if entry_id else \
                self.faq.add(*args, edited_by=editor)
        except FaqError as exc:
            return gr.update(), gr.update(), f"⚠ {esc(exc)}"
        return entry.id, self.faq_rows(), f"✓ {esc(entry.id)} 已保存 / saved"

    def delete_faq(self, authed: bool, entry_id: str) -> tuple[Any, ...]:
        require(authed)
        entry_id = field(entry_id)
        try:
            self.faq.delete(entry_id)
        except FaqError as exc:
            return gr.update(), gr.update(), f"⚠ {esc(exc)}"
        return "", self.faq_rows(), f"✓ {esc(entry_id)} 已删除 / deleted"

    def reindex(self, authed: bool, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        require(authed)
        progress(0, desc="embedding")
        _ok, message = reindex(self.settings, lambda done, total: progress((done, total), desc="embedding"))
        return message, self.index_info()


def build_admin(settings: Settings, bot: Assistant, db: FeedbackDB, faq: FaqStore, tr: Translator,
                lang: gr.Radio, auth: AdminAuth | None = None, exports: Exports | None = None,
                gate: AnswerGate | None = None, notes: Notes | None = None) -> None:
    h = AdminHandlers(settings, bot, db, faq, auth, exports)
    notes = notes or Notes(settings.corpus_dir)
    authed, picked = gr.State(False), gr.State(None)
    with gr.Column(visible=True, elem_id="pqa-login-box") as login_box:
        password = tr.add(gr.Textbox(type="password", label=t("zh", "password"), max_length=1024,
                                     elem_id="pqa-password"), label="password")
        session = gr.Textbox(visible="hidden", elem_id="pqa-admin-session")
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
                fb_csv, fb_link = download_link(tr, "export_feedback", "pqa-export-feedback")
                tr.add(gr.Markdown(t("zh", "backlog_title")), value="backlog_title")
                bl = gr.Dataframe(headers=BACKLOG_HEADERS, value=[], type="array", interactive=False, wrap=True,
                                  max_height=320, column_widths=["16%", "34%", "18%", "24%", "8%"],
                                  elem_id="pqa-backlog-table")
                with gr.Row():
                    bl_csv, bl_link = download_link(tr, "export_backlog", "pqa-export-backlog")
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
            with gr.Tab(t("zh", "tab_documents"), id="documents", elem_id="pqa-admin-documents") as docs_tab:
                tr.add(docs_tab, label="tab_documents")
                load_docs, doc_lists = build_documents(settings, tr, lang, authed)
            with gr.Tab(t("zh", "tab_hittest"), id="hittest", elem_id="pqa-admin-hittest") as tab:
                tr.add(tab, label="tab_hittest")
                build_hittest(settings, bot, tr, lang, authed, gate)
            with gr.Tab(t("zh", "tab_dashboard"), id="dashboard", elem_id="pqa-admin-dashboard") as dash_tab:
                tr.add(dash_tab, label="tab_dashboard")
                show_dash, dash_in, dash_out = build_dashboard(db, h.exports, tr, authed)
            with gr.Tab(t("zh", "tab_notes"), id="notes", elem_id="pqa-admin-notes") as notes_tab:
                tr.add(notes_tab, label="tab_notes")
                note_choices, note_clause = build_notes(settings, bot, notes, tr, lang, authed)
            with gr.Tab(t("zh", "tab_index"), id="index") as tab:
                tr.add(tab, label="tab_index")
                info = gr.Markdown(elem_id="pqa-index-info")
                rebuild = tr.add(gr.Button(t("zh", "reindex"), variant="primary", elem_id="pqa-reindex"),
                                 value="reindex")
                reindex_msg = gr.Markdown(elem_id="pqa-reindex-msg")

    loaded = [fb, bl, faq_table, info]
    gr.on([password.submit, login.click], h.login, [password, lang],
          [authed, login_box, panel, login_msg, password, *loaded, session], concurrency_limit=None,
          **PRIVATE).then(None, [session], None, js=SESSION_JS, **PRIVATE)
    logout.click(h.logout, [session], [authed, login_box, panel, session], **PRIVATE).then(
        None, [session], None, js=SESSION_JS, **PRIVATE)
    refresh.click(h.refresh, [authed], loaded, **PRIVATE)
    fb_csv.click(h.export_feedback, [authed], [fb_link], **PRIVATE).then(None, [fb_link], None, js=DOWNLOAD_JS,
                                                                         **PRIVATE)
    bl_csv.click(h.export_backlog, [authed], [bl_link], **PRIVATE).then(None, [bl_link], None, js=DOWNLOAD_JS,
                                                                        **PRIVATE)
    bl.select(h.pick_backlog, [authed], [picked], **PRIVATE)
    to_faq.click(h.backlog_to_faq, [authed, picked], [tabs, faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    faq_table.select(h.pick_faq, [authed], [faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    save.click(h.save_faq, [authed, faq_id, fq, fa, fc, fp, editor], [faq_id, faq_table, faq_msg], **PRIVATE)
    new.click(lambda: ("", "", "", "", "", ""), None, [faq_id, fq, fa, fc, fp, faq_msg], **PRIVATE)
    delete.click(h.delete_faq, [authed, faq_id], [faq_id, faq_table, faq_msg], **PRIVATE)
    rebuild.click(h.reindex, [authed], [reindex_msg, info], concurrency_limit=1, concurrency_id="pqa-reindex",
                  **PRIVATE)
    docs_tab.select(load_docs, [authed], doc_lists, **PRIVATE)
    dash_tab.select(show_dash, dash_in, dash_out, **PRIVATE)
    notes_tab.select(note_choices, [authed], [note_clause], **PRIVATE)
