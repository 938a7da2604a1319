"""The Gradio app: 问答 (chat with citation cards), 条文查阅 (clause browser), 管理 (office, login)."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from index.settings import Settings
from rag.chain import Assistant
from rag.models import Answer
from ui.admin import build_admin
from ui.assets import BRIDGE_JS, CSS, theme
from ui.auth import admin_enabled
from ui.browse import build_browse
from ui.faq_store import FaqStore
from ui.feedback import FeedbackDB
from ui.format import answer_html, escape_md, text_html
from ui.i18n import STRINGS, Translator, mode_choices, t

log = logging.getLogger(__name__)

EXAMPLES = [
    "企业标准总师要培育多少名?",
    "企业可以用二维码公示产品执行标准吗?",
    "征求意见的截止日期是哪天?",
    "二(七)2",
]
STREAM_STEPS = 6
STREAM_PAUSE = 0.03  # seconds between revealed pieces of an extractive answer


class PolicyApp(gr.Blocks):
    """Blocks whose `launch()` brings the app's theme, CSS and footer (Gradio 6 moved them to launch)."""

    def launch(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("theme", theme())
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("footer_links", ["gradio", "settings"])
        return super().launch(*args, **kwargs)


class ChatHandlers:
    """The chat's event handlers; per-session data lives in gr.State, shared objects here."""

    def __init__(self, settings: Settings, bot: Assistant, db: FeedbackDB) -> None:
        self.settings, self.bot, self.db = settings, bot, db

    def ask(self, question: str, turns: list[dict[str, str]], mode: str) -> Iterator[str | Answer]:
        """Text pieces as they come, then the Answer. The LLM is asked only when chosen and configured
        (its tokens stream); an extractive answer is complete at once and is revealed in a few steps."""
        if mode == "llm" and self.settings.llm_configured:
            yield from self.bot.stream(question, turns, mode="llm")
            return
        answer = self.bot.answer(question, history=turns)
        text = answer.answer.strip()
        step = max(1, len(text) // STREAM_STEPS + 1)
        for end in range(step, len(text), step):
            yield text[end - step:end]
        yield answer

    def respond(self, question: str, shown: list[dict[str, Any]], turns: list[dict[str, str]],
                records: dict[int, Any], mode: str, lang: str) -> Iterator[tuple[Any, ...]]:
        """Stream one turn: the question at once, then the answer text growing, then the cards."""
        question = (question or "").strip()
        if not question:
            yield shown, shown, turns, records, ""
            return
        shown = [*shown, {"role": "user", "content": escape_md(question)},
                 {"role": "assistant", "content": f'<span class="pqa-note">{t(lang, "thinking")}</span>'}]
        yield shown, shown, turns, records, ""
        partial, answer = "", None
        for item in self.ask(question, turns, mode):
            if isinstance(item, Answer):
                answer = item
                continue
            partial += item
            shown = [*shown[:-1], {"role": "assistant", "content": f'<div class="pqa-text">{text_html(partial)}</div>'}]
            yield shown, shown, turns, records, ""
            time.sleep(STREAM_PAUSE)
        assert answer is not None, "the chain ends every answer with an Answer"
        shown = [*shown[:-1], {"role": "assistant", "content": self.render(answer, lang)}]
        try:
            question_id: int | None = self.db.log_question(answer, answer.mode)
        except sqlite3.Error:
            log.exception("could not log the question")
            question_id = None
        records = {**records, len(shown) - 1: {"question_id": question_id, "answer": answer, "mode": mode}}
        turns = [*turns, {"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
        yield shown, shown, turns, records, ""

    def render(self, answer: Answer, lang: str) -> str:
        view = self.bot.retriever.view()
        keys = {f"{c.doc_id}:{c.clause_id}" for c in answer.citations}
        titles = {d: doc.citation_title for d, doc in self.bot.documents.items()}
        return answer_html(answer, strings=STRINGS[lang], titles=titles,
                           clause_texts={k: view.clause_text(k) for k in keys})

    def rerender(self, shown: list[dict[str, Any]], records: dict[int, Any], lang: str) -> tuple[Any, Any]:
        """After a language switch, earlier answers are drawn again with the new labels."""
        shown = list(shown)
        for index, record in records.items():
            if 0 <= index < len(shown):
                shown[index] = {"role": "assistant", "content": self.render(record["answer"], lang)}
        return shown, shown

    def rate(self, records: dict[int, Any], lang: str, data: gr.LikeData) -> tuple[Any, ...]:
        """👍/👎 on a message: stored durably before the user sees “recorded”; then offer a comment."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        question_id = (records.get(index) or {}).get("question_id")
        if question_id is None or data.liked not in (True, False):
            return None, gr.update(visible=True), t(lang, "fb_unknown"), ""
        feedback_id = self.db.add_feedback(question_id, 1 if data.liked else -1)
        note = t(lang, "fb_saved_up" if data.liked else "fb_saved_down")
        gr.Info(note, duration=3)
        return feedback_id, gr.update(visible=True), note, ""

    def comment(self, feedback_id: int | None, comment: str, lang: str) -> tuple[Any, ...]:
        if feedback_id is None or not (comment or "").strip():
            return gr.update(), comment
        self.db.set_comment(feedback_id, comment)
        gr.Info(t(lang, "fb_comment_saved"), duration=3)
        return t(lang, "fb_comment_saved"), ""


def build_chat(settings: Settings, bot: Assistant, db: FeedbackDB, tr: Translator, lang: gr.Radio) -> None:
    handlers = ChatHandlers(settings, bot, db)
    chatbot = tr.add(gr.Chatbot(value=[], height="66vh", min_height=420, latex_delimiters=[], buttons=[],
                                sanitize_html=True, render_markdown=True, feedback_options=("Like", "Dislike"),
                                show_label=False,
                                placeholder=t("zh", "chat_placeholder"), elem_id="pqa-chat"),
                     placeholder="chat_placeholder")
    with gr.Group(visible=False, elem_id="pqa-feedback-box") as fb_box:
        fb_note = gr.Markdown()
        comment = tr.add(gr.Textbox(label=t("zh", "comment"), placeholder=t("zh", "comment_ph"),
                                    submit_btn=t("zh", "comment_send"), elem_id="pqa-comment"),
                         label="comment", placeholder="comment_ph", submit_btn="comment_send")
    question = tr.add(gr.Textbox(label=t("zh", "question"), placeholder=t("zh", "question_ph"), autofocus=True,
                                 submit_btn=t("zh", "send"), elem_id="pqa-question"),
                      label="question", placeholder="question_ph", submit_btn="send")
    llm = settings.llm_configured
    mode = tr.add_fn(gr.Radio(mode_choices("zh", llm), value="extractive", label=t("zh", "mode"), interactive=llm,
                              elem_id="pqa-mode"),
                     lambda lg: gr.update(choices=mode_choices(lg, llm), label=t(lg, "mode")))
    examples = gr.Examples(EXAMPLES, inputs=[question], label=t("zh", "examples"))
    tr.add(examples.dataset, label="examples")
    shown, turns, records, feedback_id = gr.State([]), gr.State([]), gr.State({}), gr.State(None)
    outputs = [chatbot, shown, turns, records, question]
    question.submit(handlers.respond, [question, shown, turns, records, mode, lang], outputs,
                    api_visibility="private", show_progress="hidden")
    chatbot.clear(lambda: ([], [], {}, None, gr.update(visible=False)), None,
                  [shown, turns, records, feedback_id, fb_box], api_visibility="private")
    chatbot.like(handlers.rate, [records, lang], [feedback_id, fb_box, fb_note, comment], api_visibility="private")
    comment.submit(handlers.comment, [feedback_id, comment, lang], [fb_note, comment], api_visibility="private")
    lang.change(handlers.rerender, [shown, records, lang], [chatbot, shown], api_visibility="private",
                show_progress="hidden")


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The whole app; the 管理 tab exists only when an admin password is configured."""
    bot = assistant or Assistant(settings)
    db = FeedbackDB.for_data_dir(settings.data_dir)
    faq = FaqStore.for_corpus(settings.corpus_dir)
    tr = Translator()
    with PolicyApp(title="三门县标准化政策问答", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            tr.add(gr.Markdown(t("zh", "title"), elem_id="pqa-title"), value="title")
            lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label="界面语言 / Language", scale=0,
                            min_width=220, elem_id="pqa-lang")
        bridge = gr.HTML("", html_template="<span></span>", js_on_load=BRIDGE_JS, elem_id="pqa-bridge")
        with gr.Tabs(selected="chat", elem_id="pqa-tabs") as tabs:
            with gr.Tab(t("zh", "tab_chat"), id="chat", elem_id="pqa-tab-chat") as chat_tab:
                tr.add(chat_tab, label="tab_chat")
                build_chat(settings, bot, db, tr, lang)
            with gr.Tab(t("zh", "tab_browse"), id="browse", elem_id="pqa-tab-browse") as browse_tab:
                tr.add(browse_tab, label="tab_browse")
                browse = build_browse(settings, bot, tr, lang)
            if admin_enabled(settings.admin_password):
                with gr.Tab(t("zh", "tab_admin"), id="admin", elem_id="pqa-tab-admin") as admin_tab:
                    tr.add(admin_tab, label="tab_admin")
                    build_admin(settings, bot, db, faq, tr, lang)

        def open_clause(key: str, lg: str) -> tuple[Any, ...]:
            return gr.Tabs(selected="browse"), gr.Tabs(selected="clauses"), browse.browser.show(key or "", STRINGS[lg])

        bridge.submit(open_clause, [bridge, lang], [tabs, browse.inner_tabs, browse.detail],
                      api_visibility="private", show_progress="hidden")
        lang.change(lambda lg: tr.updates(lg), [lang], tr.components, api_visibility="private",
                    show_progress="hidden")
    return demo


def serve(settings: Settings, *, host: str, port: int) -> None:
    assistant = Assistant(settings)
    assistant.retriever.view()  # fail fast (no index / mismatch) before the port opens
    build_app(settings, assistant).launch(server_name=host, server_port=port, show_error=False)
