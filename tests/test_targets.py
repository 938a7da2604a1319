"""The targets table: exactly the opinion's quantitative targets, with clause ids and verbatim quotes."""

from __future__ import annotations

import csv
import io
import json

import pytest
import typer
from typer.testing import CliRunner

from index.build import load_corpus
from index.chunk import chunk_clauses
from index.models import Chunk
from index.settings import Settings
from rag.lexicon import load_lexicon
from rag.targets import Target, answer_targets, extract_targets, targets_csv, targets_json, targets_table
from ui.targets_cmd import targets_command

EXPECTED = [
    ("一(二)-1", "地方标准平均制定周期", "缩短至12个月以内"),
    ("一(二)-2", "共性关键技术和应用类科技计划项目形成标准研究成果的比率", "达到70%以上"),
    ("一(二)-2", "评选县标准创新贡献奖", "2项以上"),
    ("一(二)-2", "争创台州市标准创新贡献奖", "1项以上"),
    ("一(二)-2", "新增省级标准化试点(示范)项目", "2个以上"),
    ("一(二)-2", "争取国家级标准化试点(示范)项目", "1个以上"),
    ("一(二)-3", "牵头和参与制修订国际标准", "1项以上"),
    ("一(二)-4", "评定专利标准融合发展企业", "3家以上"),
    ("一(二)-4", "培育企业标准总师", "10名以上"),
    ("一(二)-4", "牵头制修订国家标准", "2项以上"),
    ("一(二)-4", "牵头制定高质量、高效益“浙江标准”", "1项以上"),
]


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    _docs, clauses = load_corpus(Settings())
    return chunk_clauses(clauses, 512)


PATTERN = load_lexicon(Settings().lexicon_dir).target  # corpus/language/patterns.toml [targets]
TEXTS = load_lexicon(Settings().lexicon_dir).texts["zh"]  # texts.toml targets_*


@pytest.fixture(scope="module")
def targets(chunks: list[Chunk]) -> list[Target]:
    return extract_targets(chunks, PATTERN)


def _clause_text(chunks: list[Chunk], clause_id: str) -> str:
    return "".join(c.text for c in chunks if c.clause_id == clause_id)


def test_exactly_the_opinions_targets_are_found(targets: list[Target]) -> None:
    assert [(t.clause_id, t.indicator, t.target) for t in targets] == EXPECTED
    assert {(t.doc_id, t.year) for t in targets} == {("sanmen", 2025)}
    assert targets[0].unit == "个月" and targets[0].comparator == "以内" and targets[0].verb == "缩短至"
    assert targets[1].unit == "%" and targets[1].value == "70"
    assert {t.unit for t in targets} == {"个月", "%", "项", "个", "家", "名"}


def test_quotes_and_spans_are_verbatim(chunks: list[Chunk], targets: list[Target]) -> None:
    for t in targets:
        text = _clause_text(chunks, t.clause_id)
        assert t.quote in text and t.clause_span in text and t.quote in t.clause_span
        assert t.value + t.unit + t.comparator in t.quote


def test_dates_phones_and_scope_counts_are_not_targets(targets: list[Target]) -> None:
    # “3个山区镇” and “9大重点领域” count what a measure covers; they set no threshold, so they are not targets.
    values = {t.value for t in targets}
    assert not values & {"2023", "11", "21", "9", "83382991", "1812", "2022", "65"}
    assert not [t for t in targets if t.clause_id in {"公告", "二(五)2", "二(三)3", "二(二)1"}]


def test_chunk_parts_are_joined_and_years_come_from_the_clause_or_its_parent() -> None:
    def chunk(clause_id: str, text: str, part: int = 1, n_parts: int = 1, order: int = 0) -> Chunk:
        return Chunk("demo", clause_id, part, n_parts, clause_id, (), text, text, order, clause_id + str(part))

    chunks = [
        chunk("一(二)", "到2030年,目标如下。", order=1),
        chunk("一(二)-1", "培育专家", 1, 2, order=2),
        chunk("一(二)-1", "5名以上,开展3次活动。", 2, 2, order=2),
        chunk("二(一)", "到2027年,建成基地不少于4个;覆盖3个乡镇,于2023年11月21日前完成。", order=3),
        chunk("二(二)", "提高比例到90%以上。", order=4),
    ]
    found = [(t.clause_id, t.indicator, t.target, t.year) for t in extract_targets(chunks, PATTERN)]
    assert found == [("一(二)-1", "培育专家", "5名以上", 2030), ("二(一)", "建成基地", "不少于4个", 2027),
                     ("二(二)", "提高比例", "到90%以上", None)]


def test_table_csv_and_json(targets: list[Target]) -> None:
    table = targets_table(targets).splitlines()
    assert table[0].split() == ["序号", "指标", "目标值", "年份", "条款"] and len(table) == 2 + len(EXPECTED)
    assert "培育企业标准总师" in table[10] and "10名以上" in table[10] and "sanmen:一(二)-4" in table[10]
    rows = list(csv.DictReader(io.StringIO(targets_csv(targets))))
    assert len(rows) == len(EXPECTED) and rows[8]["value"] == "10" and rows[8]["unit"] == "名"
    assert rows[0]["comparator"] == "以内" and rows[0]["year"] == "2025" and rows[0]["clause_id"] == "一(二)-1"
    data = json.loads(targets_json(targets))
    assert data[8]["target"] == "10名以上" and "clause_span" not in data[8]


def test_answer_lists_every_target_with_one_verbatim_citation_per_clause(
        chunks: list[Chunk], targets: list[Target]) -> None:
    text, citations = answer_targets(targets, TEXTS)
    assert text.startswith("到2025年的量化指标共11项")
    for clause_id, _indicator, target in EXPECTED:
        assert target in text and f"【{clause_id}】" in text
    assert [c.clause_id for c in citations] == ["一(二)-1", "一(二)-2", "一(二)-3", "一(二)-4"]
    for c in citations:
        assert c.quote in _clause_text(chunks, c.clause_id)
        assert all(t.quote in c.quote for t in targets if t.clause_id == c.clause_id)
    assert answer_targets([], TEXTS) == ("文件未规定量化指标。", ())


def test_cli_command_prints_from_the_index(built_settings: Settings) -> None:
    app = typer.Typer()
    app.command()(targets_command)
    runner = CliRunner()
    env = {"POLICYQA_DATA_DIR": str(built_settings.data_dir), "POLICYQA_CORPUS_DIR": str(built_settings.corpus_dir)}
    table = runner.invoke(app, [], env=env)
    assert table.exit_code == 0 and "培育企业标准总师" in table.output
    as_json = runner.invoke(app, ["--json"], env=env)
    assert as_json.exit_code == 0 and len(json.loads(as_json.output)) == len(EXPECTED)
    as_csv = runner.invoke(app, ["--csv"], env=env)
    assert as_csv.exit_code == 0 and as_csv.output.startswith("indicator,")
    assert runner.invoke(app, ["--json", "--csv"], env=env).exit_code == 2
