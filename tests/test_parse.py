"""The clause parser follows the document's own numbering (design.md, “Clause ids”)."""

from __future__ import annotations

import re

from index.parse import parse_document, split_preamble

DESIGN_IDS = [
    "公告", "序言", "一(一)", "一(二)", "一(二)-1", "一(二)-2", "一(二)-3", "一(二)-4",
    "二(一)1", "二(一)2", "二(一)3", "二(二)1", "二(二)2", "二(二)3", "二(三)1", "二(三)2", "二(三)3",
    "二(四)1", "二(四)2", "二(五)1", "二(五)2", "二(五)3", "二(六)1", "二(六)2",
    "二(七)1", "二(七)2", "二(七)3", "三(一)", "三(二)", "三(三)",
]
NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.．]|——)", re.M)


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_seed_parses_into_exactly_the_30_design_clauses_in_order(seed_text: str) -> None:
    clauses = parse_document("sanmen", seed_text)
    assert [c.clause_id for c in clauses] == DESIGN_IDS
    assert [c.order for c in clauses] == list(range(30))
    assert all(c.doc_id == "sanmen" for c in clauses)


def test_clause_texts_and_headings_cover_every_character_except_numbering(seed_text: str) -> None:
    clauses = parse_document("sanmen", seed_text)
    pieces: list[str] = []
    seen_headings: set[str] = set()
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    _notice, title, _opening = split_preamble(lines[: lines.index("一、总体要求")])
    for clause in clauses:
        if clause.clause_id == "序言":
            pieces.append(title or "")
        for heading in clause.heading_path:
            if heading not in seen_headings and not heading.startswith("(二)发展目标"):
                seen_headings.add(heading)
                pieces.append(heading)
        pieces.append(clause.text)
    # heading-only lines (“(一)推动标准化与科技创新互动融合。”) enter the heading path without their 。
    lines = [line.rstrip("。") if line.rstrip("。") in seen_headings else line for line in lines]
    expected = _bare(NUMBERING.sub("", "\n".join(lines)))
    got = _bare(NUMBERING.sub("", "\n".join(pieces)))
    assert sorted(got) == sorted(expected)  # same characters, same counts
    assert len(got) == len(expected)


def test_clause_text_is_verbatim_and_keeps_goal_closing_paragraph(seed_text: str) -> None:
    clauses = {c.clause_id: c for c in parse_document("sanmen", seed_text)}
    for clause in clauses.values():
        for paragraph in clause.text.split("\n"):
            assert paragraph in seed_text
    assert clauses["一(二)"].text.endswith("成为助力高技术创新、促进高水平开放、引领高质量发展的重要力量。")
    assert "培育企业标准总师10名以上" in clauses["一(二)-4"].text
    assert clauses["公告"].text.startswith("为贯彻落实党中央") and "2023年11月9日" in clauses["公告"].text
    assert clauses["序言"].text.startswith("标准是经济活动和社会发展的技术支撑")


def test_labels_and_heading_paths_read_like_the_document(seed_text: str) -> None:
    clauses = {c.clause_id: c for c in parse_document("sanmen", seed_text)}
    assert clauses["二(七)2"].label == "二、(七)2.优化标准供给结构"
    assert clauses["二(七)2"].heading_path == ("二、主要举措", "(七)全面深化标准化改革创新")
    assert clauses["一(二)-4"].label == "一、(二)发展目标 ——标准化发展基础更加完善"
    assert clauses["三(三)"].label == "三、(三)加强引导宣传"
    assert clauses["二(四)1"].label == "二、(四)1.统筹推动全面低碳转型"  # "1. " with a space


FIXTURE_DOC = """\
关于推进某市质量强市建设的实施方案(测试夹具,虚构)
为提升质量水平,制定本方案。
一、工作目标
(一)总体目标。到2026年,质量水平明显提升。
——制造业质量提升。产品合格率达到95%以上。
——服务业质量提升。顾客满意度达到85分以上。
二、重点任务
（一）强化质量基础。
1．完善计量体系。建设计量中心1个。
2.加强检验检测。新建检测平台2个。
(二)优化质量服务。推行首席质量官制度。
"""


def test_other_document_in_the_same_style_parses_the_same_way() -> None:
    clauses = parse_document("fixture", FIXTURE_DOC)
    assert [c.clause_id for c in clauses] == [
        "序言", "一(一)", "一(一)-1", "一(一)-2", "二(一)1", "二(一)2", "二(二)",
    ]
    by_id = {c.clause_id: c for c in clauses}
    assert by_id["二(一)1"].text == "完善计量体系。建设计量中心1个。"
    assert by_id["二(一)1"].label == "二、(一)1.完善计量体系"
    assert by_id["一(一)-2"].label == "一、(一)总体目标 ——服务业质量提升"


def test_text_without_structure_falls_back_to_paragraph_clauses() -> None:
    text = "第一段文字,没有编号。\n\n第二段文字。\n第三段。"
    clauses = parse_document("plain", text)
    assert [c.clause_id for c in clauses] == ["¶1", "¶2", "¶3"]
    assert clauses[1].text == "第二段文字。"
    assert clauses[1].label == "第2段"
