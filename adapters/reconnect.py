"""Reaching a chat service that may be down: capped exponential backoff with one log line per attempt.

An operator reads these lines while Slack or Discord is unreachable, possibly for hours, so each
failure is one line saying what failed and when the next try is; tracebacks say nothing more here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from adapters.network import describe

T = TypeVar("T")

# What "the service is unreachable" looks like from aiohttp-based clients (timeouts are OSErrors too).
NETWORK_ERRORS: tuple[type[Exception], ...] = (OSError, aiohttp.ClientError, asyncio.TimeoutError)


class Unavailable(Exception):
    """The service answered but cannot serve now (5xx, rate limited): worth trying again later."""


# Everything worth trying again later: out of reach, or there but not serving.
RETRYABLE: tuple[type[Exception], ...] = (*NETWORK_ERRORS, Unavailable)


@dataclass(frozen=True)
class Backoff:
    """Delays of first, first·2, first·4, … seconds, never more than ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 2, self.cap)


RECONNECT = Backoff()  # 1, 2, 4, … 60 s: quick after a blip, one line a minute during an outage


async def retrying(
    attempt: Callable[[], Awaitable[T]], what: str, log: logging.Logger, backoff: Backoff = RECONNECT,
) -> T:
    """``attempt()`` until it succeeds; network failures and :class:`Unavailable` wait and try again.

    Every other exception (a refused token) ends it at once. Cancellable while it waits.
    """
    for delay in backoff.delays():
        try:
            return await attempt()
        except RETRYABLE as exc:
            log.warning("%s (%s); trying again in %g s", what, describe(exc), delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable: the delays never end")


class OneLineErrors(logging.Filter):
    """Keeps a library's own reconnect messages but replaces their traceback by the error's one line.

    Only for the connection failures in ``kinds``: any other exception (a bug in a handler) keeps its traceback.
    """

    def __init__(self, kinds: tuple[type[BaseException], ...] = NETWORK_ERRORS) -> None:
        super().__init__()
        self.kinds = kinds

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.kinds):
            record.msg = f"{record.getMessage()} ({describe(record.exc_info[1])})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
