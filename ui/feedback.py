"""Question log and 👍/👎 feedback in SQLite (data dir, WAL, synchronous=FULL).

Feedback is only acknowledged to the user after its transaction committed with a full sync, so an
acknowledged rating survives a crash. The schema is versioned with `PRAGMA user_version` and
migrated forward on open; the app never needs a manual step.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.models import Answer

DB_NAME = "feedback.sqlite3"

# Each entry migrates from version i to i + 1; never edit a released step, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        mode TEXT NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        latency_ms REAL NOT NULL DEFAULT 0,
        refused INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        question_id INTEGER REFERENCES questions(id),
        created_at TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating IN (1, -1)),
        comment TEXT,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        mode TEXT NOT NULL DEFAULT ''
    );
    """,
    """
    ALTER TABLE questions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
    ALTER TABLE questions ADD COLUMN answer TEXT NOT NULL DEFAULT '';
    CREATE INDEX questions_created ON questions(created_at);
    CREATE INDEX feedback_created ON feedback(created_at);
    """,
)

FEEDBACK_COLUMNS = ("id", "created_at", "rating", "comment", "question", "answer", "citations", "mode", "question_id")
BACKLOG_COLUMNS = ("question_id", "created_at", "question", "why", "comment", "answer", "citations")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackDB:
    """One SQLite file; a short-lived connection per operation so Gradio's worker threads never share one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> FeedbackDB:
        return cls(data_dir / DB_NAME)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; the commit returns only after the WAL is synced."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def version(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the number of steps applied."""
        with self._lock, self.transaction() as conn:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise RuntimeError(f"{self.path}: schema version {current} is newer than this app knows")
            for step in MIGRATIONS[current:]:
                for statement in filter(str.strip, step.split(";")):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            return len(MIGRATIONS) - current

    def log_question(self, answer: Answer, mode: str | None = None) -> int:
        """Record one answered question; returns its id (the handle feedback refers to)."""
        citations = json.dumps([f"{c.doc_id}:{c.clause_id}" for c in answer.citations], ensure_ascii=False)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO questions (created_at, question, mode, citations, latency_ms, refused, reason, answer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), answer.question, mode or answer.mode, citations, float(answer.latency_ms),
                 int(answer.refused), answer.reason, answer.answer),
            )
            return int(cur.lastrowid or 0)

    def add_feedback(self, question_id: int, rating: int, comment: str | None = None) -> int:
        """Store a rating with a snapshot of the answer it rates; returns the feedback id once durable."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        with self.transaction() as conn:
            q = conn.execute("SELECT * FROM questions WHERE id = ?", (question_id,)).fetchone()
            if q is None:
                raise KeyError(f"no logged question {question_id}")
            cur = conn.execute(
                "INSERT INTO feedback (question_id, created_at, rating, comment, question, answer, citations, mode)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (question_id, now_iso(), rating, (comment or "").strip() or None, q["question"], q["answer"],
                 q["citations"], q["mode"]),
            )
            return int(cur.lastrowid or 0)

    def set_comment(self, feedback_id: int, comment: str) -> None:
        with self.transaction() as conn:
            cur = conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip() or None, feedback_id))
            if cur.rowcount != 1:
                raise KeyError(f"no feedback {feedback_id}")

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM questions WHERE id = ?", (question_id,)).fetchone()
            return dict(row) if row else None

    def questions(self, limit: int = 500) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM questions ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
            return [dict(r) for r in rows]

    def feedback(self, limit: int = 500) -> list[dict[str, Any]]:
        """Feedback, newest first."""
        with self.connect() as conn:
            rows = conn.execute(f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM feedback"
                                " ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
            return [dict(r) for r in rows]

    def backlog(self, limit: int = 500) -> list[dict[str, Any]]:
        """Questions that were refused or got a thumbs-down, newest event first — what the office should answer."""
        sql = """
        SELECT q.id AS question_id, q.question, q.answer, q.citations, q.created_at AS asked_at,
               q.refused, q.reason,
               (SELECT MAX(f.created_at) FROM feedback f WHERE f.question_id = q.id AND f.rating = -1) AS down_at,
               (SELECT f.comment FROM feedback f WHERE f.question_id = q.id AND f.rating = -1
                  AND f.comment IS NOT NULL ORDER BY f.id DESC LIMIT 1) AS comment
        FROM questions q
        WHERE q.refused = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.rating = -1)
        ORDER BY COALESCE(down_at, q.created_at) DESC, q.id DESC LIMIT ?
        """
        with self.connect() as conn:
            rows = [dict(r) for r in conn.execute(sql, (limit,))]
        out = []
        for r in rows:
            why = ["refused" + (f":{r['reason']}" if r["reason"] else "")] if r["refused"] else []
            why += ["踩"] if r["down_at"] else []
            out.append({"question_id": r["question_id"], "created_at": r["down_at"] or r["asked_at"],
                        "question": r["question"], "why": " ".join(why), "comment": r["comment"] or "",
                        "answer": r["answer"], "citations": r["citations"]})
        return out
