"""The feedback/question-log database: schema and migrations, WAL, ordering, backlog, CSV, durability."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rag.models import Answer, Citation
from ui.feedback import BACKLOG_COLUMNS, DB_NAME, FEEDBACK_COLUMNS, MIGRATIONS, FeedbackDB
from ui.format import to_csv


def _answer(question: str, *, refused: bool = False) -> Answer:
    citations = () if refused else (Citation("sanmen", "一(二)-4", "一、(二)发展目标", "培育企业标准总师10名以上"),)
    return Answer(question, "文件没有写。" if refused else "培育企业标准总师10名以上。", refused, citations,
                  "extractive", latency_ms=3.5, reason="out_of_scope" if refused else "")


@pytest.fixture
def db(tmp_path: Path) -> FeedbackDB:
    return FeedbackDB.for_data_dir(tmp_path / "data")


def test_schema_is_created_in_wal_mode(db: FeedbackDB, tmp_path: Path) -> None:
    assert db.path == tmp_path / "data" / DB_NAME
    assert db.version() == len(MIGRATIONS)
    conn = sqlite3.connect(db.path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"questions", "feedback"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with db.connect() as app_conn:
        assert app_conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.migrate() == 0  # reopening is a no-op


def test_an_old_schema_is_migrated_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version=1;")
    conn.execute("INSERT INTO questions (created_at, question, mode)"
                 " VALUES ('2024-01-01T00:00:00+00:00', '旧问题', 'x')")
    conn.commit()
    conn.close()
    db = FeedbackDB(path)
    assert db.version() == len(MIGRATIONS)
    [row] = db.questions()
    assert row["question"] == "旧问题" and row["reason"] == "" and row["answer"] == ""


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    sqlite3.connect(path).execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        FeedbackDB(path)


def test_questions_are_logged_with_mode_citations_latency_refusal(db: FeedbackDB) -> None:
    qid = db.log_question(_answer("企业标准总师要培育多少名?"), "extractive")
    [row] = db.questions()
    assert row["id"] == qid
    assert json.loads(row["citations"]) == ["sanmen:一(二)-4"]
    assert (row["mode"], row["latency_ms"], row["refused"]) == ("extractive", 3.5, 0)
    assert row["created_at"].endswith("+00:00")


def test_feedback_keeps_an_answer_snapshot_and_lists_newest_first(db: FeedbackDB) -> None:
    first = db.add_feedback(db.log_question(_answer("问题一")), 1)
    second = db.add_feedback(db.log_question(_answer("问题二")), -1, "  不对  ")
    db.set_comment(first, "有用")
    rows = db.feedback()
    assert [r["id"] for r in rows] == [second, first]
    assert rows[0]["comment"] == "不对" and rows[1]["comment"] == "有用"
    assert rows[0]["answer"] == "培育企业标准总师10名以上。"
    assert json.loads(rows[0]["citations"]) == ["sanmen:一(二)-4"]
    assert list(rows[0]) == list(FEEDBACK_COLUMNS)


def test_feedback_is_validated(db: FeedbackDB) -> None:
    qid = db.log_question(_answer("问题"))
    with pytest.raises(ValueError):
        db.add_feedback(qid, 0)
    with pytest.raises(KeyError):
        db.add_feedback(qid + 100, -1)
    with pytest.raises(KeyError):
        db.set_comment(999, "x")


def test_backlog_holds_refused_and_thumbs_down_questions_newest_first(db: FeedbackDB) -> None:
    refused = db.log_question(_answer("GDP是多少?", refused=True))
    liked = db.log_question(_answer("被点赞的问题"))
    disliked = db.log_question(_answer("被点踩的问题"))
    db.add_feedback(liked, 1)
    db.add_feedback(disliked, -1, "答非所问")
    rows = db.backlog()
    assert [r["question_id"] for r in rows] == [disliked, refused]
    assert rows[0]["why"] == "踩" and rows[0]["comment"] == "答非所问"
    assert rows[1]["why"] == "refused:out_of_scope"
    assert list(rows[0]) == list(BACKLOG_COLUMNS)


def test_feedback_and_backlog_export_as_csv(db: FeedbackDB) -> None:
    db.add_feedback(db.log_question(_answer("=1+1 是多少?", refused=True)), -1, "公式, 逗号\n换行")
    text = to_csv(FEEDBACK_COLUMNS, [[r[c] for c in FEEDBACK_COLUMNS] for r in db.feedback()])
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == list(FEEDBACK_COLUMNS)
    record = dict(zip(header, row, strict=True))
    assert record["question"] == "'=1+1 是多少?" and record["rating"] == "-1"
    assert record["comment"] == "公式, 逗号\n换行"
    backlog = to_csv(BACKLOG_COLUMNS, [[r[c] for c in BACKLOG_COLUMNS] for r in db.backlog()])
    assert len(list(csv.reader(io.StringIO(backlog)))) == 2


def test_acknowledged_feedback_is_on_disk_and_concurrent_writers_lose_nothing(db: FeedbackDB) -> None:
    qid = db.log_question(_answer("问题"))

    def rate(worker: int) -> None:
        for n in range(15):
            db.add_feedback(qid, -1, f"{worker}-{n}")

    threads = [threading.Thread(target=rate, args=(w,)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    other = sqlite3.connect(db.path)  # a fresh connection (as after a restart) sees every acknowledged row
    assert other.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 90
    other.close()


def test_a_repeat_of_the_latest_rating_is_stored_once_and_returns_its_id(db: FeedbackDB) -> None:
    """A double click, or a request the proxy retried on another replica, is one rating, not two."""
    qid = db.log_question(_answer("问题"))
    first = db.add_feedback(qid, -1, "不对")
    assert db.add_feedback(qid, -1, " 不对 ") == first
    changed = db.add_feedback(qid, 1)
    assert changed != first and db.add_feedback(qid, -1, "不对") not in (first, changed)  # a new opinion
    assert [r["rating"] for r in db.feedback()] == [-1, 1, -1]


class FakeBot:
    """Stands in for rag.chain.Assistant: one cited answer, tokens when streamed (LLM mode)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.documents: dict[str, object] = {}
        self.retriever = self
        self.by_clause: dict[str, list[object]] = {}  # no chunks: the card falls back to finding the quote

    def view(self) -> FakeBot:
        return self

    def clause_text(self, key: str) -> str:
        return "标准化教育与服务基本适应发展需要,培育企业标准总师10名以上。"

    def answer(self, question: str, history: object = None) -> Answer:
        self.calls.append(("answer", history))
        return _answer(question)

    def stream(self, question: str, history: object = None, mode: str | None = None) -> object:
        self.calls.append(("stream", mode))
        yield from ["培育", "10名", "以上。"]
        yield replace(_answer(question), mode="llm")


def _handlers(tmp_path: Path, *, llm: bool) -> tuple[Any, FakeBot, FeedbackDB]:
    from index.settings import Settings
    from ui.chat import ChatHandlers

    extra = {"llm_base_url": "http://127.0.0.1:9", "llm_model": "m"} if llm else {}
    settings = Settings(data_dir=tmp_path, **extra)  # type: ignore[arg-type]
    bot, db = FakeBot(), FeedbackDB(tmp_path / DB_NAME)
    return ChatHandlers(settings, bot, db), bot, db  # type: ignore[arg-type]


def _turn(handlers: Any, question: str, chat: Any, mode: str, lang: str) -> list[Any]:
    """Every update of one chat turn (the handler is an async generator, as Gradio runs it)."""
    async def collect() -> list[Any]:
        return [step async for step in handlers.respond(question, chat, mode, lang)]

    return asyncio.run(collect())


def test_a_chat_turn_shows_the_question_then_the_answer_is_logged_and_can_be_rated(tmp_path: Path) -> None:
    import gradio as gr

    from ui.chat import ChatSession

    handlers, bot, db = _handlers(tmp_path, llm=False)
    chat = ChatSession()
    steps = _turn(handlers, "企业标准总师要培育多少名?", chat, "llm", "zh")
    assert bot.calls == [("answer", [])]  # LLM not configured: never asked for
    assert len(steps) == 2  # the question with “thinking…”, then the answer with its cards
    assert "pqa-question" in steps[0][0][0]["content"] and "pqa-note" in steps[0][0][1]["content"]
    shown, cleared = steps[-1]
    assert cleared == "" and len(shown) == 2 and "pqa-card" in shown[1]["content"] and shown == chat.shown
    assert chat.turns[0] == {"role": "user", "content": "企业标准总师要培育多少名?"}
    [row] = db.questions()
    assert chat.records[1]["question_id"] == row["id"] and row["mode"] == "extractive"
    out = handlers.rate(chat, "zh", gr.LikeData(None, {"index": 1, "value": "", "liked": False}))
    feedback_id = out[0]
    handlers.comment(feedback_id, "不够具体", "zh")
    [fb] = db.feedback()
    assert (fb["rating"], fb["comment"], fb["question"]) == (-1, "不够具体", "企业标准总师要培育多少名?")
    assert handlers.rate(chat, "zh", gr.LikeData(None, {"index": 0, "value": "", "liked": True}))[0] is None
    _turn(handlers, "第二问", chat, "extractive", "zh")
    assert bot.calls[-1] == ("answer", chat.turns[:2])  # the history goes with the follow-up


def test_a_session_keeps_a_bounded_history(tmp_path: Path) -> None:
    from ui.chat import KEEP_MESSAGES, ChatSession

    handlers, bot, _db = _handlers(tmp_path, llm=False)
    chat = ChatSession()
    for n in range(KEEP_MESSAGES // 2 + 5):
        _turn(handlers, f"问题{n}", chat, "extractive", "zh")
    assert len(chat.shown) == KEEP_MESSAGES and len(chat.turns) == KEEP_MESSAGES
    assert len(bot.calls[-1][1]) <= KEEP_MESSAGES  # type: ignore[arg-type]
    assert sorted(chat.records) == list(range(1, KEEP_MESSAGES, 2))  # records follow the trimmed display
    assert "问题" + str(KEEP_MESSAGES // 2 + 4) in chat.shown[-2]["content"]


def test_llm_mode_streams_tokens_when_configured(tmp_path: Path) -> None:
    from ui.chat import ChatSession

    handlers, bot, db = _handlers(tmp_path, llm=True)
    steps = _turn(handlers, "总师?", ChatSession(), "llm", "en")
    assert bot.calls == [("stream", "llm")]
    texts = [s[0][1]["content"] for s in steps[1:-1]]
    assert texts[-1] == '<div class="pqa-text">培育10名以上。</div>'
    assert "Mode: Plain-language summary" in steps[-1][0][1]["content"]
    assert db.questions()[0]["mode"] == "llm"
