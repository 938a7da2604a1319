"""Where a generation keeps its plain-language keys (real embedded Chroma in a tmp dir, toy vectors, no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.models import Chunk, Key
from index.records import chunk_metadata, key_metadata
from index.settings import Settings
from index.store import KEY_SUFFIX, Store


def _chunk(clause: str, order: int, text: str) -> Chunk:
    return Chunk(doc_id="fixture", clause_id=clause, part=0, n_parts=1, label=clause, heading_path=(), text=text,
                 embed_text=text, order=order, content_hash=f"c{order}", spans=())


_CHUNKS = [_chunk("一", 0, "标准化"), _chunk("二", 1, "质量")]
_KEYS = [Key("fixture", "一", "phrasing", "zh", "办事只跑一次", "k0"),
         Key("fixture", "二", "phrasing", "zh", "产品好", "k1")]
_CHUNK_VECS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
_KEY_VECS = [[0.9, 0.1, 0.0], [0.0, 0.0, 1.0]]  # the second key is nearer the query than any chunk


def test_keys_live_in_their_own_collection_and_a_chunk_query_never_returns_one(tmp_path: Path) -> None:
    store = Store(Settings(data_dir=tmp_path / "data", collection_prefix="layout"))
    name = store.create("toy")
    store.add(name, _CHUNKS, _CHUNK_VECS)
    store.add_keys(name, _KEYS, _KEY_VECS)
    assert store.client.get_collection(name).count() == 2
    assert store.client.get_collection(name + KEY_SUFFIX).count() == 2
    assert [k.text for k in store.keys(name)] == ["办事只跑一次", "产品好"]
    assert np.allclose([v for _k, v in store.key_vectors(name)], _KEY_VECS)
    hits = store.dense_search(name, [0.0, 0.1, 1.0], 2)
    assert [c.clause_id for c, _s in hits] == ["二", "一"]
    assert set(store.vectors_by_hash(name)) == {"c0", "c1", "k0", "k1"}  # a rebuild reuses both
    store.activate(name)
    assert store.prune() == [] and store.keys(name)  # an active generation keeps its keys


def test_a_generation_built_before_the_key_collection_still_reads_its_keys(tmp_path: Path) -> None:
    store = Store(Settings(data_dir=tmp_path / "data", collection_prefix="legacy"))
    name = "legacy-20230101000000-abcdef"
    collection = store.client.create_collection(name, configuration={"hnsw": {"space": "cosine"}},
                                                metadata={"embedder": "toy", "chunks": 2},  # no `layout`
                                                embedding_function=store._ef)
    collection.add(ids=["a", "b", "key:1", "key:2"], documents=[*(c.text for c in _CHUNKS), *(k.text for k in _KEYS)],
                   metadatas=[*(chunk_metadata(c) for c in _CHUNKS), *(key_metadata(k) for k in _KEYS)],
                   embeddings=np.asarray(_CHUNK_VECS + _KEY_VECS, dtype=np.float32))
    assert [k.text for k in store.keys(name)] == ["办事只跑一次", "产品好"]
    assert [c.clause_id for c in store.chunks(name)] == ["一", "二"]
    hits = store.dense_search(name, [0.0, 0.1, 1.0], 3)  # the key nearest the query is not a chunk
    assert [c.clause_id for c, _s in hits] == ["二", "一"]


def test_a_generation_without_keys_has_none(tmp_path: Path) -> None:
    store = Store(Settings(data_dir=tmp_path / "data", collection_prefix="nokeys"))
    name = store.create("toy")
    store.add(name, _CHUNKS, _CHUNK_VECS)
    assert store.keys(name) == [] and store.key_vectors(name) == []


def test_a_generation_is_checked_by_its_count_and_the_digest_its_build_recorded(tmp_path: Path) -> None:
    from index.lexical_cache import fingerprint

    store = Store(Settings(data_dir=tmp_path / "data", collection_prefix="records"))
    name = store.create("toy")
    store.add(name, _CHUNKS, _CHUNK_VECS)
    store.finish(name, "toy", chunks=2, seconds=0.1, ids=[c.chunk_id for c in _CHUNKS])
    assert store.records(name) == fingerprint(store.ids(name))  # what a full id read would give
    store.add(name, [_chunk("三", 2, "安全")], [[0.0, 0.0, 1.0]])  # a record added behind the build's back
    assert store.records(name)[0] == 3  # the count is Chroma's own: an artifact listing 2 no longer verifies
    legacy = store.create("toy")  # a build that recorded no digest: the ids are read
    store.add(legacy, _CHUNKS, _CHUNK_VECS)
    assert store.records(legacy) == fingerprint(store.ids(legacy))
