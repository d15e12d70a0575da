"""Starting and stopping the Discord platform in the bot process, against the REST stand-in (no gateway)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp.client_reqrep import ConnectionKey

from adapters.discord.app import DiscordBot
from adapters.discord.config import DiscordSettings
from adapters.discord.markup import SUBCOMMANDS
from adapters.discord.runner import DiscordRunner, TokenRefused
from adapters.reconnect import Backoff
from bot.chat.asking import MAX_QUESTION_CHARS
from bot.chat.commands import COMMANDS, CommandCore
from tests.adapters.discord.test_parts import subcommands
from tests.support.discord_api import GUILD_ID, DiscordStandIn
from tests.support.unreachable import closed_port, start_until_retried

FIXTURES = Path(__file__).parents[2] / "fixtures" / "process"



def test_start_logs_in_syncs_the_commands_globally_and_registers_the_poster(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings]
) -> None:
    async def main() -> DiscordBot:
        runner = DiscordRunner(core, discord_settings(), connect=False)
        await runner.start()
        bot = runner.bot
        assert bot is not None and bot.user is not None and bot.application_id == discord_api.application_id
        assert core.service.posters["discord"] is bot.poster
        await runner.stop()
        return bot

    bot = asyncio.run(main())
    assert bot.is_closed()
    [arxiv] = discord_api.commands()
    assert arxiv["name"] == "arxiv" and arxiv["contexts"] == [0] and not arxiv["dm_permission"]  # not DMs
    names = {name for name, _ in subcommands(arxiv)}
    assert names == {SUBCOMMANDS.get(name, (name,))[0] for name in COMMANDS}  # every core command, Discord-named
    threshold = next(o for o in arxiv["options"] if o["name"] == "threshold")
    assert [(o["name"], o["min_value"], o["max_value"], o["required"]) for o in threshold["options"]] == [
        ("relevance", 1, 10, False), ("novelty", 1, 10, False)
    ]
    empty_days = next(o for o in arxiv["options"] if o["name"] == "empty-days")
    assert [c["value"] for c in empty_days["options"][0]["choices"]] == ["on", "off"]
    weekly = next(o for o in arxiv["options"] if o["name"] == "weekly")
    assert [(o["name"], o["required"]) for o in weekly["options"]] == [("state", False), ("day", False),
                                                                        ("time", False)]
    assert [c["value"] for c in weekly["options"][1]["choices"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    ask = next(o for o in arxiv["options"] if o["name"] == "ask")
    assert [(o["name"], o["required"]) for o in ask["options"]] == [("id_or_rank", True), ("question", True)]
    assert ask["options"][1]["max_length"] == MAX_QUESTION_CHARS  # the core's limit, shown by Discord's box
    suggest = next(o for o in arxiv["options"] if o["name"] == "suggest")  # suggest apply N: suggest apply:N
    assert [(o["name"], o["required"], o["min_value"]) for o in suggest["options"]] == [("apply", False, 1)]
    assert len(arxiv["options"]) <= 25  # Discord's limit of subcommands in a group
    assert discord_api.commands(GUILD_ID) == []
    assert bot.intents == discord.Intents(guilds=True, guild_reactions=True, guild_messages=True)
    assert not (bot.intents.message_content or bot.intents.members or bot.intents.presences)  # nothing privileged


def test_with_a_guild_id_the_commands_are_synced_to_that_guild_and_answered_there(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings]
) -> None:
    from tests.adapters.discord.harness import DiscordHarness

    async def main() -> None:
        runner = DiscordRunner(core, discord_settings(guild_id=GUILD_ID), connect=False)
        await runner.start()
        try:
            assert runner.bot is not None
            answer = await DiscordHarness(discord_api, runner.bot).command("help")
            assert "arXiv digest commands" in answer.text
        finally:
            await runner.stop()

    asyncio.run(main())
    assert discord_api.commands() == []
    assert [c["name"] for c in discord_api.commands(GUILD_ID)] == ["arxiv"]


def test_a_refused_token_stops_the_start_with_what_to_do(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings]
) -> None:
    discord_api.token = "the-real-token"

    async def main() -> None:
        runner = DiscordRunner(core, discord_settings(token="an-old-token"), connect=False)
        with pytest.raises(TokenRefused) as refused:
            await runner.start()
        await runner.stop()
        assert str(refused.value).startswith("DISCORD_TOKEN was refused by Discord (401): copy the bot token again")
        assert "Reset Token" in str(refused.value) and "an-old-token" not in str(refused.value)

    asyncio.run(main())
    assert [r.path for r in discord_api.requests] == ["/api/v10/users/@me"]  # once: retrying cannot help


def test_the_stand_in_refuses_a_token_as_discord_does(discord_api: DiscordStandIn) -> None:
    import httpx

    discord_api.token = "the-real-token"
    answer = httpx.get(f"{discord_api.api_base}/users/@me", headers={"Authorization": "Bot an-old-token"})
    assert answer.status_code == 401
    assert answer.json() == json.loads((FIXTURES / "discord_unauthorized.json").read_text())


def test_an_unreachable_discord_is_retried_with_backoff_one_line_each_until_cancelled(
    core: CommandCore, discord_settings: Callable[..., DiscordSettings], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v10"
    runner = DiscordRunner(core, discord_settings(api_url=url), backoff=Backoff(first=0.01, cap=0.02))
    retries = start_until_retried(runner, caplog, 3)
    assert [r.getMessage() for r in retries[:3]] == [
        f"Discord: cannot reach Discord's API at {url} (connection refused); trying again in {delay} s"
        for delay in ("0.01", "0.02", "0.02")
    ]
    assert all(r.exc_info is None for r in retries)
    assert not any("Unclosed" in r.getMessage() for r in caplog.records)  # each failed client was closed


def test_the_gateway_runs_in_the_background_until_stop(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """start() returns once logged in, so the other platforms start too; stop() ends the connection task."""
    connected: list[bool] = []

    async def connect(self: DiscordBot, *, reconnect: bool = True) -> None:  # the gateway, as far as we can here
        connected.append(reconnect)
        while not self.is_closed():
            await asyncio.sleep(0.01)

    monkeypatch.setattr(DiscordBot, "connect", connect)

    async def main() -> None:
        runner = DiscordRunner(core, discord_settings())
        await runner.start()
        await asyncio.sleep(0.05)
        assert connected == [True] and runner._gateway is not None and not runner._gateway.done()
        gateway = runner._gateway
        await runner.stop()
        assert gateway.done() and not gateway.cancelled()

    asyncio.run(main())


def test_a_gateway_that_fails_is_logged_not_raised(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    async def connect(self: DiscordBot, *, reconnect: bool = True) -> None:
        raise discord.PrivilegedIntentsRequired(None)  # what discord.py raises for Discord's close code 4014

    monkeypatch.setattr(DiscordBot, "connect", connect)

    async def main() -> None:
        runner = DiscordRunner(core, discord_settings())
        await runner.start()
        await asyncio.sleep(0.05)
        await runner.stop()

    asyncio.run(main())
    [ended] = [r for r in caplog.records if "gateway connection ended" in r.getMessage()]
    assert "(PrivilegedIntentsRequired: Shard ID None is requesting privileged intents" in ended.getMessage()
    assert ended.exc_info is None  # one line, no traceback


def test_a_gateway_never_reached_is_tried_again_until_stop(
    core: CommandCore, discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """Before a first session exists, discord.py's own retry fails on it (an AttributeError); the runner
    connects again, with one line per attempt, instead of leaving Discord dead until a restart."""
    monkeypatch.setattr(discord.backoff.ExponentialBackoff, "delay", lambda self: 0.01)  # discord.py's own wait
    attempts = 0

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        writer.close()  # no websocket here: the gateway is down

    async def main() -> bool:
        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        runner = DiscordRunner(core, discord_settings(gateway_url=f"ws://127.0.0.1:{port}"),
                               backoff=Backoff(first=0.01, cap=0.05))
        await runner.start()
        for _ in range(500):
            if attempts >= 3:
                break
            await asyncio.sleep(0.01)
        running = runner._gateway is not None and not runner._gateway.done()
        await runner.stop()
        server.close()
        return running

    assert asyncio.run(main())
    assert attempts >= 3
    retries = [r for r in caplog.records if "cannot connect to the gateway" in r.getMessage()]
    assert retries and all(r.exc_info is None and "AttributeError" not in r.getMessage() for r in retries)
    assert not [r for r in caplog.records if "ended for good" in r.getMessage()]


def test_discord_py_reconnect_messages_lose_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """discord.py logs every gateway reconnect with log.exception; the operator gets one line each."""
    import adapters.discord.runner  # noqa: F401  (installs the filter)

    try:
        raise aiohttp.ClientConnectorError(
            ConnectionKey("gateway.discord.gg", 443, True, True, None, None, None), ConnectionRefusedError(111, "no")
        )
    except aiohttp.ClientError:
        logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 1.5)
    [record] = caplog.records
    assert record.exc_info is None and record.getMessage() == "Attempting a reconnect in 1.50s (connection refused)"


def test_the_bot_process_serves_discord_until_told_to_stop(
    make_settings: Callable[..., Any], discord_api: DiscordStandIn, discord_settings: Callable[..., DiscordSettings]
) -> None:
    from bot.entrypoints.runner import serve
    from tests.adapters.discord.harness import DiscordHarness

    runners: list[DiscordRunner] = []

    def platforms(core: CommandCore) -> list[DiscordRunner]:
        runners.append(DiscordRunner(core, discord_settings(), connect=False))
        return runners

    async def main() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(make_settings(), platforms, stop=stop))
        while not (runners and discord_api.commands()):  # logged in: setup_hook synced /arxiv
            await asyncio.sleep(0.01)
        bot = runners[0].bot
        assert bot is not None
        answer = await DiscordHarness(discord_api, bot).command("subscribe")
        assert "subscribed this channel" in answer.text
        stop.set()
        await asyncio.wait_for(serving, 5)
        assert bot.is_closed()

    asyncio.run(main())


def test_a_bug_in_a_handler_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """discord.py reports handler errors on the same logger; those are bugs to debug, not network weather."""
    import adapters.discord.runner  # noqa: F401  (installs the filter)

    try:
        raise KeyError("channel")
    except KeyError:
        logging.getLogger("discord.client").exception("Ignoring exception in %s", "on_interaction")
    [record] = caplog.records
    assert record.exc_info is not None and record.getMessage() == "Ignoring exception in on_interaction"
