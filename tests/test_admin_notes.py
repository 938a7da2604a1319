"""The plain-language layer in the UI (issue 10): only REVIEWED 解读 are shown, labelled as not policy text,
under the clause in the chat's cards and in 条文查阅; 管理 edits and reviews them (saved atomically, then
re-indexed); `policyqa interpret --draft` drafts missing records UNREVIEWED through an OpenAI-compatible API."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from eval.llm_fake import Reply
from index.interpretations import load_interpretations, save_interpretation
from index.settings import Settings
from index.store import Store
from tests.api_fixtures import run_cli
from ui.admin_notes import NoteEditor, parse_terms
from ui.chat import ChatHandlers
from ui.clauses import ClauseBrowser
from ui.feedback import FeedbackDB
from ui.i18n import STRINGS
from ui.notes import Notes

ZH_LABEL, EN_LABEL = "解读(非政策原文)", "Plain-language note (not policy text)"
RECORDS = Path("interpretations") / "sanmen.jsonl"


def unreview(corpus: Path, key: str) -> None:
    record = load_interpretations(corpus)[key]
    save_interpretation(corpus, replace(record, reviewed_by="", reviewed_at=""))


def test_only_reviewed_notes_are_shown_in_cards_and_in_the_clause_browser(corpus_copy: Path, assistant: Any,
                                                                           built_settings: Settings,
                                                                           tmp_path: Path) -> None:
    unreview(corpus_copy, "sanmen:二(七)2")
    records = load_interpretations(corpus_copy)
    reviewed = records["sanmen:一(二)-4"]
    assert reviewed.reviewed and not records["sanmen:二(七)2"].reviewed
    notes = Notes(corpus_copy)
    chat = ChatHandlers(built_settings.model_copy(update={"corpus_dir": corpus_copy}), assistant,
                        FeedbackDB(tmp_path / "fb.sqlite3"), notes=notes)
    shown = chat.render(assistant.answer("企业标准总师要培育多少名?"), "zh")
    assert f'<span class="pqa-interp-label">{ZH_LABEL}</span> {reviewed.interpretation[:20]}' in shown
    english = chat.render(assistant.answer("企业标准总师要培育多少名?"), "en")
    assert EN_LABEL in english and (reviewed.interpretation_en or reviewed.interpretation)[:20] in english
    hidden = chat.render(assistant.answer("企业可以用二维码公示产品执行标准吗?"), "zh")
    assert "【二(七)2】" in hidden and ZH_LABEL not in hidden
    assert records["sanmen:二(七)2"].interpretation[:20] not in hidden

    browser = ClauseBrowser(assistant.retriever.view, assistant.documents, "sanmen", notes)
    assert reviewed.interpretation[:20] in browser.show("sanmen:一(二)-4", STRINGS["zh"])
    assert ZH_LABEL not in browser.show("sanmen:二(七)2", STRINGS["zh"])
    english = browser.jump("一(二)-4", STRINGS["en"])  # the English page shows the English note
    assert EN_LABEL in english and reviewed.interpretation_en[:20] in english
    assert reviewed.interpretation[:20] not in english


@pytest.mark.slow
def test_the_office_edits_and_reviews_a_note_saved_atomically_and_reindexed(office_settings: Settings) -> None:
    from rag.chain import Assistant

    corpus = Path(office_settings.corpus_dir)
    bot = Assistant(office_settings)
    editor = NoteEditor(office_settings, bot, Notes(corpus))
    before = (corpus / RECORDS).read_text(encoding="utf-8").splitlines()
    key = "sanmen:二(七)2"
    loaded = editor.load(True, key, "zh")
    assert loaded[6] is True and "已审核" in loaded[8]
    refused = editor.save(True, key, "新的解读。", "", "", "", "", "", True, "2026-11-29", "zh")
    assert "审核人" in refused[1] and (corpus / RECORDS).read_text(encoding="utf-8").splitlines() == before
    text = "企业可以在产品或包装上印二维码,扫码就能看到产品执行的标准。"
    saved = editor.save(True, key, text, "扫码查执行标准\n产品上的码能看标准吗", "二维码 | 手机扫描的图形码 | QR code",
                        "", "", "王科长", True, "2026-11-29", "zh")
    assert "✓ index rebuilt" in saved[1] and "王科长" in saved[1]
    after = (corpus / RECORDS).read_text(encoding="utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and json.loads(after[changed[0]])["clause_id"] == "二(七)2"
    record = load_interpretations(corpus)[key]
    assert (record.reviewed_by, record.reviewed_at, record.phrasings) == ("王科长", "2026-11-29",
                                                                          ("扫码查执行标准", "产品上的码能看标准吗"))
    store = Store(office_settings)
    assert "扫码查执行标准" in {k.text for k in store.keys(store.info().name) if k.clause_key == key}
    assert Notes(corpus).note(key).startswith("企业可以在产品或包装上印二维码")
    editor.save(True, key, record.interpretation, "扫码查执行标准", "", "", "", "王科长", False, "", "zh")
    assert Notes(corpus).note(key) == ""  # no longer reviewed: no longer shown
    assert parse_terms("术语 | 解释\n\n｜空\nA|B|C|D") == parse_terms("术语|解释|\nA | B | C")


@pytest.mark.slow
def test_interpret_draft_writes_unreviewed_records_only_for_clauses_without_one(
        corpus_copy: Path, tmp_path: Path, llm_endpoint: Any) -> None:
    api, script = llm_endpoint
    path = corpus_copy / RECORDS
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["clause_id"] not in ("二(七)1", "二(七)2", "二(七)3")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    draft = {"interpretation": "鼓励企业把执行的标准公开,方便大家查。", "phrasings": ["企业标准要公开吗"],
             "terms": [{"term": "企业标准", "explanation": "企业自己定的标准", "english": "enterprise standard"}],
             "reviewed_by": "模型自称已审核", "reviewed_at": "2026-01-01"}
    second = json.dumps(draft | {"interpretation": "标准要落到实处,有人监督。"}, ensure_ascii=False)
    script.replies = [Reply("json", "好的:\n" + json.dumps(draft, ensure_ascii=False)), Reply("json", "这不是JSON"),
                      Reply("json", second)]
    script.requests.clear()
    env = {**os.environ, "POLICYQA_CORPUS_DIR": str(corpus_copy), "POLICYQA_DATA_DIR": str(tmp_path / "data")}
    listed = run_cli(["interpret"], env)
    assert b"27 clauses have a record, 3 have none" in listed.stdout, listed.stderr.decode()
    off = run_cli(["interpret", "--draft"], env)
    assert off.returncode == 2 and b"POLICYQA_LLM_BASE_URL" in off.stderr
    run = run_cli(["interpret", "--draft"], {**env, "POLICYQA_LLM_BASE_URL": api.url, "POLICYQA_LLM_MODEL": "fake"})
    assert run.returncode == 0, run.stderr.decode()
    assert b"drafted 2 records (UNREVIEWED" in run.stdout and b"not drafted sanmen:\xe4\xba\x8c(\xe4\xb8\x83)2" in \
        run.stderr
    assert len(script.requests) == 3
    prompt = script.requests[0]["messages"][-1]["content"]
    assert "【二(七)1】" in prompt and "探索更富活力的标准化运行新机制" in prompt
    records = load_interpretations(corpus_copy)
    drafted = [records["sanmen:二(七)1"], records["sanmen:二(七)3"]]
    assert [r.interpretation for r in drafted] == [draft["interpretation"], "标准要落到实处,有人监督。"]
    assert all(not r.reviewed and r.reviewed_by == "" for r in drafted)  # whatever the model claimed
    assert "sanmen:二(七)2" not in records
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if json.loads(line)["clause_id"] not in ("二(七)1", "二(七)3")] == kept
