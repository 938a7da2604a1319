"""The Gradio chat: answers with their clause citations."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from index.settings import Settings
from rag.chain import Assistant
from ui.format import answer_markdown

EXAMPLES = [
    "企业标准总师要培育多少名?",
    "企业可以用二维码公示产品执行标准吗?",
    "征求意见的截止日期是哪天?",
    "二(七)2",
]


def _turns(history: list[Any]) -> list[dict[str, str]]:
    turns = []
    for message in history or []:
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            turns.append({"role": str(message.get("role", "user")), "content": message["content"]})
    return turns


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    bot = assistant or Assistant(settings)

    def respond(message: str, history: list[Any]) -> str:
        return answer_markdown(bot.answer(message, history=_turns(history)))

    return gr.ChatInterface(
        respond,
        title="三门县标准化政策问答",
        description="依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》原文作答,每条回答附条款出处。",
        examples=EXAMPLES,
        cache_examples=False,
        chatbot=gr.Chatbot(height=520, sanitize_html=True, render_markdown=True),
    )


def serve(settings: Settings, *, host: str, port: int) -> None:
    assistant = Assistant(settings)
    assistant.retriever.view()  # fail fast (no index / mismatch) before the port opens
    build_app(settings, assistant).launch(server_name=host, server_port=port, show_error=False)
