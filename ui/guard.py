"""The outermost ASGI layer of `policyqa serve`: one set of limits and headers for every route, Gradio's too.

- Exposure: the API (/api, /v1), one-time exports (/exports), the docs when `POLICYQA_API_DOCS`, and
  only the Gradio routes the page and `gradio_client` use (the page, its assets, config/info, the
  event queue, heartbeat, cancel/reset). Everything else Gradio would serve (file=, upload, proxy=,
  run history, monitoring, streams, login pages) is a 404, so no file is served by URL.
- Bodies: at most `POLICYQA_MAX_BODY_BYTES` on every route (413 before parsing, chunked too), sent
  completely within `POLICYQA_BODY_TIMEOUT` seconds (else 408 and the connection is closed).
- Gradio events: `queue/join` and `run/predict` must name a function of this app (else 404, not
  Gradio's 500).
- Uploads: the admin-only hook of ui/uploads.py; off (403) by default.
- The event stream (`queue/data`) is sent uncompressed: Gradio would Brotli-compress every streamed
  message at its flush, CPU per message to save a few hundred bytes. With it, 10 gradio_client users
  got 0.61 of the API's answers per second; without it 0.72 and 0.74 (30 s runs, `eval.load_chat`).
- Headers on every response: X-Content-Type-Options, Referrer-Policy, a CSP with frame-ancestors
  (`POLICYQA_FRAME_ANCESTORS`) and, for 'none', X-Frame-Options: DENY.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.api_service import error_response
from ui.auth import AdminAuth, header_candidates
from ui.throttle import retry_after
from ui.uploads import COOKIE, UploadPolicy

GRADIO_PATHS = {"/", "/config", "/config/", "/theme.css", "/robots.txt", "/favicon.ico", "/manifest.json",
                "/gradio_api/info", "/gradio_api/info/", "/gradio_api/queue/join", "/gradio_api/queue/data",
                "/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/reset/", "/gradio_api/theme.css",
                "/gradio_api/run/predict"}  # the page's unqueued events (loading an example)
GRADIO_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/heartbeat/")
OWN_PREFIXES = ("/api/", "/v1/", "/exports/")
DOC_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
UPLOAD_PATHS = {"/gradio_api/upload", "/gradio_api/upload_progress"}
EVENT_PATHS = {"/gradio_api/queue/join", "/gradio_api/run/predict"}
STREAM = "/gradio_api/queue/data"


def security_headers(frame_ancestors: str) -> list[tuple[bytes, bytes]]:
    ancestors = frame_ancestors.strip() or "'none'"
    headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
               (b"content-security-policy", f"frame-ancestors {ancestors}; object-src 'none'".encode("latin-1"))]
    if ancestors == "'none'":
        headers.append((b"x-frame-options", b"DENY"))
    return headers


class _BodyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Guard:
    def __init__(self, app: ASGIApp, *, max_body: int, body_timeout: float, frame_ancestors: str, docs: bool,
                 functions: Callable[[], set[int]], auth: AdminAuth, uploads: UploadPolicy) -> None:
        self.app, self.max_body, self.body_timeout = app, max_body, body_timeout
        self.headers = security_headers(frame_ancestors)
        self.docs, self.functions, self.auth, self.uploads = docs, functions, auth, uploads

    def allowed(self, path: str) -> bool:
        return (path in GRADIO_PATHS or path.startswith(GRADIO_PREFIXES + OWN_PREFIXES)
                or (self.docs and path in DOC_PATHS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # the app has no websocket routes
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        path = str(scope["path"])
        root = str(scope.get("root_path") or "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        limit = self.max_body
        if path in UPLOAD_PATHS:
            refusal = self._upload_refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            limit = self.uploads.body_limit
        elif not self.allowed(path):
            await error_response(404, "not_found", "no such page; the chat is at /, the API at /api and /v1")(
                scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive, limit)
            self._check(scope, path, body)
        except _BodyError as exc:
            response = error_response(exc.status, exc.code, exc.message)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        if path == STREAM:  # see the module doc: streamed events go out uncompressed
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}
        await self.app(scope, self._replay(body, receive), send)

    def _with_headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped

    async def _read_body(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        """The whole body, at most `limit` bytes and within the body timeout."""
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and not length.strip().isdigit():
            raise _BodyError(400, "bad_content_length", "the Content-Length header is not a number")
        if length is not None and int(length) > limit:
            raise _BodyError(413, "body_too_large", f"request body over {limit} bytes; questions are limited "
                                                    "in characters (see the README, Security and limits)")
        chunks, size = [], 0
        try:
            with anyio.fail_after(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _BodyError(400, "client_disconnected", "the client went away")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise _BodyError(413, "body_too_large", f"request body over {limit} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise _BodyError(408, "body_timeout", f"the request body did not arrive within {self.body_timeout:g} s; "
                                                  "the connection is closed") from None

    def _check(self, scope: Scope, path: str, body: bytes) -> None:
        if path in EVENT_PATHS and scope["method"] == "POST":
            try:
                fn = json.loads(body).get("fn_index")
            except (ValueError, AttributeError):
                return  # Gradio answers malformed bodies with its own 4xx
            if isinstance(fn, int) and not isinstance(fn, bool) and fn not in self.functions():
                raise _BodyError(404, "unknown_function", f"this app has no event function {fn}")
        elif path == "/gradio_api/upload":
            content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
            problem = self.uploads.problem(body, content_type)
            if problem:
                raise _BodyError(problem[0], "upload_refused", problem[1])

    def _upload_refusal(self, scope: Scope) -> Response | None:
        if not self.uploads.enabled or not self.auth.enabled:
            return error_response(403, "upload_disabled", "uploads are off (POLICYQA_ADMIN_UPLOAD_MAX_BYTES=0)")
        headers = dict(scope["headers"])
        try:
            cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        except CookieError:
            cookie = SimpleCookie()
        if COOKIE in cookie and self.auth.session_valid(cookie[COOKIE].value):
            return None
        given = headers.get(b"x-admin-password")
        if given is not None:
            client = scope.get("client")
            verdict = self.auth.attempt(client[0] if client else None,
                                        header_candidates(given.decode("latin-1")))
            if verdict.ok:
                return None
            if verdict.wait:
                response = error_response(429, "too_many_attempts", "too many wrong passwords; retry later")
                response.headers["Retry-After"] = str(retry_after(verdict.wait))
                return response
        return error_response(401, "unauthorized", "uploads need an admin login")

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # later calls wait for the disconnect, as the app expects

        return replay
