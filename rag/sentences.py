"""Sentence embeddings: computed once (at `policyqa index` or on first use) and kept.

The extractive answerer compares the question with each candidate sentence. Embedding a clause's
sentences costs ≈30 ms a sentence on 2 cores, so they are cached in memory and, after a warm-up,
on disk (`<data_dir>/sentences-<embedder>.npz`), which keeps both cold starts and first answers fast.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.embed import PolicyEmbeddings, row_dots


class SentenceVectors:
    def __init__(self, embedder: PolicyEmbeddings, path: Path | None = None, max_entries: int = 200_000) -> None:
        self.embedder = embedder
        self.path = path
        self.max_entries = max_entries
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._load()

    @staticmethod
    def path_for(data_dir: Path, model_id: str) -> Path:
        return data_dir / f"sentences-{hashlib.sha256(model_id.encode()).hexdigest()[:12]}.npz"

    def _load(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                self._cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            self._cache = {}  # a damaged cache is only a cache: recompute

    def _save(self) -> None:
        if self.path is None or not self._cache:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._cache)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, texts=np.array(texts), vectors=np.stack([self._cache[t] for t in texts]))
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._cache)

    def warm(self, sentences: Sequence[str], batch: int = 32,
             progress: Callable[[int, int], None] | None = None) -> int:
        """Embed every sentence not yet cached and persist the cache; returns how many were new."""
        missing = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        for start in range(0, len(missing), batch):
            self.vectors(missing[start : start + batch])
            if progress:
                progress(min(start + batch, len(missing)), len(missing))
        with self._lock:
            self._save()
        return len(missing)

    def vectors(self, sentences: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            fresh = self.embedder.embed_documents(missing)
            with self._lock:
                if len(self._cache) + len(missing) > self.max_entries:
                    self._cache.clear()
                for text, vec in zip(missing, fresh, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
        with self._lock:
            return np.stack([self._cache[s] for s in sentences]) if sentences else np.zeros((0, 1))

    def similarities(self, sentences: Sequence[str], query: Sequence[float]) -> list[float]:
        """Cosine similarity of each sentence to the query vector."""
        if not sentences or not query:
            return [0.0] * len(sentences)
        q = np.asarray(query, dtype=np.float32)
        mat = self.vectors(sentences)
        norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(q) or 1.0)
        return [float(x) for x in row_dots(mat, q) / np.where(norms == 0, 1.0, norms)]
