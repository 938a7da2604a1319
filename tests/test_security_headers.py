"""Headers and exposure (issue 13, finding 11): framing, sniffing, referrers, CORS and the docs, per setting."""

from __future__ import annotations

from typing import Any

import httpx

pytest_plugins = ["tests.api_fixtures"]
EVIL = "http://localhost:31337"


def test_every_response_forbids_framing_sniffing_and_referrers(live_url: str) -> None:
    for method, path in (("GET", "/"), ("GET", "/api/health"), ("GET", "/config"), ("GET", "/theme.css"),
                         ("GET", "/no-such-page"), ("POST", "/api/ask"), ("GET", "/gradio_api/file=/etc/passwd")):
        headers = httpx.request(method, live_url + path, timeout=30).headers
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer", path


def test_no_cross_origin_access_unless_an_origin_is_configured(live_url: str, start_server: Any) -> None:
    """Gradio allowed any http://localhost:* origin with credentials; now only configured origins, never credentials."""
    for path in ("/gradio_api/queue/join", "/api/ask", "/config"):
        preflight = httpx.options(live_url + path, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
                                  timeout=30)
        assert "access-control-allow-origin" not in preflight.headers, path
        simple = httpx.get(live_url + "/config", headers={"Origin": EVIL}, timeout=30)
        assert "access-control-allow-origin" not in simple.headers
        assert "access-control-allow-credentials" not in simple.headers
    portal = "https://www.sanmen.gov.cn"
    url = start_server(cors_origins=f"{portal}, https://other.example", frame_ancestors="https://www.sanmen.gov.cn")
    allowed = httpx.options(f"{url}/api/ask", headers={"Origin": portal, "Access-Control-Request-Method": "POST"},
                            timeout=30)
    assert allowed.headers["access-control-allow-origin"] == portal
    assert "access-control-allow-credentials" not in allowed.headers
    refused = httpx.get(f"{url}/api/health", headers={"Origin": EVIL}, timeout=30)
    assert "access-control-allow-origin" not in refused.headers
    framed = httpx.get(f"{url}/", timeout=30).headers
    assert "frame-ancestors https://www.sanmen.gov.cn" in framed["content-security-policy"]
    assert "x-frame-options" not in framed  # X-Frame-Options cannot name an origin: the CSP decides


def test_api_docs_can_be_switched_off(live_url: str, start_server: Any) -> None:
    assert httpx.get(f"{live_url}/docs", timeout=30).status_code == 200
    url = start_server(api_docs=False)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert httpx.get(url + path, timeout=30).status_code == 404, path
    assert httpx.get(f"{url}/api/health", timeout=30).status_code == 200
    assert httpx.post(f"{url}/api/ask", json={"question": "二(七)2"}, timeout=60).status_code == 200
