"""One gate for every answer, API and chat alike: `POLICYQA_WORKERS` answers at a time, long questions one at a time.

Answers are CPU-bound; running more at once than the machine has cores only adds latency. Both
`POST /api/ask` (and `/v1/chat/completions`) and the Gradio chat take a slot here, so a crowd on one
side cannot starve the other and the chat serves as many answers per second as the API.

- A question longer than `HEAVY_CHARS` also needs the single "heavy" slot, so clients sending
  maximum-length questions in a loop hold at most one worker between them.
- A request that waits longer than `POLICYQA_REQUEST_TIMEOUT` for a slot gets `Busy` (HTTP 503), and
  so does one that arrives while `POLICYQA_QUEUE_SIZE` requests already wait (no unbounded backlog).
- Health checks and static files never come here; they answer while every slot is busy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio

T = TypeVar("T")
HEAVY_CHARS = 300  # questions longer than this share one slot


class Busy(Exception):
    """No answer slot came free in time; the client should retry later."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"the server is busy (no answer slot within {waited:g} s); please retry shortly" if waited
                         else "the server is busy (too many questions waiting); please retry shortly")
        self.waited = waited


class AnswerGate:
    """A capacity limiter shared by the API and the chat, plus one slot for long questions."""

    def __init__(self, workers: int = 4, timeout: float = 30.0, max_waiting: int = 64) -> None:
        self.workers, self.timeout, self.max_waiting = workers, timeout, max_waiting
        self.limiter = anyio.CapacityLimiter(workers)
        self.heavy = anyio.CapacityLimiter(1)
        self.waiting = 0

    @classmethod
    def for_settings(cls, settings: Any) -> AnswerGate:
        """POLICYQA_WORKERS slots, POLICYQA_REQUEST_TIMEOUT to wait, POLICYQA_QUEUE_SIZE waiting at most."""
        return cls(settings.workers, settings.request_timeout, settings.queue_size)

    @asynccontextmanager
    async def slot(self, size: int = 0) -> AsyncIterator[None]:
        """Hold one answer slot (and the heavy slot for a long question) for the block.

        Slots are borrowed on behalf of a fresh object, so the block may span `yield`s of an async
        generator that Gradio resumes from different tasks.
        """
        borrower, limiters = object(), [self.heavy, self.limiter] if size > HEAVY_CHARS else [self.limiter]
        held: list[anyio.CapacityLimiter] = []
        if self.waiting >= self.max_waiting:
            raise Busy(0)
        self.waiting += 1
        try:
            with anyio.fail_after(self.timeout):
                for limiter in limiters:
                    await limiter.acquire_on_behalf_of(borrower)
                    held.append(limiter)
        except BaseException as exc:  # timed out, or cancelled (the client left): give back what was taken
            for limiter in held:
                limiter.release_on_behalf_of(borrower)
            if isinstance(exc, TimeoutError):
                raise Busy(self.timeout) from None
            raise
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            for limiter in held:
                limiter.release_on_behalf_of(borrower)

    async def run(self, fn: Callable[..., T], *args: Any, size: int = 0) -> T:
        """`fn(*args)` in a worker thread once a slot is free (Busy after the timeout)."""
        async with self.slot(size):
            return await anyio.to_thread.run_sync(fn, *args)

    @property
    def busy(self) -> int:
        """Slots in use right now (health reports it)."""
        return int(self.limiter.borrowed_tokens)
