"""The app in real Chromium (Debian `chromium`, never `playwright install`), started on free ports here.

Screenshots of every view go to artifacts/screenshots/ (git-ignored, kept by CI); with
POLICYQA_UPDATE_DOCS=1 the per-tab ones are also copied to docs/ for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from index.settings import Settings
from rag.models import Answer, Citation
from tests.api_fixtures import live_server
from tests.conftest import CHROMIUM

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "e2e-Secret!"
XSS = "<img src=x onerror=alert(1)>"
DISLIKE = "#pqa-chat button[aria-label='踩'], #pqa-chat button[aria-label='Dislike']"

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run)
    pytest.skip("Debian chromium is not installed (apt-get install chromium fonts-wqy-zenhei)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


class EchoAssistant:
    """The real assistant, but every answer repeats the question (and cites it) so markup would reach the page."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.retriever, self.documents = inner, inner.retriever, inner.documents

    def answer(self, question: str, history: Any = None) -> Answer:
        real = self.inner.answer(question, history)
        cite = Citation("sanmen", "二(七)2", f"二、(七)2.优化标准供给结构 {question}", question)
        return replace(real, answer=f"你问的是:{question}", refused=False, citations=(cite,))




@pytest.fixture(scope="module")
def admin_settings(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    corpus = tmp_path_factory.mktemp("e2e") / "corpus"
    shutil.copytree(built_settings.corpus_dir, corpus, ignore=shutil.ignore_patterns("faq.jsonl"))
    return built_settings.model_copy(update={"admin_password": SecretStr(PASSWORD), "corpus_dir": corpus})


@pytest.fixture(scope="module")
def urls(admin_settings: Settings, built_settings: Settings, assistant: Any) -> Iterator[dict[str, str]]:
    """The whole server (`policyqa serve`'s app) twice: with the 管理 tab, and without it with the echoing assistant."""
    from ui.server import build_server

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant.answer("企业标准总师要培育多少名?")  # load the models before the browser waits on them
    with live_server(build_server(admin_settings, assistant)) as admin_url, \
            live_server(build_server(built_settings, EchoAssistant(assistant))) as plain_url:
        yield {"admin": admin_url + "/", "plain": plain_url + "/"}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def shot(page: Any, name: str, docs: str | None = None, *, chat_top: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.add_style_tag(content=".toast-wrap { display: none !important; }")  # toasts would cover the view
    page.wait_for_timeout(300)
    if chat_top:  # the chat autoscrolls to the answer's end; show the question as well
        page.evaluate("""() => document.querySelectorAll('#pqa-chat .bubble-wrap').forEach((el) => {
            el.scrollTop = 0; })""")
        page.wait_for_timeout(100)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("POLICYQA_UPDATE_DOCS") == "1":
        shutil.copyfile(path, ROOT / "docs" / docs)


def ask(page: Any, question: str) -> Any:
    """Type a question, wait for its finished answer (the streamed text is replaced by the full card)."""
    before = page.locator(".pqa-answer").count()
    box = page.locator("#pqa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.pqa-answer').length > {before}")
    return page.locator(".pqa-answer").last


def test_question_shows_citation_card_that_opens_in_the_browser(page: Any, urls: dict[str, str]) -> None:
    page.goto(urls["admin"])
    answer = ask(page, "企业标准总师要培育多少名?")
    card = answer.locator(".pqa-card", has_text="【一(二)-4】")
    assert card.count() == 1
    assert "10名以上" in card.locator("mark").inner_text()
    assert answer.locator(".pqa-meta").inner_text().startswith("模式: ")  # 条文原文, or FAQ when one matches
    assert card.locator(".pqa-interp").inner_text().startswith("解读(非政策原文)")  # the reviewed plain-language note
    shot(page, "chat", "chat.png", chat_top=True)
    answer.locator("button.pqa-copy").click()
    page.wait_for_function("window.__pqaLastCopy !== undefined")
    copied = page.evaluate("window.__pqaLastCopy")
    assert "培育企业标准总师10名以上" in copied
    assert "依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》一、(二)发展目标" in copied

    card.locator("a.pqa-open").click()
    detail = page.locator("#pqa-detail .pqa-clause-view")
    detail.wait_for()
    assert "【一(二)-4】" in detail.inner_text()
    assert detail.locator("mark").all_inner_texts() == card.locator("mark").all_inner_texts()  # the cited span
    assert page.get_by_role("tab", name="条文查阅").get_attribute("aria-selected") == "true"
    shot(page, "browse-opened-from-chat")


def test_keyword_search_and_clause_jump(page: Any, urls: dict[str, str]) -> None:
    page.goto(urls["admin"])
    page.get_by_role("tab", name="条文查阅").click()
    search = page.locator("#pqa-search textarea")
    started = time.perf_counter()
    search.fill("二维码")
    search.press("Enter")
    page.locator("#pqa-detail mark").first.wait_for()
    assert time.perf_counter() - started < 3  # includes typing and the browser round trip
    assert page.locator("#pqa-detail mark").all_inner_texts() == ["二维码"]
    assert page.locator("#pqa-detail .pqa-hits a.pqa-open").all_inner_texts() == ["二(七)2"]
    shot(page, "browse", "browse.png")

    jump = page.locator("#pqa-jump textarea")
    jump.fill("第二部分第七条第2项")
    jump.press("Enter")
    page.wait_for_function("!document.querySelector('#pqa-detail .pqa-hits')")
    assert "【二(七)2】" in page.locator("#pqa-detail .pqa-clause-title").inner_text()
    page.locator("#pqa-tree a.pqa-open", has_text="三(三)").click()
    page.wait_for_function("document.querySelector('#pqa-detail').innerText.includes('【三(三)】')")

    page.get_by_role("tab", name="指标表").click()
    page.locator("#pqa-targets").wait_for()
    page.wait_for_function("document.querySelector('#pqa-targets').innerText.includes('企业标准总师')")
    shot(page, "targets")
    with page.expect_download() as download:
        page.locator("#pqa-targets-csv").click()
    assert download.value.suggested_filename == "targets.csv"
    assert "企业标准总师" in Path(download.value.path()).read_text(encoding="utf-8-sig")


def test_thumbs_down_with_comment_reaches_admin_and_becomes_faq(page: Any, urls: dict[str, str],
                                                                admin_settings: Settings) -> None:
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    page.goto(urls["admin"])
    question = f"三门县的GDP是多少?{token}"
    ask(page, question)
    page.locator(DISLIKE).last.click()
    comment = page.locator("#pqa-comment textarea")
    comment.fill(f"没有回答 {token}")
    comment.press("Enter")
    page.locator("#pqa-feedback-box", has_text="说明已保存").first.wait_for()

    page.get_by_role("tab", name="管理").click()
    password = page.locator("#pqa-password input")
    password.fill("wrong")
    password.press("Enter")
    page.get_by_text("密码不正确").wait_for()
    assert not page.locator("#pqa-admin-panel").is_visible()
    password.fill(PASSWORD)
    password.press("Enter")
    feedback = page.locator("#pqa-feedback-table")
    page.wait_for_function(f"document.querySelector('#pqa-feedback-table')?.innerText.includes('{token}')")
    assert "踩" in feedback.inner_text()
    backlog = page.locator("#pqa-backlog-table")
    assert question in backlog.inner_text()
    shot(page, "admin", "admin.png")
    with page.expect_download() as download:
        page.locator("#pqa-export-feedback").click()
    assert token in Path(download.value.path()).read_text(encoding="utf-8-sig")

    backlog.locator("[role=gridcell]", has_text=token).first.click()
    page.locator("#pqa-add-faq").click()
    page.wait_for_function(f"document.querySelector('#pqa-faq-q textarea')?.value.includes('{token}')")
    page.locator("#pqa-faq-msg", has_text="已填入").wait_for()  # the prefill (its empty answer too) has landed
    answer = page.locator("#pqa-faq-a textarea")
    answer.fill("文件未规定GDP目标。")
    sync_api.expect(answer).to_have_value("文件未规定GDP目标。")
    page.locator("#pqa-faq-save").click()
    message = page.locator("#pqa-faq-msg", has_text=re.compile("已保存|⚠"))
    message.wait_for()
    assert "已保存" in message.inner_text(), message.inner_text()
    faq = (admin_settings.corpus_dir / "faq.jsonl").read_text(encoding="utf-8")
    assert token in faq and "文件未规定GDP目标。" in faq
    shot(page, "admin-faq")


def test_admin_tab_is_absent_without_password_and_english_toggle(page: Any, urls: dict[str, str]) -> None:
    page.goto(urls["plain"])
    answer = ask(page, "二(七)2")
    assert page.get_by_role("tab").all_inner_texts() == ["问答", "条文查阅"]
    assert "模式: 条文原文" in answer.inner_text()
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Browse clauses").wait_for()
    assert page.get_by_role("tab").all_inner_texts() == ["Ask", "Browse clauses"]
    page.wait_for_function("document.querySelector('.pqa-meta').innerText.includes('Mode: Verbatim clauses')")
    shot(page, "chat-english")


def test_markup_in_questions_and_answers_is_shown_as_text(page: Any, urls: dict[str, str]) -> None:
    page.goto(urls["plain"])
    answer = ask(page, XSS)
    page.wait_for_timeout(500)  # give a (wrongly) created <img> time to fail and fire onerror
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert f"你问的是:{XSS}" in answer.locator(".pqa-text").inner_text()
    assert XSS in answer.locator(".pqa-card mark").inner_text()
    assert XSS in page.locator("#pqa-chat").inner_text()  # the user's own bubble
    shot(page, "xss-as-text")
    breakout = "问\n\n![probe](http://127.0.0.1:9/pqa-probe.png)\r\r[链接](http://127.0.0.1:9/)"
    answer = ask(page, breakout)  # a blank line once ended the HTML block and the rest became Markdown
    page.wait_for_timeout(300)
    assert page.locator("#pqa-chat img[src*='pqa-probe']").count() == 0
    assert page.locator("#pqa-chat a[href^='http://127.0.0.1:9']").count() == 0
    assert "![probe](http://127.0.0.1:9/pqa-probe.png)" in answer.locator(".pqa-text").inner_text()


def test_an_example_question_fills_the_box(page: Any, urls: dict[str, str]) -> None:
    page.goto(urls["plain"])
    page.get_by_text("企业可以用二维码公示产品执行标准吗?").first.click()
    page.wait_for_function("document.querySelector('#pqa-question textarea').value.includes('二维码')")
