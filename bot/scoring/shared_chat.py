"""One LLM client for the whole process, with one limit on the requests it has in flight.

Every run, question and suggestion asks the same client (one connection pool, not one per run), and the
requests in flight across all of them stay within DIGEST_LLM_IN_FLIGHT, whatever each run's own
DIGEST_CONCURRENCY. Closing it is the process's business at shutdown: a run's ``aclose()`` does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.domain.models import Completion
from bot.domain.per_loop import LoopSemaphore
from bot.scoring.llm_scorer import ChatModel


class SharedChat:
    """A ChatModel every caller shares: ``make`` builds the real client (again in another event loop, as an
    HTTP client's connections belong to the loop that opened them); at most ``in_flight`` requests at once."""

    def __init__(self, make: Callable[[], ChatModel], *, in_flight: int, model: str) -> None:
        self.model = model
        self._make = make
        self._limit = LoopSemaphore(in_flight)
        self._making = LoopSemaphore(1)
        self._client: ChatModel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _current(self) -> ChatModel:
        """The loop's client, made at the first request on a thread: importing openai and building its TLS
        context take a second of CPU that the event loop (and the commands it answers) should not wait for."""
        loop = asyncio.get_running_loop()
        async with self._making.hold():
            if self._client is None or loop is not self._loop:
                self._client, self._loop = await asyncio.to_thread(self._make), loop
        return self._client

    async def complete(
        self, system: str, user: str, response_format: dict[str, Any] | None = None, max_tokens: int | None = None
    ) -> Completion:
        async with self._limit.hold():
            client = await self._current()
            return await client.complete(system, user, response_format, max_tokens)

    async def aclose(self) -> None:
        """A caller is done with it; the process keeps the client (see close())."""

    async def close(self) -> None:
        """The process's shutdown: close the real client."""
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():  # another loop's client died with it
            await client.aclose()
