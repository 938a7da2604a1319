"""LLM mode: retrieve → build prompt → generate → verify, as a LangChain Runnable over any OpenAI-compatible API.

The model only phrases the answer; every citation it writes is verified mechanically (rag.llm_prompt.verify)
and anything that goes wrong (endpoint error, timeout, garbage, no valid citation) yields the extractive
answer instead, marked `mode="extractive-fallback"` with the reason, so the user always gets a cited answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx
import openai
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from index.settings import Settings
from rag.llm_prompt import (
    DEFAULT_BUDGET,
    Message,
    Prompt,
    Verified,
    build_prompt,
    clause_blocks,
    history_messages,
    verify,
)
from rag.models import Answer, Hit, Related

Turn = Mapping[str, str]
ClauseText = Callable[[str], str]
Fallback = Callable[[], Answer]
Retrieve = Callable[[str], Sequence[Hit]]

REWRITE_SYSTEM = (
    "你是问题改写助手。根据对话历史,把用户最后的追问改写成一个不依赖上下文、可以独立理解的完整问题。"
    "只输出改写后的问题本身,不要回答,不要解释,不要添加历史中没有的信息。"
)


def rewrite_messages(question: str, history: Sequence[Mapping[str, str]]) -> list[Message]:
    return [("system", REWRITE_SYSTEM), *history_messages(history, turns=6),
            ("user", f"追问:{question}\n请输出改写后的独立问题:")]


def clean_rewrite(output: str, question: str, max_chars: int = 300) -> str:
    """The model's first line minus labels and quotes; the question itself when that is unusable."""
    line = next((ln.strip() for ln in output.splitlines() if ln.strip()), "")
    line = re.sub(r"^(改写后的?(独立)?问题|独立问题|问题)\s*[::]\s*", "", line).strip("「」“”\"' ")
    if not line or len(line) > max_chars or "【" in line:
        return question
    return line


class LLMFailure(Exception):
    """Why the LLM path gave up; `reason` goes into the fallback Answer."""

    def __init__(self, reason: str, dropped: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dropped = tuple(dropped)


def failure_reason(exc: BaseException) -> str:
    """A short, stable reason code for an exception raised while talking to the endpoint."""
    if isinstance(exc, LLMFailure):
        return exc.reason
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "llm_timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"llm_error: {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return "llm_error: connection"
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | ValueError | KeyError
                  | TypeError | AttributeError | IndexError):
        return "llm_garbage"
    return f"llm_error: {type(exc).__name__}"


class LLMAnswerer:
    """Answers from retrieved clauses with an OpenAI-compatible chat model; one instance per process."""

    def __init__(self, settings: Settings, *, retrieve: Retrieve | None = None, prompt_budget: int = DEFAULT_BUDGET,
                 max_clauses: int = 6, max_tokens: int = 800, temperature: float = 0.0,
                 stream_deadline: float | None = None) -> None:
        if not settings.llm_configured:
            raise ValueError("LLM mode needs POLICYQA_LLM_BASE_URL and POLICYQA_LLM_MODEL")
        key = settings.llm_api_key or SecretStr("EMPTY")
        self.settings = settings
        self.retrieve = retrieve
        self.prompt_budget = prompt_budget
        self.max_clauses = max_clauses
        self.stream_deadline = stream_deadline or 3 * settings.llm_timeout
        self.model = ChatOpenAI(base_url=settings.llm_base_url, model=str(settings.llm_model), api_key=key,
                                timeout=settings.llm_timeout, max_retries=0, temperature=temperature,
                                max_completion_tokens=max_tokens)
        self.generate: Runnable[Any, str] = self.model | StrOutputParser()
        to_messages: Runnable[dict[str, Any], list[Any]] = RunnableLambda(lambda x: list(x["prompt"].messages))
        # retrieve → build prompt → generate → verify; inputs: question, history, clause_text, hits (optional)
        self.chain: Runnable[dict[str, Any], tuple[Verified, Prompt]] = (
            RunnablePassthrough.assign(hits=RunnableLambda(self._hits))
            | RunnablePassthrough.assign(prompt=RunnableLambda(self._prompt))
            | RunnablePassthrough.assign(text=to_messages | self.generate)
            | RunnableLambda(lambda x: (self._verify(x), x["prompt"]))
        )

    # ------------------------------------------------------------ runnable steps

    def _hits(self, inputs: dict[str, Any]) -> Sequence[Hit]:
        if inputs.get("hits") is not None:
            return tuple(inputs["hits"])
        if self.retrieve is None:
            raise LLMFailure("no_hits")
        return tuple(self.retrieve(inputs["question"]))

    def _prompt(self, inputs: dict[str, Any]) -> Prompt:
        blocks = clause_blocks(inputs["hits"], inputs["clause_text"], self.max_clauses)
        if not blocks:
            raise LLMFailure("no_hits")
        return build_prompt(inputs["question"], blocks, inputs.get("history"), self.prompt_budget)

    @staticmethod
    def _verify(inputs: dict[str, Any]) -> Verified:
        text = inputs["text"]
        if not isinstance(text, str) or not text.strip():
            raise LLMFailure("llm_empty")
        verified = verify(text, inputs["prompt"].blocks)
        if not verified.citations:
            raise LLMFailure("no_valid_citation", verified.dropped)
        return verified

    # ------------------------------------------------------------ public API

    def answer(self, question: str, hits: Sequence[Hit], clause_text: ClauseText, fallback: Fallback,
               history: Sequence[Turn] | None = None) -> Answer:
        """The verified LLM answer (mode "llm"), or the fallback's answer with mode "extractive-fallback"."""
        started = time.perf_counter()
        inputs = {"question": question, "hits": hits, "clause_text": clause_text, "history": list(history or [])}
        try:
            verified, prompt = self.chain.invoke(inputs)
        except Exception as exc:
            return self._fallback(fallback, exc)
        return self._answer(question, verified, prompt, started)

    def stream(self, question: str, hits: Sequence[Hit], clause_text: ClauseText, fallback: Fallback,
               history: Sequence[Turn] | None = None) -> Iterator[str | Answer]:
        """Yield text tokens as they arrive, then the verified Answer (or the fallback).

        The final Answer is authoritative: a UI must replace the streamed text with `answer.answer`,
        since verification may remove citations or sentences, or fall back altogether.
        """
        started = time.perf_counter()
        inputs = {"question": question, "hits": hits, "clause_text": clause_text, "history": list(history or [])}
        parts: list[str] = []
        try:
            prompt = self._prompt({**inputs, "hits": self._hits(inputs)})
            for token in self.generate.stream(list(prompt.messages)):
                if time.perf_counter() - started > self.stream_deadline:
                    raise LLMFailure("llm_timeout")
                if token:
                    parts.append(token)
                    yield token
            verified = self._verify({"text": "".join(parts), "prompt": prompt})
        except Exception as exc:
            yield self._fallback(fallback, exc)
            return
        yield self._answer(question, verified, prompt, started)

    def rewrite_followup(self, question: str, history: Sequence[Turn] | None) -> str:
        """A standalone version of a follow-up, written by the model; the question itself on any failure."""
        if not history:
            return question
        try:
            output = self.generate.invoke(rewrite_messages(question, list(history)))
        except Exception:
            return question
        return clean_rewrite(output if isinstance(output, str) else "", question)

    # ------------------------------------------------------------ results

    def _answer(self, question: str, verified: Verified, prompt: Prompt, started: float) -> Answer:
        cited = {c.doc_id + ":" + c.clause_id for c in verified.citations}
        related = tuple(Related(b.doc_id, b.clause_id, b.label) for b in prompt.blocks if b.key not in cited)
        extra = {"model": self.settings.llm_model, "prompt_tokens": prompt.tokens,
                 "prompt_clauses": [b.ref for b in prompt.blocks], "over_budget": list(prompt.over_budget)}
        return Answer(question, verified.text, False, verified.citations, "llm",
                      latency_ms=round((time.perf_counter() - started) * 1000, 2), related=related,
                      standalone_question=question, dropped_citations=verified.dropped, extra=extra)

    @staticmethod
    def _fallback(fallback: Fallback, exc: BaseException) -> Answer:
        base = fallback()
        dropped = exc.dropped if isinstance(exc, LLMFailure) else ()
        extra = {**base.extra, "extractive_reason": base.reason, "llm_exception": type(exc).__name__}
        return replace(base, mode="extractive-fallback", reason=failure_reason(exc),
                       dropped_citations=tuple(base.dropped_citations) + dropped, extra=extra)
