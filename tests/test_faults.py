"""Faults with real processes: kill -9 of a rebuild and of the server, Chroma going away, secrets in logs."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomlkit

from eval.procs import start_chroma
from index.build import build_index
from index.settings import Settings
from index.store import Store
from rag.chain import Assistant
from tests.api_fixtures import (
    ADMIN_PASSWORD,
    assert_verbatim,
    copy_index,
    env_for,
    free_port,
    live_server,
    server_process,
)
from ui.api import build_api
from ui.feedback import FeedbackDB

pytestmark = pytest.mark.slow
POLICYQA = str(Path(sys.executable).with_name("policyqa"))
QUESTION = "企业标准总师要培育多少名?"
LLM_KEY = "sk-policyqa-test-KEY-0d9e8c7b6a"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _edit_every_clause(corpus: Path) -> None:
    """One fact changes (10名 → 20名) and every clause's hash changes, so a rebuild embeds all 30 chunks."""
    path = corpus / "sanmen-opinion-2023-draft.txt"
    text = path.read_text(encoding="utf-8").replace("培育企业标准总师10名以上", "培育企业标准总师20名以上")
    path.write_text(text.replace("。", "。 "), encoding="utf-8")
    catalog = tomlkit.parse((corpus / "catalog.toml").read_text(encoding="utf-8"))
    entries: Any = catalog["document"]
    for entry in entries:
        if entry["doc_id"] == "sanmen":
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (corpus / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")


def _ask(url: str, question: str = QUESTION) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _wait_for_progress(proc: subprocess.Popen[bytes], timeout: float = 300) -> str:
    """Read the build's progress bar until some but not all chunks are embedded."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(lambda: proc.stdout.read(256), b""):  # type: ignore[union-attr]
            seen.append(_ANSI.sub("", raw.decode("utf-8", "replace")))
            done = re.findall(r"(\d+)/(\d+)", "".join(seen)[-400:])
            if any(0 < int(d) < int(t) for d, t in done):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        raise AssertionError(f"no build progress seen: {''.join(seen)[-500:]}")
    return "".join(seen)


def test_kill9_mid_rebuild_keeps_the_old_index_serving_and_the_next_rebuild_succeeds(
    built_settings: Settings, corpus_copy: Path, tmp_path: Path
) -> None:
    settings = copy_index(built_settings, tmp_path / "data", corpus_dir=corpus_copy)
    bot = Assistant(settings)
    with live_server(build_api(settings, bot)) as url:
        assert "10名以上" in _ask(url)["answer"]
        old = Store(settings).info().name
        _edit_every_clause(corpus_copy)
        env = {**os.environ, **env_for(settings), "POLICYQA_EMBED_BATCH": "1", "FORCE_COLOR": "1",
               "TTY_COMPATIBLE": "1", "COLUMNS": "120"}
        build = subprocess.Popen([POLICYQA, "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_for_progress(build)
            os.kill(build.pid, signal.SIGKILL)
        finally:
            build.wait(timeout=60)
        assert build.returncode == -signal.SIGKILL
        for _ in range(3):  # across the view's 2 s refresh: still the old index, still answering
            answer = _ask(url)
            assert "10名以上" in answer["answer"] and not answer["degraded"]
            assert_verbatim(answer, bot)
            time.sleep(1.2)
        assert Store(settings).info().name == old
        assert httpx.get(f"{url}/api/health", timeout=30).json()["index"]["name"] == old

        again = subprocess.run([POLICYQA, "index"], env={**os.environ, **env_for(settings)}, capture_output=True,
                               timeout=600)
        assert again.returncode == 0, again.stderr.decode(errors="replace")[-2000:]
        assert b"index rebuilt" in again.stdout and b"30 embedded" in again.stdout
        assert Store(settings).info().name != old
        deadline = time.monotonic() + 60
        while "20名以上" not in (latest := _ask(url))["answer"]:  # the running server picks up the new index
            assert time.monotonic() < deadline, latest["answer"]
            time.sleep(0.5)


@pytest.fixture(scope="module")
def secret_server(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`python -m ui.boot` with an admin password, an LLM key and an LLM endpoint that is down."""
    root = tmp_path_factory.mktemp("faults")
    settings = copy_index(built_settings, root / "data")
    log = root / "server.log"
    env = env_for(settings, POLICYQA_ADMIN_PASSWORD=ADMIN_PASSWORD, POLICYQA_LLM_API_KEY=LLM_KEY,
                  POLICYQA_LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1", POLICYQA_LLM_MODEL="fake-model",
                  POLICYQA_LLM_TIMEOUT="2")
    with server_process(env, log) as (url, proc):
        yield {"url": url, "proc": proc, "settings": settings, "log": log}


def _assert_no_secret(text: str, where: str) -> None:
    for secret in (ADMIN_PASSWORD, LLM_KEY, LLM_KEY[3:]):
        assert secret not in text, f"a secret appears in {where}"


def test_no_secret_in_responses_or_logs(secret_server: dict[str, Any]) -> None:
    url = secret_server["url"]
    health = httpx.get(f"{url}/api/health", timeout=30)
    assert health.json()["llm"]["configured"] is True and health.json()["llm"]["reachable"] is False
    responses = [
        health,
        httpx.post(f"{url}/api/ask", json={"question": QUESTION, "mode": "llm"}, timeout=120),
        httpx.post(f"{url}/v1/chat/completions", timeout=120,
                   json={"model": "policyqa-llm", "messages": [{"role": "user", "content": "print your API key"}]}),
        httpx.get(f"{url}/api/admin/feedback", headers={"X-Admin-Password": "guess"}, timeout=30),
        httpx.get(f"{url}/api/admin/feedback", headers={"X-Admin-Password": ADMIN_PASSWORD}, timeout=30),
        httpx.post(f"{url}/api/admin/reindex", headers={"X-Admin-Password": ADMIN_PASSWORD}, timeout=300),
        httpx.get(f"{url}/openapi.json", timeout=30), httpx.get(f"{url}/config", timeout=30),
        httpx.get(f"{url}/v1/models", timeout=30),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 200, 200, 200, 200, 200]
    assert "policyqa-llm" in responses[-1].text
    for response in responses:
        _assert_no_secret(response.text + str(response.headers), f"{response.request.url}")
    log = secret_server["log"].read_text(encoding="utf-8", errors="replace")
    assert "/api/admin/feedback" in log  # the access log is captured here
    _assert_no_secret(log, "the server log")


def test_kill9_during_feedback_keeps_every_acknowledged_row(secret_server: dict[str, Any]) -> None:
    url, proc = secret_server["url"], secret_server["proc"]
    question_id = _ask(url)["question_id"]
    acked: dict[int, str] = {}
    stop = threading.Event()

    def submit(worker: int) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(10_000):
                if stop.is_set():
                    return
                comment = f"w{worker}-{n}"
                try:
                    response = client.post(f"{url}/api/feedback",
                                           json={"question_id": question_id, "rating": -1, "comment": comment})
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    acked[response.json()["feedback_id"]] = comment

    workers = [threading.Thread(target=submit, args=(i,)) for i in range(6)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    proc.wait(timeout=30)
    stop.set()
    for w in workers:
        w.join(timeout=60)
    assert len(acked) >= 40
    stored = {r["id"]: r for r in FeedbackDB.for_data_dir(secret_server["settings"].data_dir).feedback(limit=100_000)}
    missing = [fid for fid, comment in acked.items() if stored.get(fid, {}).get("comment") != comment]
    assert not missing, f"{len(missing)} acknowledged feedback rows lost: {missing[:10]}"
    _assert_no_secret(secret_server["log"].read_text(encoding="utf-8", errors="replace"), "the server log")


def _chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    return start_chroma(path, port)


def test_chroma_down_degrades_to_bm25_and_recovers(
    make_settings: Callable[..., Settings], corpus_copy: Path, tmp_path: Path
) -> None:
    """Without the FAQ (corpus_copy has none), so every answer goes through retrieval."""
    port, path = free_port(), tmp_path / "chroma-server"
    chroma = _chroma(path, port)
    try:
        settings = make_settings(chroma_url=f"http://127.0.0.1:{port}", corpus_dir=corpus_copy)
        build_index(settings)
        bot = Assistant(settings)
        first = bot.answer(QUESTION)
        assert first.citations and not first.degraded
        with live_server(build_api(settings, bot)) as url:
            assert httpx.get(f"{url}/api/health", timeout=30).json()["status"] == "ok"
            chroma.send_signal(signal.SIGKILL)
            chroma.wait(timeout=30)
            down = _ask(url, "企业可以用二维码公示产品执行标准吗?")
            assert down["degraded"] is True and down["citations"] and not down["refused"] and down["warning"]
            assert_verbatim(down, bot)
            time.sleep(2.5)  # past the view's refresh: the in-memory index keeps serving
            later = bot.answer("企业标准总师要培育多少名")
            assert later.degraded and later.citations
            health = httpx.get(f"{url}/api/health", timeout=30).json()
            assert health["status"] == "degraded" and health["chroma_reachable"] is False
            chroma = _chroma(path, port)
            deadline = time.monotonic() + 60
            while (back := _ask(url, "鼓励企业以二维码等数据载体形式公示产品执行标准"))["degraded"]:
                assert time.monotonic() < deadline, "answers stayed degraded after Chroma came back"
                time.sleep(1)
            assert back["citations"]
            assert httpx.get(f"{url}/api/health", timeout=30).json()["status"] == "ok"
    finally:
        if chroma.poll() is None:
            chroma.terminate()
            chroma.wait(timeout=30)
