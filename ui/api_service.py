"""What the API's routes share: request models, input cleaning and the `Service` around one Assistant.

Kept apart from the routes (ui/api.py) so each stays readable; nothing here knows about HTTP
routing, only about turning validated input into answers, lookups and health facts.
"""

from __future__ import annotations

import inspect
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Literal

import anyio
import httpx
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from index.settings import Settings
from index.store import Store
from rag.chain import Assistant
from rag.models import Answer
from rag.normalize import normalize
from ui.feedback import FeedbackDB
from ui.gate import AnswerGate
from ui.versions import answer_kwargs, fresh_documents

log = logging.getLogger(__name__)

MAX_HISTORY_TURNS = 50
MAX_TURN_CHARS = 20_000
LIGHT_WORKERS = 4  # health, clause lookups, feedback writes: never behind the answers' gate
LLM_PROBE_SECONDS = 30.0
DEGRADED_WARNING = "语义检索暂不可用,本回答仅依据关键词检索(BM25)。Dense search is unavailable; keyword (BM25) only."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BLANK = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")


class ApiError(Exception):
    """A 4xx/5xx with a stable machine-readable code and a message a person can act on."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape, close to OpenAI's so its clients show `message`."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"code": code, "message": message, "type": kind}}, status_code=status,
                        headers=headers)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant", "system"]
    content: StrictStr = Field(max_length=MAX_TURN_CHARS)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: StrictStr = Field(description="at most POLICYQA_MAX_QUESTION_CHARS (default 2000) characters "
                                            "after trimming; longer questions get 413 question_too_long")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS)
    mode: Literal["extractive", "llm"] | None = Field(None, description="'llm' only when an LLM is configured")
    versions: Literal["current", "all"] = Field("current", description="'current' answers from the current "
                                                "version of each document; 'all' also says how earlier versions "
                                                "(征求意见稿) worded each cited clause that changed")


OFFSETS = ("character offset of `quote` in the document's text file as stored in corpus/ (the file whose "
           "sha256 the catalog records, as decoded text): text[start:end] == quote")


class CitationOut(BaseModel):
    doc_id: str
    clause_id: str
    label: str
    quote: str = Field(description="the document's own words: one contiguous span of its text (a clause "
                                   "interrupted by sub-items is cited once per piece, never as a joined string)")
    start: int = Field(description=f"where the quote begins: {OFFSETS}")
    end: int = Field(description=f"where the quote ends (exclusive): {OFFSETS}")


class DroppedOut(BaseModel):
    sentence: str = Field(description="a sentence of the model's answer that was not shown")
    reason: str = Field(description="why, e.g. 'no valid citation (二(九)9: unknown clause); unsupported amount "
                                    "100万元'")


class AnswerOut(BaseModel):
    """design.md's contract (extra fields allowed); `question_id` is the handle for POST /api/feedback."""

    model_config = ConfigDict(extra="allow")
    question: str
    answer: str
    refused: bool
    citations: list[CitationOut]
    mode: str = Field(description="extractive, faq, llm, or extractive-fallback (LLM mode fell back; see `reason`)")
    latency_ms: float
    dropped_citations: list[str] = Field(default_factory=list, description=(
        "LLM mode: citation markers removed from the model's answer, with why ('二(九)9: unknown clause', "
        "'一(二)-4: quote not found'); empty for extractive answers, kept by a fallback"))
    dropped_sentences: list[DroppedOut] = Field(default_factory=list, description=(
        "LLM mode: sentences of the model's answer that were not shown (no valid citation, or a number, date, "
        "organisation… the cited clauses do not state), each with its reason; empty for extractive answers, "
        "kept by a fallback"))
    degraded: bool = False
    warning: str | None = Field(None, description="set when the answer came from BM25 alone")
    question_id: int | None = None


class ChoiceMessageOut(BaseModel):
    role: str
    content: str = Field(description="the verified answer with its citation markers (【二(七)2】)")


class ChoiceOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    index: int
    message: ChoiceMessageOut
    finish_reason: str


class ChatCompletionOut(BaseModel):
    """OpenAI's chat.completion, plus the answer's citations (as in /api/ask) and the whole answer."""

    model_config = ConfigDict(extra="allow")
    id: str
    object: str
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: dict[str, int] = Field(description="characters, not tokens (no token-priced model behind it)")
    citations: list[CitationOut] = Field(description="the clauses cited, each with its quote and start/end offsets; "
                                                     "a streamed reply carries them in its last chunk")
    policyqa: AnswerOut = Field(description="the answer as /api/ask returns it (dropped_sentences, mode, …)")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: StrictInt = Field(ge=1, le=2**63 - 1)
    rating: Literal[1, -1]
    comment: StrictStr | None = Field(None, max_length=2000)


def clean_text(text: str, what: str) -> str:
    """Control characters become spaces; lone surrogates cannot be stored or returned, so they are a 422."""
    if _SURROGATE.search(text):
        raise ApiError(422, "invalid_text", f"{what} contains invalid characters (lone UTF-16 surrogates)")
    return _CONTROL.sub(" ", text)


def answer_dict(answer: Answer, question_id: int | None = None) -> dict[str, Any]:
    """The contract plus `question_id`, and a warning whenever retrieval ran without Chroma."""
    data = answer.to_dict() | {"question_id": question_id}
    if answer.degraded:
        data["warning"] = str(data.get("warning") or answer.extra.get("warning") or DEGRADED_WARNING)
    return data


class Service:
    """The one Assistant, the feedback DB, settings and the answer gate, behind plain methods.

    Answers and retrieval take a slot of the shared `AnswerGate` (ui/gate.py); light work (health,
    clause lookups, feedback writes) runs on its own small limiter so it never waits behind answers.
    """

    def __init__(self, settings: Settings, assistant: Assistant, gate: AnswerGate | None = None) -> None:
        self.settings, self.bot = settings, assistant
        self.db = FeedbackDB.open(settings)
        self.gate = gate or AnswerGate.for_settings(settings)
        self.light = anyio.CapacityLimiter(LIGHT_WORKERS)
        self._llm_probe: tuple[float, bool] | None = None
        self._takes_mode = "mode" in inspect.signature(assistant.answer).parameters

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Light work (lookups, DB writes, health) in a thread of its own limiter."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.light)

    def question(self, text: str, limit: int | None = None, setting: str = "POLICYQA_MAX_QUESTION_CHARS") -> str:
        text = clean_text(text, "question")
        limit = limit or self.settings.max_question_chars
        if not _BLANK.sub("", text):
            raise ApiError(422, "empty_question", "the question is empty; ask e.g. “企业标准总师要培育多少名?”")
        if len(text.strip()) > limit:
            raise ApiError(413, "question_too_long", f"the text has {len(text.strip())} characters; "
                                                     f"the limit is {limit} ({setting})")
        return text

    def search_query(self, text: str) -> str:
        return self.question(text, self.settings.max_search_chars, "POLICYQA_MAX_SEARCH_CHARS")

    def mode(self, mode: str | None) -> str | None:
        if mode == "llm" and not self.settings.llm_configured:
            raise ApiError(400, "llm_not_configured", "mode 'llm' needs POLICYQA_LLM_BASE_URL and "
                                                      "POLICYQA_LLM_MODEL; use mode 'extractive'")
        return mode

    def answer(self, question: str, history: list[dict[str, str]], mode: str | None,
               versions: str = "current") -> Answer:
        fresh_documents(self.bot, self.settings.corpus_dir)
        answer: Callable[..., Answer] = self.bot.answer
        extra = answer_kwargs(self.bot, versions)
        if mode == "llm" and self._takes_mode:
            return answer(question, history=history, mode="llm", **extra)
        return answer(question, history=history, **extra)

    def log(self, answer: Answer) -> int | None:
        """The office's question log (refusals feed its backlog); a DB problem never fails an answer."""
        try:
            return self.db.log_question(answer, answer.mode)
        except sqlite3.Error:
            log.warning("could not log the question", exc_info=True)
            return None

    async def ask(self, question: str, history: list[dict[str, str]], mode: str | None,
                  versions: str = "current") -> tuple[Answer, int | None]:
        question = self.question(question)
        turns = [{"role": t["role"], "content": clean_text(t["content"], "history")} for t in history]
        answer = await self.gate.run(self.answer, question, turns, self.mode(mode), versions,
                                     size=len(question.strip()))
        return answer, await self.run(self.log, answer)

    def llm_reachable(self) -> bool | None:
        """Any HTTP reply from the endpoint counts; cached so health checks never hammer it."""
        if not self.settings.llm_configured:
            return None
        now = time.monotonic()
        if self._llm_probe and now - self._llm_probe[0] < LLM_PROBE_SECONDS:
            return self._llm_probe[1]
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else ""
        try:
            httpx.get(f"{str(self.settings.llm_base_url).rstrip('/')}/models", timeout=2.0,
                      headers={"Authorization": f"Bearer {key}"} if key else {})
            ok = True
        except httpx.HTTPError:
            ok = False
        self._llm_probe = (now, ok)
        return ok

    def health(self) -> tuple[int, dict[str, Any]]:
        """200 while an index answers (status ok, or degraded without Chroma); 503 without one."""
        index: dict[str, Any] = {"loaded": False}
        try:
            view = self.bot.retriever.view()
            index = {"loaded": True, "name": view.name, "chunks": len(view.chunks)}
        except Exception as exc:  # no index yet, mismatch: say which, as text
            index["error"] = f"{type(exc).__name__}: {exc}"
        try:
            info = Store(self.settings).info()
            index |= {"embedder": info.embedder, "built_at": info.built_at}
            chroma = True
        except Exception:
            chroma = False
        llm = {"configured": self.settings.llm_configured, "model": self.settings.llm_model,
               "reachable": self.llm_reachable()}
        status = "ok" if index["loaded"] and chroma else ("degraded" if index["loaded"] else "unavailable")
        body = {"status": status, "index": index, "chroma_reachable": chroma, "llm": llm,
                "embedding": self.settings.embedding, "max_question_chars": self.settings.max_question_chars,
                "answers": {"in_progress": self.gate.busy, "workers": self.gate.workers}}
        return (200 if index["loaded"] else 503), body

    def clause(self, doc_id: str, clause_id: str) -> dict[str, Any]:
        view = self.bot.retriever.view()
        keys = (f"{doc_id}:{clause_id}", f"{doc_id}:{normalize(clause_id)}")
        key = next((k for k in keys if k in view.by_clause), None)
        if key is None:
            raise ApiError(404, "clause_not_found", f"no clause {clause_id!r} in document {doc_id!r}; "
                                                    "try GET /api/search?q=...")
        first = view.by_clause[key][0]
        doc = self.bot.documents.get(first.doc_id)
        return {"doc_id": first.doc_id, "clause_id": first.clause_id, "label": first.label,
                "heading_path": list(first.heading_path), "text": view.clause_text(key),
                "document": doc.citation_title if doc else first.doc_id}

    def search(self, query: str, limit: int) -> dict[str, Any]:
        """Clauses containing every term first (document order), then the retriever's ranking."""
        view = self.bot.retriever.view()
        terms = [t for t in normalize(query).casefold().split() if t]
        results: dict[str, dict[str, Any]] = {}
        for key in view.by_clause:
            text = re.sub(r"\s+", "", normalize(view.clause_text(key)).casefold())
            if terms and all(t in text for t in terms):
                results[key] = {"via": "keyword", "score": 1.0}
        retrieval = self.bot.retriever.search(query)
        for hit in retrieval.hits:
            results.setdefault(hit.chunk.clause_key, {"via": hit.via, "score": round(hit.score, 4)})
        items = []
        for key, found in list(results.items())[:limit]:
            first = view.by_clause[key][0]
            items.append({"doc_id": first.doc_id, "clause_id": first.clause_id, "label": first.label,
                          "text": view.clause_text(key), **found})
        return {"query": query, "ref": retrieval.ref, "degraded": retrieval.degraded, "results": items}
