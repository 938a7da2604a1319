"""Whether a curated FAQ answer still holds against the index: the grounding rule LLM answers obey.

An entry is `ok` when every clause it cites is in the index; every 【marker】 in its answer names one
of those clauses and every quoted span occurs verbatim in them (rag.llm_prompt.verify); and every
number, amount, percentage, date, phone number, e-mail address, named organisation and clause number
its answer states occurs in the cited clauses (rag.support, with corpus/language/claims.toml). The
one allowance is the project's rule for goal sub-items: a sub-item (一(二)-4) is read with its parent
clause (一(二), “到2025年…”), as rag/extract.py and rag/targets.py do. Otherwise it is `stale`, with
every reason; the chain does not serve it and 管理 shows it (GET /api/admin/faq).

The check runs when the entries are loaded or edited and whenever the index generation changes
(rag/stages.py FaqStage caches it per entry list and index name).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rag.faq import FaqEntry
from rag.lexicon import load_lexicon
from rag.llm_prompt import ClauseBlock, verify
from rag.support import ClaimLexicon, evidence, unsupported
from rag.view import IndexView

log = logging.getLogger(__name__)

ClauseText = Callable[[str], str]  # "doc:clause" → its text, "" when the index has no such clause
OK, STALE = "ok", "stale"


@dataclass(frozen=True)
class FaqStatus:
    entry_id: str
    state: str  # ok | stale
    reason: str = ""  # why it is stale: every problem, "; "-separated

    @property
    def ok(self) -> bool:
        return self.state == OK

    def to_json(self) -> dict[str, Any]:
        return {"status": self.state, "reason": self.reason}


def parent_key(key: str) -> str | None:
    """The clause a goal sub-item belongs to (sanmen:一(二)-4 → sanmen:一(二)); None for other clauses."""
    parent = re.sub(r"-\d+$", "", key)
    return parent if parent != key else None


def check_entry(entry: FaqEntry, clause_text: ClauseText, claims: ClaimLexicon) -> FaqStatus:
    """`ok`, or `stale` with every reason (clauses missing, markers, misquotes, unsupported claims)."""
    problems: list[str] = []
    if not entry.clauses:
        problems.append("cites no clause")
    texts = {key: clause_text(key) for key in entry.clauses}
    problems += [f"{key}: clause not in the index" for key, text in texts.items() if not text]
    blocks = [_block(key, text) for key, text in texts.items() if text]
    if blocks:
        problems += list(verify(entry.answer, blocks).dropped)
    context = [t for key in texts if (p := parent_key(key)) and p not in texts and (t := clause_text(p))]
    found = evidence([b.text for b in blocks] + context, [b.clause_id for b in blocks], claims)
    problems += [f"unsupported {c.kind} {c.text}" for c in unsupported(entry.answer, found, claims)]
    problems = list(dict.fromkeys(problems))
    return FaqStatus(entry.id, STALE, "; ".join(problems)) if problems else FaqStatus(entry.id, OK)


def check_entries(entries: Iterable[FaqEntry], clause_text: ClauseText, claims: ClaimLexicon) -> dict[str, FaqStatus]:
    """Each entry's status, by id."""
    return {e.id: check_entry(e, clause_text, claims) for e in entries}


def _block(key: str, text: str) -> ClauseBlock:
    doc_id, _, clause_id = key.partition(":")
    return ClauseBlock(doc_id, clause_id, "", text, clause_id)


class FaqChecks:
    """The statuses of the chain's entries against the current index generation, recomputed only when
    the entry list (a new list whenever the source changed) or the index generation changes."""

    def __init__(self, lexicon_dir: Path) -> None:
        self.lexicon_dir = lexicon_dir
        self._lock = threading.Lock()
        self._cached: tuple[object, str, dict[str, FaqStatus]] = (None, "", {})
        self._reported: set[tuple[str, str]] = set()

    @cached_property
    def claims(self) -> ClaimLexicon:
        return load_lexicon(self.lexicon_dir).claims  # loaded once with the rest of the language data

    def statuses(self, entries: Sequence[FaqEntry], view: IndexView) -> dict[str, FaqStatus]:
        with self._lock:
            cached_entries, name, result = self._cached
            if cached_entries is entries and name == view.name:
                return result
        result = check_entries(entries, view.clause_text, self.claims)
        with self._lock:
            self._cached = (entries, view.name, result)
            for status in result.values():
                if not status.ok and (status.entry_id, status.reason) not in self._reported:
                    self._reported.add((status.entry_id, status.reason))
                    log.warning("FAQ entry %s is stale against index %s and is not served: %s", status.entry_id,
                                view.name, status.reason)
        return result

    def check(self, entries: Sequence[FaqEntry], view: IndexView) -> dict[str, FaqStatus]:
        """Statuses of any entry list (the 管理 store's), without touching the chain's cache."""
        return check_entries(entries, view.clause_text, self.claims)

    def servable(self, entries: Sequence[FaqEntry], view: IndexView) -> list[FaqEntry]:
        """The entries that hold; a stale one is never matched."""
        status = self.statuses(entries, view)
        return [e for e in entries if status[e.id].ok]
