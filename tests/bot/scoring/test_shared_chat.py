"""One LLM client for the process: at most DIGEST_LLM_IN_FLIGHT requests in flight across every caller."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.domain.models import Completion
from bot.scoring.shared_chat import SharedChat
from tests.support.fakes import FakeChat


class CountingChat(FakeChat):
    """Records the most requests it ever had in flight, and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most_in_flight = 0
        self.closed = False

    async def complete(self, system: str, user: str, response_format: dict[str, Any] | None = None,
                       max_tokens: int | None = None) -> Completion:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return await super().complete(system, user, response_format, max_tokens)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True


def test_requests_in_flight_never_exceed_the_limit_whoever_sends_them():
    made: list[CountingChat] = []

    def make() -> CountingChat:
        made.append(CountingChat())
        return made[-1]

    shared = SharedChat(make, in_flight=3, model="gpt-4o-mini")

    async def caller(n: int) -> None:
        chat = shared  # each run asks the factory; every run gets this one
        for _ in range(n):
            await chat.complete("system", "## Papers\n\n")
        await chat.aclose()  # a run done with it does not close the process's client

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(*(caller(4) for _ in range(10))), 10)

    asyncio.run(main())
    assert len(made) == 1
    assert made[0].most_in_flight == 3
    assert len(made[0].requests) == 40
    assert not made[0].closed


def test_the_process_closes_the_client_at_shutdown_and_another_loop_gets_its_own():
    made: list[CountingChat] = []

    def make() -> CountingChat:
        made.append(CountingChat())
        return made[-1]

    shared = SharedChat(make, in_flight=2, model="gpt-4o-mini")

    async def one_request_then_shutdown() -> None:
        await shared.complete("system", "## Papers\n\n")
        await shared.close()

    asyncio.run(one_request_then_shutdown())
    asyncio.run(one_request_then_shutdown())
    assert len(made) == 2
    assert all(chat.closed for chat in made)
