"""The 10-second load run CI can afford: 20 users against a live loopback server, zero errors (no timings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.load import check_loopback, render, run_load, write_load_report

pytest_plugins = ["tests.api_fixtures"]


def test_ten_seconds_of_twenty_users_without_errors(live_url: str, tmp_path: Path) -> None:
    report = run_load(live_url, users=20, seconds=10)
    assert report.requests > 0 and len(report.latencies_ms) == report.requests - report.errors
    assert report.errors == 0, dict(report.error_kinds)
    text = write_load_report(report, tmp_path / "load.md").read_text(encoding="utf-8")
    assert "p95" in text and f"| {report.requests} | 0 |" in text


def test_the_load_script_refuses_other_hosts() -> None:
    for url in ("http://example.com", "http://10.0.0.1:7860", "http://0.0.0.0:7860"):
        with pytest.raises(ValueError, match="loopback"):
            check_loopback(url)
    check_loopback("http://127.0.0.1:7860")
    with pytest.raises(ValueError):
        run_load("http://127.0.0.1:9", users=0, seconds=1)
    assert "goal" in render(run_load("http://127.0.0.1:9", users=1, seconds=0.2, timeout=1))
