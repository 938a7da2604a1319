"""The FAQ in the shared database (POLICYQA_DATABASE_URL): what 管理 edits and every replica's chain reads.

Without a database the FAQ is corpus/faq.jsonl (rag.faq.FaqFile, ui.faq_store.FaqStore). With one,
several replicas must see one list, so it lives in two tables:

- `faq`: one row per entry; `entry` holds the entry's JSON object (the faq.jsonl line, parsed back
  through `FaqEntry`, so the table obeys the same rules as the file) and `position` its place.
- `faq_meta`: `version`, bumped inside every edit's transaction (the row lock also serialises edits
  from different replicas), and `seeded`, set when corpus/faq.jsonl was imported: once, on the first
  open of the database, so a fresh deployment serves the office's curated file.

A replica's chain polls `version` at most every `poll` seconds (like the index pointer, rag/retrieve.py)
and re-reads the entries when it changed. If the database is unreachable the chain keeps the entries it
has and says so in the log; an answer never fails because of the FAQ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from index.db import Conn, Database, DatabaseError, postgres
from index.settings import Settings
from rag.faq import FaqEntry, FaqError, FaqFile, FaqSource, curated, load_faq, next_id

log = logging.getLogger(__name__)
COMPONENT = "faq"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE faq (id TEXT PRIMARY KEY, position BIGINT NOT NULL, entry TEXT NOT NULL);
    CREATE TABLE faq_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO faq_meta (key, value) VALUES ('version', 0)
    """,
)


def _entries(conn: Conn) -> list[FaqEntry]:
    rows = conn.all("SELECT id, entry FROM faq ORDER BY position, id")
    return [FaqEntry.from_line(r["entry"], f"database FAQ row {r['id']!r}") for r in rows]


class FaqTable:
    """List / add / edit / delete entries in the database; also a `FaqSource` for the chain."""

    def __init__(self, db: Database | Callable[[], Database], seed: Path | None = None, poll: float = 2.0) -> None:
        self._open: Callable[[], Database] = (lambda: db) if isinstance(db, Database) else db
        self.seed, self.poll = seed, poll
        self._db: Database | None = None
        self._lock = threading.Lock()
        self._version, self._polled = -1.0, -float("inf")

    @property
    def db(self) -> Database:
        """The database, migrated and seeded on first use (replicas starting together seed once)."""
        with self._lock:
            if self._db is None:
                db = self._open()
                db.migrate(COMPONENT, MIGRATIONS)
                self._seed(db)
                self._db = db
            return self._db

    def _seed(self, db: Database) -> None:
        entries = load_faq(self.seed) if self.seed is not None else []
        with db.transaction() as conn:
            claimed = conn.execute("INSERT INTO faq_meta (key, value) VALUES ('seeded', 1)"
                                   " ON CONFLICT (key) DO NOTHING").rowcount
            if claimed == 1 and entries:
                self._bump(conn)
                for position, entry in enumerate(entries, start=1):
                    conn.execute("INSERT INTO faq (id, position, entry) VALUES (?, ?, ?)",
                                 (entry.id, position, entry.to_line()))
                log.info("FAQ: imported %d entries from %s into the database", len(entries), self.seed)

    # ---- reading (the chain polls `version`, then reads `list` when it changed)

    def version(self) -> float:
        now = time.monotonic()
        if now - self._polled < self.poll:
            return self._version
        try:
            with self.db.connect() as conn:
                row = conn.one("SELECT value FROM faq_meta WHERE key = 'version'")
            self._version = float(row["value"]) if row else 0.0
        except DatabaseError as exc:
            log.warning("FAQ: database unreachable, keeping the entries loaded before (%s)", exc)
        self._polled = now
        return self._version

    def list(self) -> list[FaqEntry]:
        with self.db.connect() as conn:
            return _entries(conn)

    def get(self, entry_id: str) -> FaqEntry:
        for entry in self.list():
            if entry.id == entry_id:
                return entry
        raise FaqError(f"no FAQ entry {entry_id!r}")

    # ---- editing (管理): each edit is one transaction, acknowledged after its commit

    @staticmethod
    def _bump(conn: Conn) -> None:
        conn.execute("UPDATE faq_meta SET value = value + 1 WHERE key = 'version'")

    def add(self, question: str, answer: str, clauses: Sequence[str] = (), paraphrases: Sequence[str] = (),
            *, edited_by: str) -> FaqEntry:
        curated("faq-0000", question, answer, clauses, paraphrases, edited_by=edited_by)  # refuse before writing
        with self.db.transaction() as conn:
            self._bump(conn)  # first: the row lock orders concurrent edits, so ids never collide
            entries = _entries(conn)
            entry = curated(next_id(entries), question, answer, clauses, paraphrases, edited_by=edited_by)
            last = conn.one("SELECT MAX(position) AS p FROM faq")
            position = int(last["p"]) + 1 if last and last["p"] is not None else 1
            conn.execute("INSERT INTO faq (id, position, entry) VALUES (?, ?, ?)",
                         (entry.id, position, entry.to_line()))
        self._polled = -float("inf")
        return entry

    def edit(self, entry_id: str, question: str, answer: str, clauses: Sequence[str] = (),
             paraphrases: Sequence[str] = (), *, edited_by: str) -> FaqEntry:
        entry = curated(entry_id, question, answer, clauses, paraphrases, edited_by=edited_by)
        with self.db.transaction() as conn:
            self._bump(conn)
            if conn.execute("UPDATE faq SET entry = ? WHERE id = ?", (entry.to_line(), entry_id)).rowcount != 1:
                raise FaqError(f"no FAQ entry {entry_id!r}")
        self._polled = -float("inf")
        return entry

    def delete(self, entry_id: str) -> None:
        with self.db.transaction() as conn:
            self._bump(conn)
            if conn.execute("DELETE FROM faq WHERE id = ?", (entry_id,)).rowcount != 1:
                raise FaqError(f"no FAQ entry {entry_id!r}")
        self._polled = -float("inf")


def faq_source(settings: Settings) -> FaqSource:
    """Where the chain reads the FAQ: the database's table with `database_url`, else corpus/faq.jsonl."""
    path = Path(settings.corpus_dir) / "faq.jsonl"
    if settings.database_url is None:
        return FaqFile(path)
    url, pool = settings.database_url.get_secret_value(), settings.database_pool
    return FaqTable(lambda: postgres(url, pool), seed=path)
