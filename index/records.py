"""How a chunk and a plain-language key become a Chroma record (text + flat metadata) and back.

Chroma metadata holds only scalars, so tuples (spans, heading path) travel as JSON strings.
"""

from __future__ import annotations

import json
from typing import Any

from index.models import Chunk, Key, Span


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "kind": "chunk",
        "spans": json.dumps([[s.start, s.end, int(s.joined)] for s in chunk.spans]),
        "doc_id": chunk.doc_id,
        "clause_id": chunk.clause_id,
        "part": chunk.part,
        "n_parts": chunk.n_parts,
        "label": chunk.label,
        "heading_path": json.dumps(list(chunk.heading_path), ensure_ascii=False),
        "embed_text": chunk.embed_text,
        "order": chunk.order,
        "content_hash": chunk.content_hash,
    }


def from_chunk_record(text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        doc_id=str(meta["doc_id"]),
        clause_id=str(meta["clause_id"]),
        part=int(meta["part"]),
        n_parts=int(meta["n_parts"]),
        label=str(meta["label"]),
        heading_path=tuple(json.loads(str(meta["heading_path"]))),
        text=text,
        embed_text=str(meta["embed_text"]),
        order=int(meta["order"]),
        content_hash=str(meta["content_hash"]),
        spans=tuple(Span(int(a), int(b), bool(j)) for a, b, j in json.loads(str(meta.get("spans", "[]")))),
    )


def key_metadata(key: Key) -> dict[str, Any]:
    return {"kind": "key", "doc_id": key.doc_id, "clause_id": key.clause_id, "key_kind": key.kind,
            "lang": key.lang, "content_hash": key.content_hash}


def from_key_record(text: str, meta: dict[str, Any]) -> Key:
    return Key(str(meta["doc_id"]), str(meta["clause_id"]), str(meta["key_kind"]), str(meta["lang"]), text,
               str(meta["content_hash"]))
