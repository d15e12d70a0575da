"""The platform contract: what a chat platform implements to carry arxiv-digest.

To add a platform, implement these in a package of its own under adapters/ (the existing ones are worked
examples) and build its runner in adapters/platforms.py, which bot/bootstrap.py asks for the configured ones:

- :class:`Platform`: start and stop the connection; the bot process runs every configured one.
- :class:`ChannelPoster` (and :class:`RecoveringPoster` when the platform can find its own messages): put a
  digest in a channel, one message at a time, returning each message's ID. The platform registers it with
  the digest service (``core.service.register(poster)``) when it starts.
- :class:`Markup`: the platform's inline formatting, used by every reply the command core words.
- Translate the platform's commands, buttons, modals and reactions into :class:`Caller` plus the command
  core's calls (bot.chat.commands), and render each :class:`Reply` it returns (its :class:`Action` buttons too,
  whose presses go to ``core.press``).

Everything else (what is posted, in which order, who may change what, the wording) is decided in bot/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.domain.models import Digest, Paper, RankedPaper
from bot.domain.weekly import Roundup


class Platform(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...  # also after a start() that was cancelled or failed half-way


@dataclass(frozen=True)
class Place:
    """Where to post: a channel, and the workspace (team, server) it belongs to."""

    workspace: str
    channel: str


class ChannelPoster(Protocol):
    """One chat platform's way of putting a digest in a channel."""

    platform: str

    def summary_parts(self, digest: Digest) -> int:
        """How many messages the day's summary takes: the parent, then "Ranked list, continued" parts."""
        ...

    async def post_summary_part(self, place: Place, digest: Digest, number: int, parent: str | None) -> str:
        """Post summary message ``number`` (1 = the parent of the papers; ``parent`` is its ID for the
        later ones); returns the message ID. Each part is posted and recorded on its own, so a run cut
        off between two parts posts only the missing ones when it resumes."""
        ...

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str: ...

    async def post_text(self, place: Place, text: str) -> str: ...

    async def post_weekly(self, place: Place, roundup: Roundup) -> str:
        """The channel's weekly roundup as one message (bot.digest.weekly_text words it); its message ID."""
        ...


class RecoveringPoster(Protocol):
    """A platform that can find the digest parts it posted, e.g. from metadata on its messages."""

    async def recover(self, place: Place, date: dt.date) -> dict[str, str]:
        """Part name → message ID of the day's digest messages present in the channel."""
        ...


@dataclass(frozen=True)
class Caller:
    """Who invoked a command where; ``is_admin`` asks the platform lazily (it may cost an API call)."""

    platform: str
    workspace: str
    channel: str
    user: str
    is_admin: Callable[[], Awaitable[bool]]
    admin_rule: str  # the platform's rule in words, for refusals: "workspace admins and the channel's creator"


@dataclass(frozen=True)
class Action:
    """A button under a reply; pressing it comes back as ``CommandCore.press(caller, id)``."""

    id: str  # what the press names, e.g. "criteria apply"
    label: str


@dataclass(frozen=True)
class Reply:
    text: str = ""
    public: bool = False  # shown to the channel; otherwise only to the caller
    paper: Paper | None = None  # show this paper's full abstract
    editor: str | None = None  # open the criteria editor prefilled with this text
    direct: bool = False  # send ``text`` to the caller as a direct message (too personal for the channel)
    file: tuple[str, bytes] | None = None  # attach this file (name, content) to ``text``, e.g. a .bib export
    actions: tuple[Action, ...] = ()  # buttons under ``text``
    # Post ``text`` publicly in this message's thread (or as a reply to it, where the platform has no threads),
    # e.g. an answer about a paper under the paper's message; None: where the command was given.
    thread: str | None = None


class Markup(Protocol):
    """A platform's inline formatting (its flavour of markdown)."""

    def bold(self, text: str) -> str: ...
    def code(self, text: str) -> str: ...
    def command(self, text: str) -> str:
        """An ``/arxiv`` command as the platform spells it: ``command("threshold 8 6")``."""
        ...
    def block(self, text: str) -> str: ...
    def link(self, url: str, text: str) -> str:
        """``text`` as a link to ``url``; the text is escaped here, so callers pass it plain."""
        ...
    def mention(self, user: str) -> str: ...
    def escape(self, text: str) -> str: ...
