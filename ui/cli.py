"""`policyqa`: thin commands that parse, call index/rag/eval, and print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from index.settings import Settings
from ui.office_cmd import corpus_add, corpus_preview, corpus_remove, explain_command, interpret_command
from ui.targets_cmd import targets_command

if TYPE_CHECKING:
    from rag.verify import Source

app = typer.Typer(add_completion=False, no_args_is_help=True, help="三门县标准化政策问答 (policyqa)")
corpus_app = typer.Typer(no_args_is_help=True, help="List, preview, add or remove corpus documents.")
app.add_typer(corpus_app, name="corpus")
app.command("targets")(targets_command)
app.command("explain")(explain_command)
app.command("interpret")(interpret_command)
corpus_app.command("preview")(corpus_preview)
corpus_app.command("add")(corpus_add)
corpus_app.command("remove")(corpus_remove)
err = Console(stderr=True)
_FORWARD = {"context_settings": {"allow_extra_args": True, "ignore_unknown_options": True}, "add_help_option": False}


def _forward(ctx: typer.Context, module: str, attr: str, name: str) -> None:
    """Run a command whose code (and imports) load only when it is called: eval/bench stay unimported
    by every other command."""
    import importlib

    sub = typer.Typer(add_completion=False)
    sub.command(name)(getattr(importlib.import_module(module), attr))
    sub(ctx.args, prog_name=f"policyqa {name}")


@app.command("eval", **_FORWARD)  # type: ignore[arg-type]
def eval_(ctx: typer.Context) -> None:
    """Score policyqa (and baselines) on a gold set; `policyqa eval --help` lists the options."""
    _forward(ctx, "eval.commands", "eval_command", "eval")


@app.command("bench", **_FORWARD)  # type: ignore[arg-type]
def bench(ctx: typer.Context) -> None:
    """Latency, cold start, build, memory and scale → eval/reports/bench.md; `policyqa bench --help`."""
    _forward(ctx, "eval.bench", "bench_command", "bench")


@app.command("fit", **_FORWARD)  # type: ignore[arg-type]
def fit(ctx: typer.Context) -> None:
    """Refit the answerer's weights on the development splits (corpus/language/answerer.toml)."""
    from eval.fit import main as fit_main

    raise typer.Exit(fit_main(ctx.args))


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError lists every bad POLICYQA_* value
        err.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code)


@app.command()
def index(force: Annotated[bool, typer.Option("--force", help="rebuild even when nothing changed")] = False) -> None:
    """Build or incrementally rebuild the index (atomic: the old index serves until done)."""
    from index.manifest import unchanged_report

    settings = _settings()
    report = None if force else unchanged_report(settings)
    if report is not None:  # decided from the manifest: no Chroma, no embedder imported
        print(f"index unchanged: {report.documents} documents ({len(report.metadata_only)} metadata only), "
              f"{report.clauses} clauses, {report.chunks} chunks, {report.keys} plain-language keys, "
              f"{report.seconds:.3f} s → {report.collection}")
        return
    from index.build import build_index

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("embedding chunks", total=None)
        try:
            report = build_index(settings, force=force,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
        except Exception as exc:
            raise _fail(exc) from exc
    fresh = 0 if _sentences_warm(settings, report.changed) else _warm_sentences(settings)
    state = "rebuilt" if report.changed else "unchanged"
    orphans = f"; interpretations without a clause: {', '.join(report.orphans)}" if report.orphans else ""
    print(f"index {state}: {report.documents} documents ({len(report.metadata_only)} metadata only), "
          f"{report.clauses} clauses, {report.chunks} chunks ({report.embedded} embedded, {report.reused} reused), "
          f"{report.keys} plain-language keys ({report.keys_embedded} embedded), {report.seconds:.2f} s "
          f"→ {report.collection}; {fresh} new sentence vectors{orphans}")


def _sentences_warm(settings: Settings, changed: bool) -> bool:
    """An unchanged index whose sentence vectors are on disk needs no warm-up (keeps no-op runs fast)."""
    from index.embed import make_embeddings
    from rag.sentences import SentenceVectors

    path = SentenceVectors.path_for(settings.data_dir, make_embeddings(settings.embedding).model_id)
    return not changed and path.is_file()


def _warm_sentences(settings: Settings) -> int:
    from rag.chain import Assistant

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("embedding sentences", total=None)
        try:
            return Assistant(settings).warm(lambda done, total: bar.update(task, completed=done, total=total))
        except Exception as exc:
            raise _fail(exc) from exc


def _read_history(path: Path | None) -> list[dict[str, str]]:
    if path is None:
        return []
    try:
        turns = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(ValueError(f"{path}: not a readable JSON list of turns: {exc}"), 2) from exc
    if not isinstance(turns, list) or not all(
        isinstance(t, dict) and isinstance(t.get("content"), str) for t in turns
    ):
        raise _fail(ValueError(f'{path}: expected [{{"role": "user", "content": "..."}}, ...]'), 2)
    return turns


def _clean(text: str) -> str:
    """Undecodable bytes from argv (kept by Python as lone surrogates) become U+FFFD, not a crash."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@app.command()
def ask(
    questions: Annotated[list[str] | None, typer.Argument(help="one or more questions")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per question per line")] = False,
    stdin: Annotated[bool, typer.Option("--stdin", help="read one question per line from stdin")] = False,
    history: Annotated[Path | None, typer.Option(help="JSON list of earlier turns")] = None,
    mode: Annotated[str, typer.Option(help="extractive (default) or llm (needs POLICYQA_LLM_*)")] = "extractive",
) -> None:
    """Answer questions with clause citations."""
    from rag.chain import MODES, Assistant

    settings = _settings()
    if mode not in MODES or (mode == "llm" and not settings.llm_configured):
        raise _fail(ValueError(f"--mode {mode}: use extractive, or llm with POLICYQA_LLM_BASE_URL and "
                               "POLICYQA_LLM_MODEL set"), 2)

    items = [_clean(q) for q in questions or []]
    if stdin:
        raw = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        items += [line.rstrip("\r") for line in raw.split("\n") if line.strip()]
    if not items:
        raise _fail(ValueError("no question given (pass questions as arguments or use --stdin)"), 2)
    turns = _read_history(history)
    assistant = Assistant(settings)
    for question in items:
        try:
            result = assistant.answer(question, history=turns, mode=mode)
        except Exception as exc:
            raise _fail(exc) from exc
        if as_json:
            print(json.dumps(result.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(f"问: {question}\n{result.answer}\n", flush=True)


@corpus_app.command("list")
def corpus_list() -> None:
    """Show the catalog: which documents have text and which are metadata only."""
    from index.catalog import CorpusError, load_catalog

    try:
        docs = load_catalog(_settings().corpus_dir)
    except CorpusError as exc:
        raise _fail(exc) from exc
    for d in docs:
        state = d.path if d.has_text else "(metadata only)"
        old = f"  supersedes {d.supersedes}" if d.supersedes else ""
        print(f"{d.doc_id:20} {d.citation_title}  [{d.status}]  {d.issuer}  {state}{old}")


@app.command()
def verify(
    answers: Annotated[str, typer.Argument(
        metavar="FILE.jsonl",
        help="saved answers, one JSON object a line: `ask --json` output, /api/ask or /v1/chat/completions "
             "bodies; - reads stdin")],
) -> None:
    """Check saved answers against the corpus: each quote is text[start:end] of its document, inside its clause."""
    from rag.verify import InputError, read_answers, render
    from rag.verify import verify as check

    try:
        raw = sys.stdin.buffer.read() if answers == "-" else Path(answers).read_bytes()
        found = read_answers(raw.decode("utf-8-sig"))
    except OSError as exc:
        raise _fail(ValueError(f"{answers}: cannot read ({exc.strerror or exc})"), 2) from exc
    except UnicodeDecodeError as exc:
        raise _fail(ValueError(f"{answers}: not UTF-8 text (byte {exc.start})"), 2) from exc
    except InputError as exc:
        raise _fail(ValueError(f"{answers}: {exc}"), 2) from exc
    report = check(found, _sources(_settings().corpus_dir))
    print("\n".join(render(report)), flush=True)
    if not report.ok:
        raise typer.Exit(1)


def _sources(corpus_dir: Path) -> dict[str, Source | None]:
    """Every catalog entry as the index reads it (catalog loader, then the parser); None for metadata only."""
    from index.catalog import CorpusError, load_catalog, read_text
    from index.parse import parse_document
    from rag.verify import Source

    try:
        docs = load_catalog(corpus_dir)
        texts = {d.doc_id: read_text(corpus_dir, d) for d in docs if d.has_text}
    except CorpusError as exc:
        raise _fail(exc, 2) from exc
    return {d.doc_id: Source.of(texts[d.doc_id], parse_document(d.doc_id, texts[d.doc_id]))
            if d.doc_id in texts else None for d in docs}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default POLICYQA_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default POLICYQA_PORT or 7860")] = None,
) -> None:
    """Serve the chat at http://HOST:PORT/ and the REST + OpenAI-compatible API (/api, /v1, /docs)."""
    from ui import boot

    settings = _settings()
    boot.log_to_stderr()
    boot.serve(settings, host or settings.host, port if port is not None else settings.port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
