"""`corpus/faq.jsonl`: the office's curated question → answer entries (storage only).

Every change rewrites the whole file through a temp file + fsync + `os.replace`, under an
exclusive lock, so a reader (or the answer chain) sees either the old file or the new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FAQ_NAME = "faq.jsonl"
_CLAUSE = re.compile(r"^[\w.-]+:\S+$")
_LOCK = threading.Lock()


class FaqError(ValueError):
    """An entry the store refuses (empty question, malformed clause, unknown id)."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    clauses: tuple[str, ...] = ()
    paraphrases: tuple[str, ...] = ()
    edited_by: str = ""
    edited_at: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["clauses"], data["paraphrases"] = list(self.clauses), list(self.paraphrases)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaqEntry:
        return cls(id=str(data["id"]), question=str(data.get("question", "")), answer=str(data.get("answer", "")),
                   clauses=tuple(str(c) for c in data.get("clauses") or ()),
                   paraphrases=tuple(str(p) for p in data.get("paraphrases") or ()),
                   edited_by=str(data.get("edited_by", "")), edited_at=str(data.get("edited_at", "")))


def parse_list(text: str, *, lines_only: bool = False) -> tuple[str, ...]:
    """Clauses from “a, b;c” or one per line; paraphrases one per line. Empty items and repeats dropped."""
    parts = text.splitlines() if lines_only else re.split(r"[\n,,;;、]+", text)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def validate(question: str, answer: str, clauses: Sequence[str], edited_by: str) -> None:
    if not question.strip():
        raise FaqError("question is empty / 问题不能为空")
    if not answer.strip():
        raise FaqError("answer is empty / 答案不能为空")
    if not edited_by.strip():
        raise FaqError("edited_by is empty / 请填写编辑人")
    bad = [c for c in clauses if not _CLAUSE.match(c)]
    if bad:
        raise FaqError(f"clauses must look like sanmen:二(七)2 / 条款格式应为 sanmen:二(七)2: {', '.join(bad)}")


class FaqStore:
    """List / add / edit / delete entries of one faq.jsonl."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_corpus(cls, corpus_dir: Path) -> FaqStore:
        return cls(corpus_dir / FAQ_NAME)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Threads of this process and other processes (a second `serve`) take turns writing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, open(self.path.with_name(self.path.name + ".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def list(self) -> list[FaqEntry]:
        if not self.path.exists():
            return []
        entries = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append(FaqEntry.from_json(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise FaqError(f"{self.path}:{n}: not a FAQ entry ({exc}); fix the line by hand") from exc
        return entries

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
                    fh.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
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

    @staticmethod
    def _next_id(entries: Sequence[FaqEntry]) -> str:
        numbers = [int(m[1]) for e in entries if (m := re.match(r"^faq-(\d+)$", e.id))]
        return f"faq-{max(numbers, default=0) + 1:04d}"

    def add(self, question: str, answer: str, clauses: Sequence[str] = (), paraphrases: Sequence[str] = (),
            *, edited_by: str) -> FaqEntry:
        validate(question, answer, clauses, edited_by)
        with self._locked():
            entries = self.list()
            entry = FaqEntry(self._next_id(entries), question.strip(), answer.strip(), tuple(clauses),
                             tuple(paraphrases), edited_by.strip(), _now())
            self._write([*entries, entry])
            return entry

    def edit(self, entry_id: str, question: str, answer: str, clauses: Sequence[str] = (),
             paraphrases: Sequence[str] = (), *, edited_by: str) -> FaqEntry:
        validate(question, answer, clauses, edited_by)
        with self._locked():
            entries = self.list()
            index = next((i for i, e in enumerate(entries) if e.id == entry_id), None)
            if index is None:
                raise FaqError(f"no FAQ entry {entry_id!r}")
            entries[index] = replace(entries[index], question=question.strip(), answer=answer.strip(),
                                     clauses=tuple(clauses), paraphrases=tuple(paraphrases),
                                     edited_by=edited_by.strip(), edited_at=_now())
            self._write(entries)
            return entries[index]

    def delete(self, entry_id: str) -> None:
        with self._locked():
            entries = self.list()
            kept = [e for e in entries if e.id != entry_id]
            if len(kept) == len(entries):
                raise FaqError(f"no FAQ entry {entry_id!r}")
            self._write(kept)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
