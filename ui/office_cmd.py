"""The office's commands: `policyqa corpus preview/add/remove`, `policyqa explain`, `policyqa interpret`.

The same code as 管理: index/documents.py (preview, atomic add/remove), index.build.build_index (atomic
rebuild with a progress bar), `Assistant.explain` (the hit test), ui/drafts.py (LLM drafts, unreviewed).
Registered in ui/cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from index.settings import Settings

err = Console(stderr=True)


def _settings() -> Settings:
    from ui.cli import _settings as load

    return load()


def _fail(message: object, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def _bar(description: str) -> Progress:
    return Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err)


def _index(settings: Settings) -> None:
    from index.build import build_index

    with _bar("indexing") as bar:
        task = bar.add_task("indexing", total=None)
        try:
            report = build_index(settings, progress=lambda done, total: bar.update(task, completed=done, total=total))
        except Exception as exc:
            raise _fail(f"{exc} (the previous index keeps serving)") from exc
    print(f"index {'rebuilt' if report.changed else 'unchanged'}: {report.documents} documents, {report.clauses} "
          f"clauses, {report.chunks} chunks ({report.embedded} embedded) → {report.collection}")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: cannot read ({exc.strerror})", 2) from exc


def corpus_preview(
    file: Path,
    doc_id: Annotated[str, typer.Option("--doc-id", help="the id it would get")] = "new",
    as_json: Annotated[bool, typer.Option("--json", help="the preview as JSON")] = False,
) -> None:
    """Show how a file would parse (clause ids, coverage, warnings) without writing anything."""
    from index.catalog import CorpusError, load_bytes
    from index.documents import preview_text

    try:
        preview = preview_text(doc_id, load_bytes(str(file), _read(file)))
    except CorpusError as exc:
        raise _fail(exc, 2) from exc
    if as_json:
        print(json.dumps(preview.to_json(), ensure_ascii=False))
        return
    for row in preview.clauses:
        print(f"{'  ' * len(row.heading_path)}{row.clause_id:12} {row.label}  ({row.chars})")
    print(f"{len(preview.clauses)} clauses; {preview.coverage:.1%} of the text lies in clauses")
    for w in preview.warnings:
        print(f"warning [{w.kind}] {w.message}")
    if not preview.ok:
        raise _fail("; ".join(preview.errors), 2)


def corpus_add(
    file: Path,
    doc_id: Annotated[str, typer.Option("--doc-id", help="e.g. zhejiang-2022-11")],
    title: Annotated[str | None, typer.Option(help="required for a new document")] = None,
    issuer: str = "",
    number: Annotated[str, typer.Option(help="文号, e.g. 浙委发〔2022〕11号")] = "",
    date: str = "",
    status: Annotated[str, typer.Option(help="征求意见稿, 正式稿, 已印发 or 已废止")] = "",
    source: str = "",
    supersedes: Annotated[str, typer.Option(help="doc_id of the older version it replaces")] = "",
    replace: Annotated[bool, typer.Option(help="replace the text the document already has")] = False,
    index: Annotated[bool, typer.Option("--index/--no-index", help="rebuild the index afterwards")] = True,
) -> None:
    """Add (or replace) a txt/md/docx/pdf/html text with its metadata, then rebuild the index."""
    from index.catalog import CorpusError
    from index.documents import Meta, add

    settings = _settings()
    meta = Meta(doc_id, title or "", issuer, number, date, status, source, supersedes, replace)
    try:
        doc = add(Path(settings.corpus_dir), meta, file.name, _read(file))
    except CorpusError as exc:
        raise _fail(exc, 2) from exc
    print(f"added {doc.doc_id}: {doc.citation_title} → corpus/{doc.path}")
    if index:
        _index(settings)


def corpus_remove(
    doc_id: str,
    index: Annotated[bool, typer.Option("--index/--no-index", help="rebuild the index afterwards")] = True,
) -> None:
    """Remove a document's text (and its entry, unless another document cites it), then rebuild the index."""
    from index.catalog import CorpusError
    from index.documents import remove

    settings = _settings()
    try:
        print(remove(Path(settings.corpus_dir), doc_id, settings.primary_doc))
    except CorpusError as exc:
        raise _fail(exc, 2) from exc
    if index:
        _index(settings)


def explain_command(
    question: str,
    history: Annotated[Path | None, typer.Option(help="JSON list of earlier turns")] = None,
) -> None:
    """The hit test: what the chain saw for a question (candidates, scores, decision, timings) as JSON."""
    from rag.chain import Assistant
    from ui.cli import _clean, _read_history

    settings = _settings()
    turns = _read_history(history)
    try:
        data = Assistant(settings).explain(_clean(question), turns)
    except Exception as exc:
        raise _fail(exc) from exc
    print(json.dumps(data, ensure_ascii=False, indent=2))


def interpret_command(
    draft: Annotated[bool, typer.Option("--draft", help="draft missing records with the LLM (unreviewed)")] = False,
    doc_id: Annotated[str | None, typer.Option("--doc-id", help="only this document's clauses")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="draft at most this many")] = None,
) -> None:
    """Plain-language records: how many clauses have one; with --draft, let the LLM draft the missing ones."""
    from index.catalog import CorpusError
    from ui.drafts import draft_missing, llm_generate, missing

    settings = _settings()
    try:
        todo, _docs, have = missing(settings, doc_id)
    except CorpusError as exc:
        raise _fail(exc, 2) from exc
    if not draft:
        print(f"{have} clauses have a record, {len(todo)} have none: {', '.join(c.key for c in todo) or '-'}")
        return
    if not settings.llm_configured:
        raise _fail("--draft needs an LLM endpoint: set POLICYQA_LLM_BASE_URL and POLICYQA_LLM_MODEL", 2)
    with _bar("drafting") as bar:
        task = bar.add_task("drafting", total=None)
        report = draft_missing(settings, llm_generate(settings), doc_id=doc_id, limit=limit,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    for key, why in report.failed:
        err.print(f"not drafted {key}: {why}", markup=False, highlight=False)
    print(f"drafted {len(report.written)} records (UNREVIEWED, not shown until reviewed in 管理 → 通俗解读): "
          f"{', '.join(report.written) or '-'}; {len(report.failed)} failed; {report.already} already had one")
    if report.failed and not report.written:
        raise typer.Exit(1)
