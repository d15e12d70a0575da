"""The chat platforms as a worker needs them (DIGEST_RUNS=queue): posting only, over their web APIs.

A worker takes no commands, so it opens no Socket Mode connection, no HTTP listener and no Discord gateway:
Slack's poster needs a bot token (SLACK_BOT_TOKEN, or the installs SLACK_CLIENT_ID/SECRET stored), Discord's a
REST login with DISCORD_TOKEN. Tokens are checked at start, so a wrong one is one line, not a failed job later.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import discord
from slack_sdk.web.async_client import AsyncWebClient

from adapters.discord.app import paper_view
from adapters.discord.config import DiscordSettings
from adapters.discord.poster import DiscordPoster
from adapters.discord.runner import TOKEN_FIX, TokenRefused
from adapters.health import HealthServer
from adapters.reconnect import RECONNECT, Unavailable, retrying
from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.installs import oauth_settings
from adapters.slack.poster import SlackPoster
from adapters.slack.tokens import check_bot_token, checking_client
from bot.chat.commands import CommandCore
from bot.domain.errors import DigestError
from bot.domain.platform import Platform

log = logging.getLogger(__name__)

NO_POSTER = (
    "A worker posts digests, so it needs a chat platform's token: SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and "
    "SLACK_CLIENT_SECRET for workspace installs) and/or DISCORD_TOKEN, the same as the bot process."
)


@dataclass(eq=False, repr=False)  # its repr would print the settings
class SlackPosting:
    """Slack's poster on the Web API alone."""

    name = "Slack"

    core: CommandCore
    settings: SlackSettings
    _clients: dict[str, AsyncWebClient] = field(default_factory=dict, init=False)

    async def start(self) -> None:
        settings = self.settings
        if settings.oauth:
            installs = (await oauth_settings(settings, self.core.settings.database_url)).installation_store
        else:
            assert settings.bot_token is not None
            token = settings.bot_token.get_secret_value()
            where = f"Slack: cannot reach Slack's Web API at {settings.api_url}"
            await retrying(lambda: check_bot_token(checking_client(settings.api_url, token)), where, log, RECONNECT)
            client = make_client(settings, token)
            installs = None

        async def client_for(workspace: str) -> AsyncWebClient:
            if installs is None:
                return client
            if workspace not in self._clients:
                bot = await installs.async_find_bot(enterprise_id=None, team_id=workspace)
                if bot is None:
                    raise LookupError(f"the Slack app is not installed in workspace {workspace}; install it again")
                self._clients[workspace] = make_client(settings, bot.bot_token)
            return self._clients[workspace]

        self.core.service.register(SlackPoster(client_for, interval=settings.post_interval))
        log.info("Slack: posting through the Web API")

    async def stop(self) -> None:
        self._clients.clear()


@dataclass(eq=False, repr=False)
class DiscordPosting:
    """Discord's poster on the REST API alone: a login, without the gateway and without syncing /arxiv (the bot
    process does that), so that starting many workers asks nothing of Discord but the token check."""

    name = "Discord"

    core: CommandCore
    settings: DiscordSettings
    _client: discord.Client | None = field(default=None, init=False)

    async def start(self) -> None:
        if self.settings.api_url is not None:  # discord.py has one REST base for the process
            discord.http.Route.BASE = self.settings.api_url
        where = f"Discord: cannot reach Discord's API at {discord.http.Route.BASE}"
        await retrying(self._login, where, log, RECONNECT)
        assert self._client is not None
        self.core.service.register(DiscordPoster(self._client, paper_view, interval=self.settings.post_interval))
        log.info("Discord: posting through the REST API")

    async def _login(self) -> None:
        assert self.settings.token is not None
        await self.stop()  # a failed login leaves discord.py's HTTP session half set up: a fresh client each time
        self._client = client = discord.Client(intents=discord.Intents.none(),
                                               allowed_mentions=discord.AllowedMentions.none())
        try:
            await client.login(self.settings.token.get_secret_value())
        except discord.LoginFailure:
            raise TokenRefused(f"DISCORD_TOKEN was refused by Discord (401): {TOKEN_FIX}") from None
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                raise Unavailable(f"Discord answered HTTP {exc.status}") from None
            raise DigestError(f"Discord refused the bot's login ({exc.status} {exc.text}): {TOKEN_FIX}") from None

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


def posting_platforms(core: CommandCore) -> list[Platform]:
    """The posters the environment configures, for ``arxiv-digest worker``."""
    slack, discord = SlackSettings(), DiscordSettings()
    if problems := discord.problems() + [p for p in slack.problems() if "xapp-" in p]:
        raise DigestError(" ".join(problems))
    platforms: list[Platform] = []
    if slack.bot_token is not None or slack.oauth:
        platforms.append(SlackPosting(core, slack))
    if discord.enabled:
        platforms.append(DiscordPosting(core, discord))
    if not platforms:
        raise DigestError(NO_POSTER)
    if os.environ.get("PORT"):  # for a process manager or an orchestrator's liveness probe
        platforms.append(HealthServer(core, slack.port))  # PORT, checked as Slack's HTTP mode checks it
    return platforms
