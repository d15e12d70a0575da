"""Driving the Discord bot the way the gateway does: INTERACTION_CREATE and reaction dispatches into a
logged-in DiscordBot, with every REST call it makes answered (and recorded) by the Discord stand-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters.discord.app import DiscordBot, reply_messages
from adapters.discord.config import DiscordSettings
from adapters.discord.runner import DiscordRunner
from bot.chat.commands import CommandCore
from bot.domain.models import Subscription
from tests.support.chat import Answered, RecordingCore
from tests.support.discord_api import (
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    USER_ID,
    DiscordStandIn,
    command_interaction,
    component_interaction,
    gateway_dispatch,
    message_create,
    modal_submit_interaction,
    reaction_event,
    settle,
)

EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
ADMIN = USER_ID + 1  # has Manage Server in the tests that act as them
MEMBER = USER_ID  # has no permission at all
ROLE_ID = GUILD_ID + 7


@dataclass
class Answer:
    """What the person who interacted saw: the callback, then the messages it led to."""

    token: str  # the interaction's; the stand-in keys the original response by it
    kind: int  # callback type: 4 message, 5 deferred ("thinking…"), 9 modal
    data: dict[str, Any]
    messages: list[dict[str, Any]]  # the answer message(s), original first; empty for a modal

    @property
    def text(self) -> str:
        return "\n".join(text_of(m) for m in self.messages)

    @property
    def ephemeral(self) -> bool:
        return bool(self.messages) and all(int(m.get("flags") or 0) & EPHEMERAL for m in self.messages)


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f["value"] for f in embed.get("fields") or []]
    return "\n".join(p for p in parts if p)


def guild_create(roles: dict[int, str]) -> dict[str, Any]:
    """The GUILD_CREATE the gateway sends on connect (with the ``guilds`` intent): here, only the roles matter."""
    everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": "0", "position": 0}
    return {
        "id": str(GUILD_ID), "name": "Lab", "owner_id": str(BOT_USER_ID - 1), "unavailable": False,
        "roles": [everyone] + [
            {"id": str(rid), "name": name, "permissions": "0", "position": 1, "color": 0, "hoist": False,
             "managed": False, "mentionable": False, "flags": 0}
            for rid, name in roles.items()
        ],
        "channels": [], "members": [], "threads": [], "emojis": [], "stickers": [], "features": [],
        "member_count": 3, "large": False,
    }


class DiscordHarness:
    def __init__(self, api: DiscordStandIn, bot: DiscordBot) -> None:
        self.api = api
        self.bot = bot

    @property
    def core(self) -> CommandCore:
        return self.bot.core

    def answer(self, token: str) -> Answer:
        [callback] = [r for r in self.api.interaction_responses if r["token"] == token]
        messages: list[dict[str, Any]] = []
        if callback["type"] == 4:
            messages.append(callback["data"])
        elif callback["type"] == 5 and (original := self.api.original(token)) is not None:
            messages.append(original)
        messages += [f["message"] for f in self.api.followups if f["token"] == token and f["kind"] == "create"]
        return Answer(token, callback["type"], callback["data"] or {}, messages)

    async def dispatch(self, payload: dict[str, Any]) -> Answer:
        gateway_dispatch(self.bot, "INTERACTION_CREATE", payload)
        await settle()
        return self.answer(payload["token"])

    async def command(
        self, name: str, *, user: int = ADMIN, permissions: int | None = None, roles: tuple[int, ...] = (),
        **options: str | int,
    ) -> Answer:
        """``/arxiv <name> option:value …`` (a name of two words: a group's subcommand, "criteria edit"); ADMIN has
        Manage Server unless ``permissions`` says otherwise."""
        if permissions is None:
            permissions = MANAGE_GUILD if user == ADMIN else 0
        payload = command_interaction(
            "arxiv", *name.split(), options=options or None, user_id=user, permissions=permissions,
            command_guild_id=self.bot.command_guild.id if self.bot.command_guild else None,
        )
        payload["member"]["roles"] = [str(r) for r in roles]
        return await self.dispatch(payload)

    async def submit(self, custom_id: str, values: dict[str, str], *, user: int = ADMIN) -> Answer:
        payload = modal_submit_interaction(
            custom_id, values, user_id=user, permissions=MANAGE_GUILD if user == ADMIN else 0
        )
        return await self.dispatch(payload)

    async def press(self, custom_id: str, message: dict[str, Any], *, user: int = MEMBER) -> Answer:
        """A button on ``message``; ADMIN has Manage Server, as for commands."""
        return await self.dispatch(component_interaction(
            custom_id, message, user_id=user, permissions=MANAGE_GUILD if user == ADMIN else 0))

    async def say(
        self, content: str, *, user: int = MEMBER, reply_to: dict[str, Any] | None = None, thread: str | None = None,
        mentions: tuple[int, ...] = (BOT_USER_ID,),
    ) -> dict[str, Any]:
        """A member's message (by default naming the bot), in the channel or inside ``thread``, perhaps replying to
        ``reply_to``: kept by the stand-in and pushed to the bot as MESSAGE_CREATE; the message."""
        where = {"channel_id": int(thread), "channel_type": 11} if thread else {}
        message = message_create(content, user_id=user, mentions=mentions, reply_to=reply_to, **where)
        self.api.receive(message)
        gateway_dispatch(self.bot, "MESSAGE_CREATE", message)
        await settle()
        return message

    async def react(self, message_id: str, emoji: str, *, user: int = MEMBER, add: bool = True) -> None:
        event = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        gateway_dispatch(self.bot, event, reaction_event(message_id, emoji, user_id=user, add=add))
        await settle()

    @property
    def last(self) -> Answered:
        """The core's latest answer, as the bot asked for it."""
        assert isinstance(self.core, RecordingCore)
        return self.core.last

    def shows(self, answer: Answer) -> bool:
        """Whether ``answer`` is the core's latest reply as Discord shows it: its text in embeds, to the channel
        when it is public and to the caller alone otherwise."""
        reply = self.last.reply
        expected = [[embed.description for embed in message] for message in reply_messages(reply.text)]
        shown = [[embed.get("description") for embed in message.get("embeds") or []] for message in answer.messages]
        return answer.ephemeral != reply.public and shown == expected

    def subscription(self) -> Subscription | None:
        return self.core.store.get_subscription("discord", str(CHANNEL_ID))

    async def subscribe(self) -> Subscription:
        """``/arxiv subscribe`` by ADMIN; the channel's subscription."""
        await self.command("subscribe")
        subscription = self.subscription()
        assert subscription is not None
        return subscription

    def posted(self) -> list[dict[str, Any]]:
        return self.api.messages(CHANNEL_ID)

    def papers(self) -> list[dict[str, Any]]:
        """The posted messages that carry a paper (they have buttons)."""
        return [m for m in self.posted() if m.get("components")]


async def drive(
    api: DiscordStandIn, core: Callable[[], CommandCore], settings: DiscordSettings,
    test: Callable[[DiscordHarness], Awaitable[None]],
) -> None:
    """Start a bot on ``core()`` (logged in over REST, no gateway), run ``test(harness)`` on it, then stop it."""
    runner = DiscordRunner(core(), settings, connect=False)
    await runner.start()
    try:
        assert runner.bot is not None
        await test(DiscordHarness(api, runner.bot))
    finally:
        await runner.stop()
