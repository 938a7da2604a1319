"""The question log, feedback and FAQ edits in a real PostgreSQL (a throwaway Debian cluster on loopback).

Every test gets its own empty database (`pg_url`, tests/conftest.py); the crash test starts its own
cluster so it can SIGKILL it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from index.db import DatabaseError, PostgresDatabase, postgres
from rag.faq import FaqError, load_faq
from rag.faq_table import FaqTable
from rag.models import Answer, Citation
from ui.feedback import MIGRATIONS, PG_MIGRATIONS, FeedbackDB

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "corpus" / "faq.jsonl"


def _answer(question: str, *, refused: bool = False) -> Answer:
    citations = () if refused else (Citation("sanmen", "一(二)-4", "一、(二)发展目标", "培育企业标准总师10名以上"),)
    return Answer(question, "文件没有写。" if refused else "培育企业标准总师10名以上。", refused, citations,
                  "extractive", latency_ms=3.5, reason="out_of_scope" if refused else "")


def _scenario(db: FeedbackDB) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    refused = db.log_question(_answer("GDP是多少?", refused=True))
    liked = db.log_question(_answer("被点赞的问题"))
    disliked = db.log_question(_answer("被点踩的问题"))
    db.add_feedback(liked, 1)
    fid = db.add_feedback(disliked, -1, "答非所问")
    db.set_comment(fid, "  还是答非所问 ")
    assert db.add_feedback(disliked, -1, "还是答非所问") == fid
    with pytest.raises(KeyError):
        db.add_feedback(refused + 100, 1)
    strip = {"created_at", "asked_at"}
    return ([{k: v for k, v in r.items() if k not in strip} for r in db.questions()],
            [{k: v for k, v in r.items() if k not in strip} for r in db.feedback()],
            [{k: v for k, v in r.items() if k not in strip} for r in db.backlog()])


def test_postgres_and_sqlite_stores_give_the_same_rows(pg_url: str, tmp_path: Path) -> None:
    on_postgres = _scenario(FeedbackDB(postgres(pg_url)))
    on_sqlite = _scenario(FeedbackDB(tmp_path / "fb.sqlite3"))
    assert on_postgres == on_sqlite
    _questions, feedback, backlog = on_postgres
    assert [r["question_id"] for r in backlog] == [3, 1] and feedback[0]["comment"] == "还是答非所问"


def test_the_schema_is_migrated_once_and_a_newer_one_is_refused(pg_url: str) -> None:
    db = FeedbackDB(postgres(pg_url))
    assert db.version() == len(PG_MIGRATIONS) and db.migrate() == 0
    assert FeedbackDB(PostgresDatabase(pg_url)).migrate() == 0  # a second replica starting later
    with psycopg.connect(pg_url, autocommit=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"questions", "feedback", "policyqa_schema"} <= tables
        conn.execute("UPDATE policyqa_schema SET version = 99 WHERE component = 'feedback'")
    with pytest.raises(RuntimeError, match="newer"):
        db.migrate()
    assert len(MIGRATIONS) == 2  # the SQLite steps are unchanged (released)


def test_replicas_writing_at_once_lose_no_acknowledged_feedback(pg_url: str) -> None:
    """Two pools (two replicas), four threads each: every id returned is a committed row."""
    replicas = [FeedbackDB(postgres(pg_url)), FeedbackDB(PostgresDatabase(pg_url, pool_size=4))]
    qid = replicas[0].log_question(_answer("问题"))
    acknowledged: list[int] = []

    def rate(db: FeedbackDB, worker: int) -> None:
        for n in range(20):
            acknowledged.append(db.add_feedback(qid, -1, f"{worker}-{n}"))

    threads = [threading.Thread(target=rate, args=(replicas[w % 2], w)) for w in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(acknowledged)) == 160
    with psycopg.connect(pg_url) as conn:  # a connection of its own, as after a restart
        stored = {r[0] for r in conn.execute("SELECT id FROM feedback")}
    assert stored == set(acknowledged)


def test_a_request_retried_on_another_replica_at_the_same_moment_is_stored_once(pg_url: str) -> None:
    replicas = [FeedbackDB(postgres(pg_url)), FeedbackDB(PostgresDatabase(pg_url, pool_size=4))]
    qid = replicas[0].log_question(_answer("问题"))
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def rate(db: FeedbackDB) -> None:
        barrier.wait()
        ids.append(db.add_feedback(qid, -1, "不对"))

    threads = [threading.Thread(target=rate, args=(replicas[w % 2],)) for w in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(ids)) == 1 and len(replicas[1].feedback()) == 1


def test_acknowledged_feedback_survives_a_postgres_crash() -> None:
    """SIGKILL the postmaster while replicas write: after crash recovery every acknowledged row is there."""
    from eval.services import MissingBinary, postgres_cluster

    try:
        cluster_cm = postgres_cluster()
        cluster = cluster_cm.__enter__()
    except MissingBinary as exc:
        pytest.skip(f"PostgreSQL binaries absent ({exc})")
    try:
        db = FeedbackDB(PostgresDatabase(cluster.url(), pool_size=4, timeout=2))
        qid = db.log_question(_answer("问题"))
        acknowledged: list[int] = []
        failed: list[BaseException] = []
        stop = threading.Event()

        def rate(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    acknowledged.append(db.add_feedback(qid, 1 if n % 2 else -1, f"{worker}-{n}"))
                except DatabaseError as exc:  # the server is gone: not acknowledged, so not promised
                    failed.append(exc)
                    return

        threads = [threading.Thread(target=rate, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        while len(acknowledged) < 200:
            threading.Event().wait(0.01)
        cluster.kill()
        stop.set()
        for th in threads:
            th.join()
        assert failed and isinstance(failed[0], sqlite3.Error)  # callers that tolerate SQLite errors cope
        db.db.close()
        cluster.start()
        with psycopg.connect(cluster.url()) as conn:
            stored = {r[0] for r in conn.execute("SELECT id FROM feedback")}
        assert set(acknowledged) <= stored and len(acknowledged) >= 200
    finally:
        cluster_cm.__exit__(None, None, None)


def test_an_unreachable_database_is_a_database_error(pg_url: str) -> None:
    from eval.procs import free_port

    dead = PostgresDatabase(f"postgresql://policyqa:x@127.0.0.1:{free_port()}/policyqa", timeout=1)
    try:
        with pytest.raises(DatabaseError), dead.connect() as conn:
            conn.execute("SELECT 1")
    finally:
        dead.close()


def test_the_faq_table_is_seeded_once_from_the_curated_file_by_replicas_starting_together(
        pg_url: str, tmp_path: Path) -> None:
    tables = [FaqTable(PostgresDatabase(pg_url, pool_size=2), seed=FAQ) for _ in range(4)]
    results: list[list[Any]] = []
    threads = [threading.Thread(target=lambda t=t: results.append(t.list())) for t in tables]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    curated = load_faq(FAQ)
    assert results == [curated] * 4
    tables[0].delete(curated[0].id)
    assert FaqTable(postgres(pg_url), seed=FAQ).list() == curated[1:]  # a deletion is never re-seeded


def test_faq_edits_in_the_table_are_validated_ordered_and_seen_by_every_replica(pg_url: str, tmp_path: Path) -> None:
    office = FaqTable(postgres(pg_url), seed=tmp_path / "none.jsonl")
    replica = FaqTable(PostgresDatabase(pg_url, pool_size=2), poll=0)
    before = replica.version()
    first = office.add("企业标准总师要培育多少名?", "10名以上【一(二)-4】。", ["sanmen:一(二)-4"],
                       ["要培养几个标准总师"], edited_by="张三")
    second = office.add("二维码能公示执行标准吗?", "可以。", ["sanmen:二(七)2"], edited_by="李四")
    assert (first.id, second.id) == ("faq-0001", "faq-0002") and replica.version() > before
    office.edit(first.id, "企业标准总师培育多少名?", "培育10名以上。", ["sanmen:一(二)-4"], edited_by="王五")
    assert [e.id for e in replica.list()] == ["faq-0001", "faq-0002"]  # an edit keeps its place
    assert replica.get("faq-0001").edited_by == "王五"
    for bad in (lambda: office.add("", "答", edited_by="x"), lambda: office.add("问", "答", ["二(七)2"], edited_by="x"),
                lambda: office.add("问", "答", edited_by=" "), lambda: office.edit("faq-0099", "q", "a", edited_by="x"),
                lambda: office.delete("faq-0099")):
        with pytest.raises(FaqError):
            bad()
    assert len(replica.list()) == 2


def test_concurrent_adds_from_two_replicas_get_distinct_ids(pg_url: str, tmp_path: Path) -> None:
    tables = [FaqTable(postgres(pg_url)), FaqTable(PostgresDatabase(pg_url, pool_size=4))]
    added: list[str] = []

    def add(table: FaqTable, worker: int) -> None:
        for n in range(5):
            added.append(table.add(f"问题{worker}-{n}", "答。", ["sanmen:公告"], edited_by="x").id)

    threads = [threading.Thread(target=add, args=(tables[w % 2], w)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(added) == [f"faq-{n:04d}" for n in range(1, 31)]
    assert [e.id for e in tables[0].list()] == sorted(added)


def test_the_chain_reads_faq_edits_from_the_database_and_never_serves_a_stale_one(
        pg_url: str, built_settings: Any, assistant: Any, corpus_copy: Path) -> None:
    import time

    from pydantic import SecretStr

    from rag.chain import Assistant
    from ui.faq_store import open_faq_store, with_status

    settings = built_settings.model_copy(update={"database_url": SecretStr(pg_url), "faq": True,
                                                 "corpus_dir": corpus_copy})
    store = open_faq_store(settings)  # what 管理 edits: the table, not corpus/faq.jsonl
    bot = Assistant(settings, embeddings=assistant.retriever.embedder)
    question = "企业标准总师要培育多少名?"
    assert bot.answer(question).mode == "extractive"

    def served_within(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if bot.answer(question).mode == "faq":
                return True
            time.sleep(0.2)
        return False

    entry = store.add(question, "要“培育企业标准总师20名以上”【一(二)-4】。", ["sanmen:一(二)-4"], edited_by="张三")
    assert not served_within(3)
    [row] = with_status(store, bot)
    assert row["status"] == "stale" and "unsupported number 20名" in row["reason"]
    store.edit(entry.id, question, "要“培育企业标准总师10名以上”【一(二)-4】。", ["sanmen:一(二)-4"], edited_by="张三")
    assert served_within(3)
    assert with_status(store, bot)[0] | {"edited_at": ""} == {
        "id": "faq-0001", "question": question, "answer": "要“培育企业标准总师10名以上”【一(二)-4】。",
        "clauses": ["sanmen:一(二)-4"], "paraphrases": [], "edited_by": "张三", "edited_at": "", "status": "ok",
        "reason": ""}
    assert not (corpus_copy / "faq.jsonl").exists()
