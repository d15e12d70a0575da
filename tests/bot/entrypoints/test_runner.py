"""``arxiv-digest run`` as a real process: configured from the environment, serving Slack's HTTP
mode against the stand-ins, answering a signed command, and stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.domain.errors import DigestError
from tests.conftest import DAY, sample_papers

SECRET = "process-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the bot exited early:\n{process.stdout.read()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the bot did not start listening")


def test_run_serves_slack_http_mode_until_sigterm(arxiv, llm, tmp_path: Path):
    from tests.support.slack_api import SlackStandIn

    arxiv.set_day(DAY, sample_papers(6))
    port = free_port()
    with SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "OPENAI_"))},
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
            "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "ARXIV_RSS_URL": arxiv.rss_url, "ARXIV_API_URL": arxiv.api_url,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", process)
            body = urlencode({
                "team_id": slack.team_id, "channel_id": "C1", "user_id": "U1", "command": "/arxiv",
                "text": "subscribe", "response_url": slack.response_url(), "trigger_id": "t.1",
            })
            ts = str(int(time.time()))
            response = httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                         "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)},
            )
            assert response.status_code == 200
            deadline = time.monotonic() + 10
            while not slack.responses and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "subscribed this channel" in slack.responses[0]["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Shutting down" in output
    assert "xoxb-test" not in output and SECRET not in output  # secrets are never logged


# --- stopping in every state, in-process (the subprocess tests are in test_process_operator.py) ------------


class Hanging:
    """A platform whose start() (or stop()) never finishes on its own, like one waiting on a dead network."""

    name = "hanging"

    def __init__(self, *, start_hangs: bool = True, stop_hangs: bool = False) -> None:
        self.start_hangs, self.stop_hangs = start_hangs, stop_hangs
        self.entered = asyncio.Event()
        self.start_cancelled = False
        self.stopped = False

    async def start(self) -> None:
        self.entered.set()
        try:
            while self.start_hangs:
                await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.start_cancelled = True
            raise

    async def stop(self) -> None:
        self.stopped = True
        while self.stop_hangs:
            await asyncio.sleep(3600)


def serve_until(settings: Any, platforms: list[Any], act: Callable[[], Awaitable[None]], *, within: float) -> float:
    """Run serve() with ``platforms``, do ``act()`` once the last one is starting; seconds serve() took after."""
    from bot.entrypoints.runner import serve

    async def main() -> float:
        serving = asyncio.create_task(serve(settings, lambda core: platforms))
        await asyncio.wait_for(platforms[-1].entered.wait(), 30)
        await act()
        began = time.monotonic()
        await asyncio.wait_for(serving, within)  # TimeoutError: serve() did not stop
        return time.monotonic() - began

    return asyncio.run(main())


async def send(sig: signal.Signals) -> None:
    os.kill(os.getpid(), sig)
    await asyncio.sleep(0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_a_platform_is_still_starting_stops_it(make_settings, sig: signal.Signals) -> None:
    platform = Hanging()
    serve_until(make_settings(), [platform], lambda: send(sig), within=5)
    assert platform.start_cancelled and platform.stopped  # stop() cleans up the half-started platform


def test_a_signal_while_the_database_opens_stops_at_once(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the database can block (a server that does not answer); the signal must not wait for it."""
    from storage.store import Store

    opening = threading.Event()
    real_open = Store.open

    def slow_open(url: str, **pool: int) -> Store:
        opening.set()
        time.sleep(3)
        return real_open(url, **pool)

    monkeypatch.setattr(Store, "open", slow_open)
    platform = Hanging()
    platform.entered.set()  # act() as soon as the database is opening

    async def signal_once_opening() -> None:
        while not opening.is_set():
            await asyncio.sleep(0.01)
        await send(signal.SIGTERM)

    took = serve_until(make_settings(), [platform], signal_once_opening, within=2)
    assert took < 1 and not platform.stopped  # never started, nothing to stop


def test_a_platform_whose_stop_hangs_is_left_behind(make_settings, monkeypatch, caplog) -> None:
    import bot.entrypoints.runner

    monkeypatch.setattr(bot.entrypoints.runner, "PLATFORM_STOP_TIMEOUT", 0.2)
    fine, stuck = Hanging(start_hangs=False), Hanging(start_hangs=False, stop_hangs=True)
    serve_until(make_settings(), [fine, stuck], lambda: send(signal.SIGTERM), within=3)
    assert fine.stopped and stuck.stopped
    assert any("Stopping hanging took over 0.2 s" in r.getMessage() for r in caplog.records)


def test_a_second_signal_skips_the_rest_of_the_grace(make_settings, monkeypatch) -> None:
    """Digests get DIGEST_SHUTDOWN_GRACE_SECONDS; an operator who signals again does not wait for them."""
    import bot.entrypoints.runner

    class BusyScheduler:  # a digest is running and uses all of its grace
        def __init__(self, daily: Any) -> None:
            self.health = lambda: {}

        async def start(self) -> None:
            pass

        async def stop(self, grace: float) -> None:
            graces.append(grace)
            await asyncio.sleep(grace)

    graces: list[float] = []
    monkeypatch.setattr(bot.entrypoints.runner, "DigestScheduler", BusyScheduler)
    platform = Hanging(start_hangs=False)

    async def twice() -> None:
        await asyncio.sleep(0.1)  # past start(): the scheduler is running
        await send(signal.SIGTERM)
        await asyncio.sleep(0.2)
        await send(signal.SIGTERM)

    took = serve_until(make_settings(shutdown_grace_seconds=60), [platform], twice, within=5)
    assert took < 3 and platform.stopped
    assert graces == [60, 0]  # the second stop cancels the running digests at once


def test_a_refused_token_stops_the_platforms_already_started(make_settings) -> None:
    from bot.entrypoints.runner import serve

    class Refused(Hanging):
        async def start(self) -> None:
            raise DigestError("SLACK_BOT_TOKEN was refused by Slack (invalid_auth): …")

    first, second = Hanging(start_hangs=False), Refused()
    with pytest.raises(DigestError, match="SLACK_BOT_TOKEN was refused"):
        asyncio.run(serve(make_settings(), lambda core: [first, second]))
    assert first.stopped and second.stopped


def test_look_ups_still_waiting_at_shutdown_are_dropped_and_the_lane_thread_ends(make_settings) -> None:
    """The look-up lane is closed after the platforms stop: a look-up waiting its turn never asks arXiv, and
    the lane's thread ends once the one already asking has its answer."""
    from bot.chat.commands import CommandCore
    from bot.domain.platform import Caller
    from bot.entrypoints.runner import serve
    from tests.support import ArxivStandIn

    async def no() -> bool:
        return False

    platform = Hanging(start_hangs=False)
    cores: list[CommandCore] = []

    def platforms(core: CommandCore) -> list[Hanging]:
        cores.append(core)
        return [platform]

    def lane_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("arxiv-lookup")}

    before = lane_threads()  # left by other tests in this process, if any
    with ArxivStandIn() as slow_api:
        slow_api.latency = 1.0  # the first look-up is still asking arXiv when the stop arrives

        async def main() -> bool:
            serving = asyncio.create_task(serve(make_settings(arxiv_api_url=slow_api.api_url, scheduler=False),
                                                platforms))
            await asyncio.wait_for(platform.entered.wait(), 30)
            lookups = [
                asyncio.create_task(cores[0].abstract(f"2601.{90000 + n}", Caller("chat", "T1", "C1", f"U{n}", no, "")))
                for n in range(3)
            ]
            while not slow_api.requests:  # the first is asking arXiv, the other two wait their turn
                await asyncio.sleep(0.01)
            await send(signal.SIGTERM)
            await asyncio.wait_for(serving, 5)
            await asyncio.sleep(0)  # the dropped look-ups' tasks see their cancellation
            waiting_dropped = all(task.cancelled() for task in lookups[1:])
            await asyncio.wait(lookups, timeout=5)
            return waiting_dropped

        waiting_dropped = asyncio.run(main())
        asked = len(slow_api.requests)
    assert waiting_dropped and asked == 1
    for thread in lane_threads() - before:
        thread.join(timeout=5)
        assert not thread.is_alive()
