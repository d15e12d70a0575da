"""Posting a digest to Slack: the parent message, then one thread reply per paper, paced per channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.pacing import ChannelPacer
from adapters.slack.blocks import PART_EVENT, Message, paper_message, summary_messages, text_message
from adapters.slack.markup import SlackMarkup
from bot.digest.weekly_text import roundup_text
from bot.domain.errors import PostError
from bot.domain.models import Digest, RankedPaper
from bot.domain.platform import Place
from bot.domain.statuses import PostKind
from bot.domain.weekly import Roundup

log = logging.getLogger(__name__)
RECOVERY_SCAN = 200  # newest channel messages searched for the day's parent message

# What to do about the errors Slack gives for a channel we cannot post to.
_FIXES = {
    "not_in_channel": "the bot is not in this channel: /invite @arxiv-digest, then try again",
    "channel_not_found": "the channel does not exist or the bot cannot see it: invite the bot to it",
    "is_archived": "the channel is archived: unarchive it or /arxiv unsubscribe",
    "restricted_action": "the workspace does not let the bot post here: ask an admin",
}

RATE_LIMIT_PATIENCE = 600.0  # seconds a message waits out the workspace's 429s before its run gives up (and is retried)


def _retry_after(exc: SlackApiError) -> float:
    """Slack's Retry-After (seconds) on a refused call; 1 when it gives none."""
    headers: Any = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0


ClientFor = Callable[[str], Awaitable[AsyncWebClient]]  # workspace (team ID) → a client with its bot token


class SlackPoster:
    platform = "slack"

    def __init__(self, client_for: ClientFor, *, interval: float = 1.0) -> None:
        self._client_for = client_for
        # Slack allows about one message a second per channel; the client's retry handler covers
        # the 429s that still happen (it waits Retry-After and sends the same message again), and _post keeps
        # waiting them out when many channels of one workspace post at once (its limit is the workspace's).
        self._pacer = ChannelPacer(interval)

    async def _post(self, place: Place, message: Message, thread: str | None = None) -> str:
        client = await self._client_for(place.workspace)
        async with self._pacer.turn(place.channel):
            kwargs: dict[str, Any] = {"channel": place.channel, **message.payload(), "unfurl_links": False}
            if thread is not None:
                kwargs["thread_ts"] = thread
            deadline = time.monotonic() + RATE_LIMIT_PATIENCE
            while True:
                try:
                    response = await client.chat_postMessage(**kwargs)
                    break
                except SlackApiError as exc:
                    error = str(exc.response.get("error", ""))
                    wait = _retry_after(exc) + random.random()  # channels refused together come back apart
                    if error == "ratelimited" and time.monotonic() + wait < deadline:
                        await asyncio.sleep(wait)  # a refused message was not posted: sending it again is safe
                        continue
                    raise PostError(
                        f"Slack refused to post in {place.channel} ({error}): "
                        + _FIXES.get(error, "try again later; the messages posted so far are kept")
                    ) from exc
        return str(response["ts"])

    def summary_parts(self, digest: Digest) -> int:
        return len(summary_messages(digest))

    async def post_summary_part(self, place: Place, digest: Digest, number: int, parent: str | None) -> str:
        # The parent opens the day's thread; "Ranked list, continued" parts go into it.
        message = summary_messages(digest)[number - 1]
        return await self._post(place, message, thread=None if number == 1 else parent)

    async def post_summary(self, place: Place, digest: Digest) -> list[str]:
        """The whole summary at once (benchmarks); the service posts and records it part by part."""
        ids: list[str] = []
        for number in range(1, self.summary_parts(digest) + 1):
            ids.append(await self.post_summary_part(place, digest, number, ids[0] if ids else None))
        return ids

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        return await self._post(place, paper_message(digest, item), thread=parent)

    async def post_text(self, place: Place, text: str) -> str:
        return await self._post(place, text_message(text))

    async def post_weekly(self, place: Place, roundup: Roundup) -> str:
        return await self._post(place, text_message(roundup_text(roundup, SlackMarkup())))

    async def recover(self, place: Place, date: dt.date) -> dict[str, str]:
        """Parts of the day's digest already in the channel (found by their message metadata), for a
        run resumed after a crash: Slack may have accepted a message we never recorded."""
        client = await self._client_for(place.workspace)
        found: dict[str, str] = {}
        try:
            history = await client.conversations_history(
                channel=place.channel, include_all_metadata=True, limit=RECOVERY_SCAN
            )
            messages: list[dict[str, Any]] = history.get("messages", [])
            for message in messages:
                part = _part_of(message, date)
                if part == PostKind.SUMMARY:
                    found[part] = str(message["ts"])
                    break
            if PostKind.SUMMARY not in found:
                return found
            cursor = None
            while True:
                replies = await client.conversations_replies(
                    channel=place.channel, ts=found[PostKind.SUMMARY], include_all_metadata=True, limit=200,
                    cursor=cursor,
                )
                for message in replies.get("messages", []):
                    part = _part_of(message, date)
                    if part is not None and part != PostKind.SUMMARY:
                        found[part] = str(message["ts"])
                cursor = (replies.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return found
        except SlackApiError as exc:  # e.g. missing_scope on an install from before history scopes
            log.warning("Could not read %s to resume a digest (%s); a message may repeat",
                        place.channel, exc.response.get("error"))
            return found


def _part_of(message: dict[str, Any], date: dt.date) -> str | None:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != PART_EVENT or payload.get("date") != date.isoformat():
        return None
    return str(payload.get("part") or "") or None
