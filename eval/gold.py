"""Gold-set loading: any JSON Lines file in the design's format, with errors that name the line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*:[^\s:|]+$")
_ROLES = frozenset({"user", "assistant", "system"})


class GoldError(ValueError):
    """A gold file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class GoldItem:
    """One gold question. `clauses` and `must_include` are tuples of alternatives (the `|` split)."""

    id: str
    question: str
    answerable: bool
    clauses: tuple[tuple[str, ...], ...]
    must_include: tuple[tuple[str, ...], ...]
    tags: tuple[str, ...]
    history: tuple[dict[str, str], ...] = ()
    line: int = 0


def split_alternatives(element: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in element.split("|") if part.strip())


def _string_list(data: dict[str, Any], field: str, *, required: bool = True) -> list[str]:
    value = data.get(field, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field!r} must be a list of strings")
    return value


def clause_alternatives(element: str) -> tuple[str, ...]:
    """Alternatives of one gold citation; one written without a doc_id (“sanmen:序言|公告”) is of the same
    document as the alternative before it, as writers of gold sets naturally abbreviate."""
    keys: list[str] = []
    for part in split_alternatives(element):
        if ":" not in part and keys and ":" in keys[-1]:
            part = keys[-1].split(":", 1)[0] + ":" + part
        keys.append(part)
    return tuple(keys)


def _clauses(data: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    elements = tuple(clause_alternatives(e) for e in _string_list(data, "clauses"))
    for element in elements:
        if not element:
            raise ValueError("'clauses' has an empty element")
        for key in element:
            if not _KEY.match(key):
                raise ValueError(f"clause {key!r} is not 'doc_id:clause_id' (e.g. 'sanmen:一(二)-4')")
    return elements


def _history(data: dict[str, Any]) -> tuple[dict[str, str], ...]:
    turns = data.get("history", [])
    ok = isinstance(turns, list) and all(
        isinstance(t, dict) and t.get("role") in _ROLES and isinstance(t.get("content"), str)
        for t in turns
    )
    if not ok:
        raise ValueError("'history' must be a list of {\"role\": user|assistant, \"content\": str}")
    return tuple({"role": t["role"], "content": t["content"]} for t in turns)


def parse_item(data: Any, line: int = 0) -> GoldItem:
    """One decoded JSON line → GoldItem; ValueError says which field is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if not isinstance(data.get("id"), str) or not data["id"].strip():
        raise ValueError("'id' must be a non-empty string")
    if not isinstance(data.get("question"), str) or not data["question"].strip():
        raise ValueError("'question' must be a non-empty string")
    if not isinstance(data.get("answerable"), bool):
        raise ValueError("'answerable' must be true or false")
    must = tuple(split_alternatives(e) for e in _string_list(data, "must_include"))
    if any(not element for element in must):
        raise ValueError("'must_include' has an empty element")
    return GoldItem(
        id=data["id"],
        question=data["question"],
        answerable=data["answerable"],
        clauses=_clauses(data),
        must_include=must,
        tags=tuple(_string_list(data, "tags", required=False)),
        history=_history(data),
        line=line,
    )


def load_gold(path: Path) -> list[GoldItem]:
    """Every question of a gold file; blank lines are skipped, anything else malformed is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot read gold file: {exc}") from exc
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = parse_item(json.loads(text), number)
        except (json.JSONDecodeError, ValueError) as exc:
            raise GoldError(f"{path}: line {number}: {exc}") from exc
        if item.id in seen:
            raise GoldError(f"{path}: line {number}: id {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise GoldError(f"{path}: no questions found")
    return items
