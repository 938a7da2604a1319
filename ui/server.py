"""One uvicorn process for people and programs: the API routes plus the Gradio app mounted at "/".

Both share one Assistant, so the index view, models and caches are loaded once. Run it as
`python -m ui.server [--host H] [--port P]` (the fault and load tests do) or via `policyqa serve`.
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import uvicorn
from fastapi import FastAPI

from index.settings import Settings
from rag.chain import Assistant
from ui.api import build_api
from ui.assets import CSS, theme

log = logging.getLogger(__name__)


def build_server(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """API routes first (they win over the mount), then the chat UI at "/"."""
    from ui.app import build_app  # imported late: it builds every tab and is the heaviest import

    bot = assistant or Assistant(settings)
    api = build_api(settings, bot)
    blocks = build_app(settings, bot)
    return gr.mount_gradio_app(api, blocks, path="/", theme=theme(), css=CSS, footer_links=["gradio", "settings"],
                               show_error=False)


def serve_all(settings: Settings, *, host: str, port: int) -> None:
    """Load the index before the port opens (a missing index fails fast), then serve until stopped."""
    assistant = Assistant(settings)
    assistant.retriever.view()
    app = build_server(settings, assistant)
    log.info("policyqa: chat on http://%s:%d/ · API docs on http://%s:%d/docs", host, port, host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(description="policyqa: chat UI at / and the HTTP API (/api, /v1, /docs)")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve_all(settings, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
