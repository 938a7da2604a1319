"""One uvicorn process for people and programs: the API routes plus the Gradio app mounted at "/".

Both share one Assistant, one answer gate (ui/gate.py), one admin login (ui/auth.py) and one export
store (ui/exports.py), so the index, models and caches are loaded once and every limit holds for
both. `ui.guard.Guard` wraps everything: body limits, slow-body timeout, exposed routes, headers.
Run it as `policyqa serve` or `python -m ui.boot [--host H] [--port P]` (the fault and load tests do):
both open the index while this module imports (ui/boot.py).
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from index.settings import Settings
from rag.chain import Assistant
from ui.api import build_api
from ui.assets import CSS, theme
from ui.auth import AdminAuth
from ui.exports import Exports, add_export_route
from ui.gate import AnswerGate
from ui.guard import Guard
from ui.uploads import UploadPolicy

log = logging.getLogger(__name__)
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 512  # more open connections at once are answered 503 by uvicorn


def cors_origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def build_server(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """API routes first (they win over the mount), then the chat UI at "/", all behind the Guard."""
    from ui.app import build_app  # imported late: it builds every tab and is the heaviest import

    bot = assistant or Assistant(settings)
    gate = AnswerGate.for_settings(settings)
    auth = AdminAuth(settings.admin_password)  # refuses a password value no login could match
    exports = Exports()
    uploads = UploadPolicy.parse(settings.admin_upload_max_bytes, settings.admin_upload_types)
    api = build_api(settings, bot, gate=gate, auth=auth)
    add_export_route(api, exports)
    blocks = build_app(settings, bot, gate=gate, auth=auth, exports=exports)
    # Gradio leaves CORS to the parent app when it has a CORSMiddleware: only configured origins, no credentials
    api.add_middleware(CORSMiddleware, allow_origins=cors_origins(settings), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Authorization"])
    api.add_middleware(Guard, max_body=settings.max_body_bytes, body_timeout=settings.body_timeout,
                       frame_ancestors=settings.frame_ancestors, docs=settings.api_docs,
                       functions=lambda: set(blocks.fns), auth=auth, uploads=uploads)
    return gr.mount_gradio_app(api, blocks, path="/", theme=theme(), css=CSS, footer_links=["gradio", "settings"],
                               show_error=False, max_file_size=uploads.max_bytes if uploads.enabled else 0,
                               run_history=False, mcp_server=False, ssr_mode=False)


def serve_all(settings: Settings, *, host: str, port: int, assistant: Assistant | None = None) -> None:
    """Load the index before the port opens (a missing index fails fast), then serve until stopped."""
    assistant = assistant or Assistant(settings)
    assistant.retriever.view()
    app = build_server(settings, assistant)
    docs = f" · API docs on http://{host}:{port}/docs" if settings.api_docs else ""
    log.info("policyqa: chat on http://%s:%d/%s", host, port, docs)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=MAX_CONNECTIONS, server_header=False,
                http="ui.http_protocol:CoalescingHttpToolsProtocol")  # a response leaves whole (deploy/)
