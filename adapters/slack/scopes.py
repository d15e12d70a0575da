"""The bot token's scopes, checked once at start: without the history scopes a digest resumed after a crash
cannot find the message that was in flight and may post it a second time; without app_mentions:read questions
to the bot (mentions in a paper's thread) never arrive."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# conversations.history / .replies need these to read back our own messages (public / private channels).
HISTORY_SCOPES = ("channels:history", "groups:history")
MENTION_SCOPE = "app_mentions:read"  # the app_mention event: questions about a paper
CHECK_TIMEOUT = 5.0  # the check must never hold up start-up; without an answer it says nothing


def granted_scopes(headers: dict[str, str]) -> set[str] | None:
    """The scopes Slack lists in a Web API answer's ``x-oauth-scopes`` header; None without the header."""
    value = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    return None if value is None else {scope.strip() for scope in value.split(",") if scope.strip()}


async def check_history_scopes(client: AsyncWebClient) -> list[str]:
    """Ask auth.test which scopes the token has and log, once, which history scopes are missing and how to
    add them. Returns the missing scopes; a token Slack refuses or no answer is left to other checks."""
    try:
        response = await asyncio.wait_for(client.auth_test(), CHECK_TIMEOUT)
    except Exception as exc:  # a refused token, a timeout, no network: start-up goes on, other checks say why
        log.debug("Slack: scope check skipped (%s)", type(exc).__name__)
        return []
    return report_missing_history_scopes(dict(response.headers))


def report_missing_history_scopes(headers: dict[str, str]) -> list[str]:
    """Log, once, which history scopes an answer's ``x-oauth-scopes`` lacks and how to add them."""
    granted = granted_scopes(headers)
    if granted is None:
        return []
    missing = [scope for scope in HISTORY_SCOPES if scope not in granted]
    if missing:
        log.warning(
            "Slack: the bot token lacks the %s scope%s, so a digest resumed after a crash or restart cannot read "
            "the channel to find the message that was in flight, and may post that one message twice. Add %s "
            "under OAuth & Permissions → Bot Token Scopes (manifest.yml lists every scope), then reinstall the "
            "app to the workspace.",
            " and ".join(missing), "s" if len(missing) > 1 else "", " and ".join(missing),
        )
    return missing


def report_missing_mention_scope(headers: dict[str, str]) -> bool:
    """Log, once, that an install from before questions lacks app_mentions:read and how to add it; True then."""
    granted = granted_scopes(headers)
    if granted is None or MENTION_SCOPE in granted:
        return False
    log.warning(
        "Slack: the bot token lacks the %s scope, so questions to the bot (\"@arxiv-digest …\" in a paper's "
        "thread) never reach it; /arxiv ask still works. Add %s under OAuth & Permissions → Bot Token Scopes and "
        "the app_mention bot event under Event Subscriptions (manifest.yml lists both), then reinstall the app to "
        "the workspace.", MENTION_SCOPE, MENTION_SCOPE,
    )
    return True
