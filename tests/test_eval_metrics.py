"""Metrics, gold loading, gate and clause spans on small hand-computed examples (no index needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.baselines import clause_spans, overlaps
from eval.gate import Thresholds, ThresholdsError, check, load_thresholds, suggest
from eval.gold import GoldError, load_gold, split_alternatives
from eval.metrics import (
    Outcome,
    aggregate,
    citation_hit,
    citation_precision,
    clause_recall,
    dedupe,
    facts_present,
    fold,
    hit_at,
    key_matches,
    mean,
    ndcg_at,
    percentile,
    quotes_verbatim,
    recall_at,
    reciprocal_rank,
    satisfies,
    score,
)
from eval.runner import EvalRun, SystemResult
from index.models import Clause

# --- the design's matching rule and alternatives ---


@pytest.mark.parametrize(
    ("key", "gold", "expected"),
    [
        ("sanmen:一(二)-2", "sanmen:一(二)", True),  # a sub-item satisfies its parent
        ("sanmen:一(二)", "sanmen:一(二)", True),
        ("sanmen:二(一)", "sanmen:二(一)1", False),  # a parent does not satisfy an item
        ("sanmen:二(一)1", "sanmen:二(一)", False),  # numbered items are not "-" sub-items
        ("sanmen:一(二)-12", "sanmen:一(二)-1", False),
        ("sanmen:二(七)2", "sanmen:二(七)2", True),
        ("other:一(二)", "sanmen:一(二)", False),  # same clause id, other document
    ],
)
def test_key_matches_follows_design_rule(key: str, gold: str, expected: bool) -> None:
    assert key_matches(key, gold) is expected


def test_alternatives_any_satisfies() -> None:
    element = split_alternatives("sanmen:序言|sanmen:公告")
    assert element == ("sanmen:序言", "sanmen:公告")
    assert satisfies("sanmen:公告", element)
    assert not satisfies("sanmen:一(一)", element)


def test_dedupe_keeps_best_rank() -> None:
    assert dedupe(["s:A", "s:B", "s:A", "s:C", "s:B"]) == ["s:A", "s:B", "s:C"]


# --- retrieval ---

RANKED = ["s:A", "s:B-1", "s:C", "s:B-2"]
GOLD = [("s:B",), ("s:C",)]


def test_hit_at() -> None:
    assert hit_at(RANKED, GOLD, 1) == 0.0
    assert hit_at(RANKED, GOLD, 2) == 1.0
    assert hit_at(["s:X"], GOLD, 5) == 0.0


def test_recall_at() -> None:
    assert recall_at(RANKED, GOLD, 1) == 0.0
    assert recall_at(RANKED, GOLD, 2) == 0.5
    assert recall_at(RANKED, GOLD, 3) == 1.0
    assert recall_at(RANKED, [("s:Z", "s:C"), ("s:Y",)], 5) == 0.5


def test_mrr() -> None:
    assert reciprocal_rank(RANKED, GOLD, 5) == 0.5
    assert reciprocal_rank(RANKED, [("s:C",)], 5) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, [("s:C",)], 2) == 0.0  # outside the top k
    assert reciprocal_rank(["s:A"], GOLD, 5) == 0.0


def test_ndcg_credits_each_gold_element_once() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(4)  # B-1 at rank 2, C at rank 3; B-2 earns nothing
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(RANKED, GOLD, 3) == pytest.approx(dcg / ideal)  # 0.6934
    assert ndcg_at(RANKED, GOLD, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at(RANKED, GOLD, 3) == pytest.approx(0.693426, abs=1e-6)
    assert ndcg_at(["s:B", "s:C"], GOLD, 5) == pytest.approx(1.0)
    assert ndcg_at(["s:X", "s:C"], [("s:C",)], 5) == pytest.approx(1 / math.log2(3))


# --- answers ---

CITED = ["sanmen:一(二)-4", "sanmen:三(二)", "sanmen:二(七)1"]
CITED_GOLD = [("sanmen:一(二)",), ("sanmen:三(三)", "sanmen:三(二)"), ("sanmen:公告",)]


def test_citation_hit_recall_precision() -> None:
    assert citation_hit(CITED, CITED_GOLD) == 1.0
    assert clause_recall(CITED, CITED_GOLD) == pytest.approx(2 / 3)
    assert citation_precision(CITED, CITED_GOLD) == pytest.approx(2 / 3)
    assert citation_precision([], CITED_GOLD) is None
    assert citation_hit(["sanmen:二(一)"], [("sanmen:二(一)1",)]) == 0.0


def test_facts_nfkc_whitespace_and_alternatives() -> None:
    answer = "培育企业标准总师１０ 名以上"  # full-width digits, a space
    assert fold(answer) == "培育企业标准总师10名以上"
    assert facts_present(answer, [("10名",)]) == 1.0
    assert facts_present(answer, [("十名", "10名")]) == 1.0
    assert facts_present(answer, [("10名",), ("2项以上",)]) == 0.0
    assert facts_present(answer, []) is None


def test_quotes_verbatim() -> None:
    texts = {"s:A": "第一句。第二句,有逗号。", "s:B": "别的条款。"}
    assert quotes_verbatim([("s:A", "第二句,有逗号")], texts) == 1.0
    assert quotes_verbatim([("s:A", "第二句"), ("s:B", "第一句")], texts) == 0.0  # wrong clause
    assert quotes_verbatim([("s:A", "")], texts) == 0.0
    assert quotes_verbatim([], texts) is None


def test_percentile_and_mean() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None


def _outcome(refused: bool = False, cited: tuple[str, ...] = (), answer: str = "") -> Outcome:
    return Outcome(("s:A", "s:B"), answer, refused, tuple((k, "q") for k in cited), 10.0)


def test_score_refused_answerable_question() -> None:
    values = score(True, [("s:B",)], [("x",)], _outcome(refused=True, answer="x"), 5, {})
    assert values["false_refusal_rate"] == 1.0
    assert values["fact_accuracy"] == 0.0  # a refusal's text never counts as the answer
    assert values["citation_hit"] == 0.0
    assert values["citation_precision"] is None
    assert values["hit@1"] == 0.0 and values["hit@3"] == 1.0 and values["mrr"] == 0.5
    assert values["refusal_accuracy"] is None


def test_score_unanswerable_question() -> None:
    refused = score(False, [], [], _outcome(refused=True), 5, {})
    answered = score(False, [], [], _outcome(cited=("s:A",)), 5, {"s:A": "q"})
    assert refused["refusal_accuracy"] == 1.0 and answered["refusal_accuracy"] == 0.0
    assert answered["quote_verbatim"] == 1.0  # quotes are checked on every answer that cites
    assert refused["hit@5"] is None and refused["false_refusal_rate"] is None


def test_aggregate_skips_questions_a_metric_does_not_apply_to() -> None:
    rows = [score(True, [("s:A",)], [("x",)], _outcome(cited=("s:A",), answer="x"), 5, {"s:A": "q"}),
            score(False, [], [], _outcome(refused=True), 5, {})]
    result = aggregate(rows, [10.0, 30.0], 5)
    assert result["fact_accuracy"] == 1.0 and result["refusal_accuracy"] == 1.0
    assert result["false_refusal_rate"] == 0.0
    assert result["latency_p50_ms"] == 20.0 and result["n"] == 2.0


# --- gold loading ---

GOOD = {"id": "g1", "question": "企业标准总师要培育多少名?", "answerable": True,
        "clauses": ["sanmen:一(二)-4|sanmen:三(二)"], "must_include": ["10名|十名"], "tags": ["numeric"]}


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                              for r in rows) + "\n", encoding="utf-8")
    return path


def test_load_gold_parses_alternatives_and_skips_blank_lines(tmp_path: Path) -> None:
    history = [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}]
    items = load_gold(_write(tmp_path / "g.jsonl", [GOOD, "", {**GOOD, "id": "g2", "history": history}]))
    assert [i.id for i in items] == ["g1", "g2"]
    assert items[0].clauses == (("sanmen:一(二)-4", "sanmen:三(二)"),)
    assert items[0].must_include == (("10名", "十名"),)
    assert items[1].history[1]["content"] == "答" and items[1].line == 3


def test_an_alternative_without_a_doc_id_is_of_the_document_before_it(tmp_path: Path) -> None:
    row = {**GOOD, "clauses": ["sanmen:序言|公告", "sanmen:一(二)-1|other:一(一)|三(一)"]}
    (item,) = load_gold(_write(tmp_path / "g.jsonl", [row]))
    assert item.clauses == (("sanmen:序言", "sanmen:公告"), ("sanmen:一(二)-1", "other:一(一)", "other:三(一)"))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2"),
        ({**GOOD, "id": "g2", "answerable": "yes"}, "'answerable'"),
        ({**GOOD, "id": "g2", "clauses": ["一(二)-4"]}, "doc_id:clause_id"),
        ({**GOOD, "id": "g2", "clauses": ["公告|sanmen:序言"]}, "doc_id:clause_id"),
        ({**GOOD, "id": "g2", "clauses": "sanmen:公告"}, "'clauses'"),
        ({**GOOD, "id": "g2", "question": ""}, "'question'"),
        ({**GOOD, "id": "g2", "must_include": ["|"]}, "'must_include'"),
        ({**GOOD, "id": "g2", "history": [{"content": "x"}]}, "'history'"),
        ({**GOOD}, "already used on line 1"),
        ([1, 2], "JSON object"),
    ],
)
def test_load_gold_errors_name_the_line(tmp_path: Path, bad: object, message: str) -> None:
    path = _write(tmp_path / "g.jsonl", [GOOD, bad])
    with pytest.raises(GoldError) as err:
        load_gold(path)
    assert message in str(err.value) and "line 2" in str(err.value) and str(path) in str(err.value)


def test_load_gold_rejects_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="no questions"):
        load_gold(_write(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(GoldError, match="cannot read"):
        load_gold(tmp_path / "missing.jsonl")


def test_repository_gold_files_load() -> None:
    root = Path(__file__).resolve().parents[1] / "eval"
    assert len(load_gold(root / "gold.jsonl")) >= 120
    assert len(load_gold(root / "gold_test.jsonl")) >= 40


# --- gate ---


def _run(overall: dict[str, float | None]) -> EvalRun:
    system = SystemResult("policyqa", "", overall, {}, ())
    return EvalRun({"mode": "extractive", "k": 5}, (system,))


def test_gate_lists_every_metric_below_its_floor() -> None:
    limits = Thresholds({"hit@5": 0.9, "fact_accuracy": 0.5, "mrr": 0.1}, {"false_refusal_rate": 0.2})
    problems = check(_run({"hit@5": 0.8, "fact_accuracy": 0.5, "mrr": None,
                           "false_refusal_rate": 0.3}), limits)
    assert len(problems) == 3
    assert any(p.startswith("hit@5 = 0.800 is below its floor 0.900") for p in problems)
    assert any("mrr = not computed" in p for p in problems)
    assert any("false_refusal_rate = 0.300 is above its ceiling" in p for p in problems)
    assert check(_run({"hit@5": 0.95, "fact_accuracy": 0.5, "mrr": 0.2,
                       "false_refusal_rate": 0.1}), limits) == []


def test_gate_refuses_other_mode_or_k() -> None:
    run = EvalRun({"mode": "llm", "k": 5}, (SystemResult("policyqa", "", {"hit@5": 1.0}, {}, ()),))
    assert "thresholds are for mode=extractive" in check(run, Thresholds({"hit@5": 0.5}))[0]


def test_suggest_floors_sit_inside_the_run() -> None:
    run = _run({"hit@5": 0.9846, "quote_verbatim": 1.0, "false_refusal_rate": 0.0077})
    text = suggest(run, Thresholds({"hit@5": 0.5, "quote_verbatim": 1.0}, {"false_refusal_rate": 0.5}))
    assert '"hit@5" = 0.95' in text and '"quote_verbatim" = 1.00' in text
    assert '"false_refusal_rate" = 0.04' in text


def test_repository_thresholds_load(tmp_path: Path) -> None:
    limits = load_thresholds()
    assert limits.floors["hit@5"] > 0 and limits.mode == "extractive" and limits.k == 5
    bad = tmp_path / "t.toml"
    bad.write_text('[floors]\n"hit@5" = "high"\n', encoding="utf-8")
    with pytest.raises(ThresholdsError, match="numbers"):
        load_thresholds(bad)


# --- the naive baseline's clause spans ---


def _clause(cid: str, text: str, order: int) -> Clause:
    return Clause("d", cid, (), cid, text, order)


def test_clause_spans_handle_split_clauses_and_overlaps() -> None:
    raw = "标题\n目标。开头段。\n——甲项。\n——乙项。\n结尾段。\n二、举措\n1.举措一。"
    clauses = [_clause("一(二)", "目标。开头段。\n结尾段。", 0), _clause("一(二)-1", "甲项。", 1),
               _clause("一(二)-2", "乙项。", 2), _clause("二(一)1", "举措一。", 3)]
    spans = clause_spans(raw, clauses)
    assert [(k, raw[a:b]) for k, a, b in spans] == [
        ("d:一(二)", "目标。开头段。"), ("d:一(二)", "结尾段。"), ("d:一(二)-1", "甲项。"),
        ("d:一(二)-2", "乙项。"), ("d:二(一)1", "举措一。")]
    start = raw.index("段。")  # a chunk from inside 一(二)'s first paragraph to inside 结尾段
    cited = overlaps(start, raw.index("尾段"), spans, raw)
    assert [k for k, _ in cited] == ["d:一(二)", "d:一(二)-1", "d:一(二)-2"]
    assert cited[0][1] == "段。" and all(q in raw for _, q in cited)
