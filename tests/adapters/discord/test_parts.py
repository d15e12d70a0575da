"""The Discord adapter's pieces on their own: settings, markup, reply rendering, the editor and the poster."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import discord
import pytest
from discord import app_commands

from adapters.discord.app import (
    INPUT_LIMIT,
    ArxivCommands,
    CriteriaEditor,
    admin_rule,
    editor_boxes,
    reply_messages,
    submitted_boxes,
)
from adapters.discord.config import DiscordSettings
from adapters.discord.embeds import DESCRIPTION_LIMIT
from adapters.discord.markup import SUBCOMMANDS, DiscordMarkup, slash_command
from adapters.discord.poster import DiscordPoster
from bot.digest.text import join_pieces
from bot.domain.errors import PostError
from bot.domain.platform import Place
from tests.support.discord_api import CHANNEL_ID, GUILD_ID, DiscordStandIn, form_errors, logged_in
from tests.support.http import Status

MARKUP = DiscordMarkup()


# --- settings -----------------------------------------------------------------------------------------------


def test_settings_come_from_the_environment_and_the_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "MTk4.secret.token")
    monkeypatch.setenv("DISCORD_GUILD_ID", str(GUILD_ID))
    monkeypatch.setenv("DIGEST_ADMIN_ROLE", "@Digest admins ")
    monkeypatch.setenv("DISCORD_API_URL", "http://127.0.0.1:9/api/v10/")
    monkeypatch.setenv("DISCORD_POST_INTERVAL", "0.5")
    settings = DiscordSettings(_env_file=None)
    assert (settings.enabled, settings.guild_id, settings.admin_role) == (True, GUILD_ID, "Digest admins")
    assert (settings.api_url, settings.post_interval, settings.problems()) == ("http://127.0.0.1:9/api/v10", 0.5, [])
    assert "secret" not in repr(settings) and "secret" not in str(settings.model_dump())


def test_discord_is_off_without_a_token_and_a_prefixed_token_is_a_problem() -> None:
    off = DiscordSettings(_env_file=None)
    assert (off.enabled, off.problems(), off.api_url, off.post_interval) == (False, [], None, 1.0)
    assert "without the 'Bot ' prefix" in DiscordSettings(_env_file=None, token="Bot abc").problems()[0]


# --- markup and replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("core", "discord_"),
    [
        ("criteria edit", "/arxiv criteria edit"),
        ("threshold 8 6", "/arxiv threshold relevance:8 novelty:6"),
        ("schedule 09:00 Europe/Berlin", "/arxiv schedule time:09:00 timezone:Europe/Berlin"),
        ("categories cs.LG cs.CL …", "/arxiv categories categories:cs.LG cs.CL …"),
        ("abstract <arXiv ID | rank>", "/arxiv abstract id_or_rank:<arXiv ID | rank>"),
        ("language de", "/arxiv language code:de"),
        ("help", "/arxiv help"),
    ],
)
def test_commands_the_core_mentions_are_spelled_the_way_discord_takes_them(core: str, discord_: str) -> None:
    assert MARKUP.command(core) == f"`{discord_}`"


def test_code_is_never_rewritten_as_a_command() -> None:
    assert MARKUP.code("threshold 8 6") == "`threshold 8 6`" and slash_command("dance") == "/arxiv dance"
    assert MARKUP.code("a`b") == "`aˋb`"


def test_markup_escapes_untrusted_text_and_links_stay_whole() -> None:
    assert MARKUP.bold("x") == "**x**" and MARKUP.mention("42") == "<@42>"
    assert MARKUP.escape("*not* [bold](x)") == r"\*not\* \[bold\](x)"
    assert MARKUP.link("https://arxiv.org/abs/1(2)", "a ] b") == r"[a \] b](https://arxiv.org/abs/1(2%29)"
    assert MARKUP.block("x\n```\ny") == "```\nx\nˋˋˋ\ny\n```"


def subcommands(command: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A command's subcommands as Discord lists them, a group's by their two words ("criteria edit")."""
    found = []
    for option in command.get("options", []):
        if option["type"] == 2:  # SUB_COMMAND_GROUP
            found += [(f"{option['name']} {sub['name']}", sub) for sub in option["options"]]
        elif option["type"] == 1:  # SUB_COMMAND
            found.append((option["name"], option))
    return found


def test_the_tree_uses_the_names_the_markup_spells() -> None:
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    group = ArxivCommands(None)  # type: ignore[arg-type]  # describing the commands needs no bot
    options = {name: [p["name"] for p in o.get("options", [])] for name, o in subcommands(group.to_dict(tree))}
    for name, option_names in SUBCOMMANDS.values():
        assert options[name] == list(option_names)
    assert len(group.to_dict(tree)["options"]) <= 25  # Discord's limit of subcommands in a group


def test_a_long_code_block_is_closed_and_reopened_where_a_reply_is_split() -> None:
    criteria = "\n".join(f"topic {i}: " + "word " * 30 for i in range(60))  # ~10,000 characters
    messages = reply_messages(f"**Criteria v1**:\n{MARKUP.block(criteria)}\nDone.")
    embeds = [e for message in messages for e in message]
    assert len(embeds) >= 3
    for embed in embeds:
        assert len(embed.description or "") <= DESCRIPTION_LIMIT and embed.description.count("```") % 2 == 0
    assert all(not form_errors({"embeds": [e.to_dict() for e in message]}) for message in messages)
    shown = "\n".join(e.description or "" for e in embeds).replace("```", "")
    assert all(f"topic {i}:" in shown for i in range(60))


def test_admin_rule_names_the_role_when_there_is_one() -> None:
    assert admin_rule(None) == "members with the Manage Server permission"
    assert admin_rule("Mods") == "members with the Manage Server permission, members with the “Mods” role"


# --- the editor ---------------------------------------------------------------------------------------------


def test_the_editor_splits_criteria_over_boxes_that_join_back_exactly() -> None:
    criteria = "\n\n".join(f"Paragraph {i}. " + "sparse attention " * 40 for i in range(20))  # ~14,000
    editor = CriteriaEditor(editor_boxes(criteria, 20_000) or [], max_chars=20_000, unique=1)
    boxes = editor.to_dict()["components"]
    assert len(boxes) == 5 and all(len(b["components"][0].get("value", "")) <= INPUT_LIMIT for b in boxes)
    submitted = {"components": [{"type": 1, "components": [{"type": 4, "custom_id": b["components"][0]["custom_id"],
                                                            "value": b["components"][0].get("value", "")}]}
                                for b in reversed(boxes)]}  # order comes from the custom_ids
    assert join_pieces(submitted_boxes(submitted)) == criteria


def test_label_shaped_submissions_are_read_too() -> None:
    data = {"components": [{"type": 18, "component": {"type": 4, "custom_id": f"criteria:{i}", "value": v}}
                           for i, v in enumerate(["first", "second"])]}
    assert submitted_boxes(data) == ["first", "second"]
    assert join_pieces(submitted_boxes(data)) == "first\nsecond"  # a trimmed cut gets a newline, words never fuse


def test_criteria_longer_than_five_boxes_do_not_open_an_editor() -> None:
    assert editor_boxes("x" * (5 * INPUT_LIMIT + 1), 30_000) is None
    assert editor_boxes("short", 8000) == ["short", ""]


# --- the poster -----------------------------------------------------------------------------------------------


def run_poster(api: DiscordStandIn, body: Callable[[DiscordPoster], Any], interval: float = 0.0) -> None:
    async def main() -> None:
        client = discord.Client(intents=discord.Intents.none())
        async with logged_in(client):
            await body(DiscordPoster(client, lambda _: discord.ui.View(), interval=interval))

    asyncio.run(main())


def test_posts_to_one_channel_are_paced(discord_api: DiscordStandIn) -> None:
    async def body(poster: DiscordPoster) -> None:
        for i in range(4):
            await poster.post_text(Place(str(GUILD_ID), str(CHANNEL_ID)), f"line {i}")

    run_poster(discord_api, body, interval=0.15)
    times = [r.time for r in discord_api.requests_to(f"/channels/{CHANNEL_ID}/messages")]
    assert len(times) == 4 and all(b - a >= 0.14 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (403, None, "give the bot View Channel, Send Messages and Embed Links"),
        (404, '{"message": "Unknown Channel", "code": 10003}', "the channel was deleted"),
        (400, '{"message": "Invalid Form Body", "code": 50035}', "try again later"),
    ],
)
def test_refusals_become_post_errors_that_say_what_to_do(
    discord_api: DiscordStandIn, status: int, body: str | None, says: str
) -> None:
    async def body_(poster: DiscordPoster) -> None:
        discord_api.add_fault(Status(status, body=body))
        with pytest.raises(PostError, match=says) as raised:
            await poster.post_text(Place(str(GUILD_ID), str(CHANNEL_ID)), "hello")
        assert str(CHANNEL_ID) in str(raised.value)

    run_poster(discord_api, body_)


def test_the_weekly_roundup_is_one_embed_with_discord_links(discord_api: DiscordStandIn) -> None:
    import datetime as dt

    from bot.domain.weekly import WeekFigures, WeekPaper, assemble

    fri = dt.date(2025, 3, 7)
    papers = [WeekPaper("2503.00001", "Experts *and* [routers]", fri, 9, 7, positive=1, negative=1, reactions=2),
              WeekPaper("2503.00002", "Quiet one", fri, 8, 6)]
    roundup = assemble(fri - dt.timedelta(days=6), fri, papers,
                       WeekFigures(read=500, scored=200, posted=2, reactions=2, cost_usd=None))
    ids: list[str] = []

    async def body(poster: DiscordPoster) -> None:
        ids.append(await poster.post_weekly(Place(str(GUILD_ID), str(CHANNEL_ID)), roundup))

    run_poster(discord_api, body)
    [message] = discord_api.messages(CHANNEL_ID)
    [embed] = message["embeds"]
    text = embed["description"]
    assert text.startswith("**Weekly roundup · Sat 2025-03-01 – Fri 2025-03-07**")
    assert r"1. [Experts \*and\* \[routers\]](https://arxiv.org/abs/2503.00001) — 👍 1 👎 1 · R9 N7 · Fri" in text
    assert text.endswith("2 reactions, LLM cost unknown.") and ids == [str(message["id"])]
    assert message["nonce"]  # a repeat after a crash is the same message
