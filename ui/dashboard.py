"""The 管理 dashboard's figures, computed from the question log (ui/feedback.py's store), and their CSV.

Read through `FeedbackDB.connect()` (SQLite or PostgreSQL alike; statements with `?` placeholders):
two range queries on `questions` and `feedback` by `created_at` (UTC ISO text, so a text comparison is
a time comparison), aggregated here. Days are the office's days (Asia/Shanghai). Latency percentiles
use the project's one percentile (index/stats.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from index.stats import percentile
from ui.feedback import FeedbackDB
from ui.format import to_csv

TZ = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 366
TOP = 10
CSV_HEADER = ("section", "key", "metric", "value")


@dataclass(frozen=True)
class Day:
    day: str
    questions: int
    refused: int
    up: int
    down: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def refusal_rate(self) -> float | None:
        return self.refused / self.questions if self.questions else None


@dataclass(frozen=True)
class Figures:
    start: date
    end: date
    days: tuple[Day, ...]  # every day of the range, in order, days without questions included
    total: Day  # the whole range as one “day” (its `day` is the range, start..end)
    top_clauses: tuple[tuple[str, int], ...]  # clause key, questions that cited it
    top_refused: tuple[tuple[str, int], ...]  # refused question (trimmed), how often


def parse_range(start: Any, end: Any, today: date | None = None) -> tuple[date, date]:
    """Two YYYY-MM-DD dates (a full timestamp is cut to its date); ValueError when unusable."""
    today = today or datetime.now(TZ).date()
    first = date.fromisoformat(str(start).strip()[:10]) if start else today - timedelta(days=29)
    last = date.fromisoformat(str(end).strip()[:10]) if end else today
    if first > last or (last - first).days >= MAX_DAYS:
        raise ValueError(f"the start must not be after the end, and the range at most {MAX_DAYS} days")
    return first, last


def utc_bounds(start: date, end: date) -> tuple[str, str]:
    """[start 00:00, end+1 00:00) in the office's time, as UTC ISO text like the log's `created_at`."""
    lo = datetime.combine(start, time(), TZ).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), TZ).astimezone(UTC)
    return lo.isoformat(timespec="seconds"), hi.isoformat(timespec="seconds")


def local_day(created_at: str) -> str:
    stamp = datetime.fromisoformat(created_at)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(TZ).date().isoformat()


def clause_keys(citations: str) -> set[str]:
    try:
        keys = json.loads(citations or "[]")
    except (TypeError, ValueError):
        return set()
    return {str(k) for k in keys} if isinstance(keys, list) else set()


def aggregate(questions: Sequence[dict[str, Any]], feedback: Sequence[dict[str, Any]], start: date, end: date,
              top: int = TOP) -> Figures:
    """Figures from log rows (`created_at`, `refused`, `latency_ms`, `citations`, `question`; `rating`)."""
    per_day: dict[str, list[dict[str, Any]]] = {}
    for row in questions:
        per_day.setdefault(local_day(row["created_at"]), []).append(row)
    ratings: Counter[tuple[str, int]] = Counter((local_day(r["created_at"]), int(r["rating"])) for r in feedback)
    days = []
    for n in range((end - start).days + 1):
        key = (start + timedelta(days=n)).isoformat()
        days.append(_tally(key, per_day.get(key, []), ratings[(key, 1)], ratings[(key, -1)]))
    total = _tally(f"{start.isoformat()}..{end.isoformat()}", questions, sum(d.up for d in days),
                   sum(d.down for d in days))
    cited: Counter[str] = Counter(k for r in questions for k in clause_keys(r["citations"]))
    refused: Counter[str] = Counter(str(r["question"]).strip() for r in questions if r["refused"])
    return Figures(start, end, tuple(days), total, tuple(_top(cited, top)), tuple(_top(refused, top)))


def _tally(key: str, rows: Sequence[dict[str, Any]], up: int, down: int) -> Day:
    latencies = [float(r["latency_ms"]) for r in rows]
    return Day(key, len(rows), sum(bool(r["refused"]) for r in rows), up, down,
               percentile(latencies, 50), percentile(latencies, 95))


def _top(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    """Most frequent first, ties in alphabetical order (stable across runs and backends)."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def figures(db: FeedbackDB, start: date, end: date, top: int = TOP) -> Figures:
    lo, hi = utc_bounds(start, end)
    with db.connect() as conn:
        questions = conn.all("SELECT created_at, refused, latency_ms, citations, question FROM questions"
                             " WHERE created_at >= ? AND created_at < ?", (lo, hi))
        feedback = conn.all("SELECT created_at, rating FROM feedback WHERE created_at >= ? AND created_at < ?",
                            (lo, hi))
    return aggregate(questions, feedback, start, end, top)


def _round(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(value, digits)


def figures_csv(f: Figures) -> str:
    """The numbers behind every chart, one per row: section, key, metric, value."""
    rows = [(section, d.day, metric, value) for section, d in (("total", f.total), *(("day", d) for d in f.days))
            for metric, value in (("questions", d.questions), ("refused", d.refused),
                                  ("refusal_rate", _round(d.refusal_rate, 4)), ("thumbs_up", d.up),
                                  ("thumbs_down", d.down), ("latency_p50_ms", _round(d.p50_ms)),
                                  ("latency_p95_ms", _round(d.p95_ms)))]
    rows += [("cited_clause", key, "questions", n) for key, n in f.top_clauses]
    rows += [("refused_question", question, "count", n) for question, n in f.top_refused]
    return to_csv(CSV_HEADER, rows)
