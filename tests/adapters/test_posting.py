"""adapters/posting.py: a worker's platforms post through the web APIs alone (checked against the stand-ins), a
refused token stops the start in one line, and a worker with no platform to post to says what to set."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.discord.config import DiscordSettings
from adapters.discord.runner import TokenRefused as DiscordTokenRefused
from adapters.posting import NO_POSTER, DiscordPosting, SlackPosting, posting_platforms
from adapters.slack.config import SlackSettings
from adapters.slack.tokens import TokenRefused as SlackTokenRefused
from bot.chat.commands import CommandCore
from bot.domain.errors import DigestError
from bot.domain.platform import Place
from tests.support.discord_api import DiscordStandIn
from tests.support.slack_api import SlackStandIn

CHANNEL = "1350000000000000001"



def slack_settings(slack: SlackStandIn, token: str = "xoxb-test") -> SlackSettings:
    return SlackSettings(_env_file=None, bot_token=SecretStr(token), api_url=slack.base_url, post_interval=0)


def test_slack_posting_checks_the_token_and_posts_through_the_web_api(core: CommandCore, slack: SlackStandIn) -> None:
    async def main() -> str:
        platform = SlackPosting(core, slack_settings(slack))
        await platform.start()
        try:
            return await core.service.posters["slack"].post_text(Place(slack.team_id, "C1"), "Hello from a worker")
        finally:
            await platform.stop()

    ts = asyncio.run(main())
    assert slack.messages[("C1", ts)]["text"] == "Hello from a worker"
    assert [call.method for call in slack.calls] == ["auth.test", "chat.postMessage"]


def test_slack_posting_stops_on_a_refused_token(core: CommandCore, slack: SlackStandIn) -> None:
    with pytest.raises(SlackTokenRefused, match=r"^SLACK_BOT_TOKEN was refused by Slack"):
        asyncio.run(SlackPosting(core, slack_settings(slack, "xoxb-revoked")).start())
    assert "slack" not in core.service.posters


def discord_settings(discord_api: DiscordStandIn) -> DiscordSettings:
    return DiscordSettings(_env_file=None, token=SecretStr("test-token"), api_url=discord_api.api_base,
                           post_interval=0)


def test_discord_posting_logs_in_without_syncing_commands_and_posts_over_rest(
    core: CommandCore, discord_api: DiscordStandIn
) -> None:
    async def main() -> None:
        platform = DiscordPosting(core, discord_settings(discord_api))
        await platform.start()
        try:
            await core.service.posters["discord"].post_text(Place("0", CHANNEL), "Hello from a worker")
        finally:
            await platform.stop()

    asyncio.run(main())
    [message] = discord_api.messages(CHANNEL)
    assert "Hello from a worker" in str(message)
    assert discord_api.commands() == []  # the bot process registers /arxiv; workers leave it alone


def test_discord_posting_stops_on_a_refused_token(core: CommandCore, discord_api: DiscordStandIn) -> None:
    discord_api.token = "the-real-token"
    with pytest.raises(DiscordTokenRefused, match=r"^DISCORD_TOKEN was refused by Discord \(401\)"):
        asyncio.run(DiscordPosting(core, discord_settings(discord_api)).start())
    assert "discord" not in core.service.posters


def test_a_worker_without_a_platform_token_is_told_what_to_set(
    core: CommandCore, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID",
                 "SLACK_CLIENT_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DigestError) as raised:
        posting_platforms(core)
    assert str(raised.value) == NO_POSTER
