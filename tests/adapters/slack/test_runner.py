"""Starting the Slack platform: tokens checked before connecting, a refused one named, an unreachable Slack
retried with backoff in one line each, and every step cancellable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.reconnect import Backoff
from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from adapters.slack.tokens import TokenRefused
from bot.chat.commands import CommandCore
from tests.support.slack_api import SlackStandIn, SocketModeStandIn
from tests.support.unreachable import closed_port, retry_lines, start_until_retried

FAST = Backoff(first=0.01, cap=0.04)
FIXTURES = Path(__file__).parents[2] / "fixtures" / "process"



def settings(api_url: str, **overrides: Any) -> SlackSettings:
    values = {"bot_token": "xoxb-test", "app_token": "xapp-test", "api_url": api_url, "post_interval": 0}
    return SlackSettings(_env_file=None, **(values | overrides))


def closed_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/api/"


def test_the_stand_in_refuses_a_token_as_slack_does(slack: SlackStandIn) -> None:
    """The refusal the tests below rely on has the shape of Slack's own (a sample from bolt-python's tests)."""
    import httpx

    answer = httpx.post(f"{slack.base_url}auth.test", headers={"Authorization": "Bearer xoxb-revoked"})
    assert answer.status_code == 200
    assert answer.json() == json.loads((FIXTURES / "slack_invalid_auth.json").read_text())


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_a_refused_bot_token_is_named_without_retrying(core: CommandCore, slack: SlackStandIn, mode: str) -> None:
    extra = {"app_token": None, "signing_secret": "s", "port": 0} if mode == "http" else {}
    runner = SlackRunner(core, settings(slack.base_url, bot_token="xoxb-revoked", **extra), backoff=FAST)

    async def main() -> None:
        try:
            with pytest.raises(TokenRefused) as refused:
                await runner.start()
        finally:
            await runner.stop()
        assert str(refused.value).startswith("SLACK_BOT_TOKEN was refused by Slack (invalid_auth): create a new bot")
        assert "xoxb-revoked" not in str(refused.value)

    asyncio.run(main())
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_a_refused_app_token_is_named_without_retrying(core: CommandCore, slack: SlackStandIn) -> None:
    runner = SlackRunner(core, settings(slack.base_url, app_token="xapp-revoked"), backoff=FAST)

    async def main() -> None:
        try:
            with pytest.raises(TokenRefused, match=r"^SLACK_APP_TOKEN was refused by Slack \(invalid_auth\): "):
                await runner.start()
        finally:
            await runner.stop()

    asyncio.run(main())
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]


def test_socket_mode_checks_both_tokens_then_connects(core: CommandCore, slack: SlackStandIn) -> None:
    with SocketModeStandIn() as sockets:
        slack.socket_url = sockets.url
        runner = SlackRunner(core, settings(slack.base_url), backoff=FAST)

        async def main() -> None:
            await runner.start()
            try:
                assert runner.identity is not None and runner.identity["user_id"] == slack.bot_user_id
                await sockets.wait_connected_async()
            finally:
                await runner.stop()

        asyncio.run(main())
    assert [(c.method, c.token) for c in slack.calls] == [("auth.test", "xoxb-test"),
                                                          ("apps.connections.open", "xapp-test")]


def test_an_unreachable_slack_is_retried_with_backoff_one_line_each_until_cancelled(
    core: CommandCore, caplog: pytest.LogCaptureFixture
) -> None:
    url = closed_url()
    lines = start_until_retried(SlackRunner(core, settings(url), backoff=FAST), caplog, 5)
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)  # no traceback
    assert lines[0].getMessage() == (
        f"Slack: cannot reach Slack's Web API at {url} (connection refused); trying again in 0.01 s"
    )
    assert [m.getMessage().rsplit(" in ", 1)[1] for m in lines[:5]] == ["0.01 s", "0.02 s", "0.04 s", "0.04 s",
                                                                        "0.04 s"]


def test_a_slack_in_trouble_when_connecting_is_retried_then_connects(
    core: CommandCore, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """apps.connections.open is also how a dropped connection comes back: Slack's trouble waits, then connects."""
    slack.fail_method("apps.connections.open", "internal_error")
    with SocketModeStandIn() as sockets:
        slack.socket_url = sockets.url
        runner = SlackRunner(core, settings(slack.base_url), backoff=FAST)

        async def main() -> None:
            starting = asyncio.create_task(runner.start())
            while len(retry_lines(caplog)) < 2:
                await asyncio.sleep(0.01)
            slack.method_errors.clear()
            await asyncio.wait_for(starting, 10)
            await runner.stop()

        asyncio.run(main())
    assert "Slack: cannot open a Socket Mode connection" in retry_lines(caplog)[0].getMessage()
    assert "(Slack answered internal_error)" in retry_lines(caplog)[0].getMessage()


def test_http_mode_listens_even_when_slack_is_unreachable(core: CommandCore, caplog: pytest.LogCaptureFixture) -> None:
    """Requests can come in meanwhile, so only a refused token stops HTTP mode from starting."""
    runner = SlackRunner(core, settings(closed_url(), app_token=None, signing_secret="s", port=0), host="127.0.0.1")

    async def main() -> None:
        await asyncio.wait_for(runner.start(), 10)
        try:
            assert runner.port
        finally:
            await runner.stop()

    asyncio.run(main())
    assert any("to check SLACK_BOT_TOKEN; listening anyway" in r.getMessage() for r in caplog.records)
