"""Load test of the chat through Gradio's own protocol: N `gradio_client` users ask `/chat`, beside the API.

Each user is one `gradio_client.Client` (a browser session: queue/join + the SSE stream, history kept
by the server) asking the gold set's questions in a closed loop for a fixed time; after
`--per-session` questions it starts a new session, as the next visitor would (the history a visitor
builds up makes answers dearer: follow-ups are resolved against it). The same
server is then measured through `POST /api/ask` with the same number of users (eval/load.py), and
the report compares answers per second. Loopback only, bounded in time, request count and
per-request timeout; it stops by itself.

    python -m eval.load_chat [--url http://127.0.0.1:7860] [--users 10] [--seconds 60] [--out eval/reports/load.md]

Without --url it starts its own server over a copy of the data directory (eval.load.own_server).
The result is appended to the report as a new section.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eval.load import REPORT, LoadReport, check_loopback, own_server, questions_from, run_load

GOAL_RATIO = 0.70  # the chat must serve at least this share of the API's answers per second


@dataclass
class ChatLoadReport:
    url: str
    users: int
    seconds: float
    elapsed: float = 0.0
    answers: int = 0
    errors: int = 0
    per_session: int = 5
    latencies_ms: list[float] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def throughput(self) -> float:
        return self.answers / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        return LoadReport(self.url, self.users, self.seconds, latencies_ms=self.latencies_ms).percentile(q)


def _user(url: str, questions: list[str], offset: int, deadline: float, report: ChatLoadReport, timeout: float,
          cap: int, per_session: int) -> None:
    from gradio_client import Client

    try:
        # plain http on loopback: without ssl_verify=False gradio_client builds a CA-loaded SSL context for
        # every request (~40 ms of CPU each), which would measure the client instead of the server
        client = Client(url, verbose=False, download_files=False, ssl_verify=False)
    except Exception as exc:  # the server refused the session: counted, never raised into the run
        with report.lock:
            report.errors += 1
            report.error_kinds[f"connect {type(exc).__name__}"] += 1
        return
    n = offset
    while time.monotonic() < deadline and report.answers + report.errors < cap:
        if n > offset and (n - offset) % per_session == 0:
            client.reset_session()  # the next visitor
        question = questions[n % len(questions)]
        n += 1
        started = time.perf_counter()
        try:
            messages, _box = client.submit(question, "extractive", "zh", api_name="/chat").result(timeout=timeout)
            text = str(messages[-1]["content"]) if messages else ""
            ok = "pqa-answer" in text
        except Exception as exc:  # a failed turn is an error of the run, whatever its kind
            ok, text = False, type(exc).__name__
        elapsed_ms = (time.perf_counter() - started) * 1000
        with report.lock:
            if ok:
                report.answers += 1
                report.latencies_ms.append(elapsed_ms)
            else:
                report.errors += 1
                report.error_kinds["no answer" if text.startswith("[") or not text else text[:40]] += 1
    client.close()


def run_chat_load(url: str, users: int = 10, seconds: float = 60, *, questions: list[str] | None = None,
                  timeout: float = 60.0, max_requests: int = 100_000, per_session: int = 5) -> ChatLoadReport:
    """`users` gradio_client sessions asking /chat in a closed loop for `seconds`."""
    check_loopback(url)
    if not 1 <= users <= 100 or not 0 < seconds <= 3600:
        raise ValueError("users must be 1..100 and seconds 0..3600")
    questions = questions or questions_from()
    report = ChatLoadReport(url=url.rstrip("/"), users=users, seconds=seconds, per_session=max(1, per_session))
    step = max(1, len(questions) // users)
    started = time.monotonic()
    deadline = started + seconds
    args = (deadline, report, timeout, max_requests, max(1, per_session))
    threads = [threading.Thread(target=_user, args=(report.url, questions, i * step, *args), daemon=True)
               for i in range(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + timeout + 30)
    report.elapsed = time.monotonic() - started
    return report


def render(api: LoadReport, chat: ChatLoadReport) -> str:
    ratio = chat.throughput / api.throughput if api.throughput else 0.0
    goal = "met" if ratio >= GOAL_RATIO and chat.errors == 0 and api.errors == 0 else "not met"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [(f"`POST /api/ask` (httpx, {api.users} users)", api.requests - api.errors, api.errors, api.throughput,
             api.percentile(50), api.percentile(95)),
            (f"Gradio `/chat` (gradio_client, {chat.users} users)", chat.answers, chat.errors, chat.throughput,
             chat.percentile(50), chat.percentile(95))]
    return "\n".join([
        "", f"## Chat vs API: answers per second ({datetime.now(UTC).isoformat(timespec='seconds')})", "",
        f"- `python -m eval.load_chat` against {chat.url} (loopback): the API and then the chat, each "
        f"{chat.users} closed-loop users for {chat.seconds:g} s, gold-set questions, extractive mode; a chat "
        f"user starts a new session every {chat.per_session} questions",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
        f"load average at the end {load} (the load generators share the machine)", "",
        "| path | answers | errors | answers/s | p50 | p95 |", "|---|---:|---:|---:|---:|---:|",
        *[f"| {p} | {n} | {e} | {tp:.1f} | {p50:.0f} ms | {p95:.0f} ms |" for p, n, e, tp, p50, p95 in rows], "",
        f"- chat / API throughput: **{ratio:.2f}** (goal ≥ {GOAL_RATIO:.2f}: **{goal}**); chat errors by kind: "
        f"{dict(chat.error_kinds) or 'none'}", "",
    ])


def append_report(text: str, path: Path = REPORT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(text)
    return path


def compare(url: str, users: int, seconds: float, per_session: int = 5) -> tuple[LoadReport, ChatLoadReport]:
    """The API first, then the chat, on the same server (warm-ups not measured)."""
    run_load(url, 2, 3)
    run_chat_load(url, 2, 3)
    api = run_load(url, users, seconds)
    chat = run_chat_load(url, users, seconds, per_session=per_session)
    return api, chat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bounded loopback load test: Gradio /chat vs POST /api/ask")
    parser.add_argument("--url", help="a running server (loopback only); default: start one")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--per-session", type=int, default=5, help="questions per chat session (visitor)")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.url:
        api, chat = compare(args.url, args.users, args.seconds, args.per_session)
    else:
        with own_server() as url:
            api, chat = compare(url, args.users, args.seconds, args.per_session)
    text = render(api, chat)
    print(text)
    print(f"appended to {append_report(text, args.out)}")
    ratio = chat.throughput / api.throughput if api.throughput else 0.0
    return 0 if ratio >= GOAL_RATIO and chat.errors == 0 and api.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
