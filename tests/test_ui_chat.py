"""The chat scales like the API (issue 13, finding 10): a named `/chat` endpoint, the API's concurrency, one gate.

Answers of the Gradio chat and of `POST /api/ask` take slots of the same gate, `POLICYQA_WORKERS` at
a time; Gradio no longer runs chat events one at a time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from eval.load import run_load
from eval.load_chat import render, run_chat_load
from rag.models import Answer
from tests.api_fixtures import gradio_event

pytest_plugins = ["tests.api_fixtures"]
SLOW = 0.4  # seconds each answer of SlowBot takes


class SlowBot:
    """The real assistant, but every answer takes SLOW seconds; counts how many run at once."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.retriever, self.documents = inner, inner.retriever, inner.documents
        self.lock, self.running, self.most = threading.Lock(), 0, 0

    def answer(self, question: str, history: Any = None, mode: str | None = None) -> Answer:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(SLOW)
            return self.inner.answer(question, history)
        finally:
            with self.lock:
                self.running -= 1

    def stream(self, question: str, history: Any = None, mode: str | None = None) -> Any:
        yield self.answer(question, history)


def test_gradio_client_finds_the_chat_as_slash_chat(live_url: str) -> None:
    from gradio_client import Client

    client = Client(live_url, verbose=False, download_files=False)
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/chat"]
    messages, box = client.predict("企业标准总师要培育多少名?", "extractive", "zh", api_name="/chat")
    assert box == "" and len(messages) == 2
    assert "pqa-answer" in str(messages[-1]["content"]) and "【一(二)-4】" in str(messages[-1]["content"])
    client.close()


def _chat(url: str, n: int) -> dict[str, Any]:
    return gradio_event(url, "chat", {"pqa-question": f"二(七)2 第{n}问"})


def test_chat_turns_run_as_many_at_once_as_the_api_and_share_its_gate(start_server: Any, assistant: Any) -> None:
    bot = SlowBot(assistant)
    url = start_server(bot, workers=4)
    _chat(url, 0)  # the session machinery warmed up
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda n: _chat(url, n), range(8)))
    took = time.perf_counter() - started
    assert all("pqa-answer" in str(d) for d in done)
    assert took < 3 * SLOW + 1.0, took  # two rounds of four, not eight turns one after another
    assert bot.most == 4
    bot.most = 0
    with ThreadPoolExecutor(12) as pool:
        chats = [pool.submit(_chat, url, n) for n in range(6)]
        asks = [pool.submit(httpx.post, f"{url}/api/ask", json={"question": f"二(七)2 {n}"}, timeout=60)
                for n in range(6)]
        assert all("pqa-answer" in str(c.result()) for c in chats)
        assert all(a.result().status_code == 200 for a in asks)
    assert bot.most == 4, "chat and API together never exceed the workers: one gate"


def test_a_short_chat_load_run_answers_without_errors(live_url: str) -> None:
    """The smoke version of `make load-chat` (10 users x 60 s there): 2 users for a few seconds each way."""
    api = run_load(live_url, users=2, seconds=3)
    chat = run_chat_load(live_url, users=2, seconds=4, per_session=3)
    assert chat.answers > 0 and chat.errors == 0, dict(chat.error_kinds)
    assert api.errors == 0
    text = render(api, chat)
    assert "chat / API throughput" in text and f"| {chat.answers} | 0 |" in text
    with pytest.raises(ValueError, match="loopback"):
        run_chat_load("http://10.0.0.1:7860", users=1, seconds=1)
