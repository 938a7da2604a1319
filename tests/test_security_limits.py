"""One set of limits on every route, Gradio's included (issue 13, findings 2, 3, 7 and 11), on live servers.

Body size and slow bodies on every route, question and search length in the page's own events,
Gradio's upload and file routes closed, unknown event functions a 404, and health and static
routes answering while answers fill every worker.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from index.settings import Settings
from tests.api_fixtures import env_for, gradio_event, server_process

pytest_plugins = ["tests.api_fixtures"]
PATHS = ["/gradio_api/queue/join", "/gradio_api/run/predict", "/api/ask", "/v1/chat/completions", "/api/feedback",
         "/"]


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmRSS")))


def _raw(url: str, head: str, timeout: float = 10) -> bytes:
    """Send a request head (and no more) on a fresh connection; everything the server sends until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_an_oversized_body_is_refused_on_every_route_gradios_too(live_url: str, api_settings: Settings) -> None:
    limit = api_settings.max_body_bytes
    body = json.dumps({"data": ["x" * limit], "fn_index": 0, "session_hash": "s"}).encode()
    for path in PATHS:
        response = httpx.post(live_url + path, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 413, (path, response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "body_too_large"


def test_a_50_mb_queue_join_is_cut_off_without_reading_it(api_settings: Settings, tmp_path: Path) -> None:
    """The probe's 50 MB POST to Gradio's queue (RSS 0.6 → 1.2 GB): refused from its Content-Length at once,
    and after 256 KiB when sent chunked; the server process does not grow."""
    with server_process(env_for(api_settings), tmp_path / "server.log") as (url, proc):
        before = _rss_kib(proc.pid)
        declared = _raw(url, "POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {50 * 2**20}\r\n\r\n")
        assert declared.startswith(b"HTTP/1.1 413"), declared[:200]

        def chunks() -> Iterator[bytes]:
            for _ in range(50):
                yield b" " * 2**20

        try:
            chunked = httpx.post(f"{url}/gradio_api/queue/join", content=chunks(),
                                 headers={"Content-Type": "application/json"}, timeout=60)
            assert chunked.status_code == 413
        except httpx.TransportError:
            pass  # the server closed the connection while the client was still sending: refused too
        assert _rss_kib(proc.pid) - before < 20 * 1024, "the server buffered the body"
        assert httpx.get(f"{url}/api/health", timeout=30).status_code == 200


def test_a_body_slower_than_the_timeout_is_dropped_and_the_connection_closed(start_server: Any) -> None:
    """A body shorter than its Content-Length (finding 11) no longer holds a connection open."""
    url = start_server(body_timeout=1.0)
    for path in ("/api/ask", "/gradio_api/queue/join"):
        started = time.perf_counter()
        received = _raw(url, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             f"Content-Length: 1000\r\n\r\n{{\"question\": ")  # returns once the server closes
        assert time.perf_counter() - started < 5, path
        assert received.startswith(b"HTTP/1.1 408"), received[:200]


def test_unknown_gradio_functions_are_a_404_not_a_500(live_url: str) -> None:
    config = httpx.get(f"{live_url}/config", timeout=30).json()
    known = {d["id"] for d in config["dependencies"]}
    for path in ("/gradio_api/queue/join", "/gradio_api/run/predict"):
        for fn in (max(known) + 1, 10**9, -1):
            response = httpx.post(live_url + path, json={"data": [], "fn_index": fn, "session_hash": "probe"},
                                  timeout=30)
            assert response.status_code == 404, (path, fn, response.status_code)
            assert response.json()["error"]["code"] == "unknown_function"
    search = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "do_search")
    ok = httpx.post(f"{live_url}/gradio_api/queue/join", json={"data": ["二维码", "zh"], "fn_index": search,
                                                                "session_hash": "probe"}, timeout=30)
    assert ok.status_code == 200


def test_gradio_upload_and_file_serving_are_closed(live_url: str) -> None:
    upload = httpx.post(f"{live_url}/gradio_api/upload", files={"files": ("a.txt", b"hello")}, timeout=30)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "upload_disabled"
    for path in ("/gradio_api/file=/etc/passwd", "/gradio_api/file/etc/passwd", "/gradio_api/proxy=http://x/",
                 "/gradio_api/upload_progress?upload_id=x", "/monitoring", "/gradio_api/run-history/records",
                 "/gradio_api/runs", "/login", "/gradio_api/openapi.json", "/gradio_api/call/chat",
                 "/gradio_api/api/predict", "/gradio_api/process_recording", "/gradio_api/vibe-edit/"):
        response = httpx.request("POST" if "recording" in path or "vibe" in path else "GET", live_url + path,
                                 timeout=30)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert httpx.get(f"{live_url}/config", timeout=30).json()["max_file_size"] == 0


def test_the_chat_refuses_a_question_over_the_limit(live_url: str, api_settings: Settings) -> None:
    limit = api_settings.max_question_chars
    done = gradio_event(live_url, "chat", {"pqa-question": "标" * (limit + 1)})
    text = json.dumps(done, ensure_ascii=False)
    assert done["success"] is True and "pqa-answer" not in text
    assert str(limit) in text and str(limit + 1) in text  # “问题有 2001 个字,超过了 2000 字的上限”
    ok = gradio_event(live_url, "chat", {"pqa-question": "二(七)2"})
    assert "pqa-answer" in json.dumps(ok, ensure_ascii=False)


def test_clause_search_and_jump_refuse_a_100_kb_query_at_once(live_url: str, api_settings: Settings) -> None:
    """The probe's 100 KB search took 15 s; now the box's limit answers at once."""
    query = "x y " * 25_000
    for fn, box in (("do_search", "pqa-search"), ("do_jump", "pqa-jump")):
        started = time.perf_counter()
        done = gradio_event(live_url, fn, {box: query})
        assert time.perf_counter() - started < 3, fn
        assert str(api_settings.max_search_chars) in done["output"]["data"][0], done
    found = gradio_event(live_url, "do_search", {"pqa-search": "二维码"})
    assert "<mark>二维码</mark>" in found["output"]["data"][0]
    over = httpx.get(f"{live_url}/api/search", params={"q": "标" * (api_settings.max_search_chars + 1)}, timeout=30)
    assert over.status_code == 413 and "POLICYQA_MAX_SEARCH_CHARS" in over.json()["error"]["message"]


def _hammer(url: str, stop: threading.Event, seen: list[int]) -> None:
    questions = ["企业标准总师要培育多少名?", "企业可以用二维码公示产品执行标准吗?", "征求意见的截止日期是哪天?"]
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            noise = "".join(random.choice("标准企业质量认证计量检测") for _ in range(250))
            response = client.post(f"{url}/api/ask", json={"question": random.choice(questions) + noise})
            seen.append(response.status_code)


def test_health_and_static_routes_answer_while_answers_fill_every_worker(start_server: Any) -> None:
    url = start_server(workers=2)
    stop, seen = threading.Event(), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_hammer, args=(url, stop, seen), daemon=True) for _ in range(12)]
    for th in threads:
        th.start()
    timings: dict[str, list[float]] = {"/api/health": [], "/": [], "/theme.css": [], "/config": []}
    busy = 0
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + 8
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                for path, took in timings.items():
                    started = time.perf_counter()
                    response = client.get(url + path)
                    took.append(time.perf_counter() - started)
                    assert response.status_code == 200, path
                    if path == "/api/health":
                        busy = max(busy, response.json().get("answers", {}).get("in_progress", 0))
                time.sleep(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=120)
    for path, took in timings.items():
        took.sort()
        assert took[len(took) // 2] < 0.5 and took[-1] < 2.0, (path, took)
    assert busy == 2, "the answers did not fill the workers; the test measured nothing"
    assert len(seen) > 10 and set(seen) <= {200, 503}


def test_the_answer_gate_bounds_its_backlog_and_its_wait() -> None:
    import anyio

    from ui.gate import HEAVY_CHARS, AnswerGate, Busy

    async def scenario() -> list[str]:
        gate, outcomes = AnswerGate(workers=2, timeout=0.3, max_waiting=2), []

        async def hold(size: int, seconds: float) -> None:
            try:
                async with gate.slot(size):
                    outcomes.append(f"in {size}")
                    await anyio.sleep(seconds)
            except Busy as exc:
                outcomes.append(f"busy {size} {exc.waited:g}")

        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, HEAVY_CHARS + 1, 0.5)  # the one heavy slot
            await anyio.sleep(0.01)
            tg.start_soon(hold, HEAVY_CHARS + 2, 0.1)  # a second long question waits for it ... and times out
            tg.start_soon(hold, 10, 1.0)  # a short one takes the second worker
            await anyio.sleep(0.01)
            tg.start_soon(hold, 11, 0.1)  # waits (2 waiting now)
            await anyio.sleep(0.01)
            tg.start_soon(hold, 12, 0.1)  # a third waiter is turned away at once
        return outcomes

    outcomes = anyio.run(scenario)
    assert outcomes[:3] == [f"in {HEAVY_CHARS + 1}", "in 10", "busy 12 0"], outcomes
    assert f"busy {HEAVY_CHARS + 2} 0.3" in outcomes and "busy 11 0.3" in outcomes, outcomes
