"""`/v1/models` and `/v1/chat/completions`: the assistant behind OpenAI's chat API, for any OpenAI client.

The last user message is the question, earlier user/assistant turns its history; sampling options
are accepted and ignored (answers quote the policy verbatim). Citations are in the text (【二(七)2】
with the quote) and in an extra `citations` field. Streaming sends the verified answer in SSE
pieces: text is never streamed before its citations were checked.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from rag.models import Answer
from ui.api_service import MAX_HISTORY_TURNS, MAX_TURN_CHARS, ApiError, Service, answer_dict

MODELS = {"policyqa": None, "policyqa-extractive": None, "policyqa-llm": "llm"}


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: StrictStr
    text: StrictStr | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: StrictStr | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's request; `model` policyqa-llm asks for the LLM mode (when configured)."""

    model_config = ConfigDict(extra="allow")
    model: StrictStr = "policyqa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_HISTORY_TURNS + 1)
    stream: bool = False


def chat_payload(answer: Answer, model: str) -> dict[str, Any]:
    """A chat.completion; usage counts characters (there is no token-priced model behind it)."""
    prompt, completion = len(answer.question), len(answer.answer)
    data = answer_dict(answer)
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
            "citations": data["citations"], "policyqa": data}


def chat_stream(answer: Answer, model: str, piece: int = 24) -> Iterator[str]:
    """SSE chunks: role, the text in pieces, then a final chunk with finish_reason and the citations."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": answer.answer[i:i + piece]} for i in range(0, len(answer.answer), piece)]
    for delta in deltas:
        chunk = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    data = answer_dict(answer)
    last = base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "citations": data["citations"],
                   "policyqa": data}
    yield f"data: {json.dumps(last, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def add_openai_routes(api: FastAPI, svc: Service) -> None:
    @api.get("/v1/models")
    async def models() -> dict[str, Any]:
        names = [m for m, mode in MODELS.items() if mode != "llm" or svc.settings.llm_configured]
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "policyqa"}
                                           for m in names]}

    @api.post("/v1/chat/completions", response_model=None)
    async def chat(body: ChatRequest) -> JSONResponse | StreamingResponse:
        """OpenAI-compatible chat; the question obeys the same length limit as /api/ask."""
        last = body.messages[-1]
        if last.role != "user":
            raise ApiError(422, "no_question", "the last message must be the user's question")
        history = [{"role": m.role, "content": m.text()} for m in body.messages[:-1] if m.role in ("user", "assistant")]
        if any(len(t["content"]) > MAX_TURN_CHARS for t in history):
            raise ApiError(422, "history_too_long", f"each earlier message may hold {MAX_TURN_CHARS} characters")
        answer, _ = await svc.ask(last.text(), history, MODELS.get(body.model))
        if not body.stream:
            return JSONResponse(chat_payload(answer, body.model))

        async def events() -> AsyncIterator[str]:
            for event in chat_stream(answer, body.model):
                yield event

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
