"""The HTTP API: REST for programs (/api), OpenAI-compatible chat (/v1, ui/api_openai.py), OpenAPI at /docs.

Limits: a question may hold at most `POLICYQA_MAX_QUESTION_CHARS` characters (default 2000) after
trimming, else 413 `question_too_long`; a body over 256 KiB is refused with 413 `body_too_large`
before it is parsed; `history` holds at most 50 turns of at most 20,000 characters each. Malformed
JSON and wrong types are 422 (invalid UTF-8: 400). Every error is JSON
`{"error": {"code", "message", "type"}}` and never carries a traceback or a secret. Admin endpoints
need the `X-Admin-Password` header (POLICYQA_ADMIN_PASSWORD, compared in constant time).
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.build import BuildLockedError, build_index
from index.settings import Settings
from rag.chain import Assistant
from ui.api_openai import add_openai_routes
from ui.api_service import (
    AnswerOut,
    ApiError,
    AskRequest,
    FeedbackRequest,
    Service,
    answer_dict,
    clean_text,
    error_response,
)
from ui.auth import admin_enabled, check_password

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class BodyLimit:
    """Refuse oversized bodies on /api and /v1 before anything parses them (a 1 MB paste is a 413)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(("/api/", "/v1/")):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen, refused = 0, False

        async def counted() -> Message:
            """Past the limit (chunked bodies): answer 413 now and tell the app the client left."""
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:  # the app's own reply to the cut-off body is dropped
                await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body over {self.limit} bytes; questions are limited in characters (see /docs)"
        await error_response(413, "body_too_large", message)(scope, receive, send)


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors()[:10]:
            where = ".".join(map(str, e.get("loc", ())))
            if e.get("type") == "json_invalid":
                problems.append(f"the body is not valid JSON (at character {e.get('loc', ('', '?'))[-1]})")
            elif e.get("type") == "model_attributes_type" and where == "body":
                problems.append("the body must be a JSON object sent as Content-Type: application/json")
            else:
                problems.append(f"{where}: {e.get('msg', '')}")
        return error_response(422, "invalid_request", "; ".join(problems) or "invalid request")

    @api.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        detail = str(exc.detail)
        if exc.status_code == 400 and "parsing the body" in detail:
            detail = "the request body is not valid UTF-8 JSON"
        return error_response(exc.status_code, f"http_{exc.status_code}", detail)

    @api.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s in the API", type(exc).__name__, exc_info=exc)
        return error_response(500, "internal_error", "internal error; the server log has the details")


def build_api(settings: Settings, assistant: Assistant) -> FastAPI:
    """The API app; `ui.server` mounts the Gradio UI on it so both share one Assistant."""
    svc = Service(settings, assistant)
    api = FastAPI(title="policyqa API", version="1", description=__doc__)
    api.add_middleware(BodyLimit)
    api.state.service = svc
    _add_error_handlers(api)

    def admin(x_admin_password: str | None = Header(None, description="the admin password")) -> None:
        if not admin_enabled(settings.admin_password):
            raise ApiError(403, "admin_disabled", "admin endpoints are off (set POLICYQA_ADMIN_PASSWORD)")
        if not check_password(settings.admin_password, x_admin_password):
            raise ApiError(401, "unauthorized", "a valid X-Admin-Password header is required")

    @api.post("/api/ask", response_model=None, responses={200: {"model": AnswerOut}})
    async def ask(body: AskRequest) -> JSONResponse:
        """Answer one question with clause citations (design.md's contract plus `question_id`)."""
        answer, question_id = await svc.ask(body.question, [t.model_dump() for t in body.history], body.mode)
        return JSONResponse(answer_dict(answer, question_id))

    @api.get("/api/clauses/{doc_id}/{clause_id}")
    async def clause(doc_id: str, clause_id: str) -> dict[str, Any]:
        """One clause, whole, by the document's own numbering (e.g. sanmen / 二(七)2)."""
        return await svc.run(svc.clause, doc_id, clause_id)

    @api.get("/api/search")
    async def search(q: str = Query(..., description="keywords or a clause reference; same length limit"),
                     limit: int = Query(10, ge=1, le=50)) -> dict[str, Any]:
        """Provision lookup: clauses containing every keyword, then by relevance."""
        return await svc.run(svc.search, svc.question(q), limit)

    @api.get("/api/health")
    async def health() -> JSONResponse:
        """Index loaded (name, embedder, chunks), Chroma reachable, LLM configured/reachable; 503 without index."""
        status, body = await svc.run(svc.health)
        return JSONResponse(body, status_code=status)

    @api.post("/api/feedback")
    async def feedback(body: FeedbackRequest) -> dict[str, Any]:
        """👍/👎 on an answer (`question_id` from /api/ask); acknowledged only once durably committed."""
        comment = clean_text(body.comment, "comment") if body.comment else None
        try:
            fid = await svc.run(svc.db.add_feedback, body.question_id, body.rating, comment)
        except KeyError as exc:
            raise ApiError(404, "question_not_found", f"no logged question {body.question_id}") from exc
        return {"feedback_id": fid, "question_id": body.question_id, "rating": body.rating}

    @api.get("/api/admin/feedback", dependencies=[Depends(admin)])
    async def admin_feedback(limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
        """Feedback and the backlog (refused or 👎 questions), newest first."""
        return {"feedback": await svc.run(svc.db.feedback, limit), "backlog": await svc.run(svc.db.backlog, limit)}

    @api.post("/api/admin/reindex", dependencies=[Depends(admin)])
    async def admin_reindex() -> dict[str, Any]:
        """Incremental, atomic rebuild; the running index keeps answering until the switch."""
        try:
            report = await anyio.to_thread.run_sync(build_index, settings)
        except BuildLockedError as exc:
            raise ApiError(409, "build_running", str(exc)) from exc
        return {"collection": report.collection, "changed": report.changed, "chunks": report.chunks,
                "embedded": report.embedded, "seconds": round(report.seconds, 3)}

    add_openai_routes(api, svc)

    @api.api_route("/api/{rest:path}", methods=_METHODS, include_in_schema=False)
    @api.api_route("/v1/{rest:path}", methods=_METHODS, include_in_schema=False)
    async def unknown(rest: str) -> None:
        """Unknown API paths answer in the API's error format instead of falling through to the UI."""
        raise ApiError(404, "not_found", "no such API endpoint; see /docs")

    return api
