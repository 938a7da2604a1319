"""Matching a question to a curated FAQ entry (corpus/faq.jsonl), conservatively.

A curated answer is only worth giving when the question is the curated one (or a listed paraphrase):
near-misses that share words but ask about something else (省级 vs 国家级, 总师 vs 标准) must fall
through to retrieval. So a match needs a normalised exact match, or very high character-bigram
overlap with no content word on either side that the other lacks; an embedding can vouch for a
lower overlap only under the same no-new-content-word rule.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import FaqThresholds
from rag.lexicon import Lexicon
from rag.normalize import normalize

Embed = Callable[[list[str]], list[list[float]]]
_DIGITS = re.compile(r"\d+")


class FaqFormatError(ValueError):
    """A line of faq.jsonl that is not a valid entry; the message names the file and line."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    clauses: tuple[str, ...]  # "doc_id:clause_id"
    paraphrases: tuple[str, ...] = ()
    edited_by: str = ""
    edited_at: str = ""

    @property
    def variants(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    matched: str  # the question or paraphrase that matched
    score: float
    method: str  # exact | lexical | embedding


def _entry(raw: object, where: str) -> FaqEntry:
    if not isinstance(raw, dict):
        raise FaqFormatError(f"{where}: expected a JSON object")
    for key in ("id", "question", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise FaqFormatError(f"{where}: missing or empty {key!r}")
    lists = {}
    for key in ("clauses", "paraphrases"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FaqFormatError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    if not all(re.match(r"^[\w.-]+:\S+$", c) for c in lists["clauses"]):
        raise FaqFormatError(f"{where}: 'clauses' must look like 'sanmen:二(七)2'")
    return FaqEntry(raw["id"], raw["question"], raw["answer"], lists["clauses"], lists["paraphrases"],
                    str(raw.get("edited_by", "")), str(raw.get("edited_at", "")))


def load_faq(path: Path | str) -> list[FaqEntry]:
    """Entries of a JSON Lines file; a missing file has none, a malformed line raises FaqFormatError."""
    path = Path(path)
    if not path.is_file():
        return []
    entries, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FaqFormatError(f"{where}: not valid JSON ({exc.msg})") from exc
        entry = _entry(raw, where)
        if entry.id in seen:
            raise FaqFormatError(f"{where}: duplicate id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return entries


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
