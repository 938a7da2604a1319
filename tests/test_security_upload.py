"""The admin upload hook (issue 13, finding 3): off by default; when on, login, size cap and type check.

Gradio's `POST /gradio_api/upload` took any file of any size without login and served it back. Now
it is 403 unless `POLICYQA_ADMIN_UPLOAD_MAX_BYTES` is set, and then it needs the admin cookie (set
after a login in the 管理 tab) or the admin header, and a file of an allowed type within the size.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from pydantic import SecretStr

from tests.api_fixtures import gradio_event

pytest_plugins = ["tests.api_fixtures"]
PASSWORD = "upload-Pw-7"


def _upload(client: httpx.Client, url: str, name: str, content: bytes, **headers: str) -> httpx.Response:
    return client.post(f"{url}/gradio_api/upload", files={"files": (name, content)}, headers=headers)


def test_uploads_stay_off_by_default_even_for_the_admin(start_server: Any) -> None:
    url = start_server(admin_password=SecretStr(PASSWORD))
    with httpx.Client(timeout=30) as client:
        refused = _upload(client, url, "a.txt", b"hello", **{"X-Admin-Password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "upload_disabled"


def test_an_enabled_upload_needs_the_admin_login_an_allowed_type_and_the_size_cap(start_server: Any) -> None:
    url = start_server(admin_password=SecretStr(PASSWORD), admin_upload_max_bytes=2000,
                       admin_upload_types=".txt,.pdf")
    with httpx.Client(timeout=30) as client:
        assert _upload(client, url, "a.txt", b"hello").status_code == 401
        assert _upload(client, url, "a.txt", b"hello", **{"X-Admin-Password": "wrong"}).status_code == 401
        session = uuid.uuid4().hex[:12]
        login = gradio_event(url, "login", {"pqa-password": PASSWORD}, session=session, client=client)
        token = login["output"]["data"][-1]
        assert client.post(f"{url}/api/admin/session", json={"token": "forged"}).status_code == 401
        cookie = client.post(f"{url}/api/admin/session", json={"token": token})
        assert cookie.status_code == 204
        flags = cookie.headers["set-cookie"].lower()
        assert "httponly" in flags and "samesite=strict" in flags
        ok = _upload(client, url, "政策.txt", "一、总则".encode())
        assert ok.status_code == 200, ok.text
        [stored] = ok.json()
        assert httpx.get(f"{url}/gradio_api/file={stored}", timeout=30).status_code == 404  # never served back
        assert _upload(client, url, "tool.exe", b"MZ\x90\x00").status_code == 415
        assert _upload(client, url, "fake.pdf", b"not a pdf").status_code == 415
        assert _upload(client, url, "real.pdf", b"%PDF-1.7 ...").status_code == 200
        assert _upload(client, url, "big.txt", b"x" * 2001).status_code == 413
        assert _upload(client, url, "huge.txt", b"x" * 200_000).status_code == 413
        assert client.delete(f"{url}/api/admin/session").status_code == 204  # logout clears the cookie
        assert _upload(client, url, "a.txt", b"hello").status_code == 401
