"""LLM mode against a real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies.

No mock replaces the HTTP client: ChatOpenAI talks to a ThreadingHTTPServer (eval/llm_fake.py, the
`llm_endpoint` fixture) that records every request and answers with JSON, SSE streams, errors, hangs
or garbage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eval.llm_fake import FakeOpenAI, Reply, Script
from index.build import load_corpus
from index.chunk import chunk_clauses, count_tokens
from index.models import Chunk
from index.settings import Settings
from rag.llm import LLMAnswerer
from rag.llm_prompt import ClauseBlock, build_prompt, clause_blocks, load_prompts, locate, verify
from rag.models import Answer, Citation, Hit

PROMPTS = load_prompts(Settings().lexicon_dir, "三门县")  # corpus/language/prompts.toml
GOOD = "企业标准总师要培育10名以上:文件规定「培育企业标准总师10名以上」【一(二)-4】。"


@pytest.fixture
def server(llm_endpoint: tuple[FakeOpenAI, Script]) -> tuple[FakeOpenAI, Script]:
    """The shared endpoint (tests/conftest.py) under the name tests/test_chain_modes.py imports."""
    return llm_endpoint


@pytest.fixture
def script(llm_endpoint: tuple[FakeOpenAI, Script]) -> Iterator[Script]:
    _api, s = llm_endpoint
    s.replies.clear()
    s.requests.clear()
    s.release.clear()
    yield s
    s.release.set()


@pytest.fixture
def llm_settings(llm_endpoint: tuple[FakeOpenAI, Script], make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(llm_base_url=llm_endpoint[0].url, llm_model="scripted", llm_timeout=1.0)


@pytest.fixture(scope="module")
def chunks() -> dict[str, Chunk]:
    _docs, clauses = load_corpus(Settings())
    return {c.clause_id: c for c in chunk_clauses(clauses, 512)}


def _hits(chunks: dict[str, Chunk], *ids: str) -> list[Hit]:
    return [Hit(chunks[i], 1.0 - n / 10) for n, i in enumerate(ids)]


def _text(chunks: dict[str, Chunk]) -> Callable[[str], str]:
    return lambda key: chunks[key.split(":", 1)[1]].text


EXTRACTIVE = Answer("q", "根据文件:“培育企业标准总师10名以上”【一(二)-4】", False,
                    (Citation("sanmen", "一(二)-4", "label", "培育企业标准总师10名以上"),), "extractive")


def _ask(settings: Settings, chunks: dict[str, Chunk], *ids: str, **kw: Any) -> Answer:
    answerer = LLMAnswerer(settings, **kw)
    hits = _hits(chunks, *(ids or ("一(二)-4", "一(二)-2", "二(七)2")))
    return answerer.answer("企业标准总师要培育多少名?", hits, _text(chunks), lambda: EXTRACTIVE)


def _assert_verified(answer: Answer, chunks: dict[str, Chunk]) -> None:
    for c in answer.citations:
        assert c.quote and c.quote in chunks[c.clause_id].text
        assert f"【{c.clause_id}】" in answer.answer


def test_correct_answer_is_verified_and_request_carries_clause_blocks(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", GOOD))
    answer = _ask(llm_settings, chunks)
    assert answer.mode == "llm" and not answer.refused and answer.reason == ""
    assert [(c.clause_id, c.quote) for c in answer.citations] == [("一(二)-4", "培育企业标准总师10名以上")]
    assert answer.dropped_citations == ()
    _assert_verified(answer, chunks)
    request = script.requests[0]
    assert request["model"] == "scripted" and not request.get("stream")
    user = request["messages"][-1]["content"]
    assert f"【一(二)-4】{chunks['一(二)-4'].label}\n{chunks['一(二)-4'].text}" in user
    assert "【二(七)2】" in user and "企业标准总师要培育多少名?" in user
    assert "文件未规定" in request["messages"][0]["content"]


def test_streaming_yields_tokens_then_the_verified_answer(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("sse", GOOD))
    items = list(LLMAnswerer(llm_settings).stream("企业标准总师要培育多少名?", _hits(chunks, "一(二)-4"),
                                                  _text(chunks), lambda: EXTRACTIVE))
    tokens, final = items[:-1], items[-1]
    assert len(tokens) > 3 and all(isinstance(t, str) for t in tokens) and "".join(map(str, tokens)) == GOOD
    assert isinstance(final, Answer) and final.mode == "llm"
    assert final.citations[0].quote == "培育企业标准总师10名以上"
    assert script.requests[0]["stream"] is True


def test_sentence_citing_a_hallucinated_clause_is_dropped_and_reported(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", GOOD + "另外还要建设标准化服务站【二(九)1】。"))
    answer = _ask(llm_settings, chunks)
    assert answer.mode == "llm" and answer.answer == GOOD
    assert answer.dropped_citations == ("二(九)1: unknown clause",)
    assert [(d.sentence, d.reason) for d in answer.dropped_sentences] == [
        ("另外还要建设标准化服务站【二(九)1】。", "no valid citation (二(九)1: unknown clause)")]
    assert [c.clause_id for c in answer.citations] == ["一(二)-4"]


def test_fallback_lists_the_sentences_it_dropped(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", "培育企业标准总师20名以上【一(二)-4】。"))
    answer = _ask(llm_settings, chunks)
    assert (answer.mode, answer.reason, answer.answer) == ("extractive-fallback", "no_supported_sentence",
                                                           EXTRACTIVE.answer)
    assert [(d.sentence, d.reason) for d in answer.dropped_sentences] == [
        ("培育企业标准总师20名以上【一(二)-4】。", "unsupported number 20名")]


def test_only_a_hallucinated_clause_falls_back(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", "要建设标准化服务站【二(九)1】。"))
    answer = _ask(llm_settings, chunks)
    assert answer.mode == "extractive-fallback" and answer.reason == "no_valid_citation"
    assert answer.dropped_citations == ("二(九)1: unknown clause",)
    assert answer.citations == EXTRACTIVE.citations


def test_misquote_drops_the_citation_and_its_sentence(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", "文件规定「培育企业标准总师20名以上」【一(二)-4】。"))
    answer = _ask(llm_settings, chunks)
    assert answer.mode == "extractive-fallback" and answer.reason == "no_valid_citation"
    assert answer.dropped_citations == ("一(二)-4: quote not found",)
    script.replies[:] = [Reply("json", "文件规定「培育企业标准总师20名以上」【一(二)-4】。"
                                      "鼓励企业以二维码等数据载体形式公示产品执行标准【二(七)2】。")]
    answer = _ask(llm_settings, chunks)
    assert answer.mode == "llm" and "20名" not in answer.answer and "一(二)-4" not in answer.answer
    assert [c.clause_id for c in answer.citations] == ["二(七)2"]
    assert "二维码" in answer.citations[0].quote
    _assert_verified(answer, chunks)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply("status", "internal error", 500), "llm_error: 500"),
        (Reply("raw", "<html>502 Bad Gateway</html>"), "llm_garbage"),
        (Reply("raw", '{"choices": "nonsense"}'), "llm_garbage"),
        (Reply("json", ""), "llm_empty"),
        (Reply("json", "标准总师很重要。"), "no_valid_citation"),
    ],
)
def test_endpoint_failures_fall_back_with_a_reason(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk], reply: Reply, reason: str) -> None:
    script.replies.append(reply)
    answer = _ask(llm_settings, chunks)
    assert (answer.mode, answer.reason) == ("extractive-fallback", reason)
    assert answer.answer == EXTRACTIVE.answer and answer.extra["extractive_reason"] == ""


def test_hang_times_out_and_falls_back(script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("hang", GOOD))
    started = time.perf_counter()
    answer = _ask(llm_settings, chunks)
    assert time.perf_counter() - started < 5
    assert (answer.mode, answer.reason) == ("extractive-fallback", "llm_timeout")


def test_streaming_failure_ends_with_the_fallback(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("status", "down", 503))
    items = list(LLMAnswerer(llm_settings).stream("q", _hits(chunks, "一(二)-4"), _text(chunks), lambda: EXTRACTIVE))
    assert len(items) == 1 and isinstance(items[0], Answer)
    assert (items[0].mode, items[0].reason) == ("extractive-fallback", "llm_error: 503")


def test_stream_that_stalls_midway_times_out(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("sse-hang", GOOD))
    started = time.perf_counter()
    items = list(LLMAnswerer(llm_settings).stream("q", _hits(chunks, "一(二)-4"), _text(chunks), lambda: EXTRACTIVE))
    assert time.perf_counter() - started < 5
    assert [i for i in items if isinstance(i, str)] == [GOOD[0:4], GOOD[4:8], GOOD[8:12]]
    final = items[-1]
    assert isinstance(final, Answer) and (final.mode, final.reason) == ("extractive-fallback", "llm_timeout")


def test_unreachable_endpoint_falls_back(make_settings: Callable[..., Settings], chunks: dict[str, Chunk]) -> None:
    settings = make_settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout=1.0)
    answer = _ask(settings, chunks)
    assert (answer.mode, answer.reason) == ("extractive-fallback", "llm_error: connection")


def test_prompt_respects_the_token_budget_by_dropping_low_ranked_clauses(
        script: Script, llm_settings: Settings, chunks: dict[str, Chunk]) -> None:
    script.replies.append(Reply("json", GOOD))
    ranked = ("一(二)-4", "一(二)-2", "二(七)2", "二(二)2", "二(三)2", "二(四)1")
    answer = _ask(llm_settings, chunks, *ranked, prompt_budget=900)
    assert answer.mode == "llm"
    messages = script.requests[0]["messages"]
    assert sum(count_tokens(m["content"]) + 4 for m in messages) <= 900
    user = messages[-1]["content"]
    shown = [cid for cid in ranked if f"【{cid}】" in user]
    assert shown == list(ranked[: len(shown)]) and 1 <= len(shown) < len(ranked)
    assert answer.extra["over_budget"] == list(ranked[len(shown):])


def test_rewrite_followup_uses_the_model_and_survives_failure(
        script: Script, llm_settings: Settings) -> None:
    history = [{"role": "user", "content": "国家级标准化试点项目要争取几个?"},
               {"role": "assistant", "content": "争取国家级标准化试点(示范)项目1个以上【一(二)-2】"}]
    script.replies.append(Reply("json", "改写后的问题:省级标准化试点项目要新增几个?\n"))
    answerer = LLMAnswerer(llm_settings)
    assert answerer.rewrite_followup("那省级试点呢?", history) == "省级标准化试点项目要新增几个?"
    assert "国家级标准化试点项目要争取几个?" in json.dumps(script.requests[0], ensure_ascii=False)
    script.replies[0] = Reply("status", "x", 500)
    assert answerer.rewrite_followup("那省级试点呢?", history) == "那省级试点呢?"


def test_end_to_end_with_real_retrieval(script: Script, llm_settings: Settings, built_settings: Settings) -> None:
    from rag.chain import Assistant

    assistant = Assistant(built_settings.model_copy(update={"faq": False}))  # the extractive chain as fallback
    question = "企业标准总师要培育多少名?"
    retrieval = assistant.retriever.search(question)
    view = assistant.retriever.view()
    script.replies.append(Reply("json", GOOD))
    answerer = LLMAnswerer(llm_settings, retrieve=lambda q: assistant.retriever.search(q).hits)
    answer = answerer.answer(question, retrieval.hits, view.clause_text, lambda: assistant.answer(question))
    assert answer.mode == "llm" and answer.citations[0].quote in view.clause_text("sanmen:一(二)-4")
    script.replies[0] = Reply("json", "文件规定「培育企业标准总师20名以上」【一(二)-4】。")
    fallback = answerer.answer(question, retrieval.hits, view.clause_text, lambda: assistant.answer(question))
    assert fallback.mode == "extractive-fallback" and fallback.citations[0].clause_id == "一(二)-4"
    assert "10名以上" in fallback.answer and fallback.extra["extractive_reason"] == ""
    script.replies[0] = Reply("json", GOOD)
    verified, prompt = answerer.chain.invoke({"question": question, "clause_text": view.clause_text})
    assert prompt.blocks[0].clause_id == "一(二)-4"  # no hits given: the chain's own retrieve step ran
    assert [c.clause_id for c in verified.citations] == ["一(二)-4"]


# ---------------------------------------------------------------- pure verification

@pytest.fixture(scope="module")
def blocks(chunks: dict[str, Chunk]) -> list[ClauseBlock]:
    return clause_blocks(_hits(chunks, "一(二)-4", "一(二)-2", "二(七)2"), _text(chunks))


@pytest.mark.parametrize(
    ("text", "cited", "dropped"),
    [
        ("要“培育企业标准总师10名以上”。【一(二)-4】", ["一(二)-4"], []),
        ("见【二(九)1、一(二)-2】:“评选县标准创新贡献奖2项以上”。", ["一(二)-2"], ["二(九)1: unknown clause"]),
        ("根据【一(二)-2】和【一(二)-4】,“新增省级标准化试点(示范)项目2个以上”,“培育企业标准总师10名以上”。",
         ["一(二)-2", "一(二)-4"], []),
        ("「标准化发展基础更加完善……培育企业标准总师10名以上」【sanmen:一(二)-4】", ["一(二)-4"], []),
        ("「牵头制定高质量、高效益“浙江标准”1项以上」【一(二)-4】", ["一(二)-4"], []),
        ("「培育企业标准总师10名以上」【一(二)-2】", [], ["一(二)-2: quote not found"]),
        ("文件说“企业必须在2024年前完成”。鼓励企业以二维码公示【二(七)2】。", ["二(七)2"],
         ["「企业必须在2024年前完成」: quote not found"]),
    ],
)
def test_verify(blocks: list[ClauseBlock], chunks: dict[str, Chunk], text: str, cited: list[str],
                dropped: list[str]) -> None:
    result = verify(text, blocks)
    assert [c.clause_id for c in result.citations] == cited
    assert list(result.dropped) == dropped
    for c in result.citations:
        assert c.quote in chunks[c.clause_id].text and len(c.quote) >= 6
    for bad in dropped:
        assert f"【{bad.split(':')[0]}】" not in result.text
    assert "2024" not in result.text


def test_quotes_match_after_nfkc_and_whitespace() -> None:
    clause = "推进实施生态产品认证评价、减碳成效评价、生态产品总值 GEP 核算等标准。"
    assert locate("生态产品总值GEP核算", clause) is not None
    assert locate("生态产品总值ＧＥＰ核算", clause) is not None
    start, end = locate("减碳成效评价", clause) or (0, 0)
    assert clause[start:end] == "减碳成效评价"
    assert locate("减碳成效考核", clause) is None


def test_build_prompt_keeps_the_best_clause_even_when_it_alone_is_too_long(blocks: list[ClauseBlock]) -> None:
    prompt = build_prompt("问题", blocks, PROMPTS, budget=400)
    assert [b.clause_id for b in prompt.blocks] == ["一(二)-4"] and prompt.tokens <= 400
    assert "民营经济标准化活力进一步释放" in prompt.messages[-1][1] and "10名以上" not in prompt.messages[-1][1]
    assert prompt.over_budget == ("一(二)-2", "二(七)2")


def test_history_is_sent_but_dropped_before_any_clause(blocks: list[ClauseBlock]) -> None:
    history = [{"role": "user", "content": "国家级试点要争取几个?"},
               {"role": "assistant", "content": "1个以上【一(二)-2】"}]
    roomy = build_prompt("那省级呢?", blocks, PROMPTS, history, budget=3000)
    assert [m[0] for m in roomy.messages] == ["system", "user", "assistant", "user"] and len(roomy.blocks) == 3
    full = roomy.tokens
    tight = build_prompt("那省级呢?", blocks, PROMPTS, history, budget=full - 5)
    assert [m[0] for m in tight.messages] == ["system", "user"] and len(tight.blocks) == 3


def test_the_prompts_are_data_and_name_the_county_from_the_catalog() -> None:
    from rag.llm import clean_rewrite

    prompts = load_prompts(Settings().lexicon_dir, "三门县")
    assert prompts.answer_system.startswith("你是三门县") and "不得改变" in prompts.answer_system
    assert "{question}" in prompts.answer_user and "{blocks}" in prompts.answer_user
    assert '{"term", "explanation", "english"}' in prompts.interpret_system
    assert clean_rewrite("改写后的问题:省级标准化试点要新增几个?", "那省级呢?", prompts.rewrite_label) == \
        "省级标准化试点要新增几个?"
    assert clean_rewrite("", "那省级呢?", prompts.rewrite_label) == "那省级呢?"
