"""The 问答 tab: one chat turn per event, public to `gradio_client` as `/chat`.

`Client(url).predict(question, mode, lang, api_name="/chat")` returns (messages, "") like the page
gets them. Chat events are not limited to one at a time by Gradio: each answer takes a slot of the
same `AnswerGate` as the API (ui/gate.py). A turn sends two updates (the question with “thinking…”,
then the answer with its cards; LLM tokens in between when that mode streams), and the session's
history lives in one server-side `ChatSession`, updated in place, so Gradio re-serialises as little
per turn as it can. A session keeps at most `KEEP_MESSAGES` messages.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import gradio as gr

from index.settings import Settings
from rag.chain import Assistant
from rag.models import Answer
from rag.verify import lines_of
from ui.api_service import MAX_HISTORY_TURNS
from ui.feedback import FeedbackDB
from ui.format import answer_html, note_html, partial_html, question_html
from ui.gate import AnswerGate, Busy
from ui.i18n import STRINGS, Translator, mode_choices, t
from ui.notes import Notes
from ui.versions import answer_kwargs, fresh_documents

log = logging.getLogger(__name__)

EXAMPLES = [
    "企业标准总师要培育多少名?",
    "企业可以用二维码公示产品执行标准吗?",
    "征求意见的截止日期是哪天?",
    "二(七)2",
]
KEEP_MESSAGES = MAX_HISTORY_TURNS  # shown, and sent to the chain as history, at most this many messages
PREVIEW_CHARS = 200
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
_DONE = object()


@dataclass
class ChatSession:
    """One browser session's chat: what is shown, the history for follow-ups, and each answer's record."""

    shown: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, str]] = field(default_factory=list)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)

    def trim(self) -> None:
        """Keep the last KEEP_MESSAGES; record keys follow the display's indexes."""
        drop = max(0, len(self.shown) - KEEP_MESSAGES)
        self.shown = self.shown[drop:]
        self.records = {i - drop: r for i, r in self.records.items() if i >= drop}
        self.turns = self.turns[-KEEP_MESSAGES:]

    def reset(self) -> None:
        self.shown, self.turns, self.records = [], [], {}


class ChatHandlers:
    """The chat's event handlers; per-session data lives in a gr.State(ChatSession), shared objects here."""

    def __init__(self, settings: Settings, bot: Assistant, db: FeedbackDB, gate: AnswerGate | None = None,
                 notes: Notes | None = None) -> None:
        self.settings, self.bot, self.db = settings, bot, db
        self.gate = gate or AnswerGate.for_settings(settings)
        self.notes = notes or Notes(settings.corpus_dir)

    async def _answer(self, question: str, turns: list[dict[str, str]], mode: str,
                      versions: str = "current") -> AsyncIterator[str | Answer]:
        """LLM tokens as they come (only when chosen and configured), then the Answer; one gate slot throughout."""
        async with self.gate.slot(len(question)):
            fresh_documents(self.bot, self.settings.corpus_dir)
            if mode == "llm" and self.settings.llm_configured:
                tokens = iter(self.bot.stream(question, turns, mode="llm"))
                while (item := await anyio.to_thread.run_sync(next, tokens, _DONE)) is not _DONE:
                    yield item  # type: ignore[misc]
                return
            extra = answer_kwargs(self.bot, versions)
            yield await anyio.to_thread.run_sync(lambda: self.bot.answer(question, history=turns, **extra))

    async def respond(self, question: Any, chat: ChatSession, mode: str, lang: str,
                      earlier: Any = False) -> AsyncIterator[tuple[Any, str]]:
        """One turn: the question at once, LLM text as it streams, then the answer with its cards.

        `earlier` (the “显示征求意见稿中的不同表述” toggle) asks for `versions="all"`.
        """
        question = question.strip() if isinstance(question, str) else ""
        chat.trim()
        if not question:
            yield chat.shown, ""
            return
        limit = self.settings.max_question_chars
        if len(question) > limit:
            notice = t(lang, "too_long").format(n=len(question), limit=limit)
            chat.shown = [*chat.shown, {"role": "user", "content": question_html(question[:PREVIEW_CHARS] + "…")},
                          {"role": "assistant", "content": note_html(notice)}]
            yield chat.shown, question  # kept in the box to be shortened
            return
        shown = [*chat.shown, {"role": "user", "content": question_html(question)}]
        yield [*shown, {"role": "assistant", "content": note_html(t(lang, "thinking"))}], ""
        partial, answer = "", None
        try:
            async for item in self._answer(question, list(chat.turns), mode, "all" if earlier is True else "current"):
                if isinstance(item, Answer):
                    answer = item
                else:
                    partial += item
                    yield [*shown, {"role": "assistant", "content": partial_html(partial)}], ""
        except Busy:
            chat.shown = [*shown, {"role": "assistant", "content": note_html(t(lang, "busy"))}]
            yield chat.shown, question
            return
        assert answer is not None, "the chain ends every answer with an Answer"
        html, question_id = await anyio.to_thread.run_sync(self._finish, answer, lang)
        chat.shown = [*shown, {"role": "assistant", "content": html}]
        chat.records[len(chat.shown) - 1] = {"question_id": question_id, "answer": answer, "mode": mode}
        chat.turns = [*chat.turns, {"role": "user", "content": question},
                      {"role": "assistant", "content": answer.answer}]
        chat.trim()
        yield chat.shown, ""

    def _finish(self, answer: Answer, lang: str) -> tuple[str, int | None]:
        """The answer's HTML and its row in the office's question log (a DB problem never fails an answer)."""
        try:
            question_id: int | None = self.db.log_question(answer, answer.mode)
        except sqlite3.Error:
            log.exception("could not log the question")
            question_id = None
        return self.render(answer, lang), question_id

    def render(self, answer: Answer, lang: str) -> str:
        view = self.bot.retriever.view()
        keys = {f"{c.doc_id}:{c.clause_id}" for c in answer.citations}
        titles = {d: doc.citation_title for d, doc in self.bot.documents.items()}
        lines = {k: lines_of((c.text, c.spans) for c in view.by_clause.get(k, [])) for k in keys}
        return answer_html(answer, strings=STRINGS.get(lang, STRINGS["zh"]), titles=titles,
                           clause_texts={k: view.clause_text(k) for k in keys}, notes=self.notes.notes(keys, lang),
                           clause_lines=lines)

    def rerender(self, chat: ChatSession, lang: str) -> list[dict[str, Any]]:
        """After a language switch, earlier answers are drawn again with the new labels."""
        for index, record in chat.records.items():
            if 0 <= index < len(chat.shown):
                chat.shown[index] = {"role": "assistant", "content": self.render(record["answer"], lang)}
        return chat.shown

    def clear(self, chat: ChatSession) -> tuple[Any, ...]:
        chat.reset()
        return None, gr.update(visible=False)

    def rate(self, chat: ChatSession, lang: str, data: gr.LikeData) -> tuple[Any, ...]:
        """👍/👎 on a message: stored durably before the user sees “recorded”; then offer a comment."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        question_id = (chat.records.get(index) or {}).get("question_id") if isinstance(index, int) else None
        if question_id is None or data.liked not in (True, False):
            return None, gr.update(visible=True), t(lang, "fb_unknown"), ""
        feedback_id = self.db.add_feedback(question_id, 1 if data.liked else -1)
        note = t(lang, "fb_saved_up" if data.liked else "fb_saved_down")
        gr.Info(note, duration=3)
        return feedback_id, gr.update(visible=True), note, ""

    def comment(self, feedback_id: int | None, comment: Any, lang: str) -> tuple[Any, ...]:
        if feedback_id is None or not isinstance(comment, str) or not comment.strip():
            return gr.update(), comment if isinstance(comment, str) else ""
        self.db.set_comment(feedback_id, comment[:2000])
        gr.Info(t(lang, "fb_comment_saved"), duration=3)
        return t(lang, "fb_comment_saved"), ""


def build_chat(settings: Settings, bot: Assistant, db: FeedbackDB, tr: Translator, lang: gr.Radio,
               gate: AnswerGate | None = None, notes: Notes | None = None) -> None:
    handlers = ChatHandlers(settings, bot, db, gate, notes)
    chatbot = tr.add(gr.Chatbot(value=[], height="66vh", min_height=420, latex_delimiters=[], buttons=[],
                                sanitize_html=True, render_markdown=True, feedback_options=("Like", "Dislike"),
                                show_label=False,
                                placeholder=t("zh", "chat_placeholder"), elem_id="pqa-chat"),
                     placeholder="chat_placeholder")
    with gr.Group(visible=False, elem_id="pqa-feedback-box") as fb_box:
        fb_note = gr.Markdown()
        comment = tr.add(gr.Textbox(label=t("zh", "comment"), placeholder=t("zh", "comment_ph"), max_length=2000,
                                    submit_btn=t("zh", "comment_send"), elem_id="pqa-comment"),
                         label="comment", placeholder="comment_ph", submit_btn="comment_send")
    question = tr.add(gr.Textbox(label=t("zh", "question"), placeholder=t("zh", "question_ph"), autofocus=True,
                                 submit_btn=t("zh", "send"), elem_id="pqa-question"),
                      label="question", placeholder="question_ph", submit_btn="send")
    llm = settings.llm_configured
    mode = tr.add_fn(gr.Radio(mode_choices("zh", llm), value="extractive", label=t("zh", "mode"), interactive=llm,
                              elem_id="pqa-mode"),
                     lambda lg: gr.update(choices=mode_choices(lg, llm), label=t(lg, "mode")))
    earlier = tr.add(gr.Checkbox(False, label=t("zh", "versions_toggle"), elem_id="pqa-versions"),
                     label="versions_toggle")
    examples = gr.Examples(EXAMPLES, inputs=[question], label=t("zh", "examples"))
    tr.add(examples.dataset, label="examples")
    chat, feedback_id = gr.State(ChatSession()), gr.State(None)
    question.submit(handlers.respond, [question, chat, mode, lang, earlier], [chatbot, question], api_name="chat",
                    api_description="Ask one question (mode 'extractive'; lang 'zh' or 'en'; optionally True to "
                                    "show how earlier versions worded the cited clauses); returns the chat "
                                    "messages, the last one the answer as HTML with its citation cards.",
                    concurrency_limit=None, show_progress="hidden")
    chatbot.clear(handlers.clear, [chat], [feedback_id, fb_box], **PRIVATE)
    chatbot.like(handlers.rate, [chat, lang], [feedback_id, fb_box, fb_note, comment], **PRIVATE)
    comment.submit(handlers.comment, [feedback_id, comment, lang], [fb_note, comment], **PRIVATE)
    lang.change(handlers.rerender, [chat, lang], [chatbot], show_progress="hidden", **PRIVATE)
