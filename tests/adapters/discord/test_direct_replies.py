"""Replies meant for one person (``Reply.direct``) go to their DM with the bot, through the real discord.py client.

A core that answers ``stats`` (fast) and ``run`` (slow: deferred first) by DM
stands in; the interactions, discord.py's DM handling and every REST call are real (the stand-in answers them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.bootstrap import build_service
from bot.chat.commands import DIRECT_SENT
from storage.store import Store
from tests.adapters.discord.harness import ADMIN, MEMBER, DiscordHarness, drive, text_of
from tests.support.chat import DirectCore
from tests.support.discord_api import CHANNEL_ID, DiscordStandIn

Scenario = Callable[[Callable[[DiscordHarness], Awaitable[None]]], None]


@pytest.fixture
def scenario(make_settings: Callable[..., Any], discord_api: DiscordStandIn,
             discord_settings: Callable[..., Any]) -> Iterator[Scenario]:
    """Run ``test(harness)`` against a logged-in bot with a DirectCore."""
    settings = make_settings()
    store = Store.open(settings.database_url)

    def run(test: Callable[[DiscordHarness], Awaitable[None]]) -> None:
        asyncio.run(drive(discord_api, lambda: DirectCore(build_service(settings, store)), discord_settings(), test))
        assert not discord_api.errors, discord_api.errors

    yield run
    store.close()


def dm_text(api: DiscordStandIn, user: int) -> str:
    return "\n".join(text_of(m) for m in api.direct_messages(user))


# --- delivered -----------------------------------------------------------------------------------------


def test_a_direct_reply_arrives_in_the_callers_dm_and_the_command_is_confirmed_privately(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        answer = await h.command("stats", user=MEMBER)
        assert answer.ephemeral and answer.text == DIRECT_SENT
        [dm] = h.api.direct_messages(MEMBER)
        assert dm["embeds"][0]["description"] == f"**Your reading list**\n{DirectCore.text}"
        channel = h.api.dm_channel(MEMBER)
        assert channel is not None and channel["type"] == 1 and dm["channel_id"] == channel["id"]
        assert [u["id"] for u in channel["recipients"]] == [str(MEMBER)]
        # Nothing in the channel: no message there, and the interaction's answers are all private.
        assert h.posted() == [] and len(answer.messages) == 1
        again = await h.command("stats", user=MEMBER)
        assert again.text == DIRECT_SENT and len(h.api.direct_messages(MEMBER)) == 2
        assert len(h.api.requests_to("/users/@me/channels")) == 1  # discord.py keeps the DM channel it opened
        assert h.api.direct_messages(ADMIN) == [] and h.api.messages(CHANNEL_ID) == []

    scenario(test)


def test_a_slow_command_is_deferred_first_then_its_direct_reply_is_sent(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        answer = await h.command("run", user=MEMBER)
        assert answer.kind == 5 and answer.ephemeral and answer.text == DIRECT_SENT
        assert "three papers you starred" in dm_text(h.api, MEMBER) and h.posted() == []

    scenario(test)


def test_a_long_direct_reply_is_split_over_embeds_and_messages_like_every_other_reply(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        lines = [f"{i}. A paper title that is long enough to fill a line of the list ({i})" for i in range(150)]
        assert isinstance(h.core, DirectCore)
        h.core.text = "\n".join(lines)  # about 10,600 characters: three embeds, too big for one message
        answer = await h.command("stats", user=MEMBER)
        assert answer.text == DIRECT_SENT
        sent = h.api.direct_messages(MEMBER)
        assert len(sent) == 3 and all(len(m["embeds"]) == 1 for m in sent)
        assert dm_text(h.api, MEMBER).count("A paper title") == 150  # cut at line breaks, nothing lost

    scenario(test)


# --- refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["stats", "run"])
def test_closed_dms_are_explained_and_the_reply_shown_privately_instead(scenario: Scenario, command: str) -> None:
    async def test(h: DiscordHarness) -> None:
        h.api.close_dms(MEMBER)
        answer = await h.command(command, user=MEMBER)
        assert answer.ephemeral
        assert answer.text.startswith(
            "I could not send you a direct message: allow direct messages from members of this server in Discord's "
            "privacy settings"
        )
        assert "**Your reading list**\nOnly for you: three papers" in answer.text
        dm_channel = h.api.dm_channel(MEMBER)
        assert dm_channel is not None  # opened, but nothing may be sent there
        assert [r.status for r in h.api.requests_to(f"/channels/{dm_channel['id']}/messages")] == [403]
        assert h.api.direct_messages(MEMBER) == [] and h.posted() == []

    scenario(test)


# --- the stand-in's DMs ----------------------------------------------------------------------------------


def test_the_standin_opens_one_dm_channel_per_user_and_refuses_closed_ones(discord_api: DiscordStandIn) -> None:
    with httpx.Client(base_url=discord_api.api_base, headers={"Authorization": "Bot t"}, timeout=5) as http:
        opened = http.post("/users/@me/channels", json={"recipient_id": str(MEMBER)}).json()
        assert opened["type"] == 1 and opened["recipients"][0]["id"] == str(MEMBER)
        assert http.post("/users/@me/channels", json={"recipient_id": MEMBER}).json()["id"] == opened["id"]
        assert http.get(f"/channels/{opened['id']}").json()["type"] == 1
        assert http.post(f"/channels/{opened['id']}/messages", json={"content": "hi"}).status_code == 200
        assert [m["content"] for m in discord_api.direct_messages(MEMBER)] == ["hi"]
        discord_api.close_dms(MEMBER)
        refused = http.post(f"/channels/{opened['id']}/messages", json={"content": "again"})
        assert refused.status_code == 403
        assert refused.json() == {"message": "Cannot send messages to this user", "code": 50007}
        invalid = http.post("/users/@me/channels", json={"recipient_id": "someone"})
        assert invalid.status_code == 400 and invalid.json()["code"] == 50035
        anonymous = http.post("/users/@me/channels", json={"recipient_id": "1"}, headers={"Authorization": ""})
        assert anonymous.status_code == 401
