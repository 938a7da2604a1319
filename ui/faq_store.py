"""The office's FAQ edits (管理): corpus/faq.jsonl, or the shared database with POLICYQA_DATABASE_URL.

`FaqStore` lists, adds, edits and deletes entries; every entry is a `rag.faq.FaqEntry`, built and
validated there (the one place the format's rules live). Without a database it is the file: every
change rewrites the whole file through a temp file + fsync + `os.replace`, under an exclusive lock,
so a reader (or the answer chain) sees either the old file or the new one. With a database it
delegates to `rag.faq_table.FaqTable`, which every replica's chain reads.

`with_status` adds to each entry whether it still holds against the index (ok | stale + reason,
rag/faq_check.py): what GET /api/admin/faq returns and what the 管理 tab should show.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.db import postgres
from index.settings import Settings
from rag.faq import FaqEntry, FaqError, FaqFormatError, curated, load_faq, next_id
from rag.faq_table import FaqTable

if TYPE_CHECKING:
    from rag.chain import Assistant

__all__ = ["FAQ_NAME", "FaqEntry", "FaqError", "FaqFormatError", "FaqStore", "open_faq_store", "parse_list",
           "with_status"]

FAQ_NAME = "faq.jsonl"
_LOCK = threading.Lock()


def parse_list(text: str, *, lines_only: bool = False) -> tuple[str, ...]:
    """Clauses from “a, b;c” or one per line; paraphrases one per line. Empty items and repeats dropped."""
    parts = text.splitlines() if lines_only else re.split(r"[\n,,;;、]+", text)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


class FaqStore:
    """List / add / edit / delete entries of one faq.jsonl, or of the database's FAQ table when given one."""

    def __init__(self, path: Path, table: FaqTable | None = None) -> None:
        self.path = path
        self.table = table

    @classmethod
    def for_corpus(cls, corpus_dir: Path) -> FaqStore:
        """corpus/faq.jsonl, or the database's table when POLICYQA_DATABASE_URL is set in the environment.

        For callers that hold only the corpus dir (ui/app.py); callers with a Settings object should
        use `open_faq_store(settings)`, which also honours a `database_url` set in code.
        """
        url = os.environ.get("POLICYQA_DATABASE_URL", "").strip()
        path = corpus_dir / FAQ_NAME
        return cls(path, FaqTable(lambda: postgres(url), seed=path) if url else None)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Threads of this process and other processes (a second `serve`) take turns writing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, open(self.path.with_name(self.path.name + ".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def version(self) -> float:
        if self.table is not None:
            return self.table.version()
        return self.path.stat().st_mtime if self.path.exists() else 0.0

    def list(self) -> list[FaqEntry]:
        return self.table.list() if self.table is not None else load_faq(self.path)

    def get(self, entry_id: str) -> FaqEntry:
        for entry in self.list():
            if entry.id == entry_id:
                return entry
        raise FaqError(f"no FAQ entry {entry_id!r}")

    def _write(self, entries: Sequence[FaqEntry]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".faq-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for entry in entries:
                    fh.write(entry.to_line() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def add(self, question: str, answer: str, clauses: Sequence[str] = (), paraphrases: Sequence[str] = (),
            *, edited_by: str) -> FaqEntry:
        if self.table is not None:
            return self.table.add(question, answer, clauses, paraphrases, edited_by=edited_by)
        curated("faq-0000", question, answer, clauses, paraphrases, edited_by=edited_by)  # refuse before locking
        with self._locked():
            entries = self.list()
            entry = curated(next_id(entries), question, answer, clauses, paraphrases, edited_by=edited_by)
            self._write([*entries, entry])
            return entry

    def edit(self, entry_id: str, question: str, answer: str, clauses: Sequence[str] = (),
             paraphrases: Sequence[str] = (), *, edited_by: str) -> FaqEntry:
        if self.table is not None:
            return self.table.edit(entry_id, question, answer, clauses, paraphrases, edited_by=edited_by)
        entry = curated(entry_id, question, answer, clauses, paraphrases, edited_by=edited_by)
        with self._locked():
            entries = self.list()
            index = next((i for i, e in enumerate(entries) if e.id == entry_id), None)
            if index is None:
                raise FaqError(f"no FAQ entry {entry_id!r}")
            entries[index] = entry
            self._write(entries)
            return entry

    def delete(self, entry_id: str) -> None:
        if self.table is not None:
            self.table.delete(entry_id)
            return
        with self._locked():
            entries = self.list()
            kept = [e for e in entries if e.id != entry_id]
            if len(kept) == len(entries):
                raise FaqError(f"no FAQ entry {entry_id!r}")
            self._write(kept)


def open_faq_store(settings: Settings) -> FaqStore:
    """The store 管理 should edit: the database's FAQ table when `settings.database_url` is set, else the file."""
    path = Path(settings.corpus_dir) / FAQ_NAME
    if settings.database_url is None:
        return FaqStore(path)
    url, pool = settings.database_url.get_secret_value(), settings.database_pool
    return FaqStore(path, FaqTable(lambda: postgres(url, pool), seed=path))


def with_status(store: FaqStore, bot: Assistant) -> list[dict[str, Any]]:
    """Every entry as JSON plus `status` (ok | stale) and `reason`, checked against the index being served."""
    entries = store.list()
    statuses = bot.faq.checks.check(entries, bot.retriever.view())
    return [entry.to_json() | statuses[entry.id].to_json() for entry in entries]
