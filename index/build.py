"""catalog → clauses → chunks → embeddings → a new Chroma collection, then an atomic switch.

Incremental: chunks whose content hash is already stored (with the same embedder) reuse their
vectors; a corpus with no change writes nothing at all. Before the switch, the generation's lexical
artifact (chunks, BM25, idf, boilerplate: index/lexical_cache.py) is stored beside it, so replicas
open it without tokenising every chunk.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from index import manifest
from index.catalog import load_catalog, read_text
from index.chunk import chunk_clauses
from index.embed import PolicyEmbeddings, make_embeddings
from index.interpretations import keys_of, load_interpretations
from index.manifest import BuildReport, unchanged_report
from index.models import Chunk, Clause, Document, Key
from index.parse import parse_document
from index.settings import Settings
from index.store import IndexMismatchError, NoIndexError, Store

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
WRITE_BATCH = 1000  # Chroma writes per add(); the embedding batch is Settings.embed_batch


class BuildLockedError(Exception):
    """Another build holds the lock."""


def load_keys(settings: Settings, clauses: list[Clause]) -> tuple[list[Key], tuple[str, ...]]:
    """Retrieval keys of every interpretation record whose clause exists, and the records that have none."""
    present = {c.key for c in clauses}
    records = load_interpretations(settings.corpus_dir)
    keys = [k for key, r in records.items() if key in present for k in keys_of(r)]
    return keys, tuple(sorted(k for k in records if k not in present))


def load_corpus(settings: Settings) -> tuple[list[Document], list[Clause]]:
    """The catalog and the clauses of every document whose text is present."""
    docs = load_catalog(settings.corpus_dir)
    clauses = [
        clause
        for doc in docs
        if doc.has_text
        for clause in parse_document(doc.doc_id, read_text(settings.corpus_dir, doc))
    ]
    return docs, clauses


@contextmanager
def _build_lock(settings: Settings) -> Iterator[None]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError("another `policyqa index` is running; try again when it ends") from exc
        yield


def _unchanged(store: Store, embedder: PolicyEmbeddings, chunks: list[Chunk], keys: list[Key]) -> str | None:
    """The active collection's name when it already holds exactly these chunks and keys."""
    try:
        info = store.check(embedder.model_id)
    except (NoIndexError, IndexMismatchError):
        return None
    if not store.current_layout(info.name):
        return None  # an older layout (keys among the chunks, no ids digest for replicas): rebuild it
    stored = {(c.chunk_id, c.content_hash, c.spans) for c in store.chunks(info.name)}
    if stored != {(c.chunk_id, c.content_hash, c.spans) for c in chunks}:
        return None
    stored_keys = {(k.clause_key, k.content_hash) for k in store.keys(info.name)}
    return info.name if stored_keys == {(k.clause_key, k.content_hash) for k in keys} else None


def _reusable(store: Store, embedder: PolicyEmbeddings) -> dict[str, list[float]]:
    try:
        info = store.info()
    except NoIndexError:
        return {}
    return store.vectors_by_hash(info.name) if info.embedder == embedder.model_id else {}


def build_index(settings: Settings, *, embeddings: PolicyEmbeddings | None = None,
                progress: Progress | None = None, force: bool = False) -> BuildReport:
    """Build (or incrementally rebuild) the index; readers see the old one until the switch."""
    if not force and (report := unchanged_report(settings)) is not None:
        if progress:
            progress(report.chunks, report.chunks)
        return report
    started = time.perf_counter()
    value = manifest.fingerprint(settings)
    docs, clauses = load_corpus(settings)
    chunks = chunk_clauses(clauses, settings.chunk_tokens)
    keys, orphans = load_keys(settings, clauses)
    embedder = embeddings or make_embeddings(settings.embedding, settings.embed_threads)
    store = Store(settings)
    summary = {
        "documents": sum(d.has_text for d in docs),
        "metadata_only": tuple(d.doc_id for d in docs if not d.has_text),
        "clauses": len(clauses),
        "chunks": len(chunks),
        "keys": len(keys),
        "orphans": orphans,
    }
    with _build_lock(settings):
        manifest.forget(settings)  # from here on, only a finished build may claim “unchanged”
        if (name := _unchanged(store, embedder, chunks, keys)) is not None:
            if progress:
                progress(len(chunks), len(chunks))
            lexical = _write_lexical(settings, store, name, docs, only_if_stale=True)
            manifest.write(settings, value, {**summary, "collection": name, **_lexical_summary(lexical)})
            return BuildReport(**summary, embedded=0, reused=len(chunks),  # type: ignore[arg-type]
                               seconds=time.perf_counter() - started, collection=name, changed=False,
                               lexical=lexical)
        reuse = _reusable(store, embedder)
        store.prune()  # collections left by a killed build
        name = store.create(embedder.model_id)
        embedded = _fill(store, name, embedder, chunks, reuse, settings.embed_batch, progress)
        keys_embedded = _fill_keys(store, name, embedder, keys, reuse, settings.embed_batch)
        store.finish(name, embedder.model_id, chunks=len(chunks), seconds=time.perf_counter() - started,
                     ids=[c.chunk_id for c in chunks])
        lexical = _write_lexical(settings, store, name, docs)  # before the switch: readers find it at once
        seconds = time.perf_counter() - started
        store.activate(name)
        store.prune()
        manifest.write(settings, value, {**summary, "collection": name, **_lexical_summary(lexical)})
    return BuildReport(**summary, embedded=embedded, reused=len(chunks) - embedded,  # type: ignore[arg-type]
                       seconds=seconds, collection=name, changed=True, keys_embedded=keys_embedded,
                       lexical=lexical)


def _write_lexical(settings: Settings, store: Store, name: str, docs: list[Document], *,
                   only_if_stale: bool = False) -> str:
    """Store generation `name`'s lexical artifact (tokens, BM25, idf, boilerplate: rag/lexical.py).

    The fitting is the reader's own code, imported here, so there is one definition of it. A failure
    is logged and costs readers a slower start (they fit it themselves), never the build.
    """
    from rag import segmenter
    from rag.lexical import catalog_names, write_artifact
    from rag.lexicon import load_lexicon

    segmenter.configure(settings.data_dir)
    try:
        return write_artifact(store, name, load_lexicon(settings.lexicon_dir), catalog_names(docs),
                              plain_layer=settings.plain_layer, only_if_stale=only_if_stale)
    except Exception as exc:
        log.warning("index %s: lexical artifact not written (%s: %s); readers will fit it", name,
                    type(exc).__name__, exc)
        return f"failed: {type(exc).__name__}: {exc}"


def _lexical_summary(lexical: str) -> dict[str, str]:
    """The manifest's record that the artifact is stored (without it, the next run is a real one)."""
    return {"lexical": manifest.LEXICAL_FORMAT} if lexical in ("written", "current") else {}


def _fill(store: Store, name: str, embedder: PolicyEmbeddings, chunks: list[Chunk],
          reuse: dict[str, list[float]], batch: int, progress: Progress | None) -> int:
    """Write all chunks to `name`, embedding only those without a reusable vector."""
    done, embedded = 0, 0
    pending: list[tuple[Chunk, list[float]]] = []
    for start in range(0, len(chunks), batch):
        part = chunks[start : start + batch]
        missing = [c for c in part if c.content_hash not in reuse]
        fresh = embedder.embed_documents([c.embed_text for c in missing]) if missing else []
        vectors = dict(zip([c.content_hash for c in missing], fresh, strict=True))
        pending += [(c, vectors.get(c.content_hash) or reuse[c.content_hash]) for c in part]
        if len(pending) >= WRITE_BATCH or start + batch >= len(chunks):
            store.add(name, [c for c, _v in pending], [v for _c, v in pending])  # few large writes: 6x faster
            pending = []
        embedded += len(missing)
        done += len(part)
        if progress:
            progress(done, len(chunks))
    return embedded


def _fill_keys(store: Store, name: str, embedder: PolicyEmbeddings, keys: list[Key],
               reuse: dict[str, list[float]], batch: int) -> int:
    """Write the plain-language keys, embedding only those without a stored vector."""
    missing = [k for k in keys if k.content_hash not in reuse]
    vectors = dict(reuse)
    for start in range(0, len(missing), batch):
        part = missing[start : start + batch]
        vectors.update(zip([k.content_hash for k in part], embedder.embed_documents([k.text for k in part]),
                           strict=True))
    for start in range(0, len(keys), WRITE_BATCH):
        part = keys[start : start + WRITE_BATCH]
        store.add_keys(name, part, [vectors[k.content_hash] for k in part])
    return len(missing)
