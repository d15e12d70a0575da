"""Socket Mode with our connection policy: slack_sdk's aiohttp client, but asking Slack for a connection URL
(the first time and after every drop) backs off exponentially, says so in one line, and names a refused
SLACK_APP_TOKEN instead of retrying it."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from adapters.reconnect import NETWORK_ERRORS, RECONNECT, Backoff, OneLineErrors, retrying
from adapters.slack.tokens import checking_client, open_connection
from bot.domain.errors import DigestError

log = logging.getLogger(__name__)
PING_INTERVAL = 10.0  # bolt's default: seconds between pings, and between the SDK's own websocket retries
# The SDK logs "Failed to connect …; Retrying…" with a whole traceback.
log.addFilter(OneLineErrors((*NETWORK_ERRORS, SlackApiError, DigestError)))


class ReconnectingClient(SocketModeClient):
    backoff: Backoff = RECONNECT

    async def issue_new_wss_url(self) -> str:
        """Slack's ``apps.connections.open``, tried until Slack answers; a refused token ends it (TokenRefused)."""
        return await retrying(
            lambda: open_connection(self.web_client, self.app_token),
            f"Slack: cannot open a Socket Mode connection at {self.web_client.base_url}", log, self.backoff,
        )


class SocketModeConnection(AsyncSocketModeHandler):
    """bolt's Socket Mode handler on a :class:`ReconnectingClient`."""

    def __init__(self, app: AsyncApp, app_token: str, *, api_url: str, backoff: Backoff = RECONNECT) -> None:
        # Not super().__init__(): that builds a plain SocketModeClient (a session and a task) only to drop it.
        self.app = app
        self.app_token = app_token
        self.client = ReconnectingClient(
            app_token=app_token, logger=log, web_client=checking_client(api_url), ping_interval=PING_INTERVAL
        )
        self.client.backoff = backoff
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]  # slack_sdk types listeners loosely

    async def open(self) -> None:
        """Check the app token and connect, retrying while Slack is unreachable; cancellable throughout."""
        self.client.wss_uri = await self.client.issue_new_wss_url()
        await self.connect_async()
