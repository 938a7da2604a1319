"""The Gradio app: 问答 (chat with citation cards, ui/chat.py), 条文查阅 (clause browser), 管理 (office, login).

The chat's event is public as `/chat`; every other event is private to the page. Events run
`POLICYQA_WORKERS` at a time (the chat's own answers through the shared gate) and at most
`POLICYQA_QUEUE_SIZE` wait; Gradio keeps at most `MAX_SESSIONS` sessions' state (least recently
used dropped first), so a flood of new sessions cannot grow memory without bound.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue keeps per-event records for its monitoring page (closed here, ui/guard.py) and, by default,
# rebuilds a pandas summary of up to 10,000 of them after every event: O(events) work per chat turn.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")

import gradio as gr

from index.settings import Settings
from rag.chain import Assistant
from ui.admin import build_admin
from ui.assets import BRIDGE_JS
from ui.auth import AdminAuth
from ui.browse import build_browse
from ui.chat import PRIVATE, build_chat
from ui.exports import Exports
from ui.faq_store import open_faq_store
from ui.feedback import FeedbackDB
from ui.gate import AnswerGate
from ui.i18n import STRINGS, Translator, t
from ui.notes import Notes

MAX_SESSIONS = 2000  # sessions whose state (chat history, admin login) Gradio keeps


def build_app(settings: Settings, assistant: Assistant | None = None, *, gate: AnswerGate | None = None,
              auth: AdminAuth | None = None, exports: Exports | None = None) -> gr.Blocks:
    """The whole app; the 管理 tab exists only when an admin password is configured.

    `ui.server.build_server` passes the gate, login and export store it shares with the API.
    """
    bot = assistant or Assistant(settings)
    db = FeedbackDB.open(settings)
    faq = open_faq_store(settings)  # corpus/faq.jsonl, or the database's FAQ table when one is configured
    auth = auth or AdminAuth(settings.admin_password)
    exports = exports if exports is not None else Exports()
    notes = Notes(settings.corpus_dir)  # reviewed 解读, shown in the chat's cards and in 条文查阅
    tr = Translator()
    with gr.Blocks(title="三门县标准化政策问答", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            tr.add(gr.Markdown(t("zh", "title"), elem_id="pqa-title"), value="title")
            lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label="界面语言 / Language", scale=0,
                            min_width=220, elem_id="pqa-lang")
        bridge = gr.HTML("", html_template="<span></span>", js_on_load=BRIDGE_JS, elem_id="pqa-bridge")
        with gr.Tabs(selected="chat", elem_id="pqa-tabs") as tabs:
            with gr.Tab(t("zh", "tab_chat"), id="chat", elem_id="pqa-tab-chat") as chat_tab:
                tr.add(chat_tab, label="tab_chat")
                build_chat(settings, bot, db, tr, lang, gate, notes)
            with gr.Tab(t("zh", "tab_browse"), id="browse", elem_id="pqa-tab-browse") as browse_tab:
                tr.add(browse_tab, label="tab_browse")
                browse = build_browse(settings, bot, tr, lang, exports, notes)
            if auth.enabled:
                with gr.Tab(t("zh", "tab_admin"), id="admin", elem_id="pqa-tab-admin") as admin_tab:
                    tr.add(admin_tab, label="tab_admin")
                    build_admin(settings, bot, db, faq, tr, lang, auth, exports, gate, notes)

        def open_clause(key: Any, lg: str) -> tuple[Any, ...]:
            key = key[:200] if isinstance(key, str) else ""
            return gr.Tabs(selected="browse"), gr.Tabs(selected="clauses"), browse.browser.show(key, STRINGS[lg])

        bridge.submit(open_clause, [bridge, lang], [tabs, browse.inner_tabs, browse.detail], show_progress="hidden",
                      **PRIVATE)
        lang.change(lambda lg: tr.updates(lg), [lang], tr.components, show_progress="hidden", **PRIVATE)
        demo.load(lambda: browse.browser.tree(STRINGS["zh"]), None, browse.tree, show_progress="hidden", **PRIVATE)
    demo.queue(default_concurrency_limit=settings.workers, max_size=settings.queue_size)
    demo.state_session_capacity = MAX_SESSIONS  # read when the app is mounted
    return demo
