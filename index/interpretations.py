"""The plain-language layer (政策解读): corpus/interpretations/<doc_id>.jsonl, one record per clause.

A record explains a clause in everyday words and lists the phrasings people use for what it
covers. It is a way to *find* the clause (its texts become retrieval keys that point to it) and a
reading aid shown as “解读(非政策原文)”; it is never quoted as the policy's words. Records without
`reviewed_by`/`reviewed_at` still help retrieval but are not shown to users.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from index.atomic import write_atomic
from index.catalog import CorpusError
from index.models import Key

FOLDER = "interpretations"
_TEXT_LIMIT = 2000  # characters per text field: a reading aid, not a second document
_LIST_LIMIT = 60


@dataclass(frozen=True)
class Term:
    """A policy term of the clause, explained in plain words (and its English rendering)."""

    term: str
    explanation: str = ""
    english: str = ""


@dataclass(frozen=True)
class Interpretation:
    doc_id: str
    clause_id: str
    interpretation: str
    phrasings: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    interpretation_en: str = ""
    phrasings_en: tuple[str, ...] = ()
    reviewed_by: str = ""
    reviewed_at: str = ""

    @property
    def clause_key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by.strip() and self.reviewed_at.strip())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["phrasings"], data["phrasings_en"] = list(self.phrasings), list(self.phrasings_en)
        data["terms"] = [asdict(t) for t in self.terms]
        return data


def _text(raw: dict[str, Any], field: str, *, required: bool = False) -> str:
    value = raw.get(field, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{field!r} must be a {'non-empty ' if required else ''}string")
    if len(value) > _TEXT_LIMIT:
        raise ValueError(f"{field!r} is longer than {_TEXT_LIMIT} characters")
    return value.strip()


def _texts(raw: dict[str, Any], field: str) -> tuple[str, ...]:
    value = raw.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field!r} must be a list of strings")
    if len(value) > _LIST_LIMIT or any(len(v) > _TEXT_LIMIT for v in value):
        raise ValueError(f"{field!r}: at most {_LIST_LIMIT} entries of at most {_TEXT_LIMIT} characters")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _terms(raw: dict[str, Any]) -> tuple[Term, ...]:
    value = raw.get("terms", [])
    if not isinstance(value, list) or len(value) > _LIST_LIMIT:
        raise ValueError(f"'terms' must be a list of at most {_LIST_LIMIT} objects")
    english = {t.get("term"): t.get("english", "") for t in raw.get("terms_en", []) if isinstance(t, dict)}
    terms = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("term"), str) or not item["term"].strip():
            raise ValueError("each term needs a non-empty 'term'")
        terms.append(Term(item["term"].strip(), _text(item, "explanation"),
                          _text(item, "english") or str(english.get(item["term"], "")).strip()))
    return tuple(terms)


def parse_record(raw: Any) -> Interpretation:
    """One decoded JSON object → Interpretation; ValueError names the field that is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object")
    return Interpretation(
        doc_id=_text(raw, "doc_id", required=True),
        clause_id=_text(raw, "clause_id", required=True),
        interpretation=_text(raw, "interpretation", required=True),
        phrasings=_texts(raw, "phrasings"),
        terms=_terms(raw),
        interpretation_en=_text(raw, "interpretation_en"),
        phrasings_en=_texts(raw, "phrasings_en"),
        reviewed_by=_text(raw, "reviewed_by"),
        reviewed_at=_text(raw, "reviewed_at"),
    )


def load_file(path: Path) -> list[Interpretation]:
    records: list[Interpretation] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_record(json.loads(line))
        except (json.JSONDecodeError, ValueError) as exc:
            raise CorpusError(f"{path}: line {number}: {exc}") from exc
        if record.clause_key in seen:
            raise CorpusError(f"{path}: line {number}: {record.clause_key} has a second record")
        if record.doc_id != path.stem:
            raise CorpusError(f"{path}: line {number}: doc_id {record.doc_id!r} does not match the file name")
        seen.add(record.clause_key)
        records.append(record)
    return records


def load_interpretations(corpus_dir: Path) -> dict[str, Interpretation]:
    """Every record of every `interpretations/<doc_id>.jsonl`, by clause key (empty when there are none)."""
    folder = Path(corpus_dir) / FOLDER
    found: dict[str, Interpretation] = {}
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        found.update((r.clause_key, r) for r in load_file(path))
    return found


def source_files(corpus_dir: Path) -> list[Path]:
    folder = Path(corpus_dir) / FOLDER
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def save_interpretation(corpus_dir: Path, record: Interpretation) -> Path:
    """Insert or replace one record in its document's file, atomically (the office edits in 管理)."""
    parse_record(record.to_json())  # the same validation as loading
    path = Path(corpus_dir) / FOLDER / f"{record.doc_id}.jsonl"
    existing = load_file(path) if path.exists() else []
    records = [r for r in existing if r.clause_key != record.clause_key]
    position = next((i for i, r in enumerate(existing) if r.clause_key == record.clause_key), len(records))
    records.insert(position, record)
    _write(path, records)
    return path


def _write(path: Path, records: Iterable[Interpretation]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
    write_atomic(path, body)


def mark_reviewed(record: Interpretation, reviewer: str, when: str) -> Interpretation:
    return replace(record, reviewed_by=reviewer.strip(), reviewed_at=when.strip())


def _key(record: Interpretation, kind: str, lang: str, text: str) -> Key:
    digest = hashlib.sha256(f"{kind}|{lang}|{text}".encode()).hexdigest()
    return Key(record.doc_id, record.clause_id, kind, lang, text, digest)


def keys_of(record: Interpretation) -> list[Key]:
    """The retrieval keys of one record: its interpretation, each phrasing and each term, per language."""
    keys = [_key(record, "plain", "zh", record.interpretation)]
    keys += [_key(record, "phrasing", "zh", p) for p in record.phrasings]
    keys += [_key(record, "term", "zh", f"{t.term}:{t.explanation}") for t in record.terms]
    if record.interpretation_en:
        keys.append(_key(record, "plain", "en", record.interpretation_en))
    keys += [_key(record, "phrasing", "en", p) for p in record.phrasings_en]
    keys += [_key(record, "term", "en", f"{t.english} ({t.term})") for t in record.terms if t.english]
    return list({k.content_hash: k for k in keys}.values())
