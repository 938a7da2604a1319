"""管理 → 统计 (issue 12): every figure equals what a direct query of the question log gives; the CSV is made
on request for a logged-in session only and downloaded once; one percentile for the whole project."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import numpy as np
import pytest
from pydantic import SecretStr

from index.stats import percentile
from rag.models import Answer, Citation
from tests.api_fixtures import gradio_event
from ui.admin_dashboard import Dashboard
from ui.dashboard import figures, parse_range
from ui.exports import Exports
from ui.feedback import FeedbackDB

pytest_plugins = ["tests.api_fixtures"]
START, END = date(2026, 3, 1), date(2026, 3, 3)
# (UTC time, question, refused, clauses, latency ms, ratings); Shanghai is UTC+8, so 15:59:59Z is still 3月1日
LOG = [
    ("2026-02-28T15:59:59+00:00", "范围之前", False, ["二(七)2"], 5.0, [1]),
    ("2026-02-28T16:00:00+00:00", "企业标准总师要培育多少名?", False, ["一(二)-4"], 12.0, [1]),
    ("2026-03-01T08:00:00+00:00", "二维码公示", False, ["二(七)2", "二(七)3"], 20.0, [1, -1]),
    ("2026-03-01T15:59:59+00:00", "三门县的GDP是多少?", True, [], 7.5, [-1]),
    ("2026-03-01T16:00:00+00:00", "三门县的GDP是多少? ", True, [], 9.0, []),
    ("2026-03-02T01:00:00+00:00", "企业标准总师要培育多少名?", False, ["一(二)-4"], 31.0, [-1, 1]),
    ("2026-03-02T02:00:00+00:00", "办营业执照要什么材料", True, [], 8.0, []),
    ("2026-03-02T03:00:00+00:00", "二(七)2", False, ["二(七)2"], 3.0, []),
    ("2026-03-03T15:59:59+00:00", "范围最后一秒", False, ["三(三)"], 44.0, [1]),
    ("2026-03-03T16:00:00+00:00", "范围之后", True, [], 50.0, [-1]),
]


@pytest.fixture
def log(tmp_path: Path) -> FeedbackDB:
    """A real question log (SQLite) written through FeedbackDB, then dated by hand to span the range's edges."""
    db = FeedbackDB(tmp_path / "feedback.sqlite3")
    for at, question, refused, clauses, latency, ratings in LOG:
        cites = tuple(Citation("sanmen", c, c, "引文") for c in clauses)
        qid = db.log_question(Answer(question, "答", refused, cites, "extractive", latency_ms=latency))
        fids = [db.add_feedback(qid, r, f"说明{n}") for n, r in enumerate(ratings)]
        with sqlite3.connect(tmp_path / "feedback.sqlite3") as raw:
            raw.execute("UPDATE questions SET created_at = ? WHERE id = ?", (at, qid))
            raw.executemany("UPDATE feedback SET created_at = ? WHERE id = ?", [(at, f) for f in fids])
    return db


def direct(path: Path) -> dict[str, Any]:
    """The same figures by plain SQL over the log, numpy for the percentiles."""
    local = "substr(datetime(created_at, '+8 hours'), 1, 10)"
    span = f"{local} BETWEEN '{START}' AND '{END}'"
    with sqlite3.connect(path) as raw:
        days = {d: (n, int(r)) for d, n, r in raw.execute(
            f"SELECT {local} AS d, COUNT(*), SUM(refused) FROM questions WHERE {span} GROUP BY d")}
        ratings = {(d, r): n for d, r, n in raw.execute(
            f"SELECT {local} AS d, rating, COUNT(*) FROM feedback WHERE {span} GROUP BY d, rating")}
        latency = [ms for (ms,) in raw.execute(f"SELECT latency_ms FROM questions WHERE {span}")]
        per_day = {}
        for d in days:
            per_day[d] = [ms for (ms,) in raw.execute(f"SELECT latency_ms FROM questions WHERE {local} = ?", (d,))]
        clauses = list(raw.execute(f"SELECT j.value, COUNT(*) FROM questions, json_each(questions.citations) j "
                                   f"WHERE {span} GROUP BY j.value ORDER BY 2 DESC, 1"))
        refused = list(raw.execute(f"SELECT TRIM(question), COUNT(*) FROM questions WHERE refused = 1 AND {span} "
                                   "GROUP BY TRIM(question) ORDER BY 2 DESC, 1"))
    return {"days": days, "ratings": ratings, "latency": latency, "per_day": per_day, "clauses": clauses,
            "refused": refused}


def test_dashboard_figures_equal_direct_counts_of_the_log(log: FeedbackDB, tmp_path: Path) -> None:
    f = figures(log, START, END)
    want = direct(tmp_path / "feedback.sqlite3")
    assert [d.day for d in f.days] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    for d in f.days:
        n, refused = want["days"].get(d.day, (0, 0))
        assert (d.questions, d.refused) == (n, refused), d.day
        assert (d.up, d.down) == (want["ratings"].get((d.day, 1), 0), want["ratings"].get((d.day, -1), 0)), d.day
        assert d.p50_ms == pytest.approx(np.percentile(want["per_day"][d.day], 50))
        assert d.p95_ms == pytest.approx(np.percentile(want["per_day"][d.day], 95))
    assert (f.total.questions, f.total.refused) == (8, 3) == (sum(n for n, _ in want["days"].values()),
                                                 sum(r for _, r in want["days"].values()))
    assert (f.total.up, f.total.down) == (sum(n for (_, r), n in want["ratings"].items() if r == 1),
                              sum(n for (_, r), n in want["ratings"].items() if r == -1)) == (4, 3)
    assert f.total.p50_ms == pytest.approx(np.percentile(want["latency"], 50))
    assert f.total.p95_ms == pytest.approx(np.percentile(want["latency"], 95))
    assert [list(x) for x in f.top_clauses] == [[k, n] for k, n in want["clauses"]]
    assert f.top_clauses[0] == ("sanmen:一(二)-4", 2) or f.top_clauses[0] == ("sanmen:二(七)2", 2)
    assert [list(x) for x in f.top_refused] == [[q, n] for q, n in want["refused"]]
    assert f.top_refused[0] == ("三门县的GDP是多少?", 2)  # the trailing space is the same question


def test_the_dashboard_tab_shows_those_figures_and_exports_them_once_for_the_admin(log: FeedbackDB) -> None:
    exports = Exports()
    page = Dashboard(log, exports)
    with pytest.raises(gr.Error):
        page.show(False, "2026-03-01", "2026-03-03")
    with pytest.raises(gr.Error):
        page.export(None, "2026-03-01", "2026-03-03")
    summary, volume, refusal, ratings, latency, clauses, refused, *shown = page.show(True, "2026-03-01", "2026-03-03")
    assert shown == ["2026-03-01", "2026-03-03"] and volume["日期"].tolist() == ["03-01", "03-02", "03-03"]
    assert volume["问题数"].tolist() == [3, 4, 1] and "8" in summary and "3 (37.5%)" in summary
    assert refusal["拒答率 %"].tolist() == [round(100 / 3, 1), 50.0, 0.0]
    assert ratings.groupby("评价")["次数"].sum().to_dict() == {"赞": 4, "踩": 3}
    assert latency[latency["指标"] == "p95"]["毫秒"].tolist()[1] == round(percentile([31.0, 8.0, 3.0, 9.0], 95), 1)
    assert clauses["引用次数"].tolist()[0] == 2 and refused[0] == ["三门县的GDP是多少?", 2]
    link = page.export(True, "2026-03-01T00:00:00", "2026-03-03")
    item = exports.take(link.removeprefix("exports/"))
    assert item is not None and item.filename == "dashboard-2026-03-01-2026-03-03.csv"
    lines = item.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "section,key,metric,value" and "day,2026-03-02,questions,4" in lines
    assert "total,2026-03-01..2026-03-03,refusal_rate,0.375" in lines
    assert "refused_question,三门县的GDP是多少?,count,2" in lines
    assert exports.take(link.removeprefix("exports/")) is None  # once
    with pytest.raises(ValueError):
        parse_range("2026-03-03", "2026-03-01")
    with pytest.raises(ValueError):
        parse_range("2024-01-01", "2026-01-01")


def test_the_export_over_http_needs_the_admin_session(start_server: Any) -> None:
    url = start_server(admin_password=SecretStr("dash-Pw-3"))
    stranger = gradio_event(url, "export", {"pqa-dash-from": "2026-03-01", "pqa-dash-to": "2026-03-03"})
    assert stranger["success"] is False
    with httpx.Client(timeout=60) as client:
        session = "dash-session"
        assert gradio_event(url, "login", {"pqa-password": "dash-Pw-3"}, session=session, client=client)["success"]
        done = gradio_event(url, "export", {"pqa-dash-from": "2026-03-01", "pqa-dash-to": "2026-03-03"},
                            session=session, client=client)
        link = done["output"]["data"][0]
        first, again = client.get(f"{url}/{link}"), client.get(f"{url}/{link}")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.content.decode("utf-8-sig").startswith("section,key,metric,value")
    assert again.status_code == 404


def test_the_project_has_one_percentile() -> None:
    from eval import bench_timing, load, metrics

    values = [12.0, 3.5, 40.0, 7.0, 9.5]
    assert metrics.percentile is percentile
    assert bench_timing.pct(values, 95) == percentile(values, 95) == pytest.approx(np.percentile(values, 95))
    assert load.LoadReport("u", 1, 1.0, latencies_ms=values).percentile(50) == percentile(values, 50)
    assert json.dumps(percentile([], 50)) == "null"
