"""A final version that supersedes the draft: answers cite it, say so, and can show the draft's wording.

The “final” text is built from the draft inside the test (a changed number, a new clause); it is a
FIXTURE and never committed as a real document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit

from index.build import build_index
from index.settings import Settings
from rag.chain import Assistant, ModeError

pytestmark = pytest.mark.slow

NEW_CLAUSE = "4.测试夹具新增条款。建设标准化夹具示范基地5个以上。"


def _install_final(corpus: Path) -> None:
    draft = (corpus / "sanmen-opinion-2023-draft.txt").read_text(encoding="utf-8")
    final = draft.replace("培育企业标准总师10名以上", "培育企业标准总师20名以上")
    final = final.replace("3.强化标准实施和监督。", f"{NEW_CLAUSE}\n3.强化标准实施和监督。", 1)
    final = final.replace("(征求意见稿)", "")
    (corpus / "sanmen-final-fixture.txt").write_text(final, encoding="utf-8")
    catalog = tomlkit.parse((corpus / "catalog.toml").read_text(encoding="utf-8"))
    entry = tomlkit.table()
    entry.update({"doc_id": "sanmen-final", "title": "关于贯彻落实国家标准化发展纲要的实施意见(测试夹具正式稿)",
                  "issuer": "测试夹具", "status": "正式稿", "supersedes": "sanmen", "cites": [],
                  "path": "sanmen-final-fixture.txt",
                  "sha256": hashlib.sha256((corpus / "sanmen-final-fixture.txt").read_bytes()).hexdigest()})
    catalog["document"].append(entry)
    (corpus / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")


@pytest.fixture
def versioned(corpus_copy: Path, make_settings: Callable[..., Settings]) -> Settings:
    settings = make_settings(corpus_dir=corpus_copy, faq=False)
    _install_final(corpus_copy)
    build_index(settings)
    return settings


def test_answers_cite_the_current_version_and_say_which_it_is(versioned: Settings) -> None:
    answer = Assistant(versioned).answer("企业标准总师要培育多少名?")
    assert not answer.refused
    assert {c.doc_id for c in answer.citations} == {"sanmen-final"}
    assert "20名以上" in answer.answer and "10名以上" not in answer.answer
    assert "(正式稿)" in answer.answer
    text = (versioned.corpus_dir / "sanmen-final-fixture.txt").read_text(encoding="utf-8")
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def test_versions_all_adds_the_drafts_differing_wording(versioned: Settings) -> None:
    answer = Assistant(versioned).answer("企业标准总师要培育多少名?", versions="all")
    earlier = answer.extra["earlier_versions"]
    assert any(e["doc_id"] == "sanmen" and e["clause_id"] == "一(二)-4" and "10名以上" in e["quote"] and e["changed"]
               for e in earlier)
    assert "征求意见稿中为【一(二)-4】" in answer.answer and "10名以上" in answer.answer


def test_a_clause_new_in_the_final_version_is_found_and_marked_new(versioned: Settings) -> None:
    answer = Assistant(versioned).answer("标准化夹具示范基地要建设几个?", versions="all")
    assert not answer.refused
    assert answer.citations[0].doc_id == "sanmen-final" and answer.citations[0].clause_id == "二(七)4"
    assert "征求意见稿中没有【二(七)4】这一条" in answer.answer


def test_a_clause_reference_goes_to_the_current_version(versioned: Settings) -> None:
    answer = Assistant(versioned).answer("一(二)-4")
    assert [c.doc_id for c in answer.citations] == ["sanmen-final"]


def test_unknown_versions_value_is_a_clear_error(versioned: Settings) -> None:
    with pytest.raises(ModeError, match="versions"):
        Assistant(versioned).answer("企业标准总师要培育多少名?", versions="draft")


def test_removing_the_final_version_restores_the_drafts_answers(versioned: Settings, corpus_copy: Path) -> None:
    catalog = tomlkit.parse((corpus_copy / "catalog.toml").read_text(encoding="utf-8"))
    docs = catalog["document"]
    del docs[[d["doc_id"] for d in docs].index("sanmen-final")]
    (corpus_copy / "catalog.toml").write_text(tomlkit.dumps(catalog), encoding="utf-8")
    build_index(versioned)
    answer = Assistant(versioned).answer("企业标准总师要培育多少名?")
    assert {c.doc_id for c in answer.citations} == {"sanmen"} and "10名以上" in answer.answer
    assert "(正式稿)" not in answer.answer
