"""A server's start (ui/boot.py): the index opens beside the web stack's import; a missing index fails the start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index.settings import Settings
from index.store import NoIndexError
from tests.conftest import CORPUS
from ui import boot

ROOT = Path(__file__).resolve().parents[1]


def test_the_index_opens_in_another_thread_and_ready_gives_the_loaded_assistant(
    built_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.retrieve import HybridRetriever as Retriever

    opened_in: list[str] = []
    real_view = Retriever.view

    def recording_view(self: Retriever) -> object:
        opened_in.append(threading.current_thread().name)
        return real_view(self)

    monkeypatch.setattr(Retriever, "view", recording_view)
    assistant = boot.open_assistant(built_settings)()
    assert opened_in[0].startswith("policyqa-open")  # not the thread that goes on to import Gradio
    assert assistant.retriever.views_built == 1 and real_view(assistant.retriever).chunks  # loaded once


def test_a_missing_index_fails_ready_with_the_openings_error(tmp_path: Path) -> None:
    ready = boot.open_assistant(Settings(data_dir=tmp_path / "empty", corpus_dir=CORPUS, faq=False))
    with pytest.raises(NoIndexError):
        ready()


def test_serve_without_an_index_exits_with_an_error_before_listening(tmp_path: Path) -> None:
    env = {**os.environ, "POLICYQA_DATA_DIR": str(tmp_path / "empty"), "POLICYQA_CORPUS_DIR": str(CORPUS),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-m", "ui.boot", "--host", "127.0.0.1", "--port", "9"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    assert "NoIndexError" in done.stderr and "Uvicorn running" not in done.stderr
