"""Wiring of rag's document versions into the UI and the API, and a fresh catalog for every answer.

rag's contract: `Assistant.answer(question, history=None, mode=None, versions="current")`; with
`versions="all"` the answer text gains a line per changed clause and `answer.extra["earlier_versions"]`
lists them. Until an Assistant takes `versions`, it is not passed (answers are the current ones).

`fresh_documents` drops the Assistant's cached catalog when corpus/catalog.toml changed (a document
added, replaced or removed in 管理 or by `policyqa corpus`), so titles, versions and the “text not
in the corpus” answers follow the catalog without a restart.
"""

from __future__ import annotations

import inspect
import threading
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from index.catalog import CATALOG_NAME

VERSIONS = ("current", "all")
Versions = Literal["current", "all"]
_STAMPS: dict[int, tuple[int, int, int]] = {}
_LOCK = threading.Lock()


def takes_versions(bot: Any) -> bool:
    try:
        return "versions" in inspect.signature(bot.answer).parameters
    except (TypeError, ValueError):
        return False


def answer_kwargs(bot: Any, versions: str) -> dict[str, Any]:
    """`{"versions": "all"}` when asked for and the Assistant supports it; else nothing (current only)."""
    if versions not in VERSIONS:
        raise ValueError(f"versions must be one of {', '.join(VERSIONS)}")
    return {"versions": versions} if versions != "current" and takes_versions(bot) else {}


def fresh_documents(bot: Any, corpus_dir: Path) -> None:
    """Forget `bot.documents` (a cached_property of rag's Assistant) once the catalog file changed."""
    if not isinstance(getattr(type(bot), "documents", None), cached_property):
        return
    try:
        st = (Path(corpus_dir) / CATALOG_NAME).stat()
    except OSError:
        return
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _LOCK:
        seen = _STAMPS.get(id(bot))
        _STAMPS[id(bot)] = stamp
        if seen != stamp:  # first sight included: the cache may predate this process's last catalog write
            bot.__dict__.pop("documents", None)
