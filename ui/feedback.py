"""Question log and 👍/👎 feedback: SQLite in the data dir by default, PostgreSQL with POLICYQA_DATABASE_URL.

Feedback is only acknowledged to the user after its transaction committed durably (SQLite: WAL,
synchronous=FULL; PostgreSQL: COMMIT with synchronous_commit on; index/db.py), so an acknowledged
rating survives a crash. The schema is versioned and migrated forward on open (SQLite: `PRAGMA
user_version`; PostgreSQL: the `policyqa_schema` table); the app never needs a manual step.

A rating that repeats the latest rating of the same answer (same value, same comment) is the same
feedback: it returns the stored id instead of adding a row. So a double click, or a request that the
reverse proxy retried on another replica after the first one died mid-reply, is stored once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.db import Conn, Database, SqliteDatabase, open_database, postgres
from index.settings import Settings
from rag.models import Answer

DB_NAME = "feedback.sqlite3"
COMPONENT = "feedback"

# SQLite: each entry migrates from version i to i + 1; never edit a released step, append a new one.
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

# PostgreSQL: the same tables as SQLite's latest version, in its types. Append steps here too.
PG_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE questions (
        id BIGSERIAL PRIMARY KEY,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        mode TEXT NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        refused INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        answer TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE feedback (
        id BIGSERIAL PRIMARY KEY,
        question_id BIGINT REFERENCES questions(id),
        created_at TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating IN (1, -1)),
        comment TEXT,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        mode TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX questions_created ON questions(created_at);
    CREATE INDEX feedback_created ON feedback(created_at);
    CREATE INDEX feedback_question ON feedback(question_id);
    """,
)

FEEDBACK_COLUMNS = ("id", "created_at", "rating", "comment", "question", "answer", "citations", "mode", "question_id")
BACKLOG_COLUMNS = ("question_id", "created_at", "question", "why", "comment", "answer", "citations")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackDB:
    """The question log and feedback in one `Database` (a SQLite file when given a path)."""

    def __init__(self, target: Path | Database) -> None:
        self.db = target if isinstance(target, Database) else SqliteDatabase(target)
        self.path: Path | None = self.db.path if isinstance(self.db, SqliteDatabase) else None
        self.migrate()

    @classmethod
    def open(cls, settings: Settings) -> FeedbackDB:
        """The configured store: PostgreSQL when `settings.database_url` is set, else SQLite in the data dir."""
        return cls(open_database(settings, settings.data_dir / DB_NAME))

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> FeedbackDB:
        """SQLite in `data_dir`, or PostgreSQL when POLICYQA_DATABASE_URL is set in the environment.

        Callers that hold only the data dir (ui/app.py, ui/api_service.py) get the same store as
        `FeedbackDB.open(Settings())`; callers with a Settings object should use `open`.
        """
        url = os.environ.get("POLICYQA_DATABASE_URL", "").strip()
        return cls(postgres(url) if url else data_dir / DB_NAME)

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        with self.db.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """Leaving the block normally means committed durably."""
        with self.db.transaction() as conn:
            yield conn

    def version(self) -> int:
        return self.db.version(COMPONENT)

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the number of steps applied."""
        return self.db.migrate(COMPONENT, PG_MIGRATIONS if self.db.dialect == "postgresql" else MIGRATIONS)

    def log_question(self, answer: Answer, mode: str | None = None) -> int:
        """Record one answered question; returns its id (the handle feedback refers to)."""
        citations = json.dumps([f"{c.doc_id}:{c.clause_id}" for c in answer.citations], ensure_ascii=False)
        with self.transaction() as conn:
            return conn.insert(
                "INSERT INTO questions (created_at, question, mode, citations, latency_ms, refused, reason, answer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), answer.question, mode or answer.mode, citations, float(answer.latency_ms),
                 int(answer.refused), answer.reason, answer.answer),
            )

    def add_feedback(self, question_id: int, rating: int, comment: str | None = None) -> int:
        """Store a rating with a snapshot of the answer it rates; returns the feedback id once durable.

        A repeat of the answer's latest rating (same value and comment) returns that rating's id.
        """
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        comment = (comment or "").strip() or None
        with self.transaction() as conn:
            q = conn.one("SELECT * FROM questions WHERE id = ?" + self.db.for_update, (question_id,))
            if q is None:
                raise KeyError(f"no logged question {question_id}")
            last = conn.one("SELECT id, rating, comment FROM feedback WHERE question_id = ? ORDER BY id DESC LIMIT 1",
                            (question_id,))
            if last is not None and (last["rating"], last["comment"]) == (rating, comment):
                return int(last["id"])
            return conn.insert(
                "INSERT INTO feedback (question_id, created_at, rating, comment, question, answer, citations, mode)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (question_id, now_iso(), rating, comment, q["question"], q["answer"], q["citations"], q["mode"]),
            )

    def set_comment(self, feedback_id: int, comment: str) -> None:
        with self.transaction() as conn:
            cur = conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip() or None, feedback_id))
            if cur.rowcount != 1:
                raise KeyError(f"no feedback {feedback_id}")

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self.connect() as conn:
            return conn.one("SELECT * FROM questions WHERE id = ?", (question_id,))

    def questions(self, limit: int = 500) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return conn.all("SELECT * FROM questions ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))

    def feedback(self, limit: int = 500) -> list[dict[str, Any]]:
        """Feedback, newest first."""
        with self.connect() as conn:
            return conn.all(f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM feedback"
                            " ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))

    def feedback_ids(self, ids: list[int]) -> set[int]:
        """Which of `ids` are stored (the deploy test checks every acknowledged id)."""
        found: set[int] = set()
        with self.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                found |= {int(r["id"]) for r in conn.all(f"SELECT id FROM feedback WHERE id IN ({marks})", chunk)}
        return found

    def backlog(self, limit: int = 500) -> list[dict[str, Any]]:
        """Questions that were refused or got a thumbs-down, newest event first — what the office should answer."""
        sql = """
        SELECT * FROM (
          SELECT q.id AS question_id, q.question, q.answer, q.citations, q.created_at AS asked_at,
                 q.refused, q.reason,
                 (SELECT MAX(f.created_at) FROM feedback f WHERE f.question_id = q.id AND f.rating = -1) AS down_at,
                 (SELECT f.comment FROM feedback f WHERE f.question_id = q.id AND f.rating = -1
                    AND f.comment IS NOT NULL ORDER BY f.id DESC LIMIT 1) AS comment
          FROM questions q
          WHERE q.refused = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.rating = -1)
        ) b ORDER BY COALESCE(b.down_at, b.asked_at) DESC, b.question_id DESC LIMIT ?
        """
        with self.connect() as conn:
            rows = conn.all(sql, (limit,))
        out = []
        for r in rows:
            why = ["refused" + (f":{r['reason']}" if r["reason"] else "")] if r["refused"] else []
            why += ["踩"] if r["down_at"] else []
            out.append({"question_id": r["question_id"], "created_at": r["down_at"] or r["asked_at"],
                        "question": r["question"], "why": " ".join(why), "comment": r["comment"] or "",
                        "answer": r["answer"], "citations": r["citations"]})
        return out
