"""What our plain HTTP clients of arXiv share: the User-Agent that names the bot, and reading Retry-After."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx

USER_AGENT = "arxiv-digest/0.1 (+https://github.com/arxiv-digest)"
MAX_RETRY_AFTER = 120.0


def retry_after(response: httpx.Response, cap: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at most ``cap``; None when absent or
    garbled."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    if when.tzinfo is None:  # "-0000" means UTC without saying so
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), cap)
