"""Exports (issue 13, finding 5): made on request, from memory, downloaded once, admin ones only when logged in.

Nothing is written to the system temp directory or Gradio's cache, so nothing is left behind and no
URL serves a file later.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from tests.api_fixtures import gradio_event

pytest_plugins = ["tests.api_fixtures"]
PASSWORD = "exports-Pw-9"


NAMES = {"targets.csv", "feedback.csv", "backlog.csv"}


def _temp_files() -> set[str]:
    """The app's export files in the system temp dir's policyqa-* folders and in Gradio's cache."""
    temp = Path(tempfile.gettempdir())
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or temp / "gradio")
    found = {str(p) for folder in temp.glob("policyqa-*") for p in folder.rglob("*.csv")}
    found |= {str(p) for p in cache.rglob("*.csv")} if cache.is_dir() else set()
    return {f for f in found if Path(f).name in NAMES}


def _download_once(url: str, link: str) -> str:
    assert link.startswith("exports/"), link
    first = httpx.get(f"{url}/{link}", timeout=30)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.headers["content-disposition"].startswith("attachment")
    again = httpx.get(f"{url}/{link}", timeout=30)
    assert again.status_code == 404 and again.json()["error"]["code"] == "export_gone"
    return first.content.decode("utf-8-sig")


def test_the_targets_table_leaves_no_file_and_its_csv_downloads_once(live_url: str) -> None:
    before = _temp_files()
    shown = gradio_event(live_url, "load_targets")
    assert shown["success"] is True and shown["output"]["data"][1]["data"]  # the table is there
    assert _temp_files() == before, "selecting the tab wrote a file"
    link = gradio_event(live_url, "export_targets")["output"]["data"][0]
    csv = _download_once(live_url, link)
    assert csv.startswith("indicator,") and "企业标准总师" in csv
    assert _temp_files() == before


def test_admin_exports_need_the_logged_in_session(start_server: Any) -> None:
    url = start_server(admin_password=SecretStr(PASSWORD))
    before = _temp_files()
    for fn in ("export_feedback", "export_backlog"):
        stranger = gradio_event(url, fn)
        assert stranger["success"] is False and "exports/" not in str(stranger)
    session = uuid.uuid4().hex[:12]
    with httpx.Client(timeout=60) as client:
        login = gradio_event(url, "login", {"pqa-password": PASSWORD}, session=session, client=client)
        assert login["output"]["data"][2]["visible"] is True
        feedback = gradio_event(url, "export_feedback", session=session, client=client)["output"]["data"][0]
        backlog = gradio_event(url, "export_backlog", session=session, client=client)["output"]["data"][0]
    assert _download_once(url, feedback).startswith("id,created_at")
    assert _download_once(url, backlog).splitlines()[0].startswith("question_id")
    assert httpx.get(f"{url}/exports/{uuid.uuid4().hex}", timeout=30).status_code == 404
    assert _temp_files() == before, "the login or an export wrote a file"
