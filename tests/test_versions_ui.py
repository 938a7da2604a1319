"""Document versions in the UI (issue 12): `supersedes` in the catalog, 条文对照, and the `versions` wiring of
POST /api/ask and the chat toggle. The “final” version is built from the draft inside the tests (numbers
edited, a clause moved, a clause added); it is never committed as a real document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.catalog import CorpusError, current_version, load_catalog
from index.documents import Meta, add
from index.parse import parse_document
from index.settings import Settings
from rag.chain import Assistant
from rag.models import Answer, Citation
from tests.api_fixtures import gradio_event
from ui.compare import Side, compare, compare_html, diff_html
from ui.format import answer_html
from ui.i18n import STRINGS
from ui.reindex import reindex
from ui.versions import takes_versions

pytest_plugins = ["tests.api_fixtures"]
XSS = "<img src=x onerror=alert(1)>"
TITLE = "关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)"
MOVED = "3.强化标准实施和监督。"


def final_version(draft: str) -> str:
    """The draft as a 正式稿 might read: no consultation notice, 10→20 chief engineers, 二(七)3 moved to be
    二(六)3, and a new 三(四)."""
    lines = draft.split("\n")
    lines = lines[lines.index(TITLE):]
    lines[0] = TITLE.replace("(征求意见稿)", "")
    moved = next(i for i, line in enumerate(lines) if line.startswith(MOVED))
    item = lines.pop(moved)
    after = next(i for i, line in enumerate(lines) if line.startswith("2.加强贸易便利化标准支撑"))
    lines.insert(after + 1, item)
    section = next(i for i, line in enumerate(lines) if line.startswith("(三)加强引导宣传"))
    lines.insert(section + 1, "(四)加强督查考核。将标准化工作纳入年度考核,每年开展1次专项督查。")
    return "\n".join(lines).replace("培育企业标准总师10名以上", "培育企业标准总师20名以上")


def _sides(doc_id: str, text: str) -> list[Side]:
    return [Side(c.clause_id, c.label, c.text) for c in parse_document(doc_id, text)]


def test_the_catalog_validates_supersedes(corpus_copy: Path) -> None:
    catalog = corpus_copy / "catalog.toml"
    original = catalog.read_text(encoding="utf-8")
    entry = '\n[[document]]\ndoc_id = "{id}"\ntitle = "正式稿"\nsupersedes = "{old}"\n'
    cases = [(entry.format(id="final", old="final"), "supersedes itself"),
             (entry.format(id="final", old="nowhere"), "not in the catalog"),
             (entry.format(id="a-1", old="sanmen") + entry.format(id="b-1", old="sanmen"), "superseded twice"),
             (entry.format(id="a-1", old="b-1") + entry.format(id="b-1", old="a-1"), "cycle"),
             ('\n[[document]]\ndoc_id = "final"\ntitle = "t"\nsupersedes = ["sanmen"]\n', "must be one doc_id")]
    for extra, message in cases:
        catalog.write_text(original + extra, encoding="utf-8")
        with pytest.raises(CorpusError, match=message):
            load_catalog(corpus_copy)
    catalog.write_text(original + entry.format(id="final", old="sanmen"), encoding="utf-8")
    docs = load_catalog(corpus_copy)
    assert next(d for d in docs if d.doc_id == "final").supersedes == "sanmen"
    assert current_version(docs, "sanmen") == "final" and current_version(docs, "final") == "final"


def test_compare_pairs_clauses_by_id_and_marks_edited_numbers_moved_and_added_clauses(seed_text: str) -> None:
    rows = compare(_sides("sanmen", seed_text), _sides("final", final_version(seed_text)))
    kinds = {(r.old.clause_id if r.old else None, r.new.clause_id if r.new else None): r.kind for r in rows}
    changed = {k: v for k, v in kinds.items() if v != "same"}
    assert changed == {("公告", None): "removed", ("一(二)-4", "一(二)-4"): "changed",
                       ("二(七)3", "二(六)3"): "moved", (None, "三(四)"): "added"}
    assert len(rows) == 31 and rows[0].kind == "removed"  # the notice stays where it was
    old_html, new_html = diff_html(*[s.text for s in (rows[7].old, rows[7].new) if s])
    assert "总师<del>1</del>0名以上" in old_html and "总师<ins>2</ins>0名以上" in new_html
    page = compare_html(rows, "《征求意见稿》", "《正式稿》", STRINGS["zh"])
    assert "1 条修改 · 1 条新增 · 1 条删除 · 1 条移动 · 27 条未变" in page
    only = compare_html(rows, "a", "b", STRINGS["zh"], only_changed=True)
    assert only.count('<tr class="pqa-cmp-row') == 4


def test_compare_escapes_every_text_it_shows() -> None:
    rows = compare([Side("一(一)", XSS, f"旧{XSS}")], [Side("一(一)", XSS, f"新{XSS}x"), Side(XSS, XSS, XSS)])
    page = compare_html(rows, XSS, XSS, STRINGS["en"])
    assert "<img" not in page and page.count("&lt;img src=x onerror=alert(1)&gt;") >= 6
    assert re.sub(r"<[^>]+>", "", page).count("onerror") >= 6  # shown as text


def test_answer_cards_show_how_the_earlier_version_worded_a_cited_clause() -> None:
    cite = Citation("final", "一(二)-4", "一、(二)发展目标 ——标准化发展基础更加完善", "培育企业标准总师20名以上")
    earlier = [{"doc_id": "sanmen", "clause_id": "一(二)-4", "label": "…", "quote": "培育企业标准总师10名以上",
                "status": "征求意见稿"}, {"doc_id": "sanmen", "clause_id": XSS, "quote": XSS, "status": XSS}, "junk"]
    answer = Answer("q", "答", False, (cite,), "extractive", extra={"earlier_versions": earlier})
    html = answer_html(answer, strings=STRINGS["zh"], titles={}, clause_texts={})
    assert "征求意见稿中为:</span> <span class=\"pqa-id\">【一(二)-4】</span>“培育企业标准总师10名以上”" in html
    assert "<img" not in html and "&lt;img" in html
    english = answer_html(answer, strings=STRINGS["en"], titles={}, clause_texts={})
    assert "In the 征求意见稿:" in english


class VersionsRecorder:
    """The session's real Assistant behind rag's versions signature, recording what the UI and API pass."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def answer(self, question: str, history: Any = None, mode: str | None = None, versions: str = "current") -> Answer:
        self.calls.append(versions)
        return self.inner.answer(question, history, mode)


def test_api_and_chat_pass_versions_and_refuse_other_values(start_server: Any, assistant: Any) -> None:
    bot = VersionsRecorder(assistant)
    url = start_server(bot=bot)
    question = "企业标准总师要培育多少名?"
    with httpx.Client(timeout=60) as client:
        assert client.post(f"{url}/api/ask", json={"question": question}).status_code == 200
        assert client.post(f"{url}/api/ask", json={"question": question, "versions": "all"}).status_code == 200
        bad = client.post(f"{url}/api/ask", json={"question": question, "versions": "draft"})
    assert bad.status_code == 422 and "versions" in bad.json()["error"]["message"]
    assert bot.calls == ["current", "all"]  # “current” is the default and not passed; bad values never arrive
    chat = gradio_event(url, "chat", {"pqa-question": question, "pqa-versions": True})
    assert chat["success"] is True and bot.calls[-1] == "all"
    gradio_event(url, "chat", {"pqa-question": question})
    assert bot.calls[-1] == "current"
    from gradio_client import Client

    messages, _ = Client(url + "/", verbose=False).predict(question, "extractive", "zh", api_name="/chat")
    assert "10名以上" in str(messages[-1]["content"]) and bot.calls[-1] == "current"  # three arguments still work


@pytest.mark.slow
@pytest.mark.skipif(not takes_versions(Assistant), reason="rag's Assistant.answer(..., versions=) has not landed yet")
def test_answers_cite_the_current_version_and_versions_all_quotes_the_draft(office_settings: Settings,
                                                                           seed_text: str) -> None:
    """The contract with rag, end to end on a real index: runs as soon as rag's versions land."""
    add(Path(office_settings.corpus_dir), Meta("sanmen-final", TITLE.replace("(征求意见稿)", ""), status="正式稿",
                                               supersedes="sanmen"), "final.txt", final_version(seed_text).encode())
    assert reindex(office_settings)[0]
    bot = Assistant(office_settings)
    question = "企业标准总师要培育多少名?"
    current = bot.answer(question)
    assert [c.doc_id for c in current.citations][:1] == ["sanmen-final"] and "20名以上" in current.answer
    everything = bot.answer(question, versions="all")  # type: ignore[call-arg]
    earlier = everything.extra["earlier_versions"]
    assert any(e["doc_id"] == "sanmen" and "10名以上" in e["quote"] and e["status"] == "征求意见稿" for e in earlier)
