"""`make deploy-test`: nginx + 2 replicas + `chroma run` + PostgreSQL on loopback, a replica killed mid-load.

    python -m eval.deploy_test [--users 30] [--seconds 60] [--replicas 2] [--out eval/reports/deploy.md]

Starts the deployment of deploy/ (eval/deploy_stack.py), then `users` closed-loop clients for `seconds`
against nginx: each asks a gold-set question (POST /api/ask) and rates every other answer (POST
/api/feedback with a comment of its own). At half time one replica gets `kill -9` and is started
again at once. Counted: every request a client saw fail (a transport error or any status but 200) and
every acknowledged feedback id (HTTP 200 with `feedback_id`) that is not in PostgreSQL afterwards.
Both must be 0. Loopback only, bounded in time; everything stops and is removed by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from eval.deploy_stack import Stack, stack
from eval.load import questions_from

REPORT = Path(__file__).with_name("reports") / "deploy.md"


@dataclass
class Outcome:
    users: int
    seconds: float
    started_at: str = ""
    elapsed: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)  # per endpoint
    failures: Counter[str] = field(default_factory=Counter)  # "endpoint: kind"
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (monotonic end, ms)
    acknowledged: list[int] = field(default_factory=list)  # feedback ids the clients were given
    killed_at: float = 0.0
    healthy_again_after: float = 0.0  # seconds from the kill until the restarted replica answered
    t0: float = 0.0
    stored: int = 0  # acknowledged ids found in the database
    rows: int = 0  # feedback rows in the database
    upstreams: Counter[str] = field(default_factory=Counter)
    retried: int = 0  # requests nginx passed to more than one replica
    nginx_errors: Counter[str] = field(default_factory=Counter)  # what nginx logged about the replicas
    rejoined: bool = False  # nginx sent the restarted replica requests again (and it answered them)
    rejoined_after: float = 0.0  # seconds from its restart until then

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def lost(self) -> int:
        return len(set(self.acknowledged)) - self.stored

    def percentile(self, q: float, start: float = -math.inf, end: float = math.inf) -> float:
        ordered = sorted(ms for t, ms in self.latencies if start <= t <= end)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else 0.0


async def _user(client: httpx.AsyncClient, url: str, questions: list[str], n: int, deadline: float,
                out: Outcome) -> None:
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        qid = await _call(client, f"{url}/api/ask", {"question": questions[(n * 7 + turn) % len(questions)]},
                          "ask", out)
        if qid is not None and turn % 2 == 0:
            body = {"question_id": qid, "rating": 1 if (n + turn) % 4 else -1, "comment": f"user {n} turn {turn}"}
            fid = await _call(client, f"{url}/api/feedback", body, "feedback", out)
            if fid is not None:
                out.acknowledged.append(fid)


async def _call(client: httpx.AsyncClient, url: str, body: Mapping[str, object], what: str,
                out: Outcome) -> int | None:
    """One request; returns the `question_id` / `feedback_id` of a 200 reply, None after a counted failure."""
    out.requests[what] += 1
    started = time.perf_counter()
    try:
        reply = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        out.failures[f"{what}: {type(exc).__name__}"] += 1
        return None
    out.latencies.append((time.monotonic(), (time.perf_counter() - started) * 1000))
    key = "question_id" if what == "ask" else "feedback_id"
    try:
        handle = reply.json().get(key) if reply.status_code == 200 else None
    except ValueError:
        handle = None
    if not isinstance(handle, int):
        out.failures[f"{what}: HTTP {reply.status_code}"] += 1
        return None
    return handle


def _kill_and_restart(deployment: Stack, out: Outcome, at: float) -> None:
    time.sleep(max(0.0, at - time.monotonic()))
    out.killed_at = time.monotonic()
    deployment.kill(0)
    deployment.start(0)
    out.healthy_again_after = time.monotonic() - out.killed_at


async def _load(url: str, users: int, seconds: float, out: Outcome) -> None:
    questions = questions_from()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=90, limits=limits) as client:
        await asyncio.gather(*(_user(client, url, questions, n, out.t0 + seconds, out) for n in range(users)))


def run(users: int = 30, seconds: float = 60.0, replicas: int = 2, kill_at: float = 0.5) -> Outcome:
    """The whole test; `kill_at` is the fraction of `seconds` at which replica 0 gets kill -9."""
    if not 1 <= users <= 200 or not 0 < seconds <= 600 or replicas < 2:
        raise ValueError("users 1..200, seconds 0..600, at least 2 replicas")
    out = Outcome(users, seconds, started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    with stack(replicas) as deployment:
        for url in [r.url for r in deployment.replicas]:  # warm each replica once (models, caches)
            httpx.post(f"{url}/api/ask", json={"question": "企业标准总师要培育多少名?"}, timeout=120)
        out.t0 = time.monotonic()
        killer = threading.Thread(target=_kill_and_restart, args=(deployment, out, out.t0 + seconds * kill_at))
        killer.start()
        asyncio.run(_load(deployment.url, users, seconds, out))
        out.elapsed = time.monotonic() - out.t0
        killer.join()
        _rejoin(deployment, out)
        _audit(deployment, out)
    return out


def _rejoin(deployment: Stack, out: Outcome, timeout: float = 30.0) -> None:
    """Ask through nginx until the restarted replica has answered one (nginx tries a failed replica again
    after its `fail_timeout`, 10 s); `rejoined_after` is when, by nginx's access log. These requests count
    like any other."""
    address = f"127.0.0.1:{deployment.replicas[0].port}"
    since = time.time() - (time.monotonic() - deployment.replicas[0].started[-1])  # on the access log's clock
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=60) as client:
        while True:
            served = [float(f[0]) for f in deployment.upstream_log() if len(f) == 6 and float(f[0]) >= since
                      and f[1] == "200" and f[4].split(",")[-1].strip() == address]
            if served or time.monotonic() > deadline:
                break
            out.requests["ask"] += 1
            reply = client.post(f"{deployment.url}/api/ask", json={"question": "二(七)2"})
            if reply.status_code != 200:
                out.failures[f"ask: HTTP {reply.status_code}"] += 1
            time.sleep(0.2)
    out.rejoined = bool(served)
    out.rejoined_after = min(served) - since if served else 0.0


def _audit(deployment: Stack, out: Outcome) -> None:
    """Every acknowledged feedback id must be a row in PostgreSQL; what nginx did with each request."""
    from index.db import PostgresDatabase
    from ui.feedback import FeedbackDB

    assert deployment.database_url is not None
    database = PostgresDatabase(deployment.database_url, pool_size=1)
    try:
        db = FeedbackDB(database)
        out.stored = len(db.feedback_ids(sorted(set(out.acknowledged))))
        with db.connect() as conn:
            out.rows = int(conn.one("SELECT COUNT(*) AS n FROM feedback")["n"])  # type: ignore[index]
    finally:
        database.close()
    for line in deployment.nginx_errors():
        out.nginx_errors[re.sub(r"^\S+ \S+ \[(\w+)\] \d+#\d+: (\*\d+ )?", r"\1: ", line).split(", client:")[0]] += 1
    for fields in deployment.upstream_log():
        if len(fields) == 6 and fields[3] in ("/api/ask", "/api/feedback"):
            tried = [a.strip() for a in fields[4].split(",") if a.strip()]
            out.upstreams.update(tried[-1:])
            out.retried += len(tried) > 1


def _versions() -> str:
    def first_line(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    from eval.services import postgres_bin

    pg = postgres_bin()
    chroma = Path(sys.executable).with_name("chroma")
    return "; ".join([first_line(["nginx", "-v"]), first_line([str(pg / "postgres"), "--version"]) if pg else "?",
                      f"chroma {first_line([sys.executable, '-c', 'import chromadb; print(chromadb.__version__)'])}"
                      f" (`{chroma.name} run`)", f"Python {platform.python_version()}"])


def render(out: Outcome) -> str:
    kill_s = out.killed_at - out.t0
    window = (out.killed_at, out.killed_at + out.healthy_again_after)
    ok = out.failed == 0 and out.lost == 0 and out.rejoined
    kinds = ", ".join(f"{k}: {v}" for k, v in out.failures.most_common()) or "none"
    total = sum(out.requests.values())
    return "\n".join([
        "# Deploy test: nginx + 2 replicas + chroma + PostgreSQL, one replica killed", "",
        f"- started {out.started_at}; `python -m eval.deploy_test` (`make deploy-test`), everything on 127.0.0.1",
        f"- {_versions()}; {os.cpu_count()} CPUs shared by all processes, {platform.platform()}",
        f"- {out.users} closed-loop users for {out.seconds:g} s (ran {out.elapsed:.1f} s) against nginx running "
        "deploy/nginx.conf: POST /api/ask (gold-set questions), and POST /api/feedback after every other answer",
        f"- replica 1 got `kill -9` at {kill_s:.1f} s and was started again at once; it answered /api/health "
        f"{out.healthy_again_after:.1f} s after the kill (index load, models); nginx sent it requests again "
        + (f"{out.rejoined_after:.1f} s after it was up (nginx's `fail_timeout` is 10 s)" if out.rejoined
           else "**not** within 30 s of the end of the load"), "",
        "| requests | /api/ask | /api/feedback | failed (client-visible) | throughput | p50 | p95 | p99 | max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {total} | {out.requests['ask']} | {out.requests['feedback']} | **{out.failed}** "
        f"| {total / out.elapsed if out.elapsed else 0:.1f} req/s | {out.percentile(50):.0f} ms "
        f"| {out.percentile(95):.0f} ms | {out.percentile(99):.0f} ms | {out.percentile(100):.0f} ms |", "",
        f"- failures by kind: {kinds}",
        f"- while replica 1 was down ({out.healthy_again_after:.1f} s): p50 {out.percentile(50, *window):.0f} ms, "
        f"p95 {out.percentile(95, *window):.0f} ms; requests nginx passed to a second replica after the first "
        f"failed: {out.retried}; requests per replica (last tried): "
        f"{', '.join(f'{k}: {v}' for k, v in sorted(out.upstreams.items())) or 'n/a'}",
        "- nginx's error log: " + ("; ".join(f"{k}: {v}" for k, v in out.nginx_errors.most_common()) or "empty")
        + " (cut “while reading response header”: nothing had reached the client, so nginx retried it; "
        "“while reading upstream” would be a reply cut after its header, which nginx cannot retry)",
        f"- feedback acknowledged to clients: {len(set(out.acknowledged))}; found in PostgreSQL: {out.stored}; "
        f"**lost: {out.lost}**; feedback rows in the database: {out.rows}",
        f"- machine load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
        "Goal (0 client-visible failures, 0 acknowledged feedback rows lost, the killed replica serving again): "
        f"**{'met' if ok else 'not met'}**", "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="nginx + replicas + chroma + PostgreSQL on loopback, one killed")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    out = run(args.users, args.seconds, args.replicas)
    text = render(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {args.out}")
    return 0 if out.failed == 0 and out.lost == 0 and out.rejoined else 1


if __name__ == "__main__":
    sys.exit(main())
