"""`policyqa ask --json --stdin` matches the design's output contract field by field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from index.settings import Settings
from tests.conftest import SEED

POLICYQA = str(Path(sys.executable).with_name("policyqa"))


def _run(args: list[str], settings: Settings, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"POLICYQA_DATA_DIR": str(settings.data_dir), "POLICYQA_CORPUS_DIR": str(settings.corpus_dir),
                        "POLICYQA_FAQ": "false"}  # the extractive chain itself, not a curated entry
    return subprocess.run([POLICYQA, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_ask_json_stdin_prints_one_contract_object_per_question_in_order(built_settings: Settings) -> None:
    questions = ["企业标准总师要培育多少名?", "今天天气怎么样?", "二维码"]
    result = _run(["ask", "--json", "--stdin"], built_settings, "\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    objects = [json.loads(line) for line in lines]
    assert [o["question"] for o in objects] == questions
    for obj in objects:
        assert isinstance(obj["answer"], str) and obj["answer"]
        assert isinstance(obj["refused"], bool)
        assert obj["mode"] == "extractive"
        assert isinstance(obj["latency_ms"], int | float) and obj["latency_ms"] >= 0
        assert isinstance(obj["citations"], list)
        for citation in obj["citations"]:
            assert set(citation) == {"doc_id", "clause_id", "label", "quote", "start", "end"}
            assert all(isinstance(citation[k], str) and citation[k] for k in ("doc_id", "clause_id", "label", "quote"))
            assert SEED.read_text(encoding="utf-8")[citation["start"] : citation["end"]] == citation["quote"]
        for related in obj.get("related", []):
            assert set(related) == {"doc_id", "clause_id", "label"}
    first, off_topic, _ = objects
    assert first["refused"] is False
    assert {k: v for k, v in first["citations"][0].items() if k not in ("start", "end")} == {
        "doc_id": "sanmen",
        "clause_id": "一(二)-4",
        "label": "一、(二)发展目标 ——标准化发展基础更加完善",
        "quote": "标准化教育与服务基本适应发展需要,培育企业标准总师10名以上。",
    }
    assert off_topic["refused"] is True and off_topic["citations"] == [] and off_topic["related"]


def test_ask_without_questions_is_a_usage_error(built_settings: Settings) -> None:
    result = _run(["ask", "--json"], built_settings)
    assert result.returncode == 2
    assert "no question given" in result.stderr


def test_human_readable_output_shows_citation(built_settings: Settings) -> None:
    result = _run(["ask", "企业标准总师要培育多少名?"], built_settings)
    assert result.returncode == 0, result.stderr
    assert "【一(二)-4】" in result.stdout and "10名以上" in result.stdout
