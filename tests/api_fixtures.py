"""Live servers on free loopback ports and the invariants the API tests check (used via `pytest_plugins`).

PYTEST_DONT_REWRITE: test modules import the helpers before pytest registers this plugin; the
asserts here carry their own messages instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from eval.procs import free_port
from index.settings import Settings
from index.store import Store

ADMIN_PASSWORD = "api-Admin-Secret-7f3!"
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "Internal Server Error")




@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """uvicorn in a thread of this process (shares the session's Assistant and models)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


@contextmanager
def server_process(env: Mapping[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m ui.boot` as its own process (what kill -9 hits); stdout+stderr go to `log_path`."""
    port = free_port()
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", **env}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ui.boot", "--host", "127.0.0.1", "--port", str(port)],
                                env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def copy_index(settings: Settings, data_dir: Path, **update: Any) -> Settings:
    """A private copy of a built index (embedded Chroma), so a test may rebuild or crash it."""
    shutil.copytree(settings.data_dir / "chroma", data_dir / "chroma")
    return settings.model_copy(update={"data_dir": data_dir, **update})


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    return {"POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_CORPUS_DIR": str(settings.corpus_dir), **extra}


def index_fingerprint(settings: Settings) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The active collection and every chunk's content hash: what “the index is unchanged” means."""
    store = Store(settings)
    name = store.info().name
    return name, tuple(sorted((c.chunk_id, c.content_hash) for c in store.chunks(name)))


def feedback_rows(settings: Settings) -> list[tuple[Any, ...]]:
    """Every feedback row, after an integrity check of the whole database."""
    path = settings.data_dir / "feedback.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return list(conn.execute("SELECT * FROM feedback ORDER BY id"))


def assert_no_traceback(text: str) -> None:
    for mark in TRACEBACK_MARKS:
        assert mark not in text, text[:2000]


def assert_contract(data: dict[str, Any]) -> None:
    """design.md's output contract: types of every field, and a refusal never cites."""
    assert isinstance(data["question"], str) and isinstance(data["answer"], str) and data["answer"].strip()
    assert isinstance(data["refused"], bool) and isinstance(data["mode"], str)
    assert isinstance(data["latency_ms"], int | float) and isinstance(data["citations"], list)
    for c in data["citations"]:
        assert set(c) >= {"doc_id", "clause_id", "label", "quote"} and c["quote"]
    if data["refused"]:
        assert data["citations"] == []


def assert_verbatim(data: dict[str, Any], assistant: Any) -> None:
    """Every citation points at a stored clause and quotes it exactly (never an invented citation)."""
    view = assistant.retriever.view()
    for c in data["citations"]:
        text = view.clause_text(f"{c['doc_id']}:{c['clause_id']}")
        assert text, f"citation of a clause that does not exist: {c}"
        assert c["quote"] in text, f"quote not verbatim in {c['clause_id']}: {c['quote']!r}"


def gradio_event(url: str, fn: str, values: Mapping[str, Any] | None = None, *, session: str | None = None,
                 client: httpx.Client | None = None, event_data: Any = None, timeout: float = 120) -> dict[str, Any]:
    """One event of the page (by its function's name) through Gradio's queue, as the browser sends it.

    `values` by elem_id; other inputs as a fresh page sends them (states empty, defaults). Returns the
    `process_completed` message (or the join's error body with its status when the join is refused).
    """
    http = client or httpx.Client(timeout=timeout)
    config = http.get(f"{url}/config").json()
    components = {c["id"]: c for c in config["components"]}
    dep = next(d for d in config["dependencies"] if d.get("api_name") == fn)
    ids = {c.get("props", {}).get("elem_id"): i for i, c in components.items()}
    given = {ids[k]: v for k, v in (values or {}).items()}
    data = [given[i] if i in given else components[i].get("props", {}).get("value") for i in dep["inputs"]]
    session = session or uuid.uuid4().hex[:12]
    body = {"data": data, "fn_index": dep["id"], "session_hash": session, "trigger_id": dep["targets"][0][0],
            "event_data": event_data}
    joined = http.post(f"{url}/gradio_api/queue/join", json=body)
    if joined.status_code != 200:
        return {"join_status": joined.status_code, "body": joined.text}
    event_id = joined.json()["event_id"]
    with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as events:
        for line in _sse_lines(events.iter_bytes()):
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                return dict(message)
    raise AssertionError(f"the UI never completed {fn}")


def _sse_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Server-sent-event lines, split on LF only as a browser's EventSource does for Gradio's stream.

    httpx's `iter_lines` also splits on U+2028, U+0085 and friends, which JSON leaves unescaped inside
    strings (a logged question may contain them), so it would cut a message in two.
    """
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r").decode("utf-8")
    if buffer:
        yield buffer.decode("utf-8")


def ui_ask(url: str, question: str) -> dict[str, Any]:
    """One chat turn through the Gradio app's own HTTP queue, as the browser sends it."""
    return gradio_event(url, "chat", {"pqa-question": question})


def bound_client(address: str, timeout: float = 30) -> httpx.Client:
    """An HTTP client whose connections come from `address` (another loopback address: another client)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)


def run_cli(args: list[Any], env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """`policyqa` with strict UTF-8 stdio, as under a desktop zh_CN.UTF-8 / en_US.UTF-8 locale."""
    exe = Path(sys.executable).with_name("policyqa")
    env = {**env, "PYTHONIOENCODING": "utf-8:strict"}
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, env=env, timeout=300)


@pytest.fixture(scope="session")
def api_settings(built_settings: Settings) -> Settings:
    """The session index with an admin password (same data dir, so health sees the same store)."""
    return built_settings.model_copy(update={"admin_password": SecretStr(ADMIN_PASSWORD)})


@pytest.fixture(scope="session")
def live_url(api_settings: Settings, assistant: Any) -> Iterator[str]:
    """The whole server (API + Gradio at /) on a free loopback port, sharing the session Assistant."""
    from ui.server import build_server

    assistant.answer("企业标准总师要培育多少名?")  # load models before timing-sensitive callers
    with live_server(build_server(api_settings, assistant)) as url:
        yield url


def _flood_main(url: str, address: str, guessers: int, out: str) -> None:  # pragma: no cover - child process
    """Wrong logins from `guessers` threads at `address`, one reply per line in `out`, until killed."""
    lock = threading.Lock()

    def guess(worker: int) -> None:
        with bound_client(address, timeout=60) as client, open(out, "a", encoding="utf-8") as sink:
            for n in range(1, 1_000_000):
                done = gradio_event(url, "login", {"pqa-password": f"guess-{worker}-{n}"}, client=client)
                with lock:
                    sink.write(json.dumps(str(done["output"]["data"][3]), ensure_ascii=False) + "\n")
                    sink.flush()

    threads = [threading.Thread(target=guess, args=(w,), daemon=True) for w in range(guessers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


@contextmanager
def login_flood(url: str, address: str, guessers: int, out: Path) -> Iterator[Path]:
    """A brute force on the 管理 login from another process (an attacker is another machine: it must not
    share the server's interpreter, whose GIL and garbage collector the test's own threads would load)."""
    code = ("import sys; from tests.api_fixtures import _flood_main; "
            "_flood_main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])")
    with open(out.with_suffix(".log"), "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, url, address, str(guessers), str(out)],
                                cwd=Path(__file__).resolve().parents[1], stdout=log, stderr=subprocess.STDOUT)
        try:
            yield out
        finally:
            proc.kill()
            proc.wait(timeout=30)


def flood_replies(out: Path) -> list[str]:
    """The replies a `login_flood` has logged so far."""
    try:
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        return []
