"""A server process's start: the index opens in a thread while the web stack (Gradio) imports.

Why: importing Gradio takes ~3 s of pure Python; opening a 20k-chunk generation is mostly Chroma's
Rust reads and zlib inflating the lexical artifact, which let go of the GIL, so the two overlap and a
replica answers ~0.6 s sooner (eval/bench_replica.py). Nothing here imports Gradio; a missing or
broken index still fails the start, with the error the opening raised.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from index.settings import Settings

if TYPE_CHECKING:
    from rag.chain import Assistant


def open_assistant(settings: Settings) -> Callable[[], Assistant]:
    """Start opening the index; the returned call waits for it and gives the Assistant (or raises)."""
    from rag.chain import Assistant

    assistant = Assistant(settings)
    pool = ThreadPoolExecutor(1, thread_name_prefix="policyqa-open")
    opening = pool.submit(_open, assistant)
    pool.shutdown(wait=False)

    def ready() -> Assistant:
        opening.result()
        return assistant

    return ready


def _open(assistant: Assistant) -> None:  # warming jieba and the query model here too gained nothing measurable
    assistant.retriever.view()


def log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(settings: Settings, host: str, port: int) -> None:
    """Open the index and import the server side by side, then serve until stopped."""
    ready = open_assistant(settings)
    from ui.server import serve_all

    serve_all(settings, host=host, port=port, assistant=ready())


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(description="policyqa: chat UI at / and the HTTP API (/api, /v1, /docs)")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)
    log_to_stderr()
    serve(settings, args.host, args.port)


if __name__ == "__main__":
    main()
