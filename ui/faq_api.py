"""GET /api/admin/faq: the office's FAQ entries, each with whether it still holds against the index.

Every entry is returned as its JSON object (rag.faq.FaqEntry.to_json) plus `status` ("ok" or "stale")
and `reason` (empty when ok; else every problem, e.g. "unsupported number 20名; 一(二)-4: quote not
found"). A stale entry is not served by the chain (rag/stages.py FaqStage). The entries are read from
the store 管理 edits (`ui.faq_store.open_faq_store`: corpus/faq.jsonl, or the database's table) and
checked against the index generation this replica serves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from fastapi import Depends, FastAPI

from index.settings import Settings
from rag.chain import Assistant
from ui.faq_store import FaqError, open_faq_store, with_status


def add_faq_routes(api: FastAPI, settings: Settings, bot: Assistant, admin: Callable[..., Any]) -> None:
    """Register the admin FAQ route behind the API's `admin` dependency (password header, throttled)."""
    store = open_faq_store(settings)

    @api.get("/api/admin/faq", dependencies=[Depends(admin)])
    async def admin_faq() -> dict[str, Any]:
        """FAQ entries with `status` (ok | stale) and `reason`, checked against the index being served."""
        try:
            entries = await anyio.to_thread.run_sync(with_status, store, bot)
        except FaqError as exc:  # a hand-edited faq.jsonl with a bad line: say which line
            return {"entries": [], "error": str(exc), "index": bot.retriever.view().name}
        stale = sum(e["status"] != "ok" for e in entries)
        return {"entries": entries, "stale": stale, "index": bot.retriever.view().name}
