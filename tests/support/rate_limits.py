"""The Slack and Discord stand-ins with their posting rate limits enforced, for capacity benchmarks.

The plain stand-ins answer 429 only when a test queues one; these count what arrives and answer 429 the way
each platform does once a sender goes over:

* Slack, chat.postMessage: "one message per second per channel" with "short bursts >1 allowed", plus a
  workspace-wide limit Slack does not put a number on ("several hundred messages per minute"), so it is a
  parameter, off unless set (https://docs.slack.dev/apis/web-api/rate-limits, "Special Tier" and "Posting
  messages"). A refused call is HTTP 429 with ``Retry-After`` in whole seconds and is not a message.
* Discord: the per-channel bucket of ``POST /channels/{id}/messages`` (5 per 5 s, the numbers Discord sends in
  ``X-RateLimit-Limit``/``Reset-After`` for it) with honest ``X-RateLimit-Remaining``/``Reset-After`` headers, so
  discord.py waits before it is refused, and the global limit of 50 requests a second per bot
  (https://discord.com/developers/docs/topics/rate-limits).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .discord_api import DiscordStandIn, RateLimit
from .http import Fault, Recorded, Response, Route, Status
from .slack_api import SlackStandIn

__all__ = ["FixedWindow", "RateLimitedDiscord", "RateLimitedSlack", "TokenBucket"]


@dataclass
class TokenBucket:
    """``rate`` requests a second on average, up to ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = -1.0  # full at the first request
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is free (nothing is taken)."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class FixedWindow:
    """``limit`` requests per ``per`` seconds, counted from the first request of each window (Discord's buckets)."""

    limit: int
    per: float
    start: float = -math.inf
    used: int = 0

    def take(self, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining after this request, seconds until the window resets)."""
        if now >= self.start + self.per:
            self.start, self.used = now, 0
        reset_after = self.start + self.per - now
        if self.used >= self.limit:
            return False, 0, reset_after
        self.used += 1
        return True, self.limit - self.used, reset_after


@dataclass
class Limits:
    """Buckets by key, made on first use, behind one lock (the stand-ins answer on many threads)."""

    make: Callable[[], Any]
    clock: Callable[[], float] = time.monotonic
    buckets: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> Any:
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = self.make()
            return bucket.take(self.clock())


class RateLimitedSlack(SlackStandIn):
    """Slack's Web API with chat.postMessage's limits: per channel and, when ``per_workspace_minute`` is set, per
    workspace. ``refused`` lists every 429 it answered as (method, channel, retry_after)."""

    def __init__(self, *, per_channel_second: float = 1.0, channel_burst: float = 3.0,
                 per_workspace_minute: float | None = None) -> None:
        super().__init__()
        self.channel_limits = Limits(lambda: TokenBucket(per_channel_second, channel_burst))
        self.workspace_limits = (Limits(lambda: TokenBucket(per_workspace_minute / 60, per_workspace_minute / 6))
                                 if per_workspace_minute else None)
        self.refused: list[tuple[str, str, float]] = []

    def route(self, rec: Recorded) -> Route | None:
        handler = super().route(rec)
        if handler is None or rec.path.rstrip("/") != "/api/chat.postMessage":
            return handler
        channel = str(self._args(rec).get("channel", ""))
        wait = self.channel_limits.take(channel)
        if not wait and self.workspace_limits is not None:
            wait = self.workspace_limits.take(self.team_id)
        if not wait:
            return handler
        retry_after = max(1, math.ceil(wait))
        with self._state:
            self.refused.append(("chat.postMessage", channel, wait))

        def too_many(rec: Recorded, fault: Fault | None) -> Response:
            return self.error_response(rec, Status(429, {"Retry-After": str(retry_after)}))

        return too_many


_CHANNEL_MESSAGES = re.compile(r"^/api/v10/channels/(\d+)/messages/?$")


class RateLimitedDiscord(DiscordStandIn):
    """Discord's REST API with the per-channel message bucket and the global limit; ``refused`` lists each 429
    as (scope, channel or "", retry_after)."""

    def __init__(self, *, messages_per_window: int = 5, window_seconds: float = 5.0,
                 global_per_second: float = 50.0, global_burst: float | None = None) -> None:
        super().__init__()
        self.ratelimit_limit = messages_per_window
        self.window_seconds = window_seconds
        self.channel_limits = Limits(lambda: FixedWindow(messages_per_window, window_seconds))
        self.global_limits = Limits(lambda: TokenBucket(global_per_second, global_burst or global_per_second))
        self.refused: list[tuple[str, str, float]] = []
        self._headers: dict[int, tuple[int, float]] = {}  # id(rec) -> (remaining, reset_after) of its bucket
        self._refused_lock = threading.Lock()

    def route(self, rec: Recorded) -> Route | None:
        handler = super().route(rec)
        if handler is None:
            return None
        wait = self.global_limits.take("bot")
        if wait:
            return self._refuse(RateLimit(retry_after=round(wait, 3), scope="global"), "global", "")
        match = _CHANNEL_MESSAGES.match(rec.path) if rec.method == "POST" else None
        if match is None:
            return handler
        allowed, remaining, reset_after = self.channel_limits.take(match[1])
        if not allowed:
            return self._refuse(RateLimit(retry_after=round(reset_after, 3), scope="user"), "user", match[1])
        with self._refused_lock:
            self._headers[id(rec)] = (remaining, reset_after)
        return handler

    def _refuse(self, fault: RateLimit, scope: str, channel: str) -> Route:
        with self._refused_lock:
            self.refused.append((scope, channel, fault.retry_after))

        def too_many(rec: Recorded, _: Fault | None) -> Response:
            return self.error_response(rec, fault)

        return too_many

    def _ratelimit_headers(self, rec: Recorded) -> dict[str, str]:
        headers = super()._ratelimit_headers(rec)
        with self._refused_lock:
            state = self._headers.pop(id(rec), None)
        if state is not None:
            remaining, reset_after = state
            headers.update({"X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}"})
        return headers
