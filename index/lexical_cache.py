"""The lexical artifact of one index generation: its chunks and fitted BM25, idf, boilerplate and rare-term
text, as bytes.

Why: opening a generation meant reading every chunk from Chroma and running jieba over it (20–35 s
for 20k chunks on the shared two-core machine) before the first answer. `policyqa index` fits that
state once (rag/lexical.py) and stores it, encoded here, beside the generation; a replica reads it
and checks it instead. The chunks travel in it too: reading 20k chunks with their metadata from
Chroma costs 1–4 s, an ids-only read (what the check needs) 0.1 s.

Where: in Chroma, as records of the manifest collection keyed by the generation's collection name
(index/artifact_store.py). Every replica already reads the index from that one Chroma (embedded on
one machine, `chroma run` behind several); replicas on other machines have data dirs of their own
(eval/deploy_stack.py gives each replica its own), so a file in the data dir would miss them. The
artifact is written before the pointer flips and pruned with its generation.

Trust: a generation's collection is written once, before it is activated, and never changed. The
reader checks the artifact's format, its generation, the collection's record count and a digest of
its ids (one ids-only read), and the payload's sha256; anything else is fitted from the collection.
The encoding is an npz of plain arrays (uint8 for JSON and bm25s's own saved files, float64 for
idf) read with `allow_pickle=False`: a bad file cannot run code. `decode` raises only ArtifactError.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from index.chunk import compose_embed_text
from index.manifest import LEXICAL_FORMAT as FORMAT  # bump it with any change to what rag/lexical.py fits
from index.models import Chunk, Key, Span

MAGIC = b"policyqa-lexical\n"
_BM25_FILES = ("params.index.json", "vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy",
               "indptr.csc.index.npy", "nonoccurrence_array.index.npy")  # what bm25s.BM25.save writes


class ArtifactError(Exception):
    """An artifact that cannot be used: damaged, truncated, of another format."""


@dataclass(frozen=True, eq=False)
class LexicalState:
    """A generation's chunks and what IndexView fits from them, with what it was fitted from (digests)."""

    generation: str  # the Chroma collection name
    chunks: tuple[Chunk, ...]  # in the store's order (BM25 row i is chunks[i])
    ids: str  # ids_digest() of every record id of the generation's collection (its chunks)
    records: int  # how many records the collection holds
    tokenizer: str  # rag.lexical.tokenizer_id(): stopwords, jieba and bm25s versions, FORMAT
    bm25: bm25s.BM25 | None
    idf: dict[str, float]
    key_digest: str  # key_digest() of the plain-language keys it fitted
    key_bm25: bm25s.BM25 | None
    key_vocab: frozenset[str]
    boilerplate_id: str  # rag.lexical.boilerplate_id(): catalog names and boilerplate patterns
    boilerplate: frozenset[str] | None  # None: not fitted (found on first need)
    content: dict[str, str] | None  # clause key → its text without boilerplate lines (rare terms)


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def ids_digest(ids: Iterable[str]) -> str:
    return _digest(sorted(ids))


def fingerprint(ids: Sequence[str]) -> tuple[int, str]:
    """How many records a collection holds and the digest of their ids: what an artifact is checked against."""
    return len(ids), ids_digest(ids)


def key_digest(keys: Sequence[Key]) -> str:
    return _digest(f"{k.clause_key}\x01{k.text}" for k in keys)


def text_digest(values: Iterable[str]) -> str:
    return _digest(values)


def _chunk_row(c: Chunk) -> list[Any]:
    # embed_text is heading path + label + text for every chunk the chunker made: stored only when it is not
    # (a third of the payload less to inflate and parse when a replica starts)
    embedded = None if c.embed_text == compose_embed_text(c.heading_path, c.label, c.text) else c.embed_text
    return [c.doc_id, c.clause_id, c.part, c.n_parts, c.label, list(c.heading_path), c.text, embedded,
            c.order, c.content_hash, [[s.start, s.end, int(s.joined)] for s in c.spans]]


def _chunk(row: list[Any]) -> Chunk:
    """A row of `_chunk_row` (types as JSON gives them back; the payload was checksummed)."""
    doc, clause, part, n_parts, label, path, text, embedded, order, content_hash, spans = row
    path = tuple(path)
    return Chunk(doc, clause, part, n_parts, label, path, text,
                 compose_embed_text(path, label, text) if embedded is None else embedded, order, content_hash,
                 tuple(Span(a, b, bool(j)) for a, b, j in spans))


# --- encoding: pure functions over bytes ---

def _bm25_files(model: bm25s.BM25) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="policyqa-bm25-") as folder:
        model.save(folder, show_progress=False)
        return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.name in _BM25_FILES}


def _bm25_model(files: dict[str, bytes]) -> bm25s.BM25:
    with tempfile.TemporaryDirectory(prefix="policyqa-bm25-") as folder:
        for name, data in files.items():
            (Path(folder) / name).write_bytes(data)
        return bm25s.BM25.load(folder, allow_pickle=False, mmap=False, show_progress=False)


def _bytes(value: Any) -> np.ndarray:
    raw = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode("utf-8")
    return np.frombuffer(raw, dtype=np.uint8)


def encode(state: LexicalState) -> bytes:
    """MAGIC, the payload's sha256 (hex) and a newline, then the npz payload."""
    header = {"format": FORMAT, "generation": state.generation, "ids": state.ids, "records": state.records,
              "tokenizer": state.tokenizer, "key_digest": state.key_digest,
              "boilerplate_id": state.boilerplate_id, "bm25s": bm25s.__version__,
              "models": [side for side, m in (("bm25", state.bm25), ("key_bm25", state.key_bm25)) if m is not None]}
    arrays = {"header": _bytes(header), "chunks": _bytes([_chunk_row(c) for c in state.chunks]),
              "content": _bytes(state.content), "idf_terms": _bytes(list(state.idf)),
              "idf": np.asarray(list(state.idf.values()), dtype=np.float64),
              "key_vocab": _bytes(sorted(state.key_vocab)),
              "boilerplate": _bytes(None if state.boilerplate is None else sorted(state.boilerplate))}
    for side, model in (("bm25", state.bm25), ("key_bm25", state.key_bm25)):
        if model is not None:
            arrays |= {f"{side}.{name}": _bytes(data) for name, data in _bm25_files(model).items()}
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    payload = out.getvalue()
    return MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload


def _json(arrays: Any, name: str) -> Any:
    return json.loads(arrays[name].tobytes().decode("utf-8"))


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArtifactError(f"{what}: not a list of strings")
    return value


def decode(blob: bytes) -> LexicalState:
    """The state an `encode` produced; ArtifactError for anything else (never another exception)."""
    if not blob.startswith(MAGIC):
        raise ArtifactError("not a policyqa lexical artifact")
    checksum, _, payload = blob[len(MAGIC):].partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode("ascii") != checksum:
        raise ArtifactError("checksum mismatch (damaged or truncated)")
    try:
        return _decode(payload)
    except ArtifactError:
        raise
    except Exception as exc:  # a checksummed payload that still fails to read: treat as damaged
        raise ArtifactError(f"unreadable payload ({type(exc).__name__}: {exc})") from exc


def _decode(payload: bytes) -> LexicalState:
    with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
        header = _json(arrays, "header")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ArtifactError(f"format {header.get('format') if isinstance(header, dict) else '?'} "
                                f"is not {FORMAT}")
        terms, idf = _strings(_json(arrays, "idf_terms"), "idf_terms"), arrays["idf"]
        if idf.dtype != np.float64 or idf.shape != (len(terms),):
            raise ArtifactError("idf table does not match its terms")
        models: dict[str, bm25s.BM25 | None] = {"bm25": None, "key_bm25": None}
        for side in _strings(header.get("models", []), "models"):
            if side not in models:
                raise ArtifactError(f"unknown model {side!r}")
            files = {k.split(".", 1)[1]: arrays[k].tobytes() for k in arrays.files if k.startswith(f"{side}.")}
            if not set(files) <= set(_BM25_FILES):
                raise ArtifactError(f"{side}: unexpected files")
            models[side] = _bm25_model(files)
        boilerplate, content = _json(arrays, "boilerplate"), _json(arrays, "content")
        if not (content is None or (isinstance(content, dict) and all(isinstance(v, str) for v in content.values()))):
            raise ArtifactError("content: not a table of texts")
        state = LexicalState(
            generation=str(header["generation"]), chunks=tuple(_chunk(row) for row in _json(arrays, "chunks")),
            ids=str(header["ids"]), records=int(header["records"]), tokenizer=str(header["tokenizer"]),
            bm25=models["bm25"], idf=dict(zip(terms, idf.tolist(), strict=True)),
            key_digest=str(header["key_digest"]), key_bm25=models["key_bm25"],
            key_vocab=frozenset(_strings(_json(arrays, "key_vocab"), "key_vocab")),
            boilerplate_id=str(header["boilerplate_id"]),
            boilerplate=None if boilerplate is None else frozenset(_strings(boilerplate, "boilerplate")),
            content=content)
    rows = state.bm25.scores["num_docs"] if state.bm25 is not None else 0
    if rows != len(state.chunks):
        raise ArtifactError(f"BM25 has {rows} rows for {len(state.chunks)} chunks")
    return state
