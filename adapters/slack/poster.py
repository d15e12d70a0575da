"""Posting a digest to Slack: the parent message, then one thread reply per paper, paced per channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import Message, paper_message, summary_messages, text_message
from bot.errors import PostError
from bot.models import Digest, RankedPaper
from bot.service import Place

# What to do about the errors Slack gives for a channel we cannot post to.
_FIXES = {
    "not_in_channel": "the bot is not in this channel: /invite @arxiv-digest, then try again",
    "channel_not_found": "the channel does not exist or the bot cannot see it: invite the bot to it",
    "is_archived": "the channel is archived: unarchive it or /arxiv unsubscribe",
    "restricted_action": "the workspace does not let the bot post here: ask an admin",
}

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]  # workspace (team ID) → a client with its bot token


class SlackPoster:
    platform = "slack"

    def __init__(self, client_for: ClientFor, *, interval: float = 1.0) -> None:
        self._client_for = client_for
        self._interval = interval
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _post(self, place: Place, message: Message, thread: str | None = None) -> str:
        client = await self._client_for(place.workspace)
        # Slack allows about one message a second per channel; the client's retry handler covers
        # the 429s that still happen (it waits Retry-After and sends the same message again).
        async with self._locks.setdefault(place.channel, asyncio.Lock()):
            wait = self._last.get(place.channel, 0.0) + self._interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            kwargs: dict[str, Any] = {"channel": place.channel, **message.payload(), "unfurl_links": False}
            if thread is not None:
                kwargs["thread_ts"] = thread
            try:
                response = await client.chat_postMessage(**kwargs)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                raise PostError(
                    f"Slack refused to post in {place.channel} ({error}): "
                    + _FIXES.get(error, "try again later; the messages posted so far are kept")
                ) from exc
            self._last[place.channel] = time.monotonic()
        return str(response["ts"])

    async def post_summary(self, place: Place, digest: Digest) -> list[str]:
        parent, *continued = summary_messages(digest)
        first = await self._post(place, parent)
        return [first] + [await self._post(place, message, thread=first) for message in continued]

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        return await self._post(place, paper_message(digest, item), thread=parent)

    async def post_text(self, place: Place, text: str) -> str:
        return await self._post(place, text_message(text))
