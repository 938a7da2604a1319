"""The one re-index path of 管理 (the 索引 button, a document confirmed, a 解读 saved): atomic, with progress.

`index.build.build_index` writes a new generation and flips one pointer, so the previous index keeps
answering until the new one is ready; the app's retriever picks it up within seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from index.build import BuildLockedError, build_index
from index.settings import Settings
from ui.format import esc

Progress = Callable[[int, int], None]


def reindex(settings: Settings, progress: Progress | None = None) -> tuple[bool, str]:
    """(ok, escaped one-line summary); a build already running is a message, not an error."""
    try:
        report = build_index(settings, progress=progress)
    except BuildLockedError as exc:
        return False, f"⚠ {esc(exc)}"
    except Exception as exc:  # a corpus problem found by the build: the previous index keeps serving
        return False, f"⚠ {esc(type(exc).__name__)}: {esc(exc)}"
    state = "rebuilt" if report.changed else "unchanged"
    return True, (f"✓ index {state}: {report.documents} documents, {report.clauses} clauses, {report.chunks} chunks, "
                  f"{report.embedded} embedded, {report.reused} reused, {report.keys} plain-language keys, "
                  f"{report.seconds:.2f} s")
