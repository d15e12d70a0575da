"""An in-memory chat platform for tests of the core (the Slack and Discord tests use real clients)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.chat.commands import CommandCore, Invocation
from bot.digest.service import DigestService
from bot.domain.models import Digest, RankedPaper
from bot.domain.platform import Caller, Markup, Place, Reply
from bot.domain.weekly import Roundup


class MemoryPoster:
    """Records what the core asks a platform to post; ``fail_after`` simulates a crash mid-digest."""

    platform = "chat"

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, Any]] = []  # (channel, kind, content)
        self.fail_after: int | None = None

    def _post(self, channel: str, kind: str, content: Any) -> str:
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise ConnectionError("chat platform went away")
        self.messages.append((channel, kind, content))
        return f"m{len(self.messages)}"

    def summary_parts(self, digest: Digest) -> int:
        return 1

    async def post_summary_part(self, place: Place, digest: Digest, number: int, parent: str | None) -> str:
        return self._post(place.channel, "summary", digest.date)

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        return self._post(place.channel, "paper", (parent, item.rank, item.paper.arxiv_id))

    async def post_text(self, place: Place, text: str) -> str:
        return self._post(place.channel, "text", text)

    async def post_weekly(self, place: Place, roundup: Roundup) -> str:
        return self._post(place.channel, "weekly", roundup)


@dataclass(frozen=True)
class Answered:
    caller: Caller
    invocation: Invocation
    reply: Reply


class RecordingCore(CommandCore):
    """The real core, remembering each command it answered: adapter tests check what the platform passed in
    (who, where, which command) and that it showed the reply, and leave the reply's wording to the core's tests."""

    def __init__(self, service: DigestService) -> None:
        super().__init__(service)
        self.answered: list[Answered] = []

    async def execute(self, caller: Caller, invocation: Invocation, markup: Markup) -> Reply:
        reply = await super().execute(caller, invocation, markup)
        self.answered.append(Answered(caller, invocation, reply))
        return reply

    @property
    def last(self) -> Answered:
        return self.answered[-1]


DIRECT = {"stats", "run"}  # a fast command and a slow one (acknowledged first)


class DirectCore(CommandCore):
    """The real core, except that the commands in DIRECT answer ``text`` by direct message: the adapters'
    DM delivery is tested on its own, with every Web API call real."""

    text = "Only for you: three papers you starred this week."

    async def execute(self, caller: Caller, invocation: Invocation, markup: Markup) -> Reply:
        if invocation.name in DIRECT:
            return Reply(f"{markup.bold('Your reading list')}\n{self.text}", direct=True)
        return await super().execute(caller, invocation, markup)
