"""Posting a digest to Discord: the summary, then one message per paper with its buttons, paced per channel.

Discord has no need for threads here: every paper is its own message in the channel, so ``parent`` is
ignored. discord.py already waits out 429s (it sleeps ``retry_after`` and sends the same request again);
the pacer (adapters.pacing) keeps a long digest from running into them in the first place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import aiohttp
import discord

from adapters.discord.embeds import pack_embeds, paper_embed, summary_messages, text_embeds
from adapters.discord.markup import DiscordMarkup
from adapters.pacing import ChannelPacer
from bot.digest.service import summary_part
from bot.digest.weekly_text import roundup_text
from bot.domain.errors import PostError
from bot.domain.models import Digest, RankedPaper
from bot.domain.platform import Place
from bot.domain.weekly import Roundup

PERMISSIONS_FIX = (
    "give the bot View Channel, Send Messages and Embed Links in this channel (channel settings → Permissions), "
    "then /arxiv run"
)
# What to do about the JSON error codes Discord gives for a channel we cannot post to.
_FIXES = {
    50001: PERMISSIONS_FIX,  # Missing Access: the bot cannot see the channel
    50013: PERMISSIONS_FIX,  # Missing Permissions
    10003: "the channel was deleted, or the bot cannot see it: give the bot View Channel there",
    50083: "the channel is an archived thread: unarchive it or /arxiv unsubscribe",
}

NONCE_LENGTH = 25  # Discord's limit for a string nonce


def part_nonce(place: Place, date: dt.date, part: str) -> str:
    """The same nonce for the same digest part in the same channel, every attempt."""
    return hashlib.sha256(f"{place.channel}:{date.isoformat()}:{part}".encode()).hexdigest()[:NONCE_LENGTH]


ViewFor = Callable[[str], discord.ui.View]  # arXiv ID → the paper message's buttons


class DiscordPoster:
    platform = "discord"

    def __init__(self, client: discord.Client, view_for: ViewFor, *, interval: float = 1.0) -> None:
        self._client = client
        self._view_for = view_for
        self._pacer = ChannelPacer(interval, failures_count=True)

    async def _send(
        self, place: Place, embeds: list[discord.Embed], view: discord.ui.View | None = None, *,
        nonce: str | None = None,
    ) -> str:
        channel = self._client.get_partial_messageable(int(place.channel))  # no cache or gateway needed
        async with self._pacer.turn(place.channel):
            try:
                # With a nonce discord.py sets enforce_nonce: Discord answers a repeat within a few minutes
                # with the message it already created, so a run resumed after a crash does not post twice.
                options: dict[str, Any] = {"view": view} if view is not None else {}
                if nonce is not None:
                    options["nonce"] = nonce
                message = await channel.send(embeds=embeds, allowed_mentions=discord.AllowedMentions.none(), **options)
            except discord.HTTPException as exc:
                fix = _FIXES.get(exc.code, "try again later; the messages posted so far are kept")
                raise PostError(
                    f"Discord refused to post in channel {place.channel} ({exc.status} {exc.text or 'error'}): {fix}"
                ) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise PostError(
                    f"Could not reach Discord to post in channel {place.channel} ({exc}): try again later; "
                    "the messages posted so far are kept"
                ) from exc
        return str(message.id)

    def summary_parts(self, digest: Digest) -> int:
        return len(summary_messages(digest))

    async def post_summary_part(self, place: Place, digest: Digest, number: int, parent: str | None) -> str:
        embeds = summary_messages(digest)[number - 1]
        return await self._send(place, embeds, nonce=part_nonce(place, digest.date, summary_part(number)))

    async def post_summary(self, place: Place, digest: Digest) -> list[str]:
        """The whole summary at once (benchmarks); the service posts and records it part by part."""
        return [await self.post_summary_part(place, digest, n, None) for n in range(1, self.summary_parts(digest) + 1)]

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        return await self._send(place, [paper_embed(digest, item)], self._view_for(item.paper.arxiv_id),
                                nonce=part_nonce(place, digest.date, item.paper.arxiv_id))

    async def post_text(self, place: Place, text: str) -> str:
        ids = [await self._send(place, embeds) for embeds in pack_embeds(text_embeds(text))]
        return ids[0]

    async def post_weekly(self, place: Place, roundup: Roundup) -> str:
        # The nonce makes a repeat after a crash between Discord's answer and our record the same message.
        text = roundup_text(roundup, DiscordMarkup())
        ids = [await self._send(place, embeds, nonce=part_nonce(place, roundup.week, f"weekly.{n}"))
               for n, embeds in enumerate(pack_embeds(text_embeds(text)))]
        return ids[0]
