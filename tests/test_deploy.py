"""deploy/: the real nginx running deploy/nginx.conf, real replicas, `chroma run` and PostgreSQL on loopback.

The long run is `make deploy-test` (30 users x 60 s, eval/reports/deploy.md); here a short one runs in CI.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from eval.procs import free_port
from eval.services import nginx, nginx_bin, postgres_bin, render_site

ROOT = Path(__file__).resolve().parents[1]
SITE = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
needs_nginx = pytest.mark.skipif(nginx_bin() is None, reason="nginx is not installed (.ci/run installs it)")
needs_postgres = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed (.ci/run installs it)")
HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def test_the_site_config_is_rendered_with_the_given_ports_only() -> None:
    site = render_site(SITE, 18080, [18081, 18082, 18083])
    servers = [line.split()[1] for line in site.splitlines() if line.strip().startswith("server 127.0.0.1:")]
    assert servers == ["127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"] * 2  # both upstreams
    assert "listen 127.0.0.1:18080;" in site and "7861" not in site and "listen 80" not in site


@needs_nginx
def test_nginx_answers_for_dead_replicas_limits_bodies_and_rates_in_json_with_headers() -> None:
    port = free_port()
    with nginx(render_site(SITE, port, [free_port(), free_port()]), port):
        url = f"http://127.0.0.1:{port}"
        down = httpx.post(f"{url}/api/ask", json={"question": "二维码"}, timeout=30)
        assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
        assert down.headers["retry-after"] == "5" and all(down.headers[k] == v for k, v in HEADERS.items())
        big = httpx.post(f"{url}/api/ask", content=b"{" + b" " * 300_000, timeout=30,
                         headers={"content-type": "application/json"})
        assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
        assert all(big.headers[k] == v for k, v in HEADERS.items())
        # loopback (health checks) is never rate-limited; any other address is, per address
        assert {httpx.post(f"{url}/api/ask", json={}, timeout=30).status_code for _ in range(40)} == {503}
        elsewhere = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
        statuses = [elsewhere.post(f"{url}/api/ask", json={}).status_code for _ in range(40)]
        limited = elsewhere.post(f"{url}/api/ask", json={})
        assert statuses.count(429) >= 10 and limited.status_code == 429
        assert limited.json()["error"]["code"] == "too_many_requests" and limited.headers["retry-after"] == "1"


@pytest.mark.slow
@needs_nginx
@needs_postgres
def test_killing_a_replica_under_load_fails_no_request_and_loses_no_feedback() -> None:
    """10 users x 15 s through nginx to 2 replicas; replica 1 gets kill -9 half-way and is restarted."""
    from eval.deploy_test import run

    out = run(users=10, seconds=15)
    assert out.requests["ask"] > 20 and len(out.acknowledged) > 5
    assert out.failed == 0, dict(out.failures)
    assert out.lost == 0 and out.stored == len(set(out.acknowledged))
    assert out.retried >= 1  # the kill did hit traffic: nginx passed requests on to the other replica
    assert not [k for k in out.nginx_errors if "while reading upstream" in k]  # no reply cut after its header
    assert len(out.upstreams) == 2 and out.rejoined  # both replicas served; the restarted one serves again


@pytest.mark.slow
def test_every_replica_picks_up_a_rebuilt_index_generation(tmp_path: Path) -> None:
    """Two `policyqa serve` on one `chroma run`; `policyqa index` after a document is added; both switch."""
    from eval.deploy_stack import stack
    from index.catalog import add_document

    with stack(2, database=False, proxy=False) as deployment:
        before = {httpx.get(f"{r.url}/api/health", timeout=30).json()["index"]["name"] for r in deployment.replicas}
        assert len(before) == 1
        fixture = tmp_path / "zj-fixture.md"  # FIXTURE text written by this test, not the real document
        fixture.write_text("# 测试夹具:浙江省实施意见(虚构文本,仅供测试)\n\n一、总体要求\n"
                           "(一)夹具目标。到2025年,夹具省培育企业标准总师500名以上。\n", encoding="utf-8")
        add_document(deployment.base / "corpus", fixture, doc_id="zhejiang-2022-11")
        deployment.index()
        deadline = time.monotonic() + 10
        names: set[str] = set()
        while time.monotonic() < deadline:
            names = {httpx.get(f"{r.url}/api/health", timeout=30).json()["index"]["name"] for r in deployment.replicas}
            if len(names) == 1 and names != before:
                break
            time.sleep(0.5)
        assert len(names) == 1 and names != before  # one new generation, on every replica
        for replica in deployment.replicas:
            clause = httpx.get(f"{replica.url}/api/clauses/zhejiang-2022-11/一(一)", timeout=30)
            assert clause.status_code == 200 and "500名以上" in clause.json()["text"]
