"""`policyqa targets [--json|--csv]`: the opinion's quantitative targets, read from the built index.

Register with `app.command("targets")(targets_command)` in ui/cli.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from index.settings import Settings


def targets_command(
    as_json: Annotated[bool, typer.Option("--json", help="a JSON list of targets")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row")] = False,
) -> None:
    """List every quantitative target (指标, 目标值, 年份, 条款) found in the indexed documents."""
    from rag.chain import Assistant
    from rag.targets import extract_targets, targets_csv, targets_json, targets_table

    if as_json and as_csv:
        typer.echo("error: choose one of --json and --csv", err=True)
        raise typer.Exit(2)
    try:
        view = Assistant(Settings()).retriever.view()
        chunks = view.chunks
    except Exception as exc:  # no index yet, bad settings, Chroma down
        typer.echo(f"error: cannot read the index ({exc}); run `policyqa index` first", err=True)
        raise typer.Exit(1) from exc
    targets = extract_targets(chunks, view.lexicon.target)
    if as_json:
        typer.echo(targets_json(targets))
    elif as_csv:
        typer.echo(targets_csv(targets), nl=False)
    else:
        typer.echo(targets_table(targets))
