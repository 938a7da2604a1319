"""Property test: arbitrary text (newlines, HTML, Markdown) through every formatter never becomes markup.

The oracle: a CommonMark renderer (markdown-it, HTML allowed, as the chat's Markdown renderer treats
a message) returns each formatter's output unchanged — it is one HTML block, so no field can end
the block with a blank line and turn into Markdown — and that HTML holds only the tags and
attributes the formatters write themselves, with exactly as many links as the answer has
clauses to link, each an in-page `#pqa-open=` link.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from rag.models import Answer, Citation, Related
from ui.format import (
    answer_html,
    citation_card,
    copy_box,
    esc,
    highlight_html,
    keyword_spans,
    meta_html,
    note_html,
    partial_html,
    question_html,
    quote_spans,
    related_html,
)
from ui.i18n import STRINGS

MARKDOWN = MarkdownIt("commonmark", {"html": True})
TAGS = {"div", "span", "mark", "br", "a", "b", "ul", "li", "button"}
ATTRS = {"class", "href", "type"}
LINK = re.compile(r"#pqa-open=[A-Za-z0-9%._~-]*")
HOSTILE = ["\n\n", "\r\r", "\r\n\r\n", "\n \n", "\u2028\u2029", "\x85", "\x0b\x0c", "![x](http://127.0.0.1:9/x.png)",
           "[点我](javascript:alert(1))", "<http://127.0.0.1:9/>", "<img src=x onerror=alert(1)>", "<script>x</script>",
           "</div>", "<div>", "<!--", "-->", "<![CDATA[", "<?x", "`code`", "```", "**b**", "_i_", "# 标题", "> 引用",
           "    缩进", "- 列表", "1. 列表", "| a | b |\n|---|---|", "&amp;", "&#60;img&#62;", "&lt;", '"', "'",
           "<a href='http://127.0.0.1:9/'>x</a>", "\\", "[x]: http://127.0.0.1:9/", "\x00", "【二(七)2】", "二维码"]
text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=8).map("".join)


class Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def unknown_decl(self, data: str) -> None:
        raise AssertionError(f"a declaration reached the HTML: {data!r}")


def checked(html: str, links: int) -> Parsed:
    """The formatter's output passes Markdown untouched and holds only the app's own markup."""
    assert "\n" not in html and "\r" not in html, "a line break would let Markdown end the HTML block"
    assert MARKDOWN.render(html).rstrip("\n") == html, "Markdown changed the output: some text became Markdown"
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    for tag, attrs in parsed.tags:
        assert tag in TAGS, f"unexpected <{tag}>"
        assert set(attrs) <= ATTRS, f"unexpected attributes {set(attrs) - ATTRS} on <{tag}>"
    hrefs = [attrs["href"] or "" for tag, attrs in parsed.tags if tag == "a"]
    assert len(hrefs) == links and all(LINK.fullmatch(h) for h in hrefs), hrefs
    assert all(tag != "a" or "pqa-open" in (attrs.get("class") or "") for tag, attrs in parsed.tags)
    return parsed


def shown(parsed: Parsed) -> str:
    return "".join(parsed.text)


def plain(value: str) -> str:
    """What a reader should see of `value`: the text itself, every line break a line break."""
    return re.sub("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]", "\n", value).replace("\x00", "\ufffd")


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text)
def test_esc_and_the_one_line_formatters_show_any_text_as_text(value: str) -> None:
    assert shown(checked(f"<div>{esc(value)}</div>", 0)) == plain(value)  # esc fills elements
    for formatter in (question_html, partial_html, note_html):
        assert plain(value) in shown(checked(formatter(value), 0))


@FAST
@given(text, text, text)
def test_highlight_and_copy_box_keep_marks_and_buttons_their_own(clause: str, query: str, button: str) -> None:
    html = highlight_html(clause, keyword_spans(clause, query) + quote_spans(clause, query))
    assert shown(checked(f'<div class="pqa-clause">{html}</div>', 0)) == plain(clause)
    box = checked(copy_box(clause, button), 0)
    assert [t for t, _ in box.tags].count("button") == 1


@st.composite
def answers(draw: Any) -> Answer:
    cite = st.builds(Citation, doc_id=text, clause_id=text, label=text, quote=text)
    related = st.builds(Related, doc_id=text, clause_id=text, label=text)
    return Answer(question=draw(text), answer=draw(text), refused=draw(st.booleans()),
                  citations=tuple(draw(st.lists(cite, max_size=3))), mode=draw(st.sampled_from(
                      ["extractive", "extractive-fallback", "llm", "faq", "x<b>"])),
                  latency_ms=draw(st.floats(0, 1e6)), related=tuple(draw(st.lists(related, max_size=3))),
                  reason=draw(text), degraded=draw(st.booleans()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers(), text, text)
def test_answers_cards_and_related_lists_never_carry_foreign_markup(answer: Answer, title: str, clause: str) -> None:
    strings = STRINGS["zh"]
    titles = {c.doc_id: title for c in answer.citations}
    texts = {f"{c.doc_id}:{c.clause_id}": clause + c.quote for c in answer.citations[:1]}
    html = answer_html(answer, strings=strings, titles=titles, clause_texts=texts)
    links = len(answer.citations) or len(answer.related)
    page = shown(checked(html, links))
    assert plain(answer.answer.strip()) in page
    for c in answer.citations:
        assert plain(c.label) in page and plain(c.clause_id) in page
        card = shown(checked(citation_card(c, texts.get(f"{c.doc_id}:{c.clause_id}", ""), title, strings), 1))
        assert plain(c.quote.strip()) in card or plain(clause + c.quote) in card
    if not answer.citations and answer.related:
        assert plain(answer.related[0].label) in page
    checked(related_html(answer.related, strings), len(answer.related))
    meta = shown(checked(meta_html(answer, strings), 0))
    if answer.mode == "extractive-fallback" and answer.reason:
        assert plain(answer.reason) in meta


def test_the_probes_blank_line_image_is_text_not_an_image() -> None:
    """Issue 13 finding 6, as the probe sent it: a blank line, then Markdown image syntax."""
    for breaker in ("\n\n", "\r\r"):
        evil = f"答复{breaker}![x](http://127.0.0.1:9/x.png)"
        answer = Answer("q", evil, False, (Citation("sanmen", f"二{breaker}(七)2", f"标签{breaker}![y](http://127.0.0.1:9/y)",
                                                    evil),), "extractive-fallback", reason=evil)
        html = answer_html(answer, strings=STRINGS["zh"], titles={"sanmen": evil}, clause_texts={})
        rendered = MARKDOWN.render(html)
        assert "<img" not in rendered and "<p>" not in rendered
        checked(html, 1)
