"""CSV downloads without files: generated on request, kept in memory, served once, then gone.

A handler (the 指标表 export, or an admin export after the server-side login check) calls
`Exports.issue`, which returns a link `exports/<token>` for that session only: the token is 256 bits
of randomness, valid for `TTL` seconds and for exactly one download. Nothing is written to disk, so
nothing is left in a temp directory and no URL serves a file later. At most `MAX_ITEMS` exports are
held (the oldest is dropped first).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import Response

from ui.api_service import ApiError

TTL = 120.0
MAX_ITEMS = 256
MAX_BYTES = 20 * 1024 * 1024
PREFIX = "exports/"


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    expires: float


class Exports:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._items: OrderedDict[str, Export] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, filename: str, text: str) -> str:
        """Store a CSV (UTF-8 with BOM, so Excel shows Chinese) and return its one-time relative link."""
        data = text.encode("utf-8-sig")
        if len(data) > MAX_BYTES:
            raise ValueError(f"export over {MAX_BYTES} bytes")
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            for key in [k for k, item in self._items.items() if item.expires <= now]:
                del self._items[key]
            self._items[token] = Export(filename, data, now + self.ttl)
            while len(self._items) > MAX_ITEMS:
                self._items.popitem(last=False)
        return PREFIX + token

    def take(self, token: str) -> Export | None:
        """The export once (it is removed), or None when unknown, used or expired."""
        with self._lock:
            item = self._items.pop(token, None)
        return item if item is not None and item.expires > time.monotonic() else None

    @property
    def held(self) -> int:
        """Exports issued and not yet downloaded or expired."""
        now = time.monotonic()
        with self._lock:
            return sum(item.expires > now for item in self._items.values())


def add_export_route(app: FastAPI, exports: Exports) -> None:
    @app.get("/exports/{token}", include_in_schema=False)
    async def download(token: str) -> Response:
        item = exports.take(token)
        if item is None:
            raise ApiError(404, "export_gone", "this download link was already used or has expired; export again")
        disposition = f"attachment; filename*=UTF-8''{quote(item.filename)}"
        return Response(item.data, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
