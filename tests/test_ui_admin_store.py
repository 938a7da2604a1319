"""FAQ storage (corpus/faq.jsonl, atomic rewrites) and the admin password check."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from index.settings import Settings
from rag.faq import load_faq
from ui.auth import admin_enabled, check_password, hash_password
from ui.faq_store import FaqError, FaqStore, parse_list


@pytest.fixture
def store(corpus_copy: Path) -> FaqStore:
    return FaqStore.for_corpus(corpus_copy)


def test_add_edit_delete_round_trip(store: FaqStore) -> None:
    assert store.list() == []
    first = store.add("企业标准总师要培育多少名?", "10名以上。", ["sanmen:一(二)-4"], ["要培养几个标准总师"],
                      edited_by="张三")
    second = store.add("二维码能公示执行标准吗?", "可以。", ["sanmen:二(七)2"], edited_by="李四")
    assert (first.id, second.id) == ("faq-0001", "faq-0002")
    assert first.edited_at.endswith("+00:00")
    edited = store.edit(first.id, "企业标准总师培育多少名?", "培育10名以上。", ["sanmen:一(二)-4"], [],
                        edited_by="王五")
    assert edited.edited_by == "王五" and store.get(first.id).answer == "培育10名以上。"
    store.delete(second.id)
    assert [e.id for e in store.list()] == [first.id]
    assert store.add("新问题", "答。", edited_by="x").id == "faq-0002"


def test_file_is_the_documented_jsonl_and_readable_by_the_matcher(store: FaqStore) -> None:
    store.add("问题", "答案", ["sanmen:二(七)2"], ["另一种问法"], edited_by="张三")
    [line] = store.path.read_text(encoding="utf-8").splitlines()
    data = json.loads(line)
    assert set(data) == {"id", "question", "answer", "clauses", "paraphrases", "edited_by", "edited_at"}
    assert data["clauses"] == ["sanmen:二(七)2"] and "问题" in line  # UTF-8, not \\u escapes
    [entry] = load_faq(store.path)
    assert entry.variants == ("问题", "另一种问法")


def test_writes_are_atomic_and_leave_no_temp_files(store: FaqStore) -> None:
    for i in range(5):
        store.add(f"问题{i}", "答", edited_by="x")
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name.startswith(".faq-")]
    assert leftovers == []
    assert len(store.list()) == 5


@pytest.mark.parametrize(("question", "answer", "clauses", "editor"), [
    ("", "答", [], "x"),
    ("问", " ", [], "x"),
    ("问", "答", ["二(七)2"], "x"),
    ("问", "答", [], " "),
])
def test_invalid_entries_are_refused(store: FaqStore, question: str, answer: str, clauses: list[str],
                                     editor: str) -> None:
    with pytest.raises(FaqError):
        store.add(question, answer, clauses, edited_by=editor)
    assert not store.path.exists()


def test_unknown_ids_and_corrupt_files_are_errors(store: FaqStore) -> None:
    with pytest.raises(FaqError):
        store.edit("faq-9999", "q", "a", edited_by="x")
    with pytest.raises(FaqError):
        store.delete("faq-9999")
    store.path.write_text('{"id": "faq-0001", "question": "q", "answer": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(FaqError, match=":2:"):
        store.list()


def test_parse_list() -> None:
    assert parse_list("sanmen:二(七)2, sanmen:一(二)-4;sanmen:二(七)2\n") == ("sanmen:二(七)2", "sanmen:一(二)-4")
    assert parse_list("一种问法,带逗号\n\n另一种", lines_only=True) == ("一种问法,带逗号", "另一种")


def test_plain_and_hashed_passwords() -> None:
    plain = SecretStr("s3cret")
    hashed = SecretStr(hash_password("s3cret"))
    assert hashed.get_secret_value().startswith("sha256:")
    for secret in (plain, hashed, SecretStr(hash_password("s3cret").upper().replace("SHA256:", "sha256:"))):
        assert check_password(secret, "s3cret")
        assert not check_password(secret, "S3cret")
        assert not check_password(secret, "")
    assert not check_password(hashed, hashed.get_secret_value())  # the hash itself is not the password
    assert not check_password(None, "s3cret")
    assert not admin_enabled(None) and not admin_enabled(SecretStr("  ")) and admin_enabled(plain)


def test_admin_handlers_refuse_without_login_and_reindex_reports(built_settings: Settings, tmp_path: Path,
                                                                 corpus_copy: Path) -> None:
    import gradio as gr

    from rag.chain import Assistant
    from ui.admin import AdminHandlers
    from ui.feedback import FeedbackDB

    settings = built_settings.model_copy(update={"admin_password": SecretStr("pw"), "corpus_dir": corpus_copy})
    h = AdminHandlers(settings, Assistant(settings), FeedbackDB(tmp_path / "fb.sqlite3"),
                      FaqStore.for_corpus(corpus_copy))
    for call in (lambda: h.refresh(False), lambda: h.delete_faq(False, "faq-0001"),
                 lambda: h.save_faq(False, "", "q", "a", "", "", "x"),
                 lambda: h.reindex(False, lambda *a, **k: None)):
        with pytest.raises(gr.Error):
            call()
    desk = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"))
    assert asyncio.run(h.login("nope", "zh", desk))[0] is False  # type: ignore[arg-type]
    authed, *_rest, info, session = asyncio.run(h.login("pw", "zh", desk))  # type: ignore[arg-type]
    assert authed is True and "embedder" in info and h.auth.session_valid(session)
    message, info = h.reindex(True, lambda *a, **k: None)
    assert message.startswith("✓ index unchanged: 1 documents") and "30 chunks" in message
    _id, _rows, msg = h.save_faq(True, "", "问题", "答案", "sanmen:九(九)9", "", "x")
    assert "九(九)9" in msg and not (corpus_copy / "faq.jsonl").exists()
    entry_id, rows, msg = h.save_faq(True, "", "问题", "答案", "sanmen:二(七)2", "另一种问法", "张三")
    assert entry_id == "faq-0001" and rows[0][:3] == ["faq-0001", "问题", "sanmen:二(七)2"]


def test_the_store_reports_each_entry_as_ok_or_stale_with_the_reason(store: FaqStore, assistant: Any) -> None:
    from ui.faq_store import with_status

    store.add("企业标准总师要培育多少名?", "要“培育企业标准总师10名以上”【一(二)-4】。", ["sanmen:一(二)-4"],
              edited_by="张三")
    store.add("二维码能公示执行标准吗?", "可以,县市场监管局负责【二(七)2】。", ["sanmen:二(七)2"], edited_by="张三")
    store.add("旧条款", "过时答案【二(九)9】", ["sanmen:二(九)9"], edited_by="张三")
    rows = {r["id"]: (r["status"], r["reason"]) for r in with_status(store, assistant)}
    assert rows == {"faq-0001": ("ok", ""),
                    "faq-0002": ("stale", "unsupported organisation 县市场监管局"),
                    "faq-0003": ("stale", "sanmen:二(九)9: clause not in the index")}


def test_admin_api_lists_faq_entries_with_their_status(start_server: Any, corpus_copy: Path) -> None:
    import httpx

    store = FaqStore.for_corpus(corpus_copy)
    store.add("企业标准总师要培育多少名?", "要“培育企业标准总师10名以上”【一(二)-4】。", ["sanmen:一(二)-4"],
              edited_by="张三")
    store.add("企业标准总师要培育几名?", "要“培育企业标准总师20名以上”【一(二)-4】。", ["sanmen:一(二)-4"],
              edited_by="李四")
    url = start_server(admin_password=SecretStr("faq-Admin-7!"), corpus_dir=corpus_copy)
    assert httpx.get(f"{url}/api/admin/faq", timeout=30).status_code == 401
    reply = httpx.get(f"{url}/api/admin/faq", headers={"X-Admin-Password": "faq-Admin-7!"}, timeout=30)
    assert reply.status_code == 200
    body = reply.json()
    assert body["stale"] == 1 and body["index"].startswith("policyqa-")
    assert [(e["id"], e["status"], e["edited_by"]) for e in body["entries"]] == [
        ("faq-0001", "ok", "张三"), ("faq-0002", "stale", "李四")]
    assert "一(二)-4: quote not found" in body["entries"][1]["reason"].split("; ")
