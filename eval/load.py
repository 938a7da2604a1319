"""Load test: N concurrent users ask /api/ask on a loopback server for a fixed time (asyncio + httpx).

Bounded on purpose: loopback URLs only, a wall-clock limit, a per-request timeout and a request cap,
so it can never turn into a load generator against someone else's server. Each user asks the gold
set's questions in its own rotation and waits for each answer before the next (closed loop).

    python -m eval.load [--url http://127.0.0.1:7860] [--users 20] [--seconds 120] [--out eval/reports/load.md]

Without --url it starts `python -m ui.server` on a free port over a temporary copy of the data
directory (so the load's questions stay out of the office's question log) and stops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx

from eval.procs import free_port as _free_port

GOLD = Path(__file__).with_name("gold.jsonl")
REPORT = Path(__file__).with_name("reports") / "load.md"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FALLBACK_QUESTIONS = ("企业标准总师要培育多少名?", "企业可以用二维码公示产品执行标准吗?", "二(七)2",
                      "三门县明天天气如何?")
CONTRACT = {"question", "answer", "refused", "citations", "mode", "latency_ms"}


@dataclass
class LoadReport:
    """What one run measured; latencies are client-side wall times of successful requests."""

    url: str
    users: int
    seconds: float
    elapsed: float = 0.0
    requests: int = 0
    errors: int = 0
    refused: int = 0
    degraded: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    started_at: str = ""
    questions: int = 0

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in ms (0 when nothing succeeded)."""
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else 0.0


def questions_from(path: Path = GOLD) -> list[str]:
    """The gold set's questions (answerable and not): a realistic mix of hits, lookups and refusals."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [json.loads(line)["question"] for line in lines if line.strip()]
    except (OSError, ValueError, KeyError):
        found = []
    return found or list(FALLBACK_QUESTIONS)


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK:
        raise ValueError(f"load tests run against loopback only (127.0.0.1, localhost, ::1), not {host!r}")


async def _user(client: httpx.AsyncClient, url: str, questions: list[str], offset: int, deadline: float,
                report: LoadReport, cap: int) -> None:
    n = offset
    while time.monotonic() < deadline and report.requests < cap:
        question = questions[n % len(questions)]
        n += 1
        report.requests += 1
        started = time.perf_counter()
        try:
            response = await client.post(f"{url}/api/ask", json={"question": question})
        except httpx.HTTPError as exc:
            report.errors += 1
            report.error_kinds[type(exc).__name__] += 1
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        report.statuses[str(response.status_code)] += 1
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or not set(body) >= CONTRACT:
            report.errors += 1
            report.error_kinds[f"HTTP {response.status_code}"] += 1
            continue
        report.latencies_ms.append(elapsed_ms)
        report.refused += bool(body["refused"])
        report.degraded += bool(body.get("degraded"))


async def _run(url: str, users: int, seconds: float, questions: list[str], timeout: float, cap: int) -> LoadReport:
    report = LoadReport(url=url, users=users, seconds=seconds, questions=len(questions),
                        started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        step = max(1, len(questions) // max(users, 1))
        await asyncio.gather(*(_user(client, url, questions, i * step, deadline, report, cap) for i in range(users)))
        report.elapsed = time.monotonic() - started
    return report


def run_load(url: str, users: int = 20, seconds: float = 120, *, questions: list[str] | None = None,
             timeout: float = 30.0, max_requests: int = 200_000) -> LoadReport:
    """`users` closed-loop clients for `seconds` (each finishes its request in flight, ≤ `timeout` more)."""
    check_loopback(url)
    if not 1 <= users <= 200 or not 0 < seconds <= 3600:
        raise ValueError("users must be 1..200 and seconds 0..3600")
    return asyncio.run(_run(url.rstrip("/"), users, seconds, questions or questions_from(), timeout, max_requests))


def render(report: LoadReport) -> str:
    p50, p95, p99 = (report.percentile(q) for q in (50, 95, 99))
    mean = sum(report.latencies_ms) / len(report.latencies_ms) if report.latencies_ms else 0.0
    goal = "met" if report.errors == 0 and p95 < 1000 else "not met"
    kinds = ", ".join(f"{k}: {v}" for k, v in report.error_kinds.most_common()) or "none"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        "# Load test: POST /api/ask", "",
        f"- started {report.started_at} against {report.url} (loopback), `python -m eval.load`",
        f"- {report.users} concurrent closed-loop users for {report.seconds:g} s (ran {report.elapsed:.1f} s), "
        f"questions rotated from the gold set ({report.questions})",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
        f"load average at the end {load} (the machine is shared, so timings vary)", "",
        "| requests | errors | throughput | p50 | p95 | p99 | max | mean |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {report.requests} | {report.errors} | {report.throughput:.1f} req/s | {p50:.0f} ms | {p95:.0f} ms "
        f"| {p99:.0f} ms | {max(report.latencies_ms, default=0):.0f} ms | {mean:.0f} ms |", "",
        f"- errors by kind: {kinds}; HTTP statuses: {dict(report.statuses)}",
        f"- refused answers (expected for the gold set's unanswerable questions): {report.refused}; "
        f"degraded (BM25-only) answers: {report.degraded}",
        f"- goal (0 errors, p95 < 1 s on 2 cores): **{goal}**", "",
    ])


def write_load_report(report: LoadReport, path: Path = REPORT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path




@contextmanager
def own_server(timeout: float = 300) -> Iterator[str]:
    """`python -m ui.server` on a free loopback port, over a temporary copy of the data directory."""
    from index.settings import Settings

    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="policyqa-load-") as tmp:
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
        if settings.chroma_url is None:
            shutil.copytree(settings.data_dir / "chroma", Path(tmp) / "chroma")
            env["POLICYQA_DATA_DIR"] = tmp
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "ui.server", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start (is the index built? run `policyqa index`)")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bounded loopback load test of POST /api/ask")
    parser.add_argument("--url", help="a running server (loopback only); default: start one")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.url:
        report = run_load(args.url, args.users, args.seconds)
    else:
        with own_server() as url:
            run_load(url, 2, 3)  # warm-up: models and caches, not measured
            report = run_load(url, args.users, args.seconds)
    path = write_load_report(report, args.out)
    print(render(report))
    print(f"written to {path}")
    return 0 if report.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
