"""Reviewed plain-language notes (通俗解读) for display under a clause: the chat's cards and 条文查阅.

Records live in corpus/interpretations/<doc_id>.jsonl (index/interpretations.py). Only a record with
`reviewed_by` and `reviewed_at` is ever shown, always labelled “解读(非政策原文)”. The files are
re-read when one of them changes (a stat per lookup), so an edit saved in 管理 shows up at once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index.catalog import CorpusError
from index.interpretations import FOLDER, Interpretation, load_interpretations

log = logging.getLogger(__name__)
Stamp = tuple[tuple[str, int, int], ...]


class Notes:
    def __init__(self, corpus_dir: Path) -> None:
        self.folder = Path(corpus_dir) / FOLDER
        self.corpus_dir = Path(corpus_dir)
        self._stamp: Stamp | None = None
        self._records: dict[str, Interpretation] = {}
        self._lock = threading.Lock()

    def _current_stamp(self) -> Stamp:
        if not self.folder.is_dir():
            return ()
        stamps = []
        for path in sorted(self.folder.glob("*.jsonl")):
            try:
                st = path.stat()
            except OSError:
                continue
            stamps.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def records(self) -> dict[str, Interpretation]:
        """Every record by clause key, reviewed or not (管理 edits them all); re-read after a change."""
        stamp = self._current_stamp()
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._records = load_interpretations(self.corpus_dir)
                except CorpusError:  # a hand-edited file with a bad line: show no notes rather than fail answers
                    log.warning("interpretations not shown", exc_info=True)
                    self._records = {}
                self._stamp = stamp
            return self._records

    def note(self, key: str, lang: str = "zh") -> str:
        """The reviewed note for a clause key in `lang` (English falls back to Chinese); "" when none."""
        record = self.records().get(key)
        if record is None or not record.reviewed:
            return ""
        return record.interpretation_en if lang == "en" and record.interpretation_en else record.interpretation

    def notes(self, keys: set[str] | list[str], lang: str = "zh") -> dict[str, str]:
        return {k: text for k in keys if (text := self.note(k, lang))}
