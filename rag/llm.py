"""LLM mode: retrieve → build prompt → generate → verify, as a LangChain Runnable over any OpenAI-compatible API.

The model only phrases the answer. Its answer is cut into sentences and a sentence is shown only when it
cites a retrieved clause (markers and quotes verified mechanically by rag.llm_prompt.verify) and every
number, date, phone, e-mail, organisation and clause number in it occurs in the clauses it cites
(rag.support); other sentences are removed and listed in `dropped_sentences`. Anything that goes wrong
(endpoint error, timeout, garbage, nothing supported left) yields the extractive answer instead, marked
`mode="extractive-fallback"` with the reason, so the user always gets a cited answer.
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
from rag.lexicon import load_lexicon
from rag.llm_prompt import (
    DEFAULT_BUDGET,
    ClauseBlock,
    Message,
    Prompt,
    Prompts,
    Verified,
    build_prompt,
    clause_blocks,
    history_messages,
    load_prompts,
    split_answer,
    verify,
)
from rag.models import Answer, Dropped, Hit, Related
from rag.support import Claim, ClaimLexicon, evidence, is_connective, unsupported

Turn = Mapping[str, str]
ClauseText = Callable[[str], str]
Fallback = Callable[[], Answer]
Retrieve = Callable[[str], Sequence[Hit]]

def rewrite_messages(question: str, history: Sequence[Mapping[str, str]], prompts: Prompts) -> list[Message]:
    return [("system", prompts.rewrite_system), *history_messages(history, turns=6),
            ("user", prompts.rewrite_user.format(question=question))]


def clean_rewrite(output: str, question: str, label: re.Pattern[str], max_chars: int = 300) -> str:
    """The model's first line minus its label and quotes; the question itself when that is unusable."""
    line = next((ln.strip() for ln in output.splitlines() if ln.strip()), "")
    line = label.sub("", line, count=1).strip("「」“”\"' ")
    if not line or len(line) > max_chars or "【" in line:
        return question
    return line


MISQUOTE_NOTE = "sentence with a misquote removed"  # verify()'s note for a marker in a removed sentence


def _problems(claims: Sequence[Claim]) -> list[str]:
    return [f"unsupported {c.kind} {c.text}" for c in claims]


def ground(text: str, blocks: Sequence[ClauseBlock], lex: ClaimLexicon) -> Verified:
    """Keep the sentences of `text` that cite a supplied clause and state only what their cited clauses state.

    Each sentence is verified on its own (its markers and quotes, rag.llm_prompt.verify), then its claims
    are checked against the texts of the clauses it validly cites. A short sentence with no claim, quote
    or marker (“具体如下:”) stays; every other sentence without a valid citation goes. The kept sentences
    are verified together for the final text and citations.
    """
    kept: list[str] = []
    dropped: list[Dropped] = []
    notes: list[str] = []
    for sentence in split_answer(text):
        if not re.search(r"[^\W_]", sentence):
            kept.append(sentence)
            continue
        check = verify(sentence, blocks)
        notes += check.dropped
        cited = [b for b in blocks if any(c.doc_id == b.doc_id and c.clause_id == b.clause_id
                                          for c in check.citations)]
        if cited:
            bad = unsupported(sentence, evidence([b.text for b in cited], [b.clause_id for b in cited], lex), lex)
            problems = _problems(bad)
        elif "【" not in sentence and not re.search(r"[「『“]", sentence) and is_connective(sentence, lex):
            problems = []
        else:
            why = "no valid citation" + (f" ({'; '.join(check.dropped)})" if check.dropped else "")
            problems = [why, *_problems(unsupported(sentence, evidence([], [], lex), lex))]
        if problems:
            dropped.append(Dropped(sentence.strip(), "; ".join(problems)))
        else:
            kept.append(sentence)
    final = verify("".join(kept), blocks)
    refs = {c.clause_id for c in final.citations} | {f"{c.doc_id}:{c.clause_id}" for c in final.citations}
    notes = [n for n in notes if n.rpartition(": ")[::2] not in ((r, MISQUOTE_NOTE) for r in refs)]
    return Verified(final.text, final.citations, tuple(dict.fromkeys([*notes, *final.dropped])), tuple(dropped))


class LLMFailure(Exception):
    """Why the LLM path gave up; `reason` goes into the fallback Answer."""

    def __init__(self, reason: str, dropped: Sequence[str] = (), sentences: Sequence[Dropped] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dropped = tuple(dropped)
        self.sentences = tuple(sentences)


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
        self.claims = load_lexicon(settings.lexicon_dir).claims
        self.prompts = load_prompts(settings.lexicon_dir, _jurisdiction(settings))
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
        return build_prompt(inputs["question"], blocks, self.prompts, inputs.get("history"), self.prompt_budget)

    def _verify(self, inputs: dict[str, Any]) -> Verified:
        text = inputs["text"]
        if not isinstance(text, str) or not text.strip():
            raise LLMFailure("llm_empty")
        verified = ground(text, inputs["prompt"].blocks, self.claims)
        if not verified.citations:
            cited = any(not d.reason.startswith("no valid citation") for d in verified.dropped_sentences)
            reason = "no_supported_sentence" if cited else "no_valid_citation"
            raise LLMFailure(reason, verified.dropped, verified.dropped_sentences)
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
            output = self.generate.invoke(rewrite_messages(question, list(history), self.prompts))
        except Exception:
            return question
        return clean_rewrite(output if isinstance(output, str) else "", question, self.prompts.rewrite_label)

    # ------------------------------------------------------------ results

    def _answer(self, question: str, verified: Verified, prompt: Prompt, started: float) -> Answer:
        cited = {c.doc_id + ":" + c.clause_id for c in verified.citations}
        related = tuple(Related(b.doc_id, b.clause_id, b.label) for b in prompt.blocks if b.key not in cited)
        extra = {"model": self.settings.llm_model, "prompt_tokens": prompt.tokens,
                 "prompt_clauses": [b.ref for b in prompt.blocks], "over_budget": list(prompt.over_budget)}
        return Answer(question, verified.text, False, verified.citations, "llm",
                      latency_ms=round((time.perf_counter() - started) * 1000, 2), related=related,
                      standalone_question=question, dropped_citations=verified.dropped,
                      dropped_sentences=verified.dropped_sentences, extra=extra)

    @staticmethod
    def _fallback(fallback: Fallback, exc: BaseException) -> Answer:
        base = fallback()
        dropped = exc.dropped if isinstance(exc, LLMFailure) else ()
        sentences = exc.sentences if isinstance(exc, LLMFailure) else ()
        extra = {**base.extra, "extractive_reason": base.reason, "llm_exception": type(exc).__name__}
        return replace(base, mode="extractive-fallback", reason=failure_reason(exc),
                       dropped_citations=tuple(base.dropped_citations) + dropped,
                       dropped_sentences=tuple(base.dropped_sentences) + sentences, extra=extra)


def _jurisdiction(settings: Settings) -> str:
    """The county the prompts name: the primary document's `jurisdiction` in the catalog ("" when unknown)."""
    from index.catalog import CorpusError, load_catalog

    try:
        docs = load_catalog(settings.corpus_dir)
    except CorpusError:
        return ""
    return next((d.jurisdiction for d in docs if d.doc_id == settings.primary_doc), "")
