"""`policyqa bench`: latency, cold start, index build, memory, baseline ratio and a SYNTHETIC scale run.

Every figure is taken several times and reported as median [min–max], because the machine that
runs it is usually shared. The bench builds its own index of the real corpus in a temp dir (that
build is one of the figures), so it never touches the served index in .policyqa/.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from eval.bench_cold import (
    cli_cold_start,
    cold_breakdown,
    env_for,
    index_breakdown,
    omp_probe,
    policyqa,
    server_run,
)
from eval.bench_timing import chroma_detail, measure_answers, measure_search, spread, summary
from eval.gold import GoldItem, load_gold
from index.settings import Settings

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_SIZES = "1000,5000,20000"
Log = Callable[[str], None]
err = Console(stderr=True)


def _seconds(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_index(base: Settings, work: Path, reps: int, log: Log) -> dict[str, Any]:
    """Build of the real corpus from empty (in process, model loaded) and a no-change rebuild."""
    from index.build import build_index
    from index.embed import make_embeddings

    make_embeddings(base.embedding).embed_query("预热")  # model load is a cold-start cost, not a build cost
    empty, again, chunks = [], [], 0
    for rep in range(reps):
        log(f"index: build from empty {rep + 1}/{reps}")
        settings = base.model_copy(update={"data_dir": work / f"index-{rep}"})
        started = time.perf_counter()
        chunks = build_index(settings).chunks
        empty.append(time.perf_counter() - started)
        again.append(_seconds(lambda s=settings: build_index(s)))  # type: ignore[misc]
    cli, phases = [], []
    for rep in range(reps):
        log(f"index: `policyqa index` with no change {rep + 1}/{reps}")
        cli.append(_seconds(lambda: subprocess.run(policyqa("index"), env=env_for(work / "index-0"), check=True,
                                                   capture_output=True, timeout=300)))
        phases.append(index_breakdown(work / "index-0"))
    return {"chunks": chunks, "build_empty_seconds": spread(empty), "nochange_rebuild_seconds": spread(again),
            "cli_index_nochange_seconds": spread(cli),
            "cli_breakdown": {k: spread([p[k] for p in phases]) for k in phases[0]}}


def bench_baseline(settings: Settings, items: Sequence[GoldItem], reps: int) -> dict[str, Any]:
    """eval/baselines.py's naive LangChain RAG on the same questions: warm latency per question."""
    from eval.baselines import NaiveRag

    started = time.perf_counter()
    naive = NaiveRag(settings)
    setup = time.perf_counter() - started
    for item in items:
        naive.run(item, 5)
    runs = []
    for _ in range(reps):
        lat = []
        for item in items:
            t = time.perf_counter()
            naive.run(item, 5)
            lat.append((time.perf_counter() - t) * 1000)
        runs.append(summary(lat))
    return {"setup_seconds": setup, "chunks": naive.chunks, "p50": spread([r["p50"] for r in runs]),
            "p95": spread([r["p95"] for r in runs]), "p99": spread([r["p99"] for r in runs])}


def bench_cold(data_dir: Path, items: Sequence[GoldItem], reps: int, rss_questions: int, server: bool,
               log: Log) -> dict[str, Any]:
    cli, phases, runs = [], [], []
    for rep in range(reps):
        log(f"cold start: policyqa ask {rep + 1}/{reps}")
        cli.append(cli_cold_start(data_dir))
        phases.append(cold_breakdown(data_dir))
    out: dict[str, Any] = {
        "cli": {"seconds": spread([c["seconds"] for c in cli]), "answer_ms": spread([c["answer_ms"] for c in cli]),
                "mode": cli[-1]["mode"], "reason": cli[-1]["reason"],
                "breakdown": {k: spread([p[k] for p in phases]) for k in phases[0]}}}
    if server:
        questions = [items[i % len(items)].question for i in range(rss_questions)]
        for rep in range(reps):
            log(f"cold start: policyqa serve {rep + 1}/{reps} (+{len(questions)} questions)")
            runs.append(server_run(data_dir, questions))
        out["server"] = {key: spread([r[key] for r in runs]) for key in
                         ("ready_seconds", "first_answer_seconds", "peak_rss_mib", "rss_mib")}
        out["server"].update({"questions": len(questions), "processes": runs[-1]["processes"],
                              "chat_ms": summary([ms for r in runs for ms in r["chat_ms"]]),
                              "api_available": runs[-1]["api_available"],
                              "api_ask_ms": summary([ms for r in runs for ms in r["api_ask_ms"]])})
    return out


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets against the medians measured (None where a figure was not taken)."""
    def med(*path: str) -> float | None:
        node: Any = result
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node["median"]) if isinstance(node, dict) else None

    rows = [("warm answer p95 (real corpus)", "ms", 50.0, med("warm", "p95")),
            ("cold start → first answer, `policyqa ask`", "s", 5.0, med("cold", "cli", "seconds")),
            ("cold start → first answer, server", "s", 8.0, med("cold", "server", "first_answer_seconds")),
            ("no-change rebuild, `policyqa index` process", "s", 1.0, med("index", "cli_index_nochange_seconds")),
            ("no-change rebuild, build_index() call", "s", 1.0, med("index", "nochange_rebuild_seconds"))]
    sizes = (result.get("scale") or {}).get("sizes") or []
    if sizes:
        top = sizes[-1]
        for kind in ("embedded", "server"):
            if kind in top:
                rows.append((f"query p95 at {top[kind]['chunks']} chunks, {kind} Chroma (retrieval)", "ms", 100.0,
                             float(top[kind]["search"]["p95"]["median"])))
    return [{"goal": g, "unit": u, "target": t, "value": v, "met": None if v is None else v <= t}
            for g, u, t, v in rows]


def pick(items: Sequence[GoldItem], n: int) -> list[GoldItem]:
    """`n` questions spread over the gold file (every tag gets a chance), in file order."""
    step = max(len(items) / n, 1.0)
    return [items[int(i * step)] for i in range(min(n, len(items)))]


def run_bench(*, quick: bool = False, scale: bool = True, sizes: Sequence[int] = (1000, 5000, 20000),
              reps: int = 3, gold: Path = EVAL_DIR / "gold.jsonl", out: Path = EVAL_DIR / "reports",
              server: bool = True, settings: Settings | None = None, log: Log = print) -> dict[str, Any]:
    """Everything the bench measures, written to out/bench.{md,json,png}; returns the result."""
    from eval.bench_report import write_bench_report
    from rag.chain import Assistant

    base = settings or Settings()
    if quick:
        scale, reps = False, 1
    items = load_gold(gold)
    asked = pick(items, 5) if quick else list(items)
    work = Path(tempfile.mkdtemp(prefix="policyqa-bench-"))
    result: dict[str, Any] = {"meta": {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": quick, "reps": reps, "gold": str(gold),
        "questions": len(asked), "cpus": os.cpu_count(), "load_before": list(os.getloadavg()),
        "python": sys.version.split()[0], "platform": platform.platform(), "embedding": base.embedding,
        "omp_env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_"))}}}
    try:
        result["index"] = bench_index(base, work, reps, log)
        settings0 = base.model_copy(update={"data_dir": work / "index-0"})
        log(f"warm latency: {len(asked)} questions × {reps} (after one cold-cache pass)")
        assistant = Assistant(settings0)
        result["index"]["view_build_seconds"] = _seconds(assistant.retriever.view)
        result["warm"] = measure_answers(assistant, asked, reps)
        result["search"] = measure_search(assistant.retriever, asked, reps)
        result["search"]["chroma_detail"] = chroma_detail(assistant, asked, reps)
        log("query embedding under each OpenMP setting (fresh interpreters)")
        omp = omp_probe([i.question for i in asked][:60], reps)
        result["omp"] = {name: summary(ms) for name, ms in omp.items()}
        log("naive LangChain baseline on the same questions")
        result["baseline"] = bench_baseline(settings0, asked, reps)
        for q in ("p50", "p95"):
            result["baseline"][f"ratio_{q}"] = (result["warm"][q]["median"] / result["baseline"][q]["median"]
                                                if result["baseline"][q]["median"] else None)
        result["cold"] = bench_cold(work / "index-0", items, reps, 5 if quick else 100, server, log)
        if scale:
            from eval.bench_scale import growth, scale_run

            scale_items = pick(items, 40)
            result["scale"] = scale_run(base, scale_items, sorted(sizes), reps, work / "scale",
                                        base.data_dir / "bench-cache", sample=48, server=server, log=log)
            result["scale"]["questions"] = len(scale_items)
            result["scale"]["growth"] = {k: growth(result["scale"]["sizes"], k) for k in ("embedded", "server")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["meta"]["load_after"] = list(os.getloadavg())
    result["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result["meta"]["shared_machine"] = statistics.mean(
        [result["meta"]["load_before"][0], result["meta"]["load_after"][0]]) > 0.5 * (os.cpu_count() or 1)
    result["goals"] = goals(result)
    write_bench_report(result, out)
    return result


def bench_command(
    quick: Annotated[bool, typer.Option("--quick", help="real corpus, 5 questions, 1 repetition, no scale")] = False,
    scale: Annotated[bool, typer.Option("--scale/--no-scale", help="SYNTHETIC 1k/5k/20k-chunk run")] = True,
    sizes: Annotated[str, typer.Option(help="scale sizes in chunks, comma-separated")] = DEFAULT_SIZES,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="repetitions of every figure")] = 3,
    server: Annotated[bool, typer.Option("--server/--no-server", help="measure `policyqa serve` and a Chroma "
                                                                         "server")] = True,
    gold: Annotated[Path, typer.Option(help="questions (gold JSONL)")] = EVAL_DIR / "gold.jsonl",
    out: Annotated[Path, typer.Option(help="where bench.md/.json/.png go")] = EVAL_DIR / "reports",
) -> None:
    """Measure latency, cold start, index build, memory and scale; write bench.md/.json/.png."""
    from eval.bench_report import headline_markdown

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as exc:
        err.print(f"[red]error:[/red] --sizes wants numbers like {DEFAULT_SIZES}")
        raise typer.Exit(2) from exc
    result = run_bench(quick=quick, scale=scale, sizes=size_list, reps=repeat, gold=gold, out=out, server=server,
                       log=lambda m: err.print(f"[dim]{m}[/dim]"))
    print(headline_markdown(result))
    print(f"\nwrote {out / 'bench.md'}, {out / 'bench.json'}, {out / 'bench.png'}")
