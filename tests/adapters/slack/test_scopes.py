"""The start-time scope check: Slack lists a token's scopes in the ``x-oauth-scopes`` header of auth.test
(bolt reads the same header to authorize); without the history scopes the bot says once, at start, which
are missing and what to do, because a resumed digest may then repeat the message that was in flight."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest

from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.poster import SlackPoster
from adapters.slack.runner import SlackRunner
from adapters.slack.scopes import check_history_scopes, granted_scopes
from bot.bootstrap import build_core
from bot.domain.platform import Place
from storage.store import Store
from tests.support.slack_api import SlackStandIn

OLD_INSTALL = "commands,chat:write,chat:write.public,users:read"  # from before the history scopes


def start_and_stop(make_settings: Any, slack: SlackStandIn, token: str = "xoxb-test") -> None:
    settings = make_settings()
    store = Store.open(settings.database_url)
    slack_settings = SlackSettings(_env_file=None, bot_token=token, signing_secret="s", api_url=slack.base_url,
                                   post_interval=0, port=0)

    async def main() -> None:
        runner = SlackRunner(build_core(settings, store), slack_settings, host="127.0.0.1")
        await runner.start()
        await runner.stop()

    try:
        asyncio.run(main())
    finally:
        store.close()


def warnings_about_scopes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "history" in r.getMessage()]


def test_the_stand_in_lists_the_tokens_scopes_in_the_auth_test_header_like_slack(slack: SlackStandIn) -> None:
    slack.bot_scopes = OLD_INSTALL

    async def main() -> dict[str, str]:
        client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")
        return dict((await client.auth_test()).headers)

    assert granted_scopes(asyncio.run(main())) == set(OLD_INSTALL.split(","))
    assert granted_scopes({"X-Slack-Req-Id": "1"}) is None


def test_an_install_without_history_scopes_is_told_once_at_start_what_to_reinstall(
    make_settings: Any, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.bot_scopes = OLD_INSTALL
    with caplog.at_level(logging.INFO):
        start_and_stop(make_settings, slack)
    [warning] = warnings_about_scopes(caplog)
    assert "channels:history and groups:history" in warning and "reinstall the app" in warning
    assert "may post that one message twice" in warning and "xoxb-test" not in caplog.text


def test_one_missing_scope_is_named_alone_and_a_full_install_hears_nothing(
    make_settings: Any, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.bot_scopes = OLD_INSTALL + ",channels:history"
    assert asyncio.run(check(slack)) == ["groups:history"]
    slack.bot_scopes += ",groups:history"
    caplog.clear()
    with caplog.at_level(logging.INFO):
        start_and_stop(make_settings, slack)
    assert warnings_about_scopes(caplog) == []


def test_a_refused_token_leaves_the_scope_check_silent(make_settings: Any, slack: SlackStandIn) -> None:
    slack.tokens = {"xoxb-other"}
    assert asyncio.run(check(slack)) == []


async def check(slack: SlackStandIn) -> list[str]:
    return await check_history_scopes(
        make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test"))


def test_without_channels_history_slack_refuses_to_read_the_channel_and_a_resume_warns(
    slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.bot_scopes = OLD_INSTALL
    client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")

    async def client_for(_: str) -> Any:
        return client

    poster = SlackPoster(client_for, interval=0)
    assert asyncio.run(poster.recover(Place(slack.team_id, "C1"), dt.date(2025, 3, 6))) == {}
    [call] = slack.calls_to("conversations.history")
    assert call.response == {"ok": False, "error": "missing_scope", "needed": "channels:history",
                             "provided": OLD_INSTALL}
    assert "a message may repeat" in caplog.text


def test_an_install_from_before_questions_is_told_once_to_add_app_mentions_and_reinstall(
    make_settings: Any, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.bot_scopes = slack.bot_scopes.replace(",app_mentions:read", "")
    with caplog.at_level(logging.INFO):
        start_and_stop(make_settings, slack)
    [warning] = [r.getMessage() for r in caplog.records if "app_mentions:read" in r.getMessage()]
    assert "app_mention bot event" in warning and "reinstall the app" in warning and "/arxiv ask" in warning
    assert warnings_about_scopes(caplog) == []  # the history scopes are there: nothing said about them
    caplog.clear()
    slack.bot_scopes += ",app_mentions:read"
    with caplog.at_level(logging.INFO):
        start_and_stop(make_settings, slack)
    assert "app_mentions:read" not in caplog.text
