"""The rate-limited Slack and Discord stand-ins refuse what the platforms refuse, with the answers their real
clients act on: slack_sdk sees HTTP 429 with Retry-After, discord.py waits on the bucket's headers."""

from __future__ import annotations

import asyncio
import time

import discord
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.discord_api import CHANNEL_ID, logged_in
from tests.support.rate_limits import FixedWindow, RateLimitedDiscord, RateLimitedSlack, TokenBucket


def test_a_token_bucket_allows_its_burst_then_one_per_interval() -> None:
    bucket = TokenBucket(rate=1.0, burst=2)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1.0)  # refused, and nothing taken
    assert bucket.take(0.5) == pytest.approx(0.5)
    assert bucket.take(1.0) == 0.0


def test_a_fixed_window_counts_down_and_resets_after_its_period() -> None:
    window = FixedWindow(limit=2, per=5.0)
    assert window.take(10.0) == (True, 1, 5.0)
    assert window.take(11.0) == (True, 0, 4.0)
    assert window.take(12.0) == (False, 0, 3.0)
    assert window.take(15.0) == (True, 1, 5.0)


async def post(client: AsyncWebClient, channel: str) -> tuple[int, int | None]:
    """(HTTP status, Retry-After in whole seconds) of one chat.postMessage."""
    try:
        await client.chat_postMessage(channel=channel, text="hello")
    except SlackApiError as exc:
        return exc.response.status_code, int(exc.response.headers["retry-after"])
    return 200, None


def test_slack_refuses_a_channel_over_one_message_a_second_and_leaves_the_others_alone() -> None:
    with RateLimitedSlack(per_channel_second=0.2, channel_burst=2) as slack:  # slow refill: timing cannot matter
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)  # no retry handler: the 429 shows

        async def burst() -> list[tuple[int, int | None]]:
            return [await post(client, "C1") for _ in range(3)] + [await post(client, "C2")]

        statuses = asyncio.run(burst())
        assert [status for status, _ in statuses] == [200, 200, 429, 200]
        assert 1 <= (statuses[2][1] or 0) <= 5  # the wait for C1's next token, in whole seconds
        assert [c.args["channel"] for c in slack.posted()] == ["C1", "C1", "C2"]  # the refused one is no message
        assert [(method, channel) for method, channel, _ in slack.refused] == [("chat.postMessage", "C1")]


def test_slack_workspace_limit_refuses_across_channels_when_set() -> None:
    with RateLimitedSlack(per_workspace_minute=12) as slack:  # a burst of 2, then one every 5 s
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)

        async def spread() -> list[tuple[int, int | None]]:
            return [await post(client, f"C{i}") for i in range(3)]

        statuses = asyncio.run(spread())
        assert [status for status, _ in statuses] == [200, 200, 429]
        assert 1 <= (statuses[2][1] or 0) <= 5  # three channels, one each: only the workspace limit refuses
        assert len(slack.posted()) == 2 and len(slack.refused) == 1


def test_discord_py_waits_on_the_channel_bucket_headers_instead_of_being_refused() -> None:
    with RateLimitedDiscord(messages_per_window=2, window_seconds=0.5) as api, api.patch_discord_py():

        async def send_five() -> float:
            async with logged_in(discord.Client(intents=discord.Intents.none())) as client:
                channel = client.get_partial_messageable(CHANNEL_ID)
                started = time.monotonic()
                for n in range(5):
                    await channel.send(f"message {n}")
                return time.monotonic() - started

        took = asyncio.run(send_five())
        assert len(api.messages(CHANNEL_ID)) == 5
        assert took >= 0.9  # three windows of two: discord.py slept until each reset, as Discord's headers said
        assert api.refused == []


def test_discord_answers_the_global_limit_with_its_429_body() -> None:
    with RateLimitedDiscord(global_per_second=0.01, global_burst=2) as api:  # slow refill: timing cannot matter
        headers = {"Authorization": "Bot test-token"}
        answers = [httpx.get(f"{api.api_base}/users/@me", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["global"] is True and answers[2].headers["X-RateLimit-Global"] == "true"
    assert [scope for scope, _, _ in api.refused] == ["global"]
