"""Load test: N concurrent users ask /api/ask on a loopback server for a fixed time (asyncio + httpx).

Bounded on purpose: loopback URLs only, a wall-clock limit, a per-request timeout and a request cap,
so it can never turn into a load generator against someone else's server. Each user asks the gold
set's questions in its own rotation and waits for each answer before the next (closed loop).

    python -m eval.load [--url http://127.0.0.1:7860] [--users 20] [--seconds 120] [--out eval/reports/load.md]
    python -m eval.load --fairness [--users 10] [--hostile 2] [--seconds 30]   # appends a section

`--fairness` measures the normal users' p95 alone, then beside `--hostile` clients that send distinct
maximum-length (POLICYQA_MAX_QUESTION_CHARS) questions in a loop; the goal is a p95 within 2x.

Without --url it starts `python -m ui.boot` on a free port over a temporary copy of the data
directory (so the load's questions stay out of the office's question log) and stops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
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
from index.stats import percentile

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
        """The project's percentile (index/stats.py) of the latencies in ms; 0 when nothing succeeded."""
        return percentile(self.latencies_ms, q) or 0.0


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


async def _hostile(client: httpx.AsyncClient, url: str, deadline: float, length: int, seed: int,
                   sent: list[int]) -> None:
    """Distinct random maximum-length questions (no cache can help), back to back; any reply is fine."""
    rng = random.Random(seed)
    while time.monotonic() < deadline and len(sent) < 100_000:
        question = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length))
        try:
            sent.append((await client.post(f"{url}/api/ask", json={"question": question})).status_code)
        except httpx.HTTPError:
            sent.append(0)


async def _run(url: str, users: int, seconds: float, questions: list[str], timeout: float, cap: int,
               hostile: int = 0, length: int = 0, sent: list[int] | None = None) -> LoadReport:
    report = LoadReport(url=url, users=users, seconds=seconds, questions=len(questions),
                        started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    limits = httpx.Limits(max_connections=users + hostile, max_keepalive_connections=users + hostile)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        step = max(1, len(questions) // max(users, 1))
        await asyncio.gather(*(_user(client, url, questions, i * step, deadline, report, cap) for i in range(users)),
                             *(_hostile(client, url, deadline, length, i, sent if sent is not None else [])
                               for i in range(hostile)))
        report.elapsed = time.monotonic() - started
    return report


def run_load(url: str, users: int = 20, seconds: float = 120, *, questions: list[str] | None = None,
             timeout: float = 30.0, max_requests: int = 200_000) -> LoadReport:
    """`users` closed-loop clients for `seconds` (each finishes its request in flight, ≤ `timeout` more)."""
    check_loopback(url)
    if not 1 <= users <= 200 or not 0 < seconds <= 3600:
        raise ValueError("users must be 1..200 and seconds 0..3600")
    return asyncio.run(_run(url.rstrip("/"), users, seconds, questions or questions_from(), timeout, max_requests))


@dataclass
class Fairness:
    alone: LoadReport
    beside: LoadReport
    hostile: int
    length: int
    hostile_statuses: Counter[int]

    @property
    def ratio(self) -> float:
        return self.beside.percentile(95) / self.alone.percentile(95) if self.alone.percentile(95) else math.inf


def run_fairness(url: str, users: int = 10, hostile: int = 2, seconds: float = 30, length: int | None = None,
                 timeout: float = 60.0) -> Fairness:
    """The normal users' latency alone, then beside `hostile` clients sending maximum-length questions."""
    check_loopback(url)
    url = url.rstrip("/")
    length = length or int(httpx.get(f"{url}/api/health", timeout=30).json()["max_question_chars"])
    questions = questions_from()
    alone = run_load(url, users, seconds, questions=questions, timeout=timeout)
    sent: list[int] = []
    beside = asyncio.run(_run(url, users, seconds, questions, timeout, 200_000, hostile, length, sent))
    return Fairness(alone, beside, hostile, length, Counter(sent))


def render_fairness(f: Fairness) -> str:
    verdict = "met" if f.ratio <= 2 and f.alone.errors == 0 and f.beside.errors == 0 else "not met"
    rows = [(f"{f.alone.users} normal users alone", f.alone), (f"beside {f.hostile} max-length clients", f.beside)]
    return "\n".join([
        "", f"## Fairness: normal users beside maximum-length questions ({datetime.now(UTC):%Y-%m-%dT%H:%M:%S+00:00})",
        "", f"- `python -m eval.load --fairness` against {f.alone.url} (loopback), {f.alone.seconds:g} s per phase; "
        f"the hostile clients send distinct random {f.length}-character questions back to back",
        f"- hostile requests: {sum(f.hostile_statuses.values())} ({dict(f.hostile_statuses)}); machine load average at "
        f"the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
        "| normal users | requests | errors | p50 | p95 |", "|---|---:|---:|---:|---:|",
        *[f"| {name} | {r.requests} | {r.errors} | {r.percentile(50):.0f} ms | {r.percentile(95):.0f} ms |"
          for name, r in rows], "",
        f"- p95 beside / alone: **{f.ratio:.2f}** (goal ≤ 2: **{verdict}**)", "",
    ])


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
    """`python -m ui.boot` on a free loopback port, over a temporary copy of the data directory."""
    from index.settings import Settings

    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="policyqa-load-") as tmp:
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
        if settings.chroma_url is None:
            shutil.copytree(settings.data_dir / "chroma", Path(tmp) / "chroma")
            env["POLICYQA_DATA_DIR"] = tmp
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "ui.boot", "--host", "127.0.0.1", "--port", str(port)],
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
    parser.add_argument("--fairness", action="store_true", help="normal users alone, then beside --hostile clients")
    parser.add_argument("--hostile", type=int, default=2)
    args = parser.parse_args(argv)
    if args.fairness:
        return _fairness_main(args)
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


def _fairness_main(args: argparse.Namespace) -> int:
    if args.url:
        result = run_fairness(args.url, args.users, args.hostile, args.seconds)
    else:
        with own_server() as url:
            run_load(url, 2, 3)  # warm-up
            result = run_fairness(url, args.users, args.hostile, args.seconds)
    text = render_fairness(result)
    print(text)
    with args.out.open("a", encoding="utf-8") as out:
        out.write(text)
    return 0 if result.ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
