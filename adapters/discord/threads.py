"""A paper's thread on Discord: the thread started from the paper's message, which has that message's ID.

Answers about a paper go there. The first answer starts it (Start Thread from Message, named after the paper);
later ones find it by ID. Discord allows one thread per message and answers a second start with code 160004,
which here only means "post in the one that exists" (two answers at once, or a thread a member started).
"""

from __future__ import annotations

import logging
from typing import Final, Literal

import discord

from bot.digest.text import truncate

log = logging.getLogger(__name__)
THREAD_NAME_LIMIT = 100  # Discord: "1-100 character channel name"
# Minutes without messages before the thread is hidden from the channel list: a day (60, 1440, 4320 or 10080).
ARCHIVE_AFTER: Final[Literal[1440]] = 1440
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
MISSING_PERMISSIONS = 50013
MISSING_ACCESS = 50001
NO_THREADS = ("I need the Create Public Threads permission in this channel to open the paper's thread, so the "
              "answer is here instead. A server admin can grant it in the channel's settings → Permissions.")
NO_THREAD_MESSAGES = ("I may not post in the paper's thread, so the answer is here instead. I need the Send "
                      "Messages in Threads permission in this channel (a server admin can grant it in the channel's "
                      "settings → Permissions), and the thread must not be locked.")


class ThreadRefused(Exception):
    """Discord refused the thread or a message in it; ``note`` says which permission is missing, in words."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def thread_name(title: str | None, arxiv_id: str | None) -> str:
    """The thread's name: the paper's title on one line, within Discord's 100 characters."""
    name = " ".join((title or "").split())
    if not name:
        name = f"arXiv:{arxiv_id}" if arxiv_id else "Questions about this paper"
    return truncate(name, THREAD_NAME_LIMIT)


def _refused(exc: discord.HTTPException) -> bool:
    return exc.status == 403 or exc.code in (MISSING_PERMISSIONS, MISSING_ACCESS)


async def post_in_thread(
    client: discord.Client, guild: int | None, channel: int, message: int, name: str,
    messages: list[list[discord.Embed]],
) -> int:
    """``messages`` in the thread of ``message`` (in ``channel``), started now if there is none; the thread's ID.

    Raises ThreadRefused when a permission is missing; other HTTP errors propagate."""
    if not isinstance(client.get_channel(message), discord.Thread):
        try:
            await client.http.start_thread_with_message(
                channel, message, name=name, auto_archive_duration=ARCHIVE_AFTER, rate_limit_per_user=None)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                log.info("Discord: message %s already has a thread; answering there", message)
            elif _refused(exc):
                log.warning("Discord: may not start a thread in channel %s (%s %s): Create Public Threads missing",
                            channel, exc.status, exc.code)
                raise ThreadRefused(NO_THREADS) from None
            else:
                raise
    thread = client.get_partial_messageable(message, guild_id=guild, type=discord.ChannelType.public_thread)
    try:
        for embeds in messages:
            await thread.send(embeds=embeds, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as exc:
        if not _refused(exc):
            raise
        log.warning("Discord: may not post in thread %s of channel %s (%s %s): Send Messages in Threads missing",
                    message, channel, exc.status, exc.code)
        raise ThreadRefused(NO_THREAD_MESSAGES) from None
    return message
