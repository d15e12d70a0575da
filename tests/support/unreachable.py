"""Services that cannot be reached: a closed local port, and starting a platform runner against one."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Protocol

import pytest


class Runner(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "trying again" in r.getMessage()]


def start_until_retried(runner: Runner, caplog: pytest.LogCaptureFixture, times: int) -> list[logging.LogRecord]:
    """Start ``runner`` until it has logged ``times`` retries, cancel the start, stop it; the retry lines."""

    async def main() -> None:
        starting = asyncio.create_task(runner.start())
        while len(retry_lines(caplog)) < times:
            await asyncio.sleep(0.01)
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        await runner.stop()

    asyncio.run(main())
    return retry_lines(caplog)
