"""Running the Slack app inside the bot process: Socket Mode, or HTTP on $PORT at /slack/events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import KW_ONLY, dataclass, field

from aiohttp import web
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.health import HEALTH_PATH, health_handler, listen
from adapters.network import describe
from adapters.reconnect import RECONNECT, RETRYABLE, Backoff, retrying
from adapters.slack.app import SlackBot
from adapters.slack.config import SlackSettings
from adapters.slack.http import EVENTS_PATH, slack_web_app
from adapters.slack.installs import oauth_settings
from adapters.slack.scopes import report_missing_history_scopes, report_missing_mention_scope
from adapters.slack.socket_mode import SocketModeConnection
from adapters.slack.tokens import check_bot_token, checking_client
from bot.chat.commands import CommandCore

log = logging.getLogger(__name__)
__all__ = ["EVENTS_PATH", "SlackRunner"]
STOP_STEP_TIMEOUT = 5.0  # seconds for each step of stop(); a stuck close must not hold the process


@dataclass(eq=False, repr=False)  # identity semantics; its repr would print the settings
class SlackRunner:
    """Starts and stops one Slack app; the bot process runs it next to the other platforms."""

    name = "Slack"

    core: CommandCore
    settings: SlackSettings
    _: KW_ONLY
    host: str = "0.0.0.0"
    backoff: Backoff = RECONNECT
    bot: SlackBot | None = field(default=None, init=False)
    # auth.test's answer for SLACK_BOT_TOKEN (its headers carry the token's scopes)
    identity: AsyncSlackResponse | None = field(default=None, init=False)
    port: int | None = field(default=None, init=False)
    _socket: SocketModeConnection | None = field(default=None, init=False)
    _web: web.AppRunner | None = field(default=None, init=False)

    async def start(self) -> None:
        """Check the tokens, then connect (Socket Mode) or listen (HTTP). A refused token raises TokenRefused.

        Cancellable at every step; stop() cleans up whatever part had started.
        """
        settings = self.settings
        oauth = None
        if settings.mode == "http" and settings.oauth:
            oauth = await oauth_settings(settings, self.core.settings.database_url)
        self.bot = SlackBot(
            self.core, settings, oauth_settings=oauth,
            installation_store=oauth.installation_store if oauth else None,
        )
        if settings.bot_token is not None and oauth is None:  # with OAuth each install brings its own token
            await self._check_bot_token(settings.bot_token.get_secret_value(), wait=settings.mode == "socket")
            if self.identity is not None:  # say now whether resumed digests can avoid repeating a message
                report_missing_history_scopes(dict(self.identity.headers))
                report_missing_mention_scope(dict(self.identity.headers))
        if settings.mode == "socket":
            assert settings.app_token is not None
            self._socket = SocketModeConnection(
                self.bot.app, settings.app_token.get_secret_value(), api_url=settings.api_url, backoff=self.backoff
            )
            await self._socket.open()
            log.info("Slack: connected in Socket Mode")
            return
        assert settings.signing_secret is not None
        web_app = slack_web_app(self.bot.app, settings.signing_secret.get_secret_value(), path=EVENTS_PATH)
        web_app.router.add_get(HEALTH_PATH, health_handler(self.core))
        self._web, self.port = await listen(web_app, self.host, settings.port)
        log.info("Slack: listening on %s:%s%s%s", self.host, self.port, EVENTS_PATH,
                 " (OAuth installs at /slack/install)" if oauth else "")

    async def _check_bot_token(self, token: str, *, wait: bool) -> None:
        """auth.test before anything else. Socket Mode cannot work without Slack, so it waits for Slack;
        HTTP mode can take requests meanwhile, so it only says Slack is out of reach."""
        client = checking_client(self.settings.api_url, token)
        where = f"Slack: cannot reach Slack's Web API at {client.base_url}"
        if wait:
            self.identity = await retrying(lambda: check_bot_token(client), where, log, self.backoff)
            return
        try:
            self.identity = await check_bot_token(client)
        except RETRYABLE as exc:
            log.warning("%s (%s) to check SLACK_BOT_TOKEN; listening anyway, replies fail until it is reachable",
                        where, describe(exc))

    async def stop(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            await _bounded(socket.close_async(), "closing the Socket Mode connection")
        web_runner, self._web = self._web, None
        if web_runner is not None:
            await _bounded(web_runner.cleanup(), "stopping the HTTP server")


async def _bounded(step: Awaitable[None], what: str) -> None:
    try:
        await asyncio.wait_for(step, STOP_STEP_TIMEOUT)
    except TimeoutError:
        log.warning("Slack: %s took over %g s; going on without it", what, STOP_STEP_TIMEOUT)
