"""The chain's modes: curated FAQ answers, the targets table, cited documents, and LLM mode.

LLM mode runs against the real scripted OpenAI-compatible server of tests/test_llm.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.settings import Settings
from rag.chain import Assistant, ModeError
from tests.test_llm import GOOD, Reply, Script, llm_settings, script, server  # noqa: F401  (fixtures)


def _verbatim(assistant: Assistant, answer: Any) -> None:
    view = assistant.retriever.view()
    for c in answer.citations:
        assert c.quote in view.clause_text(f"{c.doc_id}:{c.clause_id}")


def test_question_restating_a_faq_entry_answers_with_it_and_verified_citations(faq_assistant: Assistant) -> None:
    answer = faq_assistant.answer("企业可以用二维码公示产品执行标准吗?")
    assert answer.mode == "faq" and answer.extra["faq_id"]
    assert "二(七)2" in [c.clause_id for c in answer.citations]
    _verbatim(faq_assistant, answer)


def test_faq_is_never_forced_and_a_stale_entry_falls_back_to_the_text(
    built_settings: Settings, tmp_path: Path, corpus_copy: Path
) -> None:
    entry = {"id": "faq-0099", "question": "企业可以用二维码公示产品执行标准吗?", "answer": "过时答案【二(九)9】",
             "clauses": ["sanmen:二(九)9"], "paraphrases": []}
    (corpus_copy / "faq.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    settings = built_settings.model_copy(update={"corpus_dir": corpus_copy, "faq": True})
    bot = Assistant(settings)
    stale = bot.answer("企业可以用二维码公示产品执行标准吗?")
    assert stale.mode == "extractive" and stale.citations[0].clause_id == "二(七)2"
    assert bot.answer("二维码公示需要到哪个部门登记?").mode == "extractive"  # near miss: not the FAQ


def test_faq_can_be_switched_off(built_settings: Settings) -> None:
    bot = Assistant(built_settings.model_copy(update={"faq": False}))
    assert bot.answer("企业可以用二维码公示产品执行标准吗?").mode == "extractive"


def test_targets_question_lists_every_quantitative_target(assistant: Assistant) -> None:
    answer = assistant.answer("到2025年有哪些量化指标?")
    assert answer.reason == "targets" and not answer.refused
    for fact in ["12个月以内", "70%以上", "10名以上", "3家以上", "1项以上", "2个以上"]:
        assert fact in answer.answer
    assert {c.clause_id for c in answer.citations} == {"一(二)-1", "一(二)-2", "一(二)-3", "一(二)-4"}
    _verbatim(assistant, answer)


def test_basis_question_answers_from_the_catalog_citing_the_preamble(assistant: Assistant) -> None:
    answer = assistant.answer("这个意见依据哪些文件?")
    assert [c.clause_id for c in answer.citations] == ["序言"]
    assert "浙委发〔2022〕11号" in answer.answer and "台市委发〔2022〕65号" in answer.answer
    assert "全文未收录" in answer.answer
    _verbatim(assistant, answer)


def test_content_of_a_cited_document_without_text_is_refused_with_its_metadata(assistant: Assistant) -> None:
    answer = assistant.answer("浙委发〔2022〕11号文件对企业标准总师有什么具体规定?")
    assert answer.refused and answer.reason == "cited_document_missing"
    assert "中共浙江省委、浙江省人民政府" in answer.answer and "浙委发〔2022〕11号" in answer.answer


def test_a_follow_up_naming_a_cited_document_asks_for_its_content_not_the_basis_again(
    assistant: Assistant,
) -> None:
    history = [{"role": "user", "content": "文件依据了哪些上级文件?"},
               {"role": "assistant", "content": "依据国家纲要、浙委发〔2022〕11号、台市委发〔2022〕65号。"}]
    answer = assistant.answer("那台州那个65号文件里,企业标准总师的目标是多少?", history)
    assert answer.refused and answer.reason == "cited_document_missing" and "台市委发〔2022〕65号" in answer.answer
    again = assistant.answer("那这些文件都是哪年发的?", history)  # leans on the basis turn: not a content question
    assert again.reason != "cited_document_missing"


def test_other_places_are_out_of_scope(assistant: Assistant) -> None:
    answer = assistant.answer("仙居县有没有出台标准化奖励办法?")
    assert answer.refused and "仙居县" in answer.answer


def test_follow_up_carries_the_previous_topic(assistant: Assistant) -> None:
    history = [{"role": "user", "content": "国家级标准化试点(示范)项目要争取几个?"},
               {"role": "assistant", "content": "争取国家级标准化试点(示范)项目1个以上。【一(二)-2】"}]
    answer = assistant.answer("那省级的呢?", history=history)
    assert answer.citations[0].clause_id == "一(二)-2" and "2个以上" in answer.answer
    pinned = assistant.answer("第三条呢?", history=[{"role": "user", "content": "保障措施第一条讲什么?"}])
    assert [c.clause_id for c in pinned.citations] == ["三(三)"]


def test_traditional_question_is_answered_in_traditional_with_quotes_verbatim(assistant: Assistant) -> None:
    answer = assistant.answer("企業可以用二維碼公示產品執行標準嗎？")
    assert "根據" in answer.answer or "按照" in answer.answer or answer.mode == "faq"
    _verbatim(assistant, answer)


def test_traditional_answer_keeps_the_clause_heading_as_the_document_writes_it(assistant: Assistant) -> None:
    answer = assistant.answer("同線同標同質是在哪一條?")
    assert answer.citations and answer.citations[0].clause_id == "二(六)2"
    assert "根據" in answer.answer and answer.citations[0].label in answer.answer  # 贸易便利化, not 貿易便利化


def test_english_question_gets_an_english_lead_in_and_chinese_quote(assistant: Assistant) -> None:
    answer = assistant.answer("How many chief standards engineers should be cultivated by 2025?")
    assert not answer.refused and answer.answer.startswith("According to")
    assert answer.citations[0].clause_id == "一(二)-4" and "10名以上" in answer.answer


def test_llm_mode_needs_a_configured_endpoint(assistant: Assistant) -> None:
    with pytest.raises(ModeError, match="POLICYQA_LLM_BASE_URL"):
        assistant.answer("二维码", mode="llm")
    with pytest.raises(ModeError, match="unknown mode"):
        assistant.answer("二维码", mode="poetry")


@pytest.mark.slow
def test_llm_mode_through_the_chain_verifies_and_falls_back(
    script: Script, llm_settings: Settings, built_settings: Settings  # noqa: F811
) -> None:
    settings = llm_settings.model_copy(update={"data_dir": built_settings.data_dir, "faq": False})
    bot = Assistant(settings)
    script.replies.append(Reply("json", GOOD))
    answer = bot.answer("企业标准总师要培育多少名?", mode="llm")
    assert answer.mode == "llm" and [c.clause_id for c in answer.citations] == ["一(二)-4"]
    _verbatim(bot, answer)
    script.replies[0] = Reply("status", "boom", status=500)
    fallback = bot.answer("企业标准总师要培育多少名?", mode="llm")
    assert fallback.mode == "extractive-fallback" and "500" in fallback.reason
    assert fallback.citations[0].clause_id == "一(二)-4"
    script.replies[0] = Reply("sse", GOOD)
    items = list(bot.stream("企业标准总师要培育多少名?", mode="llm"))
    assert all(isinstance(t, str) for t in items[:-1]) and len(items) > 2
    assert items[-1].mode == "llm"


def test_cited_document_text_once_added_is_retrieved_and_cited_with_its_own_doc_id(
    make_settings: Any, corpus_copy: Path, tmp_path: Path
) -> None:
    from index.build import build_index
    from index.catalog import add_document

    fixture = tmp_path / "zj-fixture.md"  # FIXTURE text written by this test, not the real document
    fixture.write_text(
        "# 测试夹具:浙江省实施意见(虚构文本,仅供测试)\n\n一、总体要求\n"
        "(一)夹具目标。到2025年,夹具省培育企业标准总师500名以上。\n", encoding="utf-8")
    settings = make_settings(corpus_dir=corpus_copy)
    before = Assistant(settings.model_copy(update={"data_dir": tmp_path / "before"}))
    build_index(before.settings)
    missing = before.answer("浙委发〔2022〕11号文件对企业标准总师有什么具体规定?")
    assert missing.refused and missing.reason == "cited_document_missing"

    add_document(corpus_copy, fixture, doc_id="zhejiang-2022-11")
    build_index(settings)
    bot = Assistant(settings)
    answer = bot.answer("夹具省要培育企业标准总师多少名?")
    assert not answer.refused
    assert answer.citations[0].doc_id == "zhejiang-2022-11" and answer.citations[0].clause_id == "一(一)"
    assert "500名以上" in answer.citations[0].quote
    assert "浙委发〔2022〕11号" in answer.answer  # cited by its own title and 文号
    _verbatim(bot, answer)
