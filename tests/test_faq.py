"""FAQ loading and conservative matching; the curated corpus/faq.jsonl is faithful to the opinion."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from index.build import load_corpus
from index.settings import Settings
from rag.config import load_config
from rag.faq import FaqEntry, FaqFormatError, FaqMatch, load_faq
from rag.faq import match_faq as _match
from rag.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "corpus" / "faq.jsonl"


def match_faq(question: str, entries: list[FaqEntry], embed: Any = None) -> FaqMatch | None:
    """The chain's matcher with the shipped lexicon and thresholds (answerer.toml [faq])."""
    language = ROOT / "corpus" / "language"
    return _match(question, entries, load_lexicon(language), load_config(language).faq, embed)


@pytest.fixture(scope="module")
def entries() -> list[FaqEntry]:
    return load_faq(FAQ)


@pytest.fixture(scope="module")
def clause_texts() -> dict[str, str]:
    _docs, clauses = load_corpus(Settings())
    return {c.key: c.text for c in clauses}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(**overrides: Any) -> str:
    data = {"id": "faq-0001", "question": "问?", "answer": "答。", "clauses": ["sanmen:公告"], "paraphrases": [],
            "edited_by": "x", "edited_at": "2024-01-01T00:00:00+00:00"} | overrides
    return json.dumps(data, ensure_ascii=False)


def test_missing_file_has_no_entries(tmp_path: Path) -> None:
    assert load_faq(tmp_path / "nope.jsonl") == []


def test_blank_lines_are_skipped_and_fields_typed(tmp_path: Path) -> None:
    [entry] = load_faq(_write(tmp_path, "", _line(paraphrases=["问吗"]), "  "))
    assert entry.clauses == ("sanmen:公告",) and entry.paraphrases == ("问吗",)
    assert entry.variants == ("问?", "问吗")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_line(question=""), "'question'"),
        (_line(clauses="sanmen:公告"), "'clauses' must be a list"),
        (_line(clauses=["公告"]), "sanmen:二(七)2"),
        (_line(paraphrases=[1]), "'paraphrases'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = _write(tmp_path, _line(), bad)
    with pytest.raises(FaqFormatError, match=re.escape(f"{path}:2")) as info:
        load_faq(path)
    assert message in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(FaqFormatError, match="duplicate id"):
        load_faq(_write(tmp_path, _line(), _line()))


def test_curated_entries_are_faithful_to_the_opinion(entries: list[FaqEntry], clause_texts: dict[str, str]) -> None:
    assert 8 <= len(entries) <= 12
    for entry in entries:
        assert entry.edited_by == "市场监管局(示例)" and entry.edited_at and entry.paraphrases
        assert entry.clauses and all(c in clause_texts for c in entry.clauses), entry.id
        cited = [f"sanmen:{m}" for m in re.findall(r"【([^】]+)】", entry.answer)]
        assert cited and set(cited) <= set(entry.clauses), entry.id
        sources = "".join(clause_texts[c] for c in entry.clauses)
        for quote in re.findall(r"“([^“”]*(?:“[^“”]*”[^“”]*)*)”", entry.answer):
            assert unicodedata.normalize("NFKC", quote) in unicodedata.normalize("NFKC", sources), (entry.id, quote)


def test_the_ui_store_reads_the_curated_file(entries: list[FaqEntry]) -> None:
    from ui.faq_store import FaqStore

    assert [e.id for e in FaqStore(FAQ).list()] == [e.id for e in entries]


def test_every_question_and_paraphrase_matches_its_own_entry(entries: list[FaqEntry]) -> None:
    for entry in entries:
        for variant in entry.variants:
            match = match_faq(variant, entries)
            assert match is not None and match.entry.id == entry.id and match.method == "exact"


@pytest.mark.parametrize(
    ("question", "entry_id", "method"),
    [
        ("请问企业标准总师要培育多少名呢?", "faq-0001", "exact"),
        ("企業標準總師要培育多少名?", "faq-0001", "exact"),
        ("企业标准总师要培育多少名?", "faq-0001", "exact"),
        ("要培育多少名企业标准总师?", "faq-0001", "lexical"),
    ],
)
def test_close_restatements_match(entries: list[FaqEntry], question: str, entry_id: str, method: str) -> None:
    match = match_faq(question, entries)
    assert match is not None and (match.entry.id, match.method) == (entry_id, method)


NEAR_MISSES = [
    "企业标准总师制度由谁完善?",
    "省级标准化试点项目要新增几个?",
    "县标准创新贡献奖的奖金是多少?",
    "台州市标准创新贡献奖要争创几项?",
    "国家标准要制修订几项?",
    "企业可以用条形码公示产品执行标准吗?",
    "山海协作涉及哪些沿海乡镇?",
    "团体标准制定周期要缩短到多久?",
    "征求意见的截止时间是什么?",
    "今天三门的天气怎么样?",
    "标准",
    "",
]


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_near_misses_are_not_forced_onto_an_entry(entries: list[FaqEntry], question: str) -> None:
    assert match_faq(question, entries) is None


def test_embeddings_vouch_only_for_rewordings(entries: list[FaqEntry], assistant: Any) -> None:
    embed = assistant.retriever.embedder.embed_documents
    match = match_faq("企业标准总师要培育几名?", entries, embed)
    assert match is not None and (match.entry.id, match.method) == ("faq-0001", "embedding")
    assert match_faq("企业标准总师要培育几名?", entries) is None  # lexical overlap alone is too low
    for question in NEAR_MISSES:
        assert match_faq(question, entries, embed) is None, question


def test_entries_without_clauses_are_never_matched(tmp_path: Path) -> None:
    entries = load_faq(_write(tmp_path, _line(clauses=[])))
    assert entries and match_faq("问?", entries) is None
