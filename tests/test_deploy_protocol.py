"""A replica killed while answering: its response reaches nginx whole or not at all (ui/http_protocol.py).

Each server here is a real uvicorn process whose app sends the response header and then kills its own
process with SIGKILL before the body: the moment a `kill -9` can hit between uvicorn's two writes.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from eval.procs import free_port
from eval.services import nginx, nginx_bin, render_site

ROOT = Path(__file__).resolve().parents[1]
PLAIN, COALESCING = "httptools", "ui.http_protocol:CoalescingHttpToolsProtocol"
APP = """
import os, signal, sys, uvicorn
KILL = sys.argv[3] == "kill"
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"12")]})
    if KILL:
        os.kill(os.getpid(), signal.SIGKILL)  # after the header, before the body
    await send({"type": "http.response.body", "body": b'{"ok": true}'})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=sys.argv[2], lifespan="off", log_level="warning")
"""


@contextmanager
def server(http: str, behaviour: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", APP, str(port), http, behaviour], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test server did not start") from None
                time.sleep(0.05)
        yield port, proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _raw_reply(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


@pytest.mark.parametrize(("http", "received"), [(PLAIN, b"HTTP/1.1 200 OK"), (COALESCING, b"")])
def test_a_replica_killed_between_header_and_body_sends_all_or_nothing(http: str, received: bytes) -> None:
    with server(http, "kill") as (port, proc):
        reply = _raw_reply(port)
        assert proc.wait(timeout=10) == -9
    assert reply[: len(received)] == received and (received or reply == b"")


def test_the_coalescing_protocol_still_answers_normally() -> None:
    # keep-alive: several responses on one connection
    with server(COALESCING, "answer") as (port, _proc), httpx.Client(timeout=10) as client:
        replies = [client.get(f"http://127.0.0.1:{port}/") for _ in range(3)]
    assert [(r.status_code, r.json()) for r in replies] == [(200, {"ok": True})] * 3


@pytest.mark.skipif(nginx_bin() is None, reason="nginx is not installed (.ci/run installs it)")
@pytest.mark.parametrize(("http", "client_sees_failure"), [(PLAIN, True), (COALESCING, False)])
def test_nginx_retries_a_request_cut_by_a_kill_only_when_nothing_was_sent(http: str,
                                                                        client_sees_failure: bool) -> None:
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    with server(http, "kill") as (dying, proc), server(COALESCING, "answer") as (healthy, _other):
        port = free_port()
        with nginx(render_site(site, port, [dying, healthy]), port):
            outcomes = []
            while proc.poll() is None and len(outcomes) < 10:  # until a request has reached the dying one
                try:
                    reply = httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": "x"}, timeout=30)
                    outcomes.append(reply.status_code == 200 and reply.json() == {"ok": True})
                except httpx.HTTPError:
                    outcomes.append(False)
    assert proc.poll() == -9
    assert (False in outcomes) is client_sees_failure
