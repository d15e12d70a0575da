"""Running the Slack app inside the bot process: Socket Mode, or HTTP on $PORT at /slack/events."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.health import HEALTH_PATH, health_handler
from adapters.slack.app import SlackBot
from adapters.slack.config import SlackSettings
from adapters.slack.http import EVENTS_PATH, slack_web_app
from adapters.slack.installs import oauth_settings
from adapters.slack.scopes import check_history_scopes
from bot.commands import CommandCore

log = logging.getLogger(__name__)
__all__ = ["EVENTS_PATH", "SlackRunner"]


class SlackRunner:
    """Starts and stops one Slack app; the bot process runs it next to the other platforms."""

    name = "Slack"

    def __init__(self, core: CommandCore, settings: SlackSettings, *, host: str = "0.0.0.0") -> None:
        self.core = core
        self.settings = settings
        self.host = host
        self.bot: SlackBot | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._web: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self.settings
        oauth = None
        if settings.mode == "http" and settings.oauth:
            oauth = await oauth_settings(settings, self.core.settings.database_url)
        self.bot = SlackBot(
            self.core, settings, oauth_settings=oauth,
            installation_store=oauth.installation_store if oauth else None,
        )
        if oauth is None:  # one bot token: say now whether resumed digests can avoid repeating a message
            await check_history_scopes(self.bot.app.client)
        if settings.mode == "socket":
            assert settings.app_token is not None
            self._socket = AsyncSocketModeHandler(self.bot.app, settings.app_token.get_secret_value())
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode")
            return
        assert settings.signing_secret is not None
        web_app = slack_web_app(self.bot.app, settings.signing_secret.get_secret_value(), path=EVENTS_PATH)
        web_app.router.add_get(HEALTH_PATH, health_handler(self.core))
        self._web = web.AppRunner(web_app, access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, self.host, settings.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the real one for port 0
        log.info("Slack: listening on %s:%s%s%s", self.host, self.port, EVENTS_PATH,
                 " (OAuth installs at /slack/install)" if oauth else "")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
