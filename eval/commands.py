"""`policyqa eval`: the typer command (registered by ui/cli.py) with progress bar and summary table."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table

from eval.gate import DEFAULT_THRESHOLDS, ThresholdsError, check, load_thresholds, suggest
from eval.gold import GoldError, load_gold
from eval.report import fmt, headline, verdicts, why_not, write_report
from eval.runner import EvalRun, EvalSetupError, run_eval
from index.settings import Settings

EVAL_DIR = Path(__file__).resolve().parent
err = Console(stderr=True)
out = Console()


class Mode(StrEnum):
    extractive = "extractive"
    llm = "llm"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def _run(settings: Settings, gold: Path, mode: str, k: int, baselines: bool) -> EvalRun:
    items = load_gold(gold)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(system: str, done: int, total: int) -> None:
            if system not in tasks:
                tasks[system] = bar.add_task(system, total=total)
            bar.update(tasks[system], completed=done)

        return run_eval(settings, gold, items, mode=mode, k=k, baselines=baselines, progress=progress)


def summary_table(run: EvalRun) -> Table:
    table = Table(title=f"{Path(str(run.meta['gold'])).name} · {run.meta['split']}")
    table.add_column("metric")
    for system in run.systems:
        table.add_column(system.name, justify="right")
    for name in headline(int(run.meta["k"])):
        table.add_row(name, *(fmt(name, s.overall.get(name)) for s in run.systems))
    return table


def eval_command(
    gold: Annotated[Path, typer.Option(help="gold file (JSON Lines, design.md format)")] = (
        EVAL_DIR / "gold.jsonl"),
    mode: Annotated[Mode, typer.Option(help="answerer to evaluate")] = Mode.extractive,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="depth of recall@k / nDCG@k")] = 5,
    out_dir: Annotated[Path, typer.Option("--out", help="report folder")] = EVAL_DIR / "reports",
    name: Annotated[str, typer.Option(help="report file stem: NAME.md/.json/.png")] = "latest",
    no_baselines: Annotated[bool, typer.Option("--no-baselines", help="policyqa only")] = False,
    gate: Annotated[bool, typer.Option("--gate", help="exit 1 when a metric misses its floor")] = False,
    thresholds: Annotated[Path, typer.Option(help="floors for --gate")] = DEFAULT_THRESHOLDS,
    suggest_floors: Annotated[bool, typer.Option(
        "--suggest-floors", help="print thresholds 0.025 inside this run's values")] = False,
) -> None:
    """Score policyqa (and baselines) on a gold set; write NAME.md, NAME.json and NAME.png."""
    try:
        settings = Settings()
        limits = load_thresholds(thresholds) if gate or suggest_floors else None
        run = _run(settings, gold, mode.value, k, not no_baselines)
    except (GoldError, EvalSetupError, ThresholdsError) as exc:
        raise _fail(str(exc)) from exc
    except Exception as exc:  # settings, index and store errors reach the user as one line
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from exc
    out.print(summary_table(run))
    for verdict in verdicts(run):
        note = "" if verdict.beats else why_not(run, verdict)
        out.print(escape(verdict.sentence() + note), style="green" if verdict.beats else "yellow")
    for path in write_report(run, out_dir, name):
        err.print(f"wrote {path}")
    if suggest_floors and limits is not None:
        out.print(escape(suggest(run, limits)), highlight=False)
    if gate and limits is not None:
        problems = check(run, limits)
        for problem in problems:
            err.print(f"[red]gate:[/red] {escape(problem)}")
        if problems:
            raise typer.Exit(1)
        err.print(f"[green]gate passed[/green] ({len(limits.floors) + len(limits.ceilings)} thresholds)")
