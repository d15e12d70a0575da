"""Callbacks the scorers call as results arrive: plain functions, or coroutines (a database write made off the
event loop), which the scorer awaits before it goes on, so what was reported is stored when it continues."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable


async def settle(result: Awaitable[object] | None) -> None:
    """Wait for what a callback returned, if it is awaitable."""
    if inspect.isawaitable(result):
        await result
