"""The office's workbench in real Chromium (issue 12, and issue 10's display): documents, versions, hit test,
dashboard, plain-language notes. One server over a private corpus and index copy; the tests run in order.

Screenshots go to artifacts/screenshots/; with POLICYQA_UPDATE_DOCS=1 also to docs/ for the README.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from index.settings import Settings
from tests.api_fixtures import live_server
from tests.conftest import CORPUS, ROOT, SEED
from tests.test_documents import PORT_LINES, make_docx, make_pdf
from tests.test_ui_e2e import ask, shot
from tests.test_versions_ui import final_version
from ui.dashboard import TZ

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "office-e2e-Pw!"
CRAB_LINES = ["关于开展三门县青蟹养殖标准化示范的通知(测试夹具,非真实文件)", "一、示范目标",
              "(一)建设目标。到2026年,建设青蟹标准化养殖示范基地5个,制定青蟹养殖地方标准1项。",
              "二、保障措施", "(一)加强技术指导。县农业农村局每年组织青蟹养殖标准培训不少于4次。"]
CHIEF = "企业标准总师要培育多少名?"


@pytest.fixture(scope="module")
def office(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from rag.chain import Assistant
    from ui.server import build_server

    root = tmp_path_factory.mktemp("office-e2e")
    shutil.copytree(CORPUS, root / "corpus", ignore=shutil.ignore_patterns("faq.jsonl"))
    shutil.copytree(built_settings.data_dir, root / "data", ignore=shutil.ignore_patterns("build.lock",
                                                                                         "feedback.sqlite3*"))
    settings = built_settings.model_copy(update={"corpus_dir": root / "corpus", "data_dir": root / "data",
                                                 "admin_password": SecretStr(PASSWORD),
                                                 "admin_upload_max_bytes": 2_000_000})
    bot = Assistant(settings)
    bot.answer(CHIEF)  # models loaded before the browser waits on them
    with live_server(build_server(settings, bot)) as url:
        yield {"url": url + "/", "settings": settings, "bot": bot, "root": root}


@pytest.fixture
def page(browser: Any, office: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(office["url"])
    yield pg
    context.close()


def login(page: Any) -> None:
    page.get_by_role("tab", name="管理").click()
    password = page.locator("#pqa-password input")
    password.fill(PASSWORD)
    password.press("Enter")
    page.locator("#pqa-admin-panel").wait_for()


def admin_tab(page: Any, name: str) -> None:
    page.locator("#pqa-admin-tabs").get_by_role("tab", name=name, exact=True).click()


def pick(page: Any, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def upload_and_preview(page: Any, path: Path, doc_id: str, title: str, status: str = "",
                       supersedes: str = "") -> str:
    admin_tab(page, "文档")
    page.wait_for_function("document.querySelector('#pqa-docs-table')?.innerText.includes('sanmen')")
    page.locator("#pqa-doc-file input[type=file]").set_input_files(str(path))
    page.locator("#pqa-doc-msg", has_text="已读取").wait_for()
    box = page.locator("#pqa-doc-id input")
    box.fill(doc_id)
    box.press("Enter")
    page.locator("#pqa-doc-title textarea").fill(title)
    if status:
        pick(page, "pqa-doc-status", status)
    if supersedes:
        pick(page, "pqa-doc-supersedes", supersedes)
    page.locator("#pqa-doc-preview").click()
    page.locator("#pqa-doc-preview-out .pqa-doc-summary").wait_for()
    return str(page.locator("#pqa-doc-preview-out").inner_text())


def confirm(page: Any) -> str:
    page.locator("#pqa-doc-confirm").click()
    page.locator("#pqa-doc-msg", has_text="index rebuilt").wait_for()
    return str(page.locator("#pqa-doc-msg").inner_text())


def ask_until(page: Any, question: str, done: str, tries: int = 4) -> Any:
    """Ask until the answer contains `done` (the app switches to a rebuilt index within ~2 s)."""
    for _ in range(tries):
        answer = ask(page, question)
        if done in answer.inner_html():
            return answer
        time.sleep(1.5)
    raise AssertionError(f"{question!r}: no answer with {done!r}: {answer.inner_text()}")


def test_a_docx_and_a_pdf_are_previewed_indexed_and_cited_with_their_own_doc_id(page: Any, office: dict[str, Any]
                                                                               ) -> None:
    root = office["root"]
    docx = make_docx(root / "port.docx", PORT_LINES)
    pdf = make_pdf(root / "crab.pdf", CRAB_LINES)
    login(page)
    preview = upload_and_preview(page, docx, "port-2024", "关于推进三门县智慧港口标准化建设的通知", status="正式稿")
    assert "解析出 3 条条款" in preview and "入库方式:新文件" in preview
    assert [x.strip() for x in page.locator("#pqa-doc-preview-out .pqa-doc-clause .pqa-id").all_inner_texts()] == [
        "【一(一)】", "【二(一)1】", "【二(一)2】"]
    shot(page, "admin-documents", "admin-documents.png")
    assert "port-2024" in confirm(page)
    assert "port-2024" in page.locator("#pqa-docs-table").inner_text()
    preview = upload_and_preview(page, pdf, "crab-2024", "关于开展三门县青蟹养殖标准化示范的通知")
    assert "解析出 2 条条款" in preview
    confirm(page)
    catalog = (Path(office["settings"].corpus_dir) / "catalog.toml").read_text(encoding="utf-8")
    assert 'path = "port-2024.docx"' in catalog and 'path = "crab-2024.pdf"' in catalog

    page.get_by_role("tab", name="问答").click()
    port = ask_until(page, "到2026年要建成多少个智慧码头?", "port-2024%3A").locator(".pqa-card").first
    assert "3个以上" in port.locator("mark").inner_text()
    assert port.locator(".pqa-doc").inner_text() == "《关于推进三门县智慧港口标准化建设的通知》"
    crab = ask_until(page, "青蟹标准化养殖示范基地要建几个?", "crab-2024%3A").locator(".pqa-card").first
    assert "示范基地5个" in crab.locator("mark").inner_text()
    crab.locator("a.pqa-open").click()
    page.locator("#pqa-detail .pqa-clause-view").wait_for()
    assert "青蟹养殖" in page.locator("#pqa-detail .pqa-path").inner_text()


def test_compare_shows_the_edited_numbers_and_removing_the_final_version_restores_answers(
        page: Any, office: dict[str, Any]) -> None:
    before = ask(page, CHIEF).locator(".pqa-text").inner_text()
    final = office["root"] / "final.txt"
    final.write_text(final_version(SEED.read_text(encoding="utf-8")), encoding="utf-8")
    login(page)
    preview = upload_and_preview(page, final, "sanmen-final", "关于贯彻落实国家标准化发展纲要的实施意见",
                                 status="正式稿", supersedes="sanmen")
    assert "解析出 30 条条款" in preview
    confirm(page)

    page.get_by_role("tab", name="条文查阅").click()
    page.get_by_role("tab", name="条文对照").click()
    page.wait_for_function("document.querySelector('#pqa-cmp-new input')?.value.includes('实施意见')")
    page.locator("#pqa-cmp-only input").check()
    page.locator("#pqa-cmp-run").click()
    table = page.locator("#pqa-compare .pqa-compare-table")
    table.wait_for()
    assert "1 条修改 · 1 条新增 · 1 条删除 · 1 条移动 · 27 条未变" in page.locator("#pqa-compare").inner_text()
    changed = page.locator("#pqa-compare tr.pqa-cmp-changed")
    assert changed.locator("del").all_inner_texts() == ["1"] and changed.locator("ins").all_inner_texts() == ["2"]
    assert "【二(六)3】" in page.locator("#pqa-compare tr.pqa-cmp-moved").inner_text()
    assert "加强督查考核" in page.locator("#pqa-compare tr.pqa-cmp-added").inner_text()
    shot(page, "compare", "compare.png")

    page.get_by_role("tab", name="问答").click()
    page.locator("#pqa-versions input").check()
    ask(page, CHIEF)  # versions="all" reaches rag once it takes the argument (tests/test_versions_ui.py)
    page.get_by_role("tab", name="管理").click()
    admin_tab(page, "文档")
    pick(page, "pqa-doc-remove-id", "sanmen-final")
    page.locator("#pqa-doc-remove-plan").click()
    page.locator("#pqa-doc-remove-msg", has_text="sanmen is current again").wait_for()
    page.locator("#pqa-doc-remove").click()
    page.locator("#pqa-doc-remove-msg", has_text="index rebuilt").wait_for()
    page.get_by_role("tab", name="问答").click()
    page.locator("#pqa-versions input").uncheck()
    for _ in range(4):
        after = ask(page, CHIEF).locator(".pqa-text").inner_text()
        if after == before:
            break
        time.sleep(1.5)
    assert after == before and "10名以上" in after


def test_the_hit_test_page_shows_the_chains_candidates(page: Any, office: dict[str, Any]) -> None:
    question = "企业可以用二维码公示产品执行标准吗?"
    trace = office["bot"].answer(question).trace
    want = [h.chunk.clause_key for r in trace.retrievals for h in r.hits]
    login(page)
    admin_tab(page, "命中测试")
    page.locator("#pqa-hit-q textarea").fill(question)
    page.locator("#pqa-hit-run").click()
    page.locator("#pqa-hit-out .pqa-hit-cand").first.wait_for()
    assert page.locator("#pqa-hit-out .pqa-c-clause").all_inner_texts() == want
    fused = page.locator("#pqa-hit-out .pqa-c-fused").all_inner_texts()
    assert [float(x) for x in fused] == pytest.approx([h.score for r in trace.retrievals for h in r.hits], abs=1e-3)
    assert "判定 decision" in page.locator("#pqa-hit-out").inner_text()
    shot(page, "admin-hittest", "admin-hittest.png")


def seed_log(office: dict[str, Any], n: int = 42) -> None:
    """Earlier days of use: gold questions answered by the real chain, logged, then dated 1-14 days back."""
    from ui.feedback import FeedbackDB

    db = FeedbackDB.for_data_dir(office["settings"].data_dir)
    gold = [json.loads(x)["question"] for x in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    now = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    for i, question in enumerate(gold[:n]):
        answer = office["bot"].answer(question)
        qid = db.log_question(answer)
        fids = [db.add_feedback(qid, -1 if answer.refused else 1)] if i % 4 == 0 else []
        when = (now - timedelta(days=1 + i % 14)).isoformat(timespec="seconds")
        with sqlite3.connect(Path(office["settings"].data_dir) / "feedback.sqlite3") as raw:
            raw.execute("UPDATE questions SET created_at = ? WHERE id = ?", (when, qid))
            raw.executemany("UPDATE feedback SET created_at = ? WHERE id = ?", [(when, f) for f in fids])


def test_the_dashboard_shows_the_logs_figures_and_exports_them(page: Any, office: dict[str, Any]) -> None:
    ask(page, "三门县的GDP是多少?")
    page.locator("#pqa-chat button[aria-label='踩'], #pqa-chat button[aria-label='Dislike']").last.click()
    page.locator("#pqa-feedback-box").first.wait_for()
    seed_log(office)
    today = datetime.now(TZ).date()
    first = (today - timedelta(days=29)).isoformat()
    with sqlite3.connect(Path(office["settings"].data_dir) / "feedback.sqlite3") as raw:
        local = "substr(datetime(created_at, '+8 hours'), 1, 10)"
        span = f"{local} BETWEEN '{first}' AND '{today.isoformat()}'"
        questions, refused = raw.execute(f"SELECT COUNT(*), SUM(refused) FROM questions WHERE {span}").fetchone()
        down = raw.execute(f"SELECT COUNT(*) FROM feedback WHERE rating = -1 AND {span}").fetchone()[0]
        up = raw.execute(f"SELECT COUNT(*) FROM feedback WHERE rating = 1 AND {span}").fetchone()[0]
        asked_today = raw.execute(f"SELECT COUNT(*) FROM questions WHERE {local} = ?", (today.isoformat(),)).fetchone()
    assert questions >= 47 and refused >= 1 and down >= 1 and up >= 1
    login(page)
    admin_tab(page, "统计")
    summary = page.locator("#pqa-dash-summary")
    summary.locator(".pqa-dash-cell").first.wait_for()
    cells = dict(zip(summary.locator(".pqa-dash-k").all_inner_texts(), summary.locator(".pqa-dash-v").all_inner_texts(),
                     strict=True))
    assert cells["问题 questions"] == str(questions) and cells["拒答 refused"].startswith(f"{refused} (")
    assert (cells["赞 up"], cells["踩 down"]) == (str(up), str(down))
    page.locator("#pqa-dash-volume canvas, #pqa-dash-volume svg").first.wait_for()
    page.wait_for_timeout(1000)
    shot(page, "admin-dashboard", "admin-dashboard.png")
    with page.expect_download() as download:
        page.locator("#pqa-dash-export").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert f"day,{today.isoformat()},questions,{asked_today[0]}" in lines
    assert f"total,{first}..{today.isoformat()},questions,{questions}" in lines


def test_reviewed_notes_show_under_clauses_and_the_office_can_withdraw_one(page: Any, office: dict[str, Any]) -> None:
    card = ask(page, CHIEF).locator(".pqa-card", has_text="【一(二)-4】")
    assert "解读(非政策原文)" in card.locator(".pqa-interp").inner_text()
    login(page)
    admin_tab(page, "通俗解读")
    page.locator("#pqa-note-clause input").click()
    page.get_by_role("option", name="二(七)2", exact=False).first.click()
    page.wait_for_function("document.querySelector('#pqa-note-text textarea').value.length > 10")
    assert "已审核" in page.locator("#pqa-note-status").inner_text()
    page.locator("#pqa-note-reviewed input").uncheck()
    page.locator("#pqa-note-save").click()
    page.locator("#pqa-note-msg", has_text="index").wait_for()
    assert "未审核" in page.locator("#pqa-note-msg").inner_text()
    records = (Path(office["settings"].corpus_dir) / "interpretations" / "sanmen.jsonl").read_text(encoding="utf-8")
    withdrawn = next(json.loads(x) for x in records.splitlines() if '"二(七)2"' in x)
    assert withdrawn["reviewed_by"] == "" and withdrawn["reviewed_at"] == ""
    page.get_by_role("tab", name="问答").click()
    answer = ask(page, "企业可以用二维码公示产品执行标准吗?")
    assert "【二(七)2】" in answer.inner_text() and answer.locator(".pqa-interp").count() == 0
    page.get_by_role("tab", name="条文查阅").click()
    jump = page.locator("#pqa-jump textarea")
    jump.fill("一(二)-4")
    jump.press("Enter")
    page.locator("#pqa-detail .pqa-interp").wait_for()
    jump.fill("二(七)2")
    jump.press("Enter")
    page.wait_for_function("document.querySelector('#pqa-detail').innerText.includes('【二(七)2】')")
    assert page.locator("#pqa-detail .pqa-interp").count() == 0
