"""A paper's thread on Discord through discord.py's real REST client: started from the paper's message once,
reused after Discord's 160004, and a missing permission said in words; the MESSAGE_CREATE builder's shape."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord.mentions import names_bot, replied_to, without_mention
from adapters.discord.threads import NO_THREAD_MESSAGES, NO_THREADS, ThreadRefused, post_in_thread, thread_name
from tests.support.discord_api import (
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    HAS_THREAD,
    DiscordStandIn,
    gateway_dispatch,
    logged_in,
    message_create,
    settle,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "discord"


def embeds(*texts: str) -> list[list[discord.Embed]]:
    return [[discord.Embed(description=text)] for text in texts]


def paper_message(api: DiscordStandIn) -> dict[str, Any]:
    return api.post_message(CHANNEL_ID, "", author_id=BOT_USER_ID, embeds=[{"title": "A paper", "type": "rich"}])


def test_the_thread_name_is_the_title_on_one_line_within_discords_hundred_characters() -> None:
    assert thread_name("Sparse  mixture\nof experts", "2503.1") == "Sparse mixture of experts"
    long = thread_name("word " * 60, "2503.1")
    assert len(long) <= 100 and long.endswith("…")
    assert thread_name("  ", "2503.00001") == "arXiv:2503.00001"
    assert thread_name(None, None) == "Questions about this paper"


def run(api: DiscordStandIn, test: Any) -> Any:
    async def main() -> Any:
        async with logged_in(discord.Client(intents=discord.Intents.none())) as client:
            return await test(client)

    return asyncio.run(main())


def test_the_first_answer_starts_the_thread_on_the_paper_and_the_next_reuses_it_after_160004(
    discord_api: DiscordStandIn,
) -> None:
    paper = paper_message(discord_api)
    message = int(paper["id"])

    async def test(client: discord.Client) -> None:
        assert await post_in_thread(client, GUILD_ID, CHANNEL_ID, message, "A paper", embeds("first")) == message
        assert await post_in_thread(client, GUILD_ID, CHANNEL_ID, message, "A paper", embeds("second", "third")) \
            == message

    run(discord_api, test)
    thread = discord_api.thread(message)
    assert thread is not None and thread["type"] == 11 and thread["parent_id"] == str(CHANNEL_ID)
    assert thread["name"] == "A paper" and thread["thread_metadata"]["auto_archive_duration"] == 1440
    shown = [m["embeds"][0]["description"] for m in discord_api.messages(message)]
    assert shown == ["first", "second", "third"]
    [started] = [m for m in discord_api.messages(CHANNEL_ID) if m["id"] == paper["id"]]
    assert started["flags"] & HAS_THREAD
    starts = [r for r in discord_api.requests if r.path.endswith(f"/messages/{message}/threads")]
    assert len(starts) == 2  # the second start was refused with 160004 and the answer went in the same thread
    assert [start.status for start in starts] == [201, 400]


def test_a_missing_thread_permission_is_said_in_words(discord_api: DiscordStandIn) -> None:
    message = int(paper_message(discord_api)["id"])
    discord_api.deny_threads(CHANNEL_ID)

    async def start(client: discord.Client) -> None:
        await post_in_thread(client, GUILD_ID, CHANNEL_ID, message, "A paper", embeds("answer"))

    with pytest.raises(ThreadRefused) as refused:
        run(discord_api, start)
    assert refused.value.note == NO_THREADS and "Create Public Threads" in NO_THREADS
    assert discord_api.thread(message) is None


def test_a_thread_the_bot_may_not_post_in_is_said_in_words(discord_api: DiscordStandIn) -> None:
    message = int(paper_message(discord_api)["id"])
    discord_api.deny_thread_messages(CHANNEL_ID)

    async def start(client: discord.Client) -> None:
        await post_in_thread(client, GUILD_ID, CHANNEL_ID, message, "A paper", embeds("answer"))

    with pytest.raises(ThreadRefused) as refused:
        run(discord_api, start)
    assert refused.value.note == NO_THREAD_MESSAGES and "Send Messages in Threads" in NO_THREAD_MESSAGES
    assert discord_api.messages(message) == []


def test_the_stand_in_checks_thread_names_like_discord(discord_api: DiscordStandIn) -> None:
    message = int(paper_message(discord_api)["id"])

    async def start(client: discord.Client) -> None:
        await client.http.start_thread_with_message(CHANNEL_ID, message, name="x" * 101, auto_archive_duration=60,
                                                    rate_limit_per_user=None)

    with pytest.raises(discord.HTTPException) as refused:
        run(discord_api, start)
    assert refused.value.code == 50035 and discord_api.thread(message) is None


def test_the_built_message_create_has_the_documented_shape_and_discord_py_reads_the_reply_and_mention(
    discord_api: DiscordStandIn,
) -> None:
    documented = json.loads((FIXTURES / "message_example.json").read_text(encoding="utf-8"))
    paper = paper_message(discord_api)
    body = message_create(f"<@{BOT_USER_ID}> which dataset?", mentions=(BOT_USER_ID,), reply_to=paper)
    assert set(documented) <= set(body)
    assert {"guild_id", "member", "channel_type", "message_reference", "referenced_message"} <= set(body)
    assert body["message_reference"]["type"] == 0 and body["type"] == 19
    seen: list[discord.Message] = []

    async def test(client: discord.Client) -> None:
        async def on_message(message: discord.Message) -> None:
            seen.append(message)

        client.event(on_message)
        gateway_dispatch(client, "MESSAGE_CREATE", body)
        await settle()

    run(discord_api, test)
    [message] = seen
    assert replied_to(message) == int(paper["id"]) and names_bot(message, BOT_USER_ID)
    assert without_mention(message.content, BOT_USER_ID) == "which dataset?"
