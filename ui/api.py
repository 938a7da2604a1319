"""The HTTP API: REST for programs (/api), OpenAI-compatible chat (/v1, ui/api_openai.py), OpenAPI at /docs.

Limits: a question may hold at most `POLICYQA_MAX_QUESTION_CHARS` characters (default 2000) after
trimming, else 413 `question_too_long` (a search: `POLICYQA_MAX_SEARCH_CHARS`, default 200); a body
over `POLICYQA_MAX_BODY_BYTES` (256 KiB) is refused with 413 `body_too_large` before it is parsed, and
one not sent within `POLICYQA_BODY_TIMEOUT` with 408 (ui/guard.py, for every route); `history` holds
at most 50 turns of at most 20,000 characters each. Answers wait at most `POLICYQA_REQUEST_TIMEOUT`
for a slot (else 503 `busy`). Malformed JSON and wrong types are 422 (invalid UTF-8: 400). Every error
is JSON `{"error": {"code", "message", "type"}}` and never carries a traceback or a secret.

Admin endpoints need the `X-Admin-Password` header (POLICYQA_ADMIN_PASSWORD, compared in constant
time; a non-ASCII password percent-encoded as UTF-8). Wrong passwords are throttled per client address
and globally: a throttled attempt is 429 with Retry-After and is not checked.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictStr
from starlette.exceptions import HTTPException

from index.build import BuildLockedError, build_index
from index.settings import Settings
from rag.chain import Assistant
from ui.api_openai import add_openai_routes
from ui.api_service import (
    AnswerOut,
    ApiError,
    AskRequest,
    ChatCompletionOut,
    FeedbackRequest,
    Service,
    answer_dict,
    clean_text,
    error_response,
)
from ui.auth import SESSION_TTL, AdminAuth, header_candidates
from ui.faq_api import add_faq_routes
from ui.gate import AnswerGate, Busy
from ui.throttle import retry_after
from ui.uploads import COOKIE

log = logging.getLogger(__name__)

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class SessionBody(BaseModel):
    token: StrictStr = Field(max_length=200)


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @api.exception_handler(Busy)
    async def _busy(_: Request, exc: Busy) -> JSONResponse:
        return error_response(503, "busy", str(exc), {"Retry-After": "5"})

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


def build_api(settings: Settings, assistant: Assistant, *, gate: AnswerGate | None = None,
              auth: AdminAuth | None = None) -> FastAPI:
    """The API app; `ui.server` mounts the Gradio UI on it so both share one Assistant, gate and login."""
    svc = Service(settings, assistant, gate)
    auth = auth or AdminAuth(settings.admin_password)
    docs = settings.api_docs
    api = FastAPI(title="policyqa API", version="1", description=__doc__, docs_url="/docs" if docs else None,
                  redoc_url="/redoc" if docs else None, openapi_url="/openapi.json" if docs else None)
    api.state.service = svc
    _add_error_handlers(api)

    async def admin(request: Request, x_admin_password: str | None = Header(
            None, description="the admin password; a non-ASCII one percent-encoded as UTF-8")) -> None:
        if not auth.enabled:
            raise ApiError(403, "admin_disabled", "admin endpoints are off (set POLICYQA_ADMIN_PASSWORD)")
        if not x_admin_password:
            raise ApiError(401, "unauthorized", "a valid X-Admin-Password header is required")
        verdict = auth.attempt(request.client.host if request.client else None,  # cheap: on the event loop
                               header_candidates(x_admin_password))
        if verdict.wait:
            raise ApiError(429, "too_many_attempts", f"too many wrong passwords from this address; retry in "
                                                     f"{retry_after(verdict.wait)} s",
                           {"Retry-After": str(retry_after(verdict.wait))})
        if not verdict.ok:
            raise ApiError(401, "unauthorized", "a valid X-Admin-Password header is required")

    @api.post("/api/ask", response_model=None, responses={200: {"model": AnswerOut}})
    async def ask(body: AskRequest) -> JSONResponse:
        """Answer one question with clause citations (design.md's contract plus `question_id`)."""
        answer, question_id = await svc.ask(body.question, [t.model_dump() for t in body.history], body.mode,
                                            body.versions)
        return JSONResponse(answer_dict(answer, question_id))

    @api.get("/api/clauses/{doc_id}/{clause_id}")
    async def clause(doc_id: str, clause_id: str) -> dict[str, Any]:
        """One clause, whole, by the document's own numbering (e.g. sanmen / 二(七)2)."""
        return await svc.run(svc.clause, doc_id, clause_id)

    @api.get("/api/search")
    async def search(q: str = Query(..., description="keywords or a clause reference; at most "
                                                   "POLICYQA_MAX_SEARCH_CHARS (200) characters"),
                     limit: int = Query(10, ge=1, le=50)) -> dict[str, Any]:
        """Provision lookup: clauses containing every keyword, then by relevance."""
        query = svc.search_query(q)
        return await svc.gate.run(svc.search, query, limit, size=len(query))

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

    @api.post("/api/admin/session", status_code=204, include_in_schema=False)
    async def admin_session(body: SessionBody, request: Request) -> Response:
        """The 管理 tab, after a login, trades its session token for an HttpOnly cookie (the upload hook)."""
        if not auth.session_valid(body.token):
            raise ApiError(401, "unauthorized", "no such admin session")
        response = Response(status_code=204)
        response.set_cookie(COOKIE, body.token, max_age=int(SESSION_TTL), path="/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @api.delete("/api/admin/session", status_code=204, include_in_schema=False)
    async def admin_session_end(request: Request) -> Response:
        auth.close_session(request.cookies.get(COOKIE))
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    add_openai_routes(api, svc)
    _document_chat_completion(api)
    add_faq_routes(api, settings, assistant, admin)

    @api.api_route("/api/{rest:path}", methods=_METHODS, include_in_schema=False)
    @api.api_route("/v1/{rest:path}", methods=_METHODS, include_in_schema=False)
    async def unknown(rest: str) -> None:
        """Unknown API paths answer in the API's error format instead of falling through to the UI."""
        raise ApiError(404, "not_found", "no such API endpoint; see /docs")

    return api


def _document_chat_completion(api: FastAPI) -> None:
    """/openapi.json describes the 200 body of /v1/chat/completions (ChatCompletionOut: `citations` with
    start/end, `policyqa` with dropped_sentences). ui/api_openai.py registers that route without a response
    model, so its schema is added when the OpenAPI document is first generated."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = generate()
        ref = "#/components/schemas/{model}"
        body = ChatCompletionOut.model_json_schema(ref_template=ref, mode="serialization")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in body.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["ChatCompletionOut"] = body
        post = schema.get("paths", {}).get("/v1/chat/completions", {}).get("post")
        if post is not None:
            post.setdefault("responses", {})["200"] = {
                "description": "a chat.completion, or with `stream: true` SSE chunks (the last one carries "
                               "`citations` and `policyqa`)",
                "content": {"application/json": {"schema": {"$ref": ref.format(model="ChatCompletionOut")}}}}
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
