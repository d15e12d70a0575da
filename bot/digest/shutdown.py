"""Giving running digests a grace period at shutdown: the scheduler's and those asked for with /arxiv run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)
CANCEL_WAIT = 5.0  # seconds a cancelled digest gets to record where it stopped


async def finish_within(tasks: Iterable[asyncio.Task[Any]], grace: float, what: str) -> int:
    """Wait up to ``grace`` seconds for the unfinished ``tasks`` ("digest(s)" of ``what`` kind), cancel those
    still running and return how many were cut off (what they stored stays: the next run finishes them)."""
    running = [task for task in tasks if not task.done()]
    if not running:
        return 0
    log.info("Waiting up to %.0f s for %d %s", grace, len(running), what)
    _, pending = await asyncio.wait(running, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=CANCEL_WAIT)
    return len(pending)
