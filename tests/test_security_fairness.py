"""Two clients sending maximum-length questions in a loop must not starve ten normal users.

The normal users' p95 beside the two is at most twice their p95 alone (`make load-fair` runs the same
for longer and writes eval/reports/load.md). Long questions share one answer slot (ui/gate.py), so the
two hold at most one of the workers between them.
"""

from __future__ import annotations

from typing import Any

import pytest

from eval.load import render_fairness, run_fairness

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.api_fixtures"]


def test_normal_users_p95_stays_within_2x_beside_two_max_length_clients(start_server: Any) -> None:
    url = start_server()
    run_fairness(url, users=2, hostile=0, seconds=2)  # warm-up
    result = run_fairness(url, users=10, hostile=2, seconds=20)
    report = render_fairness(result)
    assert result.alone.errors == 0 and result.beside.errors == 0, report
    assert sum(result.hostile_statuses.values()) >= 2 and set(result.hostile_statuses) <= {200, 503}, report
    assert result.ratio <= 2.0, report
