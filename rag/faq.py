"""Curated FAQ entries: the one entry type (format and validation), reading them, matching a question.

An entry is `FaqEntry`: id, question, answer, clauses ("doc_id:clause_id"), paraphrases, edited_by,
edited_at. A line of corpus/faq.jsonl is one entry's JSON object and the database's FAQ table
(rag/faq_table.py) stores the same object; every reader and writer (the chain, the 管理 store
ui/faq_store.py, the table) builds entries through `FaqEntry`, whose constructor holds every rule.
Whether an entry still holds against the index is rag/faq_check.py.

Matching is conservative. A curated answer is only worth giving when the question is the curated one
(or a listed paraphrase): near-misses that share words but ask about something else (省级 vs 国家级,
总师 vs 标准) must fall through to retrieval. So a match needs a normalised exact match, or very high
character-bigram overlap with no content word on either side that the other lacks; an embedding can
vouch for a lower overlap only under the same no-new-content-word rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rag.config import FaqThresholds
from rag.lexicon import Lexicon
from rag.normalize import normalize

Embed = Callable[[list[str]], list[list[float]]]
_DIGITS = re.compile(r"\d+")


class FaqError(ValueError):
    """An entry refused: a malformed line or field, an empty question, an unknown id."""


class FaqFormatError(FaqError):
    """A line of faq.jsonl (or a field of an edit) that is not a valid entry; says which and where."""


_CLAUSE = re.compile(r"^[\w.-]+:\S+$")


@dataclass(frozen=True)
class FaqEntry:
    """One curated entry; constructing one validates it (the only place the rules live)."""

    id: str
    question: str
    answer: str
    clauses: tuple[str, ...] = ()  # "doc_id:clause_id"
    paraphrases: tuple[str, ...] = ()
    edited_by: str = ""
    edited_at: str = ""

    def __post_init__(self) -> None:
        for key in ("id", "question", "answer"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise FaqFormatError(f"missing or empty {key!r} (a non-empty string) / {_ZH[key]}不能为空")
        for key in ("clauses", "paraphrases"):
            value = getattr(self, key)
            if not isinstance(value, tuple) or not all(isinstance(v, str) and v.strip() for v in value):
                raise FaqFormatError(f"{key!r} must be a list of non-empty strings")
        bad = [c for c in self.clauses if not _CLAUSE.match(c)]
        if bad:
            raise FaqFormatError(f"'clauses' must look like 'sanmen:二(七)2' / 条款格式应为 sanmen:二(七)2: "
                                 f"{', '.join(bad)}")
        if not isinstance(self.edited_by, str) or not isinstance(self.edited_at, str):
            raise FaqFormatError("'edited_by' and 'edited_at' must be strings")

    @property
    def variants(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one faq.jsonl line (and of a row of the database's FAQ table)."""
        return {"id": self.id, "question": self.question, "answer": self.answer, "clauses": list(self.clauses),
                "paraphrases": list(self.paraphrases), "edited_by": self.edited_by, "edited_at": self.edited_at}

    def to_line(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: object, where: str = "FAQ entry") -> FaqEntry:
        """An entry from a decoded JSON object; every problem is a FaqFormatError naming `where`."""
        if not isinstance(raw, dict):
            raise FaqFormatError(f"{where}: expected a JSON object")
        lists = {k: raw.get(k, []) for k in ("clauses", "paraphrases")}
        for key, value in lists.items():
            if not isinstance(value, list):
                raise FaqFormatError(f"{where}: {key!r} must be a list of non-empty strings")
        try:
            return cls(raw.get("id"), raw.get("question"), raw.get("answer"),  # type: ignore[arg-type]
                       tuple(lists["clauses"]), tuple(lists["paraphrases"]), raw.get("edited_by", ""),
                       raw.get("edited_at", ""))
        except FaqFormatError as exc:
            raise FaqFormatError(f"{where}: {exc}") from None

    @classmethod
    def from_line(cls, line: str, where: str = "FAQ entry") -> FaqEntry:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FaqFormatError(f"{where}: not valid JSON ({exc.msg})") from exc
        return cls.from_json(raw, where)


_ZH = {"id": "编号", "question": "问题", "answer": "答案"}


def curated(entry_id: str, question: str, answer: str, clauses: Sequence[str] = (), paraphrases: Sequence[str] = (),
            *, edited_by: str) -> FaqEntry:
    """An entry as the office saves it (管理, either store): trimmed, signed by its editor, stamped now (UTC)."""
    if not isinstance(edited_by, str) or not edited_by.strip():
        raise FaqFormatError("edited_by is empty / 请填写编辑人")
    return FaqEntry(entry_id, question.strip(), answer.strip(), tuple(c.strip() for c in clauses),
                    tuple(p.strip() for p in paraphrases), edited_by.strip(),
                    datetime.now(UTC).isoformat(timespec="seconds"))


def next_id(entries: Sequence[FaqEntry]) -> str:
    """faq-0001, faq-0002, …: one more than the highest numbered id."""
    numbers = [int(m[1]) for e in entries if (m := re.match(r"^faq-(\d+)$", e.id))]
    return f"faq-{max(numbers, default=0) + 1:04d}"


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    matched: str  # the question or paraphrase that matched
    score: float
    method: str  # exact | lexical | embedding


def parse_lines(lines: Iterable[str], name: str) -> list[FaqEntry]:
    """Entries of JSON Lines text (blank lines skipped); a bad line or a repeated id raises FaqFormatError."""
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        entry = FaqEntry.from_line(line, where)
        if entry.id in seen:
            raise FaqFormatError(f"{where}: duplicate id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def load_faq(path: Path | str) -> list[FaqEntry]:
    """Entries of a JSON Lines file; a missing file has none, a malformed line raises FaqFormatError."""
    path = Path(path)
    if not path.is_file():
        return []
    return parse_lines(path.read_text(encoding="utf-8").splitlines(), str(path))


class FaqSource(Protocol):
    """Where the chain reads the curated entries from (`Assistant.faq_entries`)."""

    def version(self) -> float:
        """Changes whenever the entries change (cheap: called for every question)."""

    def list(self) -> list[FaqEntry]: ...


class FaqFile:
    """corpus/faq.jsonl (the source without a database); its version is the file's mtime."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def version(self) -> float:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def list(self) -> list[FaqEntry]:
        return load_faq(self.path)


def canonical(text: str, lexicon: Lexicon) -> str:
    """NFKC, Simplified, lower-case, punctuation/space and polite fillers (words.toml [filler]) removed."""
    text = re.sub(r"[\W_]+", "", normalize(text).lower())
    changed = True
    while changed:
        changed = False
        for opening in lexicon.filler_openings:
            if text.startswith(opening) and len(text) > len(opening):
                text, changed = text[len(opening) :], True
        for ending in lexicon.filler_endings:
            if text.endswith(ending) and len(text) > len(ending):
                text, changed = text[: -len(ending)], True
    return text


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def jaccard(a: str, b: str, lexicon: Lexicon) -> float:
    x, y = _bigrams(canonical(a, lexicon)), _bigrams(canonical(b, lexicon))
    return len(x & y) / len(x | y) if x and y else 0.0


def new_content(question: str, variant: str, lexicon: Lexicon) -> set[str]:
    """Content words (and numbers) of `question` that `variant` does not contain: what it asks beyond it."""
    other = canonical(variant, lexicon)
    words = {t for t in lexicon.tokenize(canonical(question, lexicon)) if len(t) >= 2} | set(_DIGITS.findall(question))
    return {w for w in words if w not in other}


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def match_faq(question: str, entries: Sequence[FaqEntry], lexicon: Lexicon, limits: FaqThresholds,
              embed: Embed | None = None) -> FaqMatch | None:
    """The entry the question closely restates, or None (never the merely nearest entry).

    Entries without clauses are skipped: their answer could not be cited and verified.
    """
    q = canonical(question, lexicon)
    if not q or not entries:
        return None
    best: FaqMatch | None = None
    candidates: list[tuple[FaqEntry, str, float]] = []
    for entry in (e for e in entries if e.clauses):
        for variant in entry.variants:
            if canonical(variant, lexicon) == q:
                return FaqMatch(entry, variant, 1.0, "exact")
            overlap = jaccard(question, variant, lexicon)
            if overlap < limits.embed_lexical_min or new_content(question, variant, lexicon) \
                    or new_content(variant, question, lexicon):
                continue
            if overlap >= limits.lexical_min and (best is None or overlap > best.score):
                best = FaqMatch(entry, variant, round(overlap, 4), "lexical")
            candidates.append((entry, variant, overlap))
    if best is not None or embed is None or not candidates:
        return best
    vectors = embed([question, *(v for _e, v, _o in candidates)])
    scored = [(_cosine(vectors[0], vec), entry, variant) for vec, (entry, variant, _o) in
              zip(vectors[1:], candidates, strict=True)]
    cosine, entry, variant = max(scored, key=lambda t: t[0])
    return FaqMatch(entry, variant, round(cosine, 4), "embedding") if cosine >= limits.embed_min else None
