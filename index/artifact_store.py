"""Per-generation artifacts as records of a collection (used through index/store.py `Store`).

`Store` keeps each generation's artifact in a collection of its own (`<generation>-lexical`, deleted
with the generation: see index/store.py for why not in the manifest); `drop` clears artifact records
that earlier versions kept in the manifest.

An artifact (index/lexical_cache.py) is bytes of a few MB; Chroma keeps strings, so it is stored
base64-encoded in metadata strings of 1 MB parts (documents would be full-text indexed), with a
one-number vector each. Each write has its own token and is complete before the previous write
of the same generation is deleted, so a reader sees a whole write or an older one, never a mix.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection

KIND = "artifact"
PART_CHARS = 1_000_000
_BATCH = 4  # parts per add(): a few MB per request to a Chroma server


def _id(generation: str, token: str, part: int) -> str:
    return f"{KIND}:{generation}:{token}:{part}"


def put(collection: Collection, generation: str, blob: bytes) -> None:
    """Store `blob` for `generation`, then drop that generation's earlier writes."""
    text = base64.b64encode(blob).decode("ascii")  # b85 is pure Python: seconds for 10 MB
    parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
    token, written = secrets.token_hex(6), time.time()
    for start in range(0, len(parts), _BATCH):
        batch = range(start, min(start + _BATCH, len(parts)))
        collection.add(ids=[_id(generation, token, i) for i in batch],
                       embeddings=np.ones((len(batch), 1), dtype=np.float32),
                       metadatas=[{"kind": KIND, "generation": generation, "write": token, "written": written,
                                   "part": i, "parts": len(parts), "data": parts[i]} for i in batch])
    old = collection.get(where={"generation": generation}, include=[])["ids"]
    stale = [i for i in old if not i.startswith(f"{KIND}:{generation}:{token}:")]
    if stale:
        collection.delete(ids=stale)


def get(collection: Collection, generation: str) -> bytes | None:
    """The newest complete write for `generation`, or None when there is none."""
    page = collection.get(where={"generation": generation}, include=["metadatas"])
    writes: dict[str, list[dict[str, Any]]] = {}
    for meta in page["metadatas"] or []:
        writes.setdefault(str(meta.get("write")), []).append(dict(meta))
    complete = [parts for parts in writes.values()
                if sorted(int(p.get("part", -1)) for p in parts) == list(range(int(parts[0].get("parts", 0))))]
    if not complete:
        return None
    newest = max(complete, key=lambda parts: float(parts[0].get("written", 0.0)))
    text = "".join(str(p.get("data", "")) for p in sorted(newest, key=lambda p: int(p["part"])))
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return text.encode("utf-8", "replace")  # damaged text: the decoder refuses it (no magic, no checksum)


def delete(collection: Collection, generation: str) -> None:
    collection.delete(where={"generation": generation})


def drop(collection: Collection, keep: set[str]) -> list[str]:
    """Delete the artifacts of generations not in `keep`; returns those generations."""
    ids = collection.get(where={"kind": KIND}, include=[])["ids"]
    stale = [i for i in ids if i.split(":")[1] not in keep]
    if stale:
        collection.delete(ids=stale)
    return sorted({i.split(":")[1] for i in stale})
