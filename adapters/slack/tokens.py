"""Asking Slack whether it accepts our tokens, before connecting: a refusal names the variable to fix.

Slack answers a refused token with HTTP 200 and ``{"ok": false, "error": "invalid_auth"}`` (or one of
the other codes below); retrying cannot help, so the bot stops with one line saying what to do.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.reconnect import Unavailable
from bot.domain.errors import DigestError

# Slack's errors that are about the token itself (the "Errors" of auth.test and apps.connections.open);
# anything else (ratelimited, fatal_error, HTTP 5xx) is Slack having trouble, worth another try.
REFUSALS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type",
    "missing_scope", "no_permission",
})
BOT_TOKEN_FIX = (
    "create a new bot token (api.slack.com/apps → your app → OAuth & Permissions → Bot User OAuth Token, "
    "xoxb-…), set SLACK_BOT_TOKEN to it and start again."
)
APP_TOKEN_FIX = (
    "create an app-level token with the connections:write scope (api.slack.com/apps → your app → Basic "
    "Information → App-Level Tokens, xapp-…), set SLACK_APP_TOKEN to it and start again."
)


class TokenRefused(DigestError):
    """Slack refused one of our tokens: starting again with the same one cannot work."""


def checking_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    """A Web API client for these checks, without the SDK's own retries: the caller's backoff decides."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=[])


def error_code(exc: SlackApiError) -> str | None:
    """Slack's error code (``invalid_auth``), or None when the answer was not Slack's JSON."""
    response: Any = exc.response
    data = getattr(response, "data", None)
    return data.get("error") if isinstance(data, dict) else None


def _judge(exc: SlackApiError, variable: str, fix: str) -> Exception:
    code = error_code(exc)
    if code in REFUSALS:
        return TokenRefused(f"{variable} was refused by Slack ({code}): {fix}")
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
    return Unavailable(f"Slack answered {code or f'HTTP {status}'}")


async def check_bot_token(client: AsyncWebClient) -> AsyncSlackResponse:
    """``auth.test`` with the bot token: its answer, TokenRefused, or Unavailable / a network error."""
    try:
        return await client.auth_test()
    except SlackApiError as exc:
        raise _judge(exc, "SLACK_BOT_TOKEN", BOT_TOKEN_FIX) from None


async def open_connection(client: AsyncWebClient, app_token: str) -> str:
    """``apps.connections.open`` with the app-level token: the Socket Mode URL to connect to."""
    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise _judge(exc, "SLACK_APP_TOKEN", APP_TOKEN_FIX) from None
    return str(response["url"])
