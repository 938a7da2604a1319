"""Loopback helpers shared by the bench, the load script and the tests: free ports, `chroma run`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_chroma(path: Path, port: int, timeout: float = 90.0) -> subprocess.Popen[bytes]:
    """`chroma run` (the binary next to this Python) on 127.0.0.1:`port`, returned once it answers."""
    import httpx

    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"chroma run on port {port} did not start")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """A Chroma server on a free loopback port for the duration of the block; yields its URL."""
    port = free_port()
    proc = start_chroma(path, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
