"""Sentence embeddings, computed on first use and cached for the life of the process.

The extractive answerer compares the question with each candidate sentence; embedding a clause's
sentences once (≈30 ms a sentence on 2 cores) and keeping them makes later questions cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from index.embed import PolicyEmbeddings


class SentenceVectors:
    def __init__(self, embedder: PolicyEmbeddings, max_entries: int = 200_000) -> None:
        self.embedder = embedder
        self.max_entries = max_entries
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

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
        """Cosine similarity of each sentence to the query vector (both L2-normalised)."""
        if not sentences or not query:
            return [0.0] * len(sentences)
        q = np.asarray(query, dtype=np.float32)
        mat = self.vectors(sentences)
        norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(q) or 1.0)
        return [float(x) for x in (mat @ q) / np.where(norms == 0, 1.0, norms)]
