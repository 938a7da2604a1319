"""The SQL database behind the question log, the 👍/👎 feedback and, with PostgreSQL, the FAQ edits.

Two implementations of one small interface (`connect`, `transaction`, `migrate`):

- `SqliteDatabase` (the default, one machine): a file in the data dir, WAL, synchronous=FULL, a
  short-lived connection per operation; `transaction()` is BEGIN IMMEDIATE … COMMIT.
- `PostgresDatabase` (`POLICYQA_DATABASE_URL=postgresql://…`, several replicas): a psycopg 3
  connection pool; `transaction()` returns after COMMIT, which with PostgreSQL's default
  `synchronous_commit=on` means after the WAL record was flushed.

Either way a write is acknowledged only after its commit returned, so an acknowledged row survives a
crash of the process (or of the machine, given honest disks). Statements are written once with `?`
placeholders and no literal `%`; PostgreSQL receives them as `%s`. Driver errors of PostgreSQL are
raised as `DatabaseError`, a subclass of `sqlite3.Error`, so callers that already tolerate a failing
SQLite log (ui/api_service.py) tolerate a failing PostgreSQL the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.settings import Settings

Params = Sequence[Any]
Row = dict[str, Any]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseError(sqlite3.Error):
    """A storage failure of either backend (PostgreSQL's driver errors are wrapped in it)."""


class Conn:
    """One connection inside `connect()` / `transaction()`; statements use `?` placeholders."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw, self.dialect = raw, dialect

    def execute(self, sql: str, params: Params = ()) -> Any:
        """The driver's cursor (SQLite rows are `sqlite3.Row`, PostgreSQL rows dicts)."""
        return self.raw.execute(sql.replace("?", "%s") if self.dialect == "postgresql" else sql, tuple(params))

    def one(self, sql: str, params: Params = ()) -> Row | None:
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in self.execute(sql, params).fetchall()]

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table with an integer `id` key; returns the new row's id."""
        if self.dialect == "postgresql":
            return int(self.execute(sql + " RETURNING id", params).fetchone()["id"])
        return int(self.execute(sql, params).lastrowid or 0)


class Database:
    """What the stores need from a database; see the module docstring for the two implementations."""

    dialect = ""
    for_update = ""  # appended to a SELECT that must lock its row until the transaction ends

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        raise NotImplementedError
        yield  # pragma: no cover

    def version(self, component: str) -> int:
        raise NotImplementedError

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        """Bring `component`'s tables to `len(steps)`; returns the number of steps applied.

        Each step migrates from version i to i + 1 (statements separated by `;`); never edit a released
        step, append one. A database newer than `steps` is refused (an older app must not write to it).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (a no-op for SQLite)."""


def _statements(step: str) -> list[str]:
    return [s for s in step.split(";") if s.strip()]


class SqliteDatabase(Database):
    """One SQLite file; a connection per operation, so Gradio's worker threads never share one.

    The schema version is the file's `PRAGMA user_version`: one component per file.
    """

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        raw = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        raw.row_factory = sqlite3.Row
        try:
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=FULL")
            raw.execute("PRAGMA foreign_keys=ON")
            yield Conn(raw, self.dialect)
        finally:
            raw.close()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """BEGIN IMMEDIATE … COMMIT; the commit returns only after the WAL is synced."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def version(self, component: str) -> int:
        with self.connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        with self._lock, self.transaction() as conn:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > len(steps):
                raise RuntimeError(f"{self.path}: schema version {current} is newer than this app knows")
            for step in steps[current:]:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={len(steps)}")
            return len(steps) - current


class PostgresDatabase(Database):
    """A psycopg 3 pool to one PostgreSQL database, shared by every store of the process.

    Schema versions live in `policyqa_schema` (one row per component); migrations run under an
    advisory lock, so replicas starting together migrate once.
    """

    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, url: str, pool_size: int = 8, timeout: float = 10.0) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.url = url
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, timeout=timeout, open=True,
                                   kwargs={"autocommit": True, "row_factory": dict_row},
                                   check=ConnectionPool.check_connection, name="policyqa")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        with self._errors(), self.pool.connection() as raw:
            yield Conn(raw, self.dialect)

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """BEGIN … COMMIT on a pooled connection; leaving the block normally means committed."""
        with self._errors(), self.pool.connection() as raw, raw.transaction():
            yield Conn(raw, self.dialect)

    def version(self, component: str) -> int:
        with self.connect() as conn:
            if conn.one("SELECT to_regclass('policyqa_schema') AS t")["t"] is None:  # type: ignore[index]
                return 0
            row = conn.one("SELECT version FROM policyqa_schema WHERE component = ?", (component,))
            return int(row["version"]) if row else 0

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('policyqa_schema'))")
            conn.execute("CREATE TABLE IF NOT EXISTS policyqa_schema"
                         " (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            row = conn.one("SELECT version FROM policyqa_schema WHERE component = ?", (component,))
            current = int(row["version"]) if row else 0
            if current > len(steps):
                raise RuntimeError(f"PostgreSQL: {component} schema version {current} is newer than this app knows")
            for step in steps[current:]:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute("INSERT INTO policyqa_schema (component, version) VALUES (?, ?) ON CONFLICT (component)"
                         " DO UPDATE SET version = EXCLUDED.version", (component, len(steps)))
            return len(steps) - current

    def close(self) -> None:
        self.pool.close()


_POOLS: dict[str, PostgresDatabase] = {}
_POOLS_LOCK = threading.Lock()


def check_url(url: str) -> str:
    if not url.startswith(POSTGRES_SCHEMES):
        raise ValueError("POLICYQA_DATABASE_URL must be postgresql://user:password@host:port/dbname")
    return url


def postgres(url: str, pool_size: int = 8) -> PostgresDatabase:
    """The process's one pool for `url` (the feedback log, the FAQ store and the chain share it)."""
    with _POOLS_LOCK:
        if url not in _POOLS:
            _POOLS[url] = PostgresDatabase(check_url(url), pool_size)
        return _POOLS[url]


def close_postgres(url: str) -> None:
    """Close and forget the process's pool for `url` (tests that drop their database)."""
    with _POOLS_LOCK:
        db = _POOLS.pop(url, None)
    if db is not None:
        db.close()


def database_url(settings: Settings) -> str | None:
    secret = settings.database_url
    return secret.get_secret_value() if secret is not None else None


def open_database(settings: Settings, sqlite_path: Path) -> Database:
    """PostgreSQL when `POLICYQA_DATABASE_URL` is set, else SQLite at `sqlite_path`."""
    url = database_url(settings)
    return postgres(url, settings.database_pool) if url else SqliteDatabase(sqlite_path)
