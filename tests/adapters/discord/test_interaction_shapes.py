"""Interactions in every shape Discord has documented or sent: with a partial ``channel`` object and ``channel_id``
(today's), with ``channel_id`` only (the documented examples), and with the ``channel`` object only (both fields
are optional). Whichever arrives, the command, the digest and the buttons act in that channel.

The payloads are the documented/recorded ones in tests/fixtures/discord/ (see SOURCES.md), with the stand-in's
IDs and the bot's own command data put in; which fields are present is kept as it was.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import ADMIN, MANAGE_GUILD, MEMBER, Answer, DiscordHarness
from tests.support.discord_api import (
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    command_interaction,
    gateway_dispatch,
    settle,
    snowflake,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "discord"
COMMAND_SHAPES = {
    "channel and channel_id": ("slash_command_channel_and_channel_id.json", ()),
    "channel object only": ("slash_command_channel_and_channel_id.json", ("channel_id",)),
    "channel_id only (Discord's example)": ("slash_command_channel_id_only.json", ()),
}


def shaped(fixture: str, *, drop: tuple[str, ...] = (), user: int, data: dict[str, Any],
           message: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fixture's payload aimed at the stand-in's guild and channel, as ``user``, carrying ``data``."""
    payload = json.loads((FIXTURES / fixture).read_text())
    for key in drop:
        del payload[key]
    fresh = snowflake()
    payload.update(id=str(fresh), token=f"itoken-{fresh}", application_id=str(APP_ID), guild_id=str(GUILD_ID),
                   data=data)
    # discord.py reads these; Discord's 2020 examples predate them.
    payload.setdefault("version", 1)
    payload.setdefault("attachment_size_limit", 10 * 1024 * 1024)
    if "channel_id" in payload:
        payload["channel_id"] = str(CHANNEL_ID)
    if "channel" in payload:
        payload["channel"].update(id=str(CHANNEL_ID), guild_id=str(GUILD_ID), parent_id=None)
    if "guild" in payload:
        payload["guild"]["id"] = str(GUILD_ID)
    member = payload["member"]
    member["user"]["id"] = str(user)
    member["permissions"] = str(MANAGE_GUILD if user == ADMIN else 0)
    member["roles"] = []
    member.setdefault("flags", 0)  # discord.py requires it; Discord's 2020 examples predate it
    if "message" in payload:
        assert message is not None
        payload["message"] = message
    return payload


async def command(h: DiscordHarness, fixture: str, drop: tuple[str, ...], name: str, *, user: int = ADMIN,
                  **options: str | int) -> Answer:
    data = command_interaction("arxiv", name, options=options or None,
                               command_guild_id=h.bot.command_guild.id if h.bot.command_guild else None)["data"]
    return await dispatch(h, shaped(fixture, drop=drop, user=user, data=data))


async def dispatch(h: DiscordHarness, payload: dict[str, Any]) -> Answer:
    """Like DiscordHarness.dispatch, waiting longer: a digest on a busy test machine can take more than 5 s."""
    gateway_dispatch(h.bot, "INTERACTION_CREATE", payload)
    await settle(timeout=60)
    return h.answer(payload["token"])


@pytest.mark.parametrize("shape", COMMAND_SHAPES)
def test_commands_act_in_the_channel_whichever_field_names_it(scenario: Scenario, shape: str) -> None:
    fixture, drop = COMMAND_SHAPES[shape]

    async def test(h: DiscordHarness) -> None:
        subscribed = await command(h, fixture, drop, "subscribe")
        assert "subscribed this channel" in subscribed.text, subscribed.text
        assert h.core.store.get_subscription("discord", str(CHANNEL_ID)) is not None
        assert h.core.store.get_subscription("discord", "") is None
        run = await command(h, fixture, drop, "run", user=MEMBER)  # deferred, then the original is edited
        assert "Posted the digest" in run.text, run.text
        assert len(h.papers()) >= 1
        abstract = await command(h, fixture, drop, "abstract", user=MEMBER, id_or_rank="1")
        assert abstract.ephemeral and "arXiv:2503.1" in abstract.text, abstract.text

    scenario(test)


def test_a_button_press_with_only_channel_id_counts_in_that_channel(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        run = command_interaction("arxiv", "run", command_guild_id=h.bot.command_guild.id if h.bot.command_guild
                                  else None)
        assert "Posted the digest" in (await dispatch(h, run)).text
        paper = h.papers()[0]
        arxiv_id = paper["components"][0]["components"][0]["custom_id"].rsplit(":", 1)[1]
        press = {"custom_id": f"arxiv:up:{arxiv_id}", "component_type": 2}
        answer = await dispatch(h, shaped("button_press_channel_id_only.json", user=MEMBER, data=press,
                                          message=paper))
        assert "Noted: 👍" in answer.text, answer.text
        [vote] = h.core.store.feedback_for("discord", str(CHANNEL_ID))
        assert (vote.kind, vote.arxiv_id, vote.user) == ("positive", arxiv_id, str(MEMBER))
        assert h.core.store.feedback_for("discord", "") == []

    scenario(test)


def test_an_interaction_naming_no_channel_is_answered_and_changes_nothing(
    scenario: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    async def test(h: DiscordHarness) -> None:
        fixture, _ = COMMAND_SHAPES["channel and channel_id"]
        answer = await command(h, fixture, ("channel", "channel_id"), "subscribe")
        assert answer.ephemeral and "Discord did not say which channel" in answer.text, answer.text
        assert h.core.store.get_subscription("discord", "") is None

    with caplog.at_level(logging.WARNING):
        scenario(test)
    assert any("no channel" in r.getMessage() for r in caplog.records)
