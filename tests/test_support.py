"""rag/support.py with the real corpus/language/claims.toml: every entry class, positive and negative.

Each parametrised case is one claim the extractor must find (or must not find) and whether a clause
text states it; the last tests run the sentence gate (rag.llm.ground) on real clauses of the corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from index.build import load_corpus
from index.chunk import chunk_clauses
from index.settings import Settings
from rag.lexicon_files import LexiconError, load_table
from rag.llm import ground
from rag.llm_prompt import ClauseBlock, clause_blocks
from rag.models import Hit
from rag.support import ClaimLexicon, claims, evidence, is_connective, lexicon, supported, unsupported


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    return load_table(Settings().lexicon_dir, "claims")


@pytest.fixture(scope="module")
def lex(table: dict[str, Any]) -> ClaimLexicon:
    return lexicon(table)


def found(text: str, lex: ClaimLexicon) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in claims(text, lex)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # numerals.digits / multipliers: Chinese numerals read as numbers
        ("培育企业标准总师十名以上", [("number", "十名")]),
        ("评选二十项", [("number", "二十项")]),
        ("新增两个试点", [("number", "两个")]),
        ("二维码公示", []),  # a numeral without a unit states nothing
        # numerals.articles: 一 before a measure word is an article, before an amount it is not
        ("打造一批成果,形成一个体系", []),
        ("奖励一万元", [("amount", "一万元")]),
        # numerals.ordinal_prefixes
        ("第2项和第三批", []),
        ("2项和三批", [("number", "2项"), ("number", "三批")]),
        # numerals.idioms
        ("走进千家万户,十四五期间", []),
        ("千家企业", [("number", "千家")]),
        # units: amount, percentage (with prefix and alias), number; the longest unit wins
        ("可获得100万元奖励", [("amount", "100万元")]),
        ("1 million yuan", [("amount", "1 million")]),
        ("比率达到70%以上,即百分之七十,70 percent", [("percentage", "70%"), ("percentage", "百分之七十"),
                                                   ("percentage", "70 percent")]),
        ("缩短至12个月以内", [("number", "12个月")]),
        ("10 chief engineers", [("number", "10")]),
        ("1,000万元和3.5%", [("amount", "1000万元"), ("percentage", "3.5%")]),
        # dates: year/month/day markers, separators, year_digits
        ("请于2023年11月21日前反馈", [("date", "2023年11月21日")]),
        ("到2025年", [("year", "2025年")]),
        ("用3年时间", [("number", "3年")]),
        ("11月21日前", [("date", "11月21日")]),
        ("截止2023-11-21", [("date", "2023-11-21")]),
        # phones: min_digits and separators
        ("电话:83382991", [("phone", "83382991")]),
        ("电话0576-83382991", [("phone", "0576-83382991")]),
        ("编号123456", [("number", "123456")]),
        # e-mail
        ("邮箱:790803435@qq.com", [("e-mail", "790803435@qq.com")]),
        # organisations: names, suffixes (with min_name_chars and boundaries), not_names
        ("重大事项向县委、县政府请示报告", [("organisation", "县政府"), ("organisation", "县委")]),
        ("由县市场监管局牵头", [("organisation", "县市场监管局")]),
        ("由三门县财政局负责", [("organisation", "三门县财政局")]),
        ("标准化技术委员会秘书处", [("organisation", "标准化技术委员会")]),
        ("该局负责", []),  # one character before the ending is no name
        ("加强标准布局,形成工作格局", []),
        # clause numbers written in prose
        ("根据二(七)2和一(二)-4", [("clause", "二(七)2"), ("clause", "一(二)-4")]),
        # markdown and markers are not claims
        ("### 2. **培育目标**【一(二)-4】", []),
    ],
)
def test_claims_found_in_text(text: str, expected: list[tuple[str, str]], lex: ClaimLexicon) -> None:
    assert found(text, lex) == expected


@pytest.mark.parametrize(
    ("claim_text", "source", "ok"),
    [
        ("培育10名", "培育企业标准总师10名以上", True),
        ("培育十名", "培育企业标准总师10名以上", True),
        ("培育20名", "培育企业标准总师10名以上", False),
        ("培育10项", "培育企业标准总师10名以上", False),  # same number, other unit
        ("可获得100万元", "对符合条件的重要技术标准按规定给予奖励", False),
        ("比率70%", "比率达到70%以上", True),
        ("百分之七十", "比率达到70%以上", True),
        ("到2025年", "到2025年,支撑高质量发展", True),
        ("到2027年", "到2025年,支撑高质量发展", False),
        ("11月21日前", "请于2023年11月21日前以电话反馈", True),
        ("2023年11月9日前", "请于2023年11月21日前以电话反馈", False),
        ("共10个", "牵头10个", True),
        ("约10", "牵头10个", True),  # a bare number needs the value only
        ("电话83382991", "电话:83382991", True),
        ("电话0576-83382991", "电话:83382991", False),
        ("邮箱790803435@QQ.com", "邮箱:790803435@qq.com", True),
        ("邮箱abc@qq.com", "邮箱:790803435@qq.com", False),
        ("由县市场监管局牵头", "县市场监管局牵头起草", True),
        ("由县財政局负责", "县市场监管局牵头起草", False),  # Traditional is read as Simplified
        ("向县委报告", "重大事项及时向县委、县政府请示报告", True),
        ("向市委报告", "重大事项及时向县委、县政府请示报告", False),
    ],
)
def test_claim_supported_by_clause_text(claim_text: str, source: str, ok: bool, lex: ClaimLexicon) -> None:
    ev = evidence([source], ["x"], lex)
    assert [supported(c, ev, lex) for c in claims(claim_text, lex)] == [ok]


def test_clause_reference_must_be_a_cited_clause(lex: ClaimLexicon) -> None:
    ev = evidence(["text"], ["二(七)2"], lex)
    assert unsupported("见二(七)2", ev, lex) == () and unsupported("见二(七)", ev, lex) == ()
    assert [c.text for c in unsupported("见二(九)9", ev, lex)] == ["二(九)9"]


def test_every_unit_word_makes_a_claim_and_other_words_do_not(table: dict[str, Any], lex: ClaimLexicon) -> None:
    for unit_class in table["units"]:
        for word in unit_class["words"]:
            sep = " " if word.isascii() and word.isalpha() else ""
            [claim] = claims(f"共37{sep}{word}。", lex)
            assert claim.key[2] == unit_class.get("aliases", {}).get(word, word), word
    assert [c.key for c in claims("共37张", lex)] == [("n", "37", "")]


def test_every_organisation_entry(table: dict[str, Any], lex: ClaimLexicon) -> None:
    orgs = table["organisations"]
    for name in orgs["names"]:
        assert found(f"报告{name}。", lex) == [("organisation", name)]
    for suffix in orgs["suffixes"]:
        assert found(f"由某某{suffix}负责。", lex) == [("organisation", f"某某{suffix}")], suffix
        assert found(f"由某{suffix}负责。", lex) == [], suffix  # below min_name_chars
    for word in orgs["not_names"]:
        assert found(f"优化{word}。", lex) == [], word
    long_name = "甲" * 30 + "局"
    assert found(long_name, lex)[0][1] == "甲" * orgs["max_name_chars"] + "局"
    for ch in orgs["boundaries"]:
        assert found(f"甲乙{ch}某某局", lex) == [("organisation", "某某局")], ch


def test_every_idiom_and_article(table: dict[str, Any], lex: ClaimLexicon) -> None:
    for idiom in table["numerals"]["idioms"]:
        assert found(f"{idiom}期", lex) == [], idiom
    for article in table["numerals"]["articles"]:
        assert found(f"{article}个", lex) == [] and found(f"{article}元", lex) == [("amount", f"{article}元")]


@pytest.mark.parametrize(
    ("sentence", "connective"),
    [("具体如下:", True), ("综上所述,", True), ("**培育目标**", True),
     ("文件强调标准化工作的重要性并要求各部门共同推动", False), ("共2项:", False)],
)
def test_connectives_are_short_and_state_nothing(sentence: str, connective: bool, lex: ClaimLexicon) -> None:
    assert is_connective(sentence, lex) is connective


def test_malformed_table_is_a_clear_error(table: dict[str, Any]) -> None:
    with pytest.raises(LexiconError, match=r"claims\.toml"):
        lexicon({k: v for k, v in table.items() if k != "dates"})


# ---------------------------------------------------------------- the sentence gate on real clauses


@pytest.fixture(scope="module")
def blocks() -> list[ClauseBlock]:
    _docs, clauses = load_corpus(Settings())
    chunks = {c.clause_id: c for c in chunk_clauses(clauses, 512)}
    text: Callable[[str], str] = lambda key: chunks[key.split(":", 1)[1]].text  # noqa: E731
    return clause_blocks([Hit(chunks[i], 1.0) for i in ("一(二)-4", "三(二)", "公告")], text)


MOTIVATING = ("根据【二(九)9】，企业主导制定国际标准可获得100万元奖励。另外，文件要求“培育企业标准总师10名以上”"
              "【一(二)-4】，并“完善企业标准总师制度”【三(二)】。")


def test_gate_drops_the_invented_amount_and_keeps_the_supported_sentence(
        blocks: list[ClauseBlock], lex: ClaimLexicon) -> None:
    result = ground(MOTIVATING, blocks, lex)
    assert result.text == "另外，文件要求“培育企业标准总师10名以上”【一(二)-4】，并“完善企业标准总师制度”【三(二)】。"
    assert [(d.sentence, d.reason) for d in result.dropped_sentences] == [
        ("根据【二(九)9】，企业主导制定国际标准可获得100万元奖励。",
         "no valid citation (二(九)9: unknown clause); unsupported amount 100万元")]
    assert [c.clause_id for c in result.citations] == ["一(二)-4", "三(二)"]
    assert result.dropped == ("二(九)9: unknown clause",)


def test_gate_checks_claims_against_the_clause_the_sentence_cites(
        blocks: list[ClauseBlock], lex: ClaimLexicon) -> None:
    text = ("具体如下:\n- 培育企业标准总师10名以上【一(二)-4】\n- 意见请于2023年11月21日前反馈【三(二)】\n"
            "- 意见请于2023年11月21日前反馈至县市场监管局,电话83382991【公告】\n- 由县财政局负责【三(二)】")
    result = ground(text, blocks, lex)
    assert result.text == ("具体如下:\n- 培育企业标准总师10名以上【一(二)-4】\n"
                           "- 意见请于2023年11月21日前反馈至县市场监管局,电话83382991【公告】")
    assert [d.reason for d in result.dropped_sentences] == [
        "unsupported date 2023年11月21日", "unsupported organisation 县财政局"]
