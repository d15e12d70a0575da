"""``arxiv-digest run`` as an operator meets it in the first hour: the real CLI in a subprocess, against a
closed port, a service that never answers, the stand-ins refusing tokens, and a working Socket Mode.

Each test stops the process with a real SIGTERM or SIGINT in one state and checks what the operator sees:
the exit within the shutdown grace (plus a margin for the interpreter's own exit), the exit code, and a
stderr made of log lines and at most one error line, never a traceback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.discord_api import DiscordStandIn
from tests.support.slack_api import SlackStandIn, SocketModeStandIn
from tests.support.unreachable import closed_port

pytestmark = pytest.mark.slow

GRACE = 2.0  # DIGEST_SHUTDOWN_GRACE_SECONDS for these processes
MARGIN = 5.0  # the interpreter's exit on a busy machine
STARTUP = 90.0  # imports alone take seconds on a loaded CI machine; states are awaited by their log lines
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: ")


class BotProcess:
    """``python -m bot run`` with its stderr read line by line as it comes."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DIGEST_", "OPENAI_", "ARXIV_")) and k != "PORT"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, text=True,
            env={**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                 "DIGEST_SHUTDOWN_GRACE_SECONDS": str(GRACE), **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = STARTUP) -> None:
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(text in line for line in self.lines) >= count or self.process.poll() is not None, timeout
            ) or sum(text in line for line in self.lines) < count:
                raise AssertionError(f"no {count}× {text!r} in stderr:\n{self.stderr}")

    def stop_with(self, sig: signal.Signals) -> float:
        """Send ``sig``; the seconds until the process exited (it is killed after grace + margin + 10)."""
        sent = time.monotonic()
        self.process.send_signal(sig)
        try:
            self.process.wait(GRACE + MARGIN + 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"still running {GRACE + MARGIN + 10} s after {sig.name}:\n{self.stderr}") from None
        return time.monotonic() - sent

    def finish(self, timeout: float = STARTUP) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._reader.join(5)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)

    def assert_readable(self) -> None:
        """Every stderr line is a log record or the one "Error:" line: no traceback, no wrapped message."""
        assert "Traceback" not in self.stderr, self.stderr
        stray = [line for line in self.lines if not LOG_LINE.match(line) and not line.startswith("Error: ")]
        assert not stray, self.stderr
        assert sum(line.startswith("Error: ") for line in self.lines) <= 1, self.stderr


RunBot = Callable[[dict[str, str]], BotProcess]


@pytest.fixture
def run_bot(tmp_path: Path) -> Iterator[RunBot]:
    started: list[BotProcess] = []

    def start(env: dict[str, str]) -> BotProcess:
        bot = BotProcess(tmp_path, env)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.kill()


def assert_stopped_cleanly(bot: BotProcess, sig: signal.Signals) -> None:
    elapsed = bot.stop_with(sig)
    bot.finish()
    assert elapsed < GRACE + MARGIN, f"{elapsed:.1f} s after {sig.name}:\n{bot.stderr}"
    assert bot.process.returncode == 0, bot.stderr
    bot.assert_readable()
    assert f"{sig.name} received: stopping" in bot.stderr


# --- Slack ------------------------------------------------------------------------------------------------


def test_slack_unreachable_backs_off_one_line_each_and_stops_on_sigterm(run_bot: RunBot) -> None:
    port = closed_port()
    bot = run_bot({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                   "SLACK_API_URL": f"http://127.0.0.1:{port}/api/"})
    bot.wait_for("trying again", count=2)
    assert_stopped_cleanly(bot, signal.SIGTERM)
    retries = [line for line in bot.lines if "trying again" in line]
    assert f"cannot reach Slack's Web API at http://127.0.0.1:{port}/api/ (connection refused)" in retries[0]
    assert [re.search(r"trying again in (\S+) s", line)[1] for line in retries[:2]] == ["1", "2"]  # backs off


def test_slack_that_never_answers_is_left_on_sigint(run_bot: RunBot) -> None:
    """Connecting: Slack accepted the TCP connection but never answers (30 s before the client gives up)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(STARTUP)
        bot = run_bot({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                       "SLACK_API_URL": f"http://127.0.0.1:{server.getsockname()[1]}/api/"})
        connection, _ = server.accept()  # the bot's request is in flight now
        with connection:
            assert_stopped_cleanly(bot, signal.SIGINT)


def test_slack_socket_mode_connected_stops_on_sigint(run_bot: RunBot) -> None:
    with SlackStandIn() as slack, SocketModeStandIn() as sockets:
        slack.socket_url = sockets.url
        bot = run_bot({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                       "SLACK_API_URL": slack.base_url})
        bot.wait_for("arxiv-digest is running on Slack")
        assert sockets.connections == 1
        assert_stopped_cleanly(bot, signal.SIGINT)
    assert [c.method for c in slack.calls][:2] == ["auth.test", "apps.connections.open"]  # tokens checked first


@pytest.mark.parametrize(("env", "line"), [
    ({"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_APP_TOKEN": "xapp-test"},
     "Error: SLACK_BOT_TOKEN was refused by Slack (invalid_auth): create a new bot token"),
    ({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-revoked"},
     "Error: SLACK_APP_TOKEN was refused by Slack (invalid_auth): create an app-level token"),
], ids=["bot-token", "app-token"])
def test_a_refused_slack_token_fails_fast_in_one_line(run_bot: RunBot, env: dict[str, str], line: str) -> None:
    with SlackStandIn() as slack:
        bot = run_bot({**env, "SLACK_API_URL": slack.base_url})
        assert bot.finish() == 1, bot.stderr
    bot.assert_readable()
    [error] = [text for text in bot.lines if text.startswith("Error: ")]
    assert error.startswith(line) and error.endswith("start again."), bot.stderr
    assert "trying again" not in bot.stderr
    assert len(slack.calls) == len({c.method for c in slack.calls})  # each check asked once, not retried


@pytest.mark.parametrize("slack_env", [
    {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"},  # HTTP mode: /slack/events on PORT
    {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"},  # Socket Mode: /healthz alone on PORT
], ids=["http-mode", "socket-mode-health"])
def test_a_port_in_use_fails_fast_in_one_line(run_bot: RunBot, slack_env: dict[str, str]) -> None:
    with SlackStandIn() as slack, SocketModeStandIn() as sockets, socket.socket() as taken:
        slack.socket_url = sockets.url
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = run_bot({**slack_env, "SLACK_API_URL": slack.base_url, "PORT": str(port)})
        assert bot.finish() == 1, bot.stderr
    bot.assert_readable()
    [error] = [text for text in bot.lines if text.startswith("Error: ")]
    assert error == (f"Error: Cannot listen on 0.0.0.0:{port}: another process listens there. Set PORT to a free "
                     "port, or stop the process that holds it."), bot.stderr


# --- Discord ----------------------------------------------------------------------------------------------


def test_a_refused_discord_token_fails_fast_in_one_line(run_bot: RunBot) -> None:
    with DiscordStandIn() as discord_api:
        discord_api.token = "the-real-token"
        bot = run_bot({"DISCORD_TOKEN": "an-old-token", "DISCORD_API_URL": discord_api.api_base})
        assert bot.finish() == 1, bot.stderr
    bot.assert_readable()
    [error] = [text for text in bot.lines if text.startswith("Error: ")]
    assert error.startswith("Error: DISCORD_TOKEN was refused by Discord (401): copy the bot token again"), error


def test_discord_unreachable_backs_off_and_stops_on_sigint(run_bot: RunBot) -> None:
    port = closed_port()
    bot = run_bot({"DISCORD_TOKEN": "test-token", "DISCORD_API_URL": f"http://127.0.0.1:{port}/api/v10"})
    bot.wait_for("trying again", count=2)
    assert_stopped_cleanly(bot, signal.SIGINT)
    assert f"cannot reach Discord's API at http://127.0.0.1:{port}/api/v10 (connection refused)" in bot.stderr


def test_discord_gateway_unreachable_reconnects_in_one_line_each_and_stops_on_sigterm(run_bot: RunBot) -> None:
    """Logged in over REST, but the gateway is down: discord.py's own reconnects, each one line."""
    with DiscordStandIn() as discord_api:
        bot = run_bot({"DISCORD_TOKEN": "test-token", "DISCORD_API_URL": discord_api.api_base,
                       "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{closed_port()}/"})
        bot.wait_for("Attempting a reconnect")
        assert_stopped_cleanly(bot, signal.SIGTERM)
    assert "connection refused" in next(line for line in bot.lines if "Attempting a reconnect" in line)
