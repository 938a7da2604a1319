"""View-model functions of the app: citation form, highlight spans, escaping, CSV, the clause browser."""

from __future__ import annotations

import csv
import io
import time

import pytest

from index.build import load_corpus
from index.catalog import load_catalog
from index.chunk import chunk_clauses
from index.settings import Settings
from rag.lexicon import load_lexicon
from rag.models import Answer, Citation, Related
from rag.retrieve import IndexView
from rag.verify import Line, lines_of
from tests.conftest import SEED
from ui.clauses import ClauseBrowser, search_fold, tree_html
from ui.format import (
    answer_html,
    citation_line,
    citation_ref,
    cited_spans,
    copy_text,
    esc,
    highlight_html,
    keyword_spans,
    merge_spans,
    open_href,
    quote_spans,
    to_csv,
)
from ui.i18n import STRINGS

TITLE = "《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》"
TITLES = {"sanmen": TITLE}
XSS = "<img src=x onerror=alert(1)>"
ZH = STRINGS["zh"]


@pytest.mark.parametrize(("label", "clause_id", "ref"), [
    ("二、(七)2.优化标准供给结构", "二(七)2", "二、(七)2"),
    ("三、(三)加强引导宣传", "三(三)", "三、(三)"),
    ("一、(一)指导思想", "一(一)", "一、(一)"),
    ("一、(二)发展目标 ——标准化发展基础更加完善", "一(二)-4", "一、(二)发展目标 ——标准化发展基础更加完善"),
    ("征求意见公告", "公告", "征求意见公告"),
    ("序言", "序言", "序言"),
    ("第3段", "¶3", "第3段"),
])
def test_citation_ref_follows_the_documents_numbering(label: str, clause_id: str, ref: str) -> None:
    assert citation_ref(label, clause_id) == ref


def test_citation_line_is_the_standard_form() -> None:
    line = citation_line(TITLE, "二、(七)2.优化标准供给结构", "二(七)2")
    assert line == "依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》二、(七)2"


def _answer(**kw: object) -> Answer:
    base: dict[str, object] = {
        "question": "企业可以用二维码公示产品执行标准吗?",
        "answer": "根据《…》:\n· 二、(七)2.优化标准供给结构【二(七)2】:"
                  "“鼓励企业以二维码等数据载体形式公示产品执行标准。”",
        "refused": False,
        "citations": (Citation("sanmen", "二(七)2", "二、(七)2.优化标准供给结构",
                               "鼓励企业以二维码等数据载体形式公示产品执行标准。"),),
        "mode": "extractive", "latency_ms": 12.0,
    }
    return Answer(**(base | kw))  # type: ignore[arg-type]


def test_copy_text_is_answer_then_one_basis_line_per_clause() -> None:
    answer = _answer(citations=_answer().citations * 2)
    text = copy_text(answer, TITLES)
    assert text.startswith("根据《…》:\n· 二、(七)2")
    assert text.endswith("\n\n依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》二、(七)2")
    assert text.count("依据") == 1


def test_quote_spans_locate_the_quote_inside_the_clause() -> None:
    clause = "优化标准供给结构。完善企业标准自我声明公开和信用监督制度,鼓励企业以二维码等数据载体形式公示产品执行标准。"
    quote = "鼓励企业以二维码等数据载体形式公示产品执行标准。"
    [(start, end)] = quote_spans(clause, quote)
    assert clause[start:end] == quote
    assert quote_spans(clause, "完全不在条文里的话。") == []
    assert quote_spans(clause, "") == []
    # an elided quote still marks the sentences it is made of
    spans = quote_spans(clause, "优化标准供给结构。…鼓励企业以二维码等数据载体形式公示产品执行标准。")
    assert [clause[s:e] for s, e in spans] == ["优化标准供给结构。", quote]


def test_keyword_spans_fold_width_and_need_every_term() -> None:
    text = "鼓励企业以二维码公示;二维码 ＡＢＣ"
    assert [text[s:e] for s, e in keyword_spans(text, "二维码")] == ["二维码", "二维码"]
    assert [text[s:e] for s, e in keyword_spans(text, "abc")] == ["ＡＢＣ"]
    assert keyword_spans(text, "二维码 区块链") == []
    assert keyword_spans(text, "   ") == []
    assert merge_spans([(5, 8), (0, 2), (1, 3), (8, 9)]) == [(0, 3), (5, 9)]


def test_search_fold_maps_traditional_to_simplified() -> None:
    text = "鼓励企业以二维码公示"
    assert [text[s:e] for s, e in keyword_spans(text, "二維碼", search_fold)] == ["二维码"]


def test_highlight_escapes_before_marking() -> None:
    text = f"前{XSS}二维码后"
    out = highlight_html(text, keyword_spans(text, "二维码"))
    assert "<img" not in out
    assert out == "前&lt;img src=x onerror=alert(1)&gt;<mark>二维码</mark>后"
    assert highlight_html("a\nb", []) == "a<br>b"


def test_answer_html_has_cards_with_marked_quote_and_open_link() -> None:
    clause = "优化标准供给结构。完善企业标准自我声明公开和信用监督制度,鼓励企业以二维码等数据载体形式公示产品执行标准。"
    html = answer_html(_answer(), strings=ZH, titles=TITLES, clause_texts={"sanmen:二(七)2": clause})
    assert "二、(七)2.优化标准供给结构" in html and "【二(七)2】" in html
    assert "<mark>鼓励企业以二维码等数据载体形式公示产品执行标准。</mark>" in html
    assert f'href="{open_href("sanmen", "二(七)2")}"' in html
    assert "模式: 条文原文" in html and "12 ms" in html
    assert "\n\n" not in html  # one Markdown HTML block
    assert f'<span class="pqa-copyline">依据{TITLE}二、(七)2</span>' in html


def test_answer_html_refusal_lists_related_clauses() -> None:
    answer = _answer(refused=True, citations=(), answer="文件没有写到这一点。",
                     related=(Related("sanmen", "二(七)2", "二、(七)2.优化标准供给结构"),))
    html = answer_html(answer, strings=ZH, titles=TITLES, clause_texts={})
    assert "你可能想看" in html and "二、(七)2.优化标准供给结构【二(七)2】" in html
    assert "pqa-card" not in html


def test_answer_html_shows_fallback_and_unlocated_quotes() -> None:
    html = answer_html(_answer(mode="extractive-fallback", reason="timeout"), strings=ZH, titles=TITLES,
                       clause_texts={})
    assert f'{ZH["fallback"]} (timeout)' in html and "模式: 条文原文" in html
    assert "模式: 通俗解读" in answer_html(_answer(mode="llm"), strings=ZH, titles=TITLES, clause_texts={})
    assert ZH["quote_missing"] in html


def test_answer_html_never_passes_markup_through() -> None:
    answer = _answer(question=XSS, answer=f"你问的是 {XSS}",
                     citations=(Citation("sanmen", "二(七)2", f"标签{XSS}", XSS),))
    html = answer_html(answer, strings=ZH, titles={"sanmen": f"《{XSS}》"}, clause_texts={"sanmen:二(七)2": XSS})
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert esc('"><script>') == "&quot;&gt;&lt;script&gt;"


def test_to_csv_quotes_and_defuses_formulas() -> None:
    text = to_csv(["a", "b", "c"], [["=HYPERLINK(1)", 'say "hi", ok', None], [-1, "line1\nline2", "@x"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "b", "c"], ["'=HYPERLINK(1)", 'say "hi", ok', ""], ["-1", "line1\nline2", "'@x"]]


# ---------------------------------------------------------------- clause browser over the real corpus


@pytest.fixture(scope="module")
def browser() -> ClauseBrowser:
    settings = Settings()
    _docs, clauses = load_corpus(settings)
    view = IndexView.build("test", chunk_clauses(clauses, 512), load_lexicon(settings.lexicon_dir))
    documents = {d.doc_id: d for d in load_catalog(settings.corpus_dir)}
    return ClauseBrowser(lambda: view, documents, "sanmen")


def test_tree_lists_every_clause_and_the_metadata_only_documents(browser: ClauseBrowser) -> None:
    html = tree_html(browser.view.chunks, browser.documents, ZH, "sanmen")
    assert html.count('class="pqa-open pqa-leaf"') == 30
    assert html.index("公告") < html.index("二(七)2") < html.index("三(三)")
    assert ZH["metadata_only"] in html and "浙委发〔2022〕11号" in html
    assert html.count("<details") == html.count("</details>")



def test_tree_is_rendered_once_per_generation_and_language(browser: ClauseBrowser) -> None:
    first = browser.tree(ZH)
    cached = browser._tree
    assert browser.tree(ZH) is first and browser._tree is cached  # a page load reuses the rendering
    english = browser.tree(STRINGS["en"])
    assert english != first and STRINGS["en"]["metadata_only"] in english
    fewer = IndexView.build("test", [c for c in browser.view.chunks if c.clause_id != "二(七)2"],
                            load_lexicon(Settings().lexicon_dir))  # a rebuilt generation, same name
    serving = [browser.view]
    switching = ClauseBrowser(lambda: serving[0], browser.documents, "sanmen")
    assert "二(七)2" in switching.tree(ZH)
    serving[0] = fewer  # the replica switched to the new generation: the next page load shows it
    assert "二(七)2" not in switching.tree(ZH)


@pytest.mark.parametrize(("text", "keys"), [
    ("二(七)2", ["sanmen:二(七)2"]),
    ("sanmen:二(七)2", ["sanmen:二(七)2"]),
    ("第二部分第七条第2项", ["sanmen:二(七)2"]),
    ("主要举措第七条", ["sanmen:二(七)1", "sanmen:二(七)2", "sanmen:二(七)3"]),
    ("保障措施第二条", ["sanmen:三(二)"]),
    ("一(二)-4", ["sanmen:一(二)-4"]),
    ("第九部分第九条", []),
])
def test_jump_resolves_clause_numbers(browser: ClauseBrowser, text: str, keys: list[str]) -> None:
    assert browser.resolve(text) == keys


def test_search_lists_clause_ids_and_marks_hits_fast(browser: ClauseBrowser) -> None:
    started = time.perf_counter()
    html = browser.search("二维码", ZH)
    assert time.perf_counter() - started < 0.2
    assert [k for k, _ in browser.search_keys("二维码")] == ["sanmen:二(七)2"]
    assert "<mark>二维码</mark>" in html and "1 条条款包含" in html
    assert ZH["no_hits"] in browser.search("区块链飞船", ZH)
    assert "<img" not in browser.search(XSS, ZH)


def test_clause_view_has_path_and_copyable_citation(browser: ClauseBrowser) -> None:
    html = browser.show("sanmen:二(七)2", ZH)
    assert "二、主要举措" in html and "(七)全面深化标准化改革创新" in html
    assert "依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》二、(七)2" in html
    assert ZH["not_found"] in browser.show("sanmen:九(九)9", ZH)


# ---------------------------------------------------------------- the cited span, not the first equal words

GOAL_KEY = "sanmen:一(二)"  # its opening and closing paragraphs both begin a sentence with 到2025年
GOAL = "到2025年"


def _goal(browser: ClauseBrowser, opening: bool) -> tuple[Citation, str, tuple[Line, ...]]:
    """A citation of 到2025年 in 一(二) by its document offsets: the opening paragraph's or the closing one's."""
    seed = SEED.read_text(encoding="utf-8")
    start = seed.index(GOAL + (",支撑高质量发展" if opening else ",具有三门特色"))
    view = browser.view
    chunks = view.by_clause[GOAL_KEY]
    citation = Citation("sanmen", "一(二)", chunks[0].label, GOAL, start, start + len(GOAL))
    return citation, view.clause_text(GOAL_KEY), lines_of((c.text, c.spans) for c in chunks)


def test_card_marks_only_the_cited_one_of_two_equal_quotes(browser: ClauseBrowser) -> None:
    citation, text, lines = _goal(browser, opening=False)
    assert text.count(GOAL) == 2
    [(start, end)] = cited_spans(citation, text, lines)
    assert text[start:end] == GOAL and start == text.rindex(GOAL)
    html = answer_html(_answer(citations=(citation,)), strings=ZH, titles=TITLES, clause_texts={GOAL_KEY: text},
                       clause_lines={GOAL_KEY: lines})
    assert html.count("<mark>") == 1 and f"<mark>{GOAL}</mark>,具有三门特色" in html
    assert f'href="{open_href("sanmen", "一(二)", span=(citation.start, citation.end))}"' in html
    first, _, _ = _goal(browser, opening=True)
    assert cited_spans(first, text, lines) == [(text.index(GOAL), text.index(GOAL) + len(GOAL))]


def test_card_without_usable_offsets_falls_back_to_the_quote_text(browser: ClauseBrowser) -> None:
    citation, text, lines = _goal(browser, opening=False)
    first = [(text.index(GOAL), text.index(GOAL) + len(GOAL))]
    assert cited_spans(Citation("sanmen", "一(二)", "", GOAL), text, lines) == first  # no offsets (-1)
    assert cited_spans(citation, text, ()) == first  # no line offsets (an index built before spans)
    shifted = Citation("sanmen", "一(二)", "", GOAL, citation.start + 1, citation.end + 1)
    assert cited_spans(shifted, text, lines) == first  # offsets whose text is not the quote are not trusted


def test_browser_opened_from_a_card_marks_exactly_the_cited_span(browser: ClauseBrowser) -> None:
    citation, _text, _lines = _goal(browser, opening=False)
    html = browser.show(f"{GOAL_KEY}@{citation.start}-{citation.end}", ZH)
    assert html.count("<mark>") == 1 and f"<mark>{GOAL}</mark>,具有三门特色" in html
    assert "依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》一、(二)" in html
    for junk in ("@x-y", "@5-3", "@0-99999999", f"@{citation.start}"):  # unusable offsets: the clause, unmarked
        shown = browser.show(GOAL_KEY + junk, ZH)
        assert "<mark>" not in shown and "pqa-clause-view" in shown


def test_a_quote_only_partly_in_the_clause_is_shown_whole_as_not_located() -> None:
    from ui.format import quote_spans

    assert quote_spans("甲乙丙。丁戊己。", "丁戊己。甲乙丙。") == []  # out of order: not this clause's sentences
    assert quote_spans("a![x](u)b", "![x](u)![x](u)") == []  # the second copy is nowhere
    assert quote_spans("甲乙丙。其他。丁戊己。", "甲乙丙。丁戊己。") == [(0, 4), (7, 11)]
