"""The reconnect policy shared by the chat platforms: capped exponential delays, one line per failure."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket

import pytest

from adapters.network import describe
from adapters.reconnect import Backoff, Unavailable, retrying
from bot.domain.errors import DigestError

log = logging.getLogger("tests.reconnect")


def test_delays_double_up_to_the_cap() -> None:
    assert list(itertools.islice(Backoff(first=1, cap=60).delays(), 9)) == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.parametrize(("error", "line"), [
    (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed: Name or service not known"),
    (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)"), "connection refused"),
    (TimeoutError(), "timed out"),
    (Unavailable("Slack answered fatal_error"), "Slack answered fatal_error"),
])
def test_failures_are_described_in_one_line(error: BaseException, line: str) -> None:
    assert describe(error) == line


def test_network_failures_are_retried_one_line_each_and_a_refusal_ends_it(caplog: pytest.LogCaptureFixture) -> None:
    failures = iter([socket.gaierror(-2, "Name or service not known"), ConnectionResetError(104, "reset"),
                     Unavailable("Discord answered HTTP 503"), DigestError("DISCORD_TOKEN was refused")])

    async def attempt() -> None:
        raise next(failures)

    with pytest.raises(DigestError, match="refused"):
        asyncio.run(retrying(attempt, "Discord: cannot reach it", log, Backoff(first=0.001, cap=0.002)))
    assert [r.getMessage() for r in caplog.records] == [
        "Discord: cannot reach it (DNS lookup failed: Name or service not known); trying again in 0.001 s",
        "Discord: cannot reach it ([Errno 104] reset); trying again in 0.002 s",
        "Discord: cannot reach it (Discord answered HTTP 503); trying again in 0.002 s",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_retrying_returns_what_the_attempt_returns_once_it_works() -> None:
    attempts = iter([OSError("down"), "the url"])

    async def attempt() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert asyncio.run(retrying(attempt, "x", log, Backoff(first=0.001))) == "the url"
