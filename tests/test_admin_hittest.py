"""管理 → 命中测试 and `policyqa explain` (issue 12): both show the candidates and scores the chain used for
the answer (its own trace), never a second search; the page needs the admin login."""

from __future__ import annotations

import json
import os
import re
import uuid
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from index.settings import Settings
from tests.api_fixtures import env_for, gradio_event, run_cli
from ui.admin_hittest import explanation_html, parse_history

pytest_plugins = ["tests.api_fixtures"]
PASSWORD = "hit-Pw-8"
QUESTION = "企业可以用二维码公示产品执行标准吗?"
HISTORY = [{"role": "user", "content": "县里要培育多少名企业标准总师?"},
           {"role": "assistant", "content": "培育企业标准总师10名以上。"}]


def traced(answer: Any) -> list[tuple[str, float | None, float | None, float | None]]:
    """(clause, fused, bm25, dense) of every candidate in the answer's own trace."""
    def r(v: float | None) -> float | None:
        return None if v is None else round(float(v), 4)

    return [(h.chunk.clause_key, r(h.score), r(h.bm25), r(h.dense)) for x in answer.trace.retrievals for h in x.hits]


def shown(data: dict[str, Any]) -> list[tuple[str, float | None, float | None, float | None]]:
    return [(c["clause"], c["fused"], c["bm25"], c["dense"]) for r in data["retrievals"] for c in r["candidates"]]


def same(got: list[Any], want: list[Any]) -> None:
    """Same clauses in the same order; scores equal (to 1e-3 across processes: float threads may differ)."""
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[1:] == pytest.approx(w[1:], abs=1e-3), g[0]


def page_rows(html: str) -> list[tuple[str, float | None, float | None, float | None]]:
    """The candidate rows as the page shows them."""
    def cell(row: str, name: str) -> str:
        found = re.search(rf'<td class="pqa-c-{name}">(.*?)</td>', row)
        return unescape(found[1]) if found else ""

    def number(text: str) -> float | None:
        return None if text == "—" else float(text)

    rows = re.findall(r'<tr class="pqa-hit-cand">(.*?)</tr>', html)
    return [(cell(r, "clause"), number(cell(r, "fused")), number(cell(r, "bm25")), number(cell(r, "dense")))
            for r in rows]


def test_the_page_and_the_cli_show_the_candidates_and_scores_of_the_answers_own_trace(
        start_server: Any, assistant: Any, built_settings: Settings, tmp_path: Path) -> None:
    want = traced(assistant.answer(QUESTION))
    assert len(want) >= 5 and want[0][0] == "sanmen:二(七)2"
    url = start_server(admin_password=SecretStr(PASSWORD))
    assert gradio_event(url, "explain", {"pqa-hit-q": QUESTION})["success"] is False  # no login, no hit test
    with httpx.Client(timeout=120) as client:
        session = uuid.uuid4().hex[:12]
        assert gradio_event(url, "login", {"pqa-password": PASSWORD}, session=session, client=client)["success"]
        done = gradio_event(url, "explain", {"pqa-hit-q": QUESTION}, session=session, client=client)
        html, data = done["output"]["data"]
        follow = gradio_event(url, "explain", {"pqa-hit-q": "那省级的呢?", "pqa-hit-history": json.dumps(HISTORY)},
                              session=session, client=client)["output"]["data"][1]
    same(shown(data), want)
    same(page_rows(html), want)
    assert data["query"]["raw"] == QUESTION and data["stage"] and data["timings_ms"]
    assert "判定 decision" in html and "耗时 timings" in html
    same(shown(follow), traced(assistant.answer("那省级的呢?", HISTORY)))
    assert follow["query"]["standalone"] != "那省级的呢?"

    env = {**os.environ, **env_for(built_settings), "POLICYQA_FAQ": "false"}
    cli = run_cli(["explain", QUESTION], env)
    assert cli.returncode == 0, cli.stderr.decode()
    same(shown(json.loads(cli.stdout)), want)
    turns = tmp_path / "turns.json"
    turns.write_text(json.dumps(HISTORY, ensure_ascii=False), encoding="utf-8")
    cli = run_cli(["explain", "那省级的呢?", "--history", str(turns)], env)
    assert cli.returncode == 0, cli.stderr.decode()
    same(shown(json.loads(cli.stdout)), shown(follow))


def test_a_refusal_shows_its_decision_and_every_text_is_escaped(assistant: Any) -> None:
    data = assistant.explain("三门县今天天气怎么样?")  # refused by the model, not by a detail kind
    assert data["answer"]["refused"] is True
    html = explanation_html(data)
    assert "拒答 refused" in html and "out_of_scope" in html
    assert any(p["decision"] and p["decision"]["answers"] is False for p in data["parts"])
    assert re.search(r"概率 probability</th><td>0\.\d{4}</td>", html)
    evil = "<img src=x onerror=alert(1)>"
    data["query"]["raw"] = data["retrievals"][0]["candidates"][0]["label"] = evil
    data["parts"][0]["sentences"] = [{"clause": evil, "sentence": evil, "score": 1.0}]
    html = explanation_html(data)
    assert "<img" not in html and html.count("&lt;img src=x onerror=alert(1)&gt;") == 4


def test_history_must_be_a_list_of_turns() -> None:
    assert parse_history("") == [] and parse_history(json.dumps(HISTORY)) == HISTORY
    for bad in ("{}", "[1]", '[{"role": "x", "content": "a"}]', "not json", json.dumps(HISTORY * 26)):
        with pytest.raises(ValueError):
            parse_history(bad)
