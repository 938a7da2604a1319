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


# ---- one entry type: the chain, the 管理 store and the database table read and refuse the same lines

LINES = [
    _line(),
    "{not json",
    "[1, 2]",
    _line(question=""),
    _line(answer="  "),
    _line(id=7),
    _line(clauses="sanmen:公告"),
    _line(clauses=["公告"]),
    _line(paraphrases=[1]),
    _line(paraphrases=[""]),
    _line(edited_by=None),
    json.dumps({"id": "faq-0001", "question": "问?", "answer": "答。"}, ensure_ascii=False),  # optional fields absent
]


def _outcome(read: Any) -> Any:
    try:
        return read()
    except FaqFormatError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("line", LINES)
def test_the_store_and_the_chain_agree_on_every_line(tmp_path: Path, line: str) -> None:
    from ui.faq_store import FaqStore

    path = _write(tmp_path, line)
    assert _outcome(lambda: load_faq(path)) == _outcome(lambda: FaqStore(path).list())


def test_store_edits_are_refused_by_the_same_rules_as_lines(tmp_path: Path) -> None:
    from ui.faq_store import FaqStore

    store = FaqStore(tmp_path / "faq.jsonl")
    with pytest.raises(FaqFormatError) as from_edit:
        store.add("", "答", ["sanmen:公告"], edited_by="x")
    with pytest.raises(FaqFormatError) as from_line:
        load_faq(_write(tmp_path, _line(question="")))
    assert str(from_line.value).endswith(str(from_edit.value))
    with pytest.raises(FaqFormatError, match="sanmen:二"):
        store.add("问", "答", ["二(七)2"], edited_by="x")


def test_every_curated_entry_round_trips_through_its_line(entries: list[FaqEntry]) -> None:
    assert [FaqEntry.from_line(e.to_line()) for e in entries] == entries


# ---- grounding: an entry is served only while its answer holds against the clauses it cites


@pytest.fixture(scope="module")
def checks(assistant: Any) -> Any:
    from rag.faq_check import FaqChecks

    return FaqChecks(ROOT / "corpus" / "language")


def _entry(answer: str, clauses: tuple[str, ...] = ("sanmen:一(二)-4",)) -> FaqEntry:
    return FaqEntry("faq-0900", "企业标准总师要培育多少名?", answer, clauses)


def test_every_curated_entry_holds_against_the_index(entries: list[FaqEntry], checks: Any, assistant: Any) -> None:
    statuses = checks.check(entries, assistant.retriever.view())
    assert {s.reason for s in statuses.values() if not s.ok} == set()
    assert len(statuses) == len(entries)


@pytest.mark.parametrize(
    ("answer", "clauses", "reason"),
    [
        ("到2025年要“培育企业标准总师20名以上”【一(二)-4】。", ("sanmen:一(二)-4",), "一(二)-4: quote not found"),
        ("到2025年要培育企业标准总师20名以上【一(二)-4】。", ("sanmen:一(二)-4",), "unsupported number 20名"),
        ("到2026年要培育企业标准总师10名以上【一(二)-4】。", ("sanmen:一(二)-4",), "unsupported year 2026年"),
        ("县财政局负责培育企业标准总师10名以上【一(二)-4】。", ("sanmen:一(二)-4",),
         "unsupported organisation 县财政局"),
        ("培育企业标准总师10名以上【二(七)2】。", ("sanmen:一(二)-4",), "二(七)2: unknown clause"),
        ("到2025年优化标准供给结构【二(七)2】。", ("sanmen:二(七)2",), "unsupported year 2025年"),
        ("过时答案【二(九)9】", ("sanmen:二(九)9",), "sanmen:二(九)9: clause not in the index"),
        ("培育企业标准总师10名以上。", (), "cites no clause"),
    ],
)
def test_an_entry_that_no_longer_holds_is_stale_with_the_reason(checks: Any, assistant: Any, answer: str,
                                                                 clauses: tuple[str, ...], reason: str) -> None:
    status = checks.check([_entry(answer, clauses)], assistant.retriever.view())["faq-0900"]
    assert status.state == "stale" and reason in status.reason.split("; ")


def test_a_goal_item_is_read_with_its_parent_clause(checks: Any, assistant: Any) -> None:
    """一(二)-4 lies under 一(二)'s “到2025年”: the year holds for it, as the targets table reads it."""
    status = checks.check([_entry("到2025年要“培育企业标准总师10名以上”【一(二)-4】。")], assistant.retriever.view())
    assert status["faq-0900"].ok and status["faq-0900"].reason == ""


def _faq_bot(settings: Settings, assistant: Any) -> Any:
    from rag.chain import Assistant

    return Assistant(settings.model_copy(update={"faq": True}), embeddings=assistant.retriever.embedder)


def test_the_chain_does_not_serve_a_stale_entry_and_serves_it_once_it_holds(
        built_settings: Settings, corpus_copy: Path, assistant: Any) -> None:
    import os

    path = corpus_copy / "faq.jsonl"
    question = "企业标准总师要培育多少名?"
    path.write_text(_line(id="faq-0001", question=question, answer="要“培育企业标准总师20名以上”【一(二)-4】。",
                          clauses=["sanmen:一(二)-4"]) + "\n", encoding="utf-8")
    bot = _faq_bot(built_settings.model_copy(update={"corpus_dir": corpus_copy}), assistant)
    stale = bot.answer(question)
    assert stale.mode == "extractive" and "20名" not in stale.answer
    path.write_text(_line(id="faq-0001", question=question, answer="要“培育企业标准总师10名以上”【一(二)-4】。",
                          clauses=["sanmen:一(二)-4"]) + "\n", encoding="utf-8")
    os.utime(path, (1, 1))  # a new mtime whatever the clock's resolution
    fixed = bot.answer(question)
    assert fixed.mode == "faq" and fixed.extra["faq_id"] == "faq-0001"


@pytest.mark.slow
def test_an_entry_becomes_servable_when_a_rebuilt_index_adds_its_clause(
        make_settings: Any, corpus_copy: Path, tmp_path: Path, assistant: Any) -> None:
    import time

    from index.build import build_index
    from index.catalog import add_document

    question = "夹具省要培育企业标准总师多少名?"
    (corpus_copy / "faq.jsonl").write_text(_line(
        id="faq-0001", question=question, answer="夹具省“培育企业标准总师500名以上”【zhejiang-2022-11:一(一)】。",
        clauses=["zhejiang-2022-11:一(一)"]) + "\n", encoding="utf-8")
    settings = make_settings(corpus_dir=corpus_copy)
    build_index(settings)
    bot = _faq_bot(settings, assistant)
    assert bot.answer(question).mode != "faq"
    [status] = bot.faq.checks.statuses(bot.faq_entries(), bot.retriever.view()).values()
    assert "zhejiang-2022-11:一(一): clause not in the index" in status.reason.split("; ")

    fixture = tmp_path / "zj-fixture.md"  # FIXTURE text written by this test, not the real document
    fixture.write_text("# 测试夹具:浙江省实施意见(虚构文本,仅供测试)\n\n一、总体要求\n"
                       "(一)夹具目标。到2025年,夹具省培育企业标准总师500名以上。\n", encoding="utf-8")
    add_document(corpus_copy, fixture, doc_id="zhejiang-2022-11")
    build_index(settings)
    time.sleep(2.1)  # the retriever re-reads the index pointer every 2 s
    answer = bot.answer(question)
    assert answer.mode == "faq" and answer.citations[0].doc_id == "zhejiang-2022-11"
