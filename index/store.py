"""Versioned collections behind an atomic pointer: with index/chroma_client.py (clients) and
index/artifact_store.py (artifact records), the only code that talks to Chroma.

Each build writes a new collection `<prefix>-<time>-<rand>`; the manifest collection's metadata
names the active one. Switching the pointer is a single metadata write, so a build that fails or
is killed leaves the previous index serving. The previous collection is kept one generation so
that readers still on it finish their queries. Each generation has two companions, deleted with it:
`<generation>-keys` (plain-language keys) and `<generation>-lexical` (its lexical artifact, written
through index/artifact_store.py). How chunks and keys become records: index/records.py.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError

from index import artifact_store
from index.chroma_client import PolicyqaEmbeddingFunction, client_for
from index.chunk import CHUNKER_VERSION
from index.lexical_cache import fingerprint
from index.models import Chunk, Key
from index.records import chunk_metadata, from_chunk_record, from_key_record, key_metadata
from index.settings import Settings

# A generation's lexical artifact lives in a collection of its own, `<generation>-lexical`, deleted with
# the generation. Not in the manifest: Chroma keeps every write in its log until a collection's vector
# index persists (every 1000 writes), and each open replays that log, so a manifest holding artifacts
# replayed every artifact ever written (0.7 s after 20 rewrites of a 20k-chunk one, growing). Deleting a
# collection drops its log. (Persisting the manifest after each write instead made readers in other
# processes rewrite its index files under a writer: the writer segfaulted.)
ARTIFACT_SUFFIX = "-lexical"
# Plain-language keys live in `<generation>-keys`, beside the chunks rather than among them: a chunk
# query with `where kind=chunk` made Chroma pre-filter every id (102 ms at 20k chunks vs 3.7 ms
# unfiltered). Readers search keys in memory, so their collection is only ever read whole.
KEY_SUFFIX = "-keys"
_LAYOUT = "keys-apart"  # collection metadata `layout`; generations without it hold keys among chunks

__all__ = ["ARTIFACT_SUFFIX", "KEY_SUFFIX", "IndexInfo", "IndexMismatchError", "NoIndexError", "Store",
           "StoreUnavailableError", "client_for"]

_PAGE = 1000
_ID_PAGE = 20000


class NoIndexError(Exception):
    """No index has been built yet."""


class IndexMismatchError(Exception):
    """The stored index was built with other embedder or chunker settings."""


class StoreUnavailableError(Exception):
    """Chroma (usually a server) cannot be reached."""


@dataclass(frozen=True)
class IndexInfo:
    """What the active index was built with, for mismatch checks, health and the admin view."""

    name: str
    embedder: str
    chunker: str
    chunk_tokens: int
    chunks: int
    built_at: str
    build_seconds: float


class Store:
    """Read and write policyqa's Chroma collections for one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Any: chromadb's EmbeddingFunction generics reject any concrete subclass under mypy.
        self._ef: Any = PolicyqaEmbeddingFunction(settings.embedding)
        self._handles: dict[str, Collection] = {}  # name → handle: skips a get_collection per query

    @property
    def client(self) -> ClientAPI:
        try:
            return client_for(self.settings)
        except Exception as exc:  # connection errors differ between client kinds
            raise StoreUnavailableError(f"cannot reach Chroma: {exc}") from exc

    def _manifest(self) -> Collection:
        return self.client.get_or_create_collection(
            f"{self.settings.collection_prefix}-manifest", embedding_function=self._ef
        )

    def active_name(self) -> str | None:
        meta = self._manifest().metadata or {}
        name = meta.get("active")
        return str(name) if name else None

    def _collection(self, name: str) -> Collection:
        if name not in self._handles:
            self._handles[name] = self.client.get_collection(name, embedding_function=self._ef)
        return self._handles[name]

    def info(self, name: str | None = None) -> IndexInfo:
        name = name or self.active_name()
        if name is None:
            raise NoIndexError("no index has been built yet: run `policyqa index`")
        meta = self._collection(name).metadata or {}
        return IndexInfo(
            name=name,
            embedder=str(meta.get("embedder", "")),
            chunker=str(meta.get("chunker", "")),
            chunk_tokens=int(meta.get("chunk_tokens", 0)),
            chunks=int(meta.get("chunks", 0)),
            built_at=str(meta.get("built_at", "")),
            build_seconds=float(meta.get("build_seconds", 0.0)),
        )

    def check(self, embedder_id: str) -> IndexInfo:
        """The active index, if it was built with the embedder and chunker we would use now."""
        info = self.info()
        wanted = (embedder_id, CHUNKER_VERSION, self.settings.chunk_tokens)
        built = (info.embedder, info.chunker, info.chunk_tokens)
        if built != wanted:
            raise IndexMismatchError(
                f"the index was built with embedder={built[0]}, chunker={built[1]}, "
                f"chunk_tokens={built[2]} but the settings ask for embedder={wanted[0]}, "
                f"chunker={wanted[1]}, chunk_tokens={wanted[2]}: run `policyqa index` to rebuild"
            )
        return info

    def current_layout(self, name: str) -> bool:
        """Whether generation `name` was built as this version builds: keys apart, its ids' digest recorded."""
        return self.keys_apart(name) and bool((self._collection(name).metadata or {}).get("ids_digest"))

    def keys_apart(self, name: str) -> bool:
        """Whether generation `name` keeps its keys in a collection of their own (builds since lexical-4)."""
        return (self._collection(name).metadata or {}).get("layout") == _LAYOUT

    def _key_source(self, name: str) -> tuple[str | None, dict[str, Any] | None]:
        """Where generation `name` keeps its keys: its own key collection, or (older builds) among chunks."""
        if not self.keys_apart(name):
            return name, {"kind": "key"}
        try:
            self._collection(name + KEY_SUFFIX)
        except NotFoundError:
            return None, None  # a generation built without keys
        return name + KEY_SUFFIX, None

    def chunks(self, name: str) -> list[Chunk]:
        """Every chunk of a collection, in document order."""
        found = [from_chunk_record(text, meta) for text, meta, _ in self._pages(name, embeddings=False)
                 if meta.get("kind") != "key"]
        return sorted(found, key=lambda c: (c.doc_id, c.order, c.part))

    def ids(self, name: str) -> list[str]:
        """Every record id of a collection: one cheap read, no documents or metadata."""
        collection, found, offset = self._collection(name), [], 0
        while page := collection.get(limit=_ID_PAGE, offset=offset, include=[])["ids"]:
            found += page
            offset += len(page)
        return found

    def records(self, name: str) -> tuple[int, str]:
        """How many records generation `name` holds and the digest of their ids (what its lexical artifact is
        checked against). The count is Chroma's; the digest is the one the build recorded in the collection's
        metadata, so a replica need not read 20k ids (0.7 s) to check it. Older builds: read and digested."""
        collection = self._collection(name)
        digest = (collection.metadata or {}).get("ids_digest")
        if not digest:
            return fingerprint(self.ids(name))
        return collection.count(), str(digest)

    def artifact(self, name: str) -> bytes | None:
        """The bytes stored beside generation `name` (the lexical artifact), or None."""
        try:
            collection = self.client.get_collection(name + ARTIFACT_SUFFIX, embedding_function=self._ef)
        except NotFoundError:
            return None
        return artifact_store.get(collection, name)

    def put_artifact(self, name: str, blob: bytes) -> None:
        collection = self.client.get_or_create_collection(name + ARTIFACT_SUFFIX, embedding_function=self._ef)
        artifact_store.put(collection, name, blob)

    def drop_artifact(self, name: str) -> None:
        """Delete the artifact's collection, and with it everything Chroma logged for it."""
        with contextlib.suppress(NotFoundError):
            self.client.delete_collection(name + ARTIFACT_SUFFIX)

    def keys(self, name: str) -> list[Key]:
        """Every plain-language retrieval key of generation `name`."""
        return [k for k, _v in self._keys(name, embeddings=False)]

    def key_vectors(self, name: str) -> list[tuple[Key, list[float]]]:
        """Every key with its vector: a few hundred per document, searched in memory by the reader."""
        return [(k, v) for k, v in self._keys(name, embeddings=True)]

    def _keys(self, name: str, *, embeddings: bool) -> Iterator[tuple[Key, Any]]:
        source, where = self._key_source(name)
        if source is not None:
            for text, meta, vec in self._pages(source, embeddings=embeddings, where=where):
                yield from_key_record(text, meta), vec

    def vectors_by_hash(self, name: str) -> dict[str, list[float]]:
        """Stored embeddings (chunks' and keys') keyed by content hash: what a rebuild may reuse."""
        found = {meta["content_hash"]: vec for _, meta, vec in self._pages(name, embeddings=True)}
        return found | {k.content_hash: v for k, v in self._keys(name, embeddings=True)}

    def _pages(self, name: str, *, embeddings: bool,
               where: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any], Any]]:
        collection = self._collection(name)
        include: list[Any] = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        offset = 0
        while True:
            page = collection.get(limit=_PAGE, offset=offset, include=include, where=where)
            docs, metas = page["documents"] or [], page["metadatas"] or []
            vecs = page["embeddings"] if embeddings else None
            for i, (text, meta) in enumerate(zip(docs, metas, strict=True)):
                yield text, dict(meta), (np.asarray(vecs[i], dtype=np.float64).tolist() if vecs is not None else None)
            if len(docs) < _PAGE:
                return
            offset += _PAGE

    def dense_search(self, name: str, vector: Sequence[float], n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance)."""
        return [(from_chunk_record(text, meta), sim) for text, meta, sim in self._query(name, vector, n, "chunk")]

    def _query(self, name: str, vector: Sequence[float], n: int,
               kind: str) -> list[tuple[str, dict[str, Any], float]]:
        if n <= 0:
            return []
        result = self._collection(name).query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=n,
            where=None if self.keys_apart(name) else {"kind": kind},
            include=["documents", "metadatas", "distances"],
        )
        docs = (result["documents"] or [[]])[0]
        metas = (result["metadatas"] or [[]])[0]
        dists = (result["distances"] or [[]])[0]
        return [(text, dict(meta), 1.0 - float(dist)) for text, meta, dist in zip(docs, metas, dists, strict=True)]

    # --- write side (used by index.build) ---

    def create(self, embedder_id: str) -> str:
        name = f"{self.settings.collection_prefix}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        self.client.create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=self._metadata(embedder_id, chunks=0, seconds=0.0),
            embedding_function=self._ef,
        )
        return name

    def _metadata(self, embedder_id: str, *, chunks: int, seconds: float) -> dict[str, Any]:
        return {
            "embedder": embedder_id,
            "chunker": CHUNKER_VERSION,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunks": chunks,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(seconds, 3),
            "layout": _LAYOUT,
        }

    def add(self, name: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        self._collection(name).add(
            ids=[c.chunk_id for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[chunk_metadata(c) for c in chunks],
            embeddings=np.asarray(vectors, dtype=np.float32),
        )

    def add_keys(self, name: str, keys: Sequence[Key], vectors: Sequence[Sequence[float]]) -> None:
        if not keys:
            return
        if name + KEY_SUFFIX not in self._handles:
            self._handles[name + KEY_SUFFIX] = self.client.get_or_create_collection(
                name + KEY_SUFFIX, configuration={"hnsw": {"space": "cosine"}}, embedding_function=self._ef)
        self._collection(name + KEY_SUFFIX).add(
            ids=[f"key:{k.clause_key}:{k.content_hash[:16]}" for k in keys],
            documents=[k.text for k in keys],
            metadatas=[key_metadata(k) for k in keys],
            embeddings=np.asarray(vectors, dtype=np.float32),
        )

    def finish(self, name: str, embedder_id: str, *, chunks: int, seconds: float, ids: Sequence[str] = ()) -> None:
        """Record what the build wrote; `ids` (every record id) become the digest readers check artifacts by."""
        meta = self._metadata(embedder_id, chunks=chunks, seconds=seconds)
        self._collection(name).modify(metadata={**meta, **({"ids_digest": fingerprint(ids)[1]} if ids else {})})
        self._handles.pop(name, None)  # the next read sees the new metadata

    def activate(self, name: str) -> None:
        """Point readers at `name` (one metadata write), keeping the previous one for a generation."""
        manifest = self._manifest()
        previous = (manifest.metadata or {}).get("active")
        manifest.modify(metadata={"active": name, "previous": previous or "", "switched_at": time.time()})

    def prune(self) -> list[str]:
        """Drop collections that are neither active nor previous (e.g. left by a killed build)."""
        manifest = self._manifest()
        meta = manifest.metadata or {}
        generations = {str(g) for g in (meta.get("active"), meta.get("previous")) if g}
        keep = {*generations, *(g + suffix for g in generations for suffix in (ARTIFACT_SUFFIX, KEY_SUFFIX)),
                f"{self.settings.collection_prefix}-manifest"}
        artifact_store.drop(manifest, set())  # artifact records an older version kept in the manifest
        dropped = []
        for collection in self.client.list_collections():
            name = collection.name
            if name.startswith(f"{self.settings.collection_prefix}-") and name not in keep:
                self.client.delete_collection(name)
                self._handles.pop(name, None)
                if not name.endswith((ARTIFACT_SUFFIX, KEY_SUFFIX)):
                    dropped.append(name)
        return dropped
