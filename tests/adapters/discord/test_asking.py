"""Questions about a paper in Discord, end to end: MESSAGE_CREATE and interactions into a logged-in DiscordBot,
every REST call answered by the Discord stand-in, the real command core on the fake LLM and full texts.

A reply to a paper's message naming the bot opens the paper's thread and answers there; a mention inside that
thread is a follow-up answered in it; ``/arxiv ask`` answers in the paper's thread too; refusals are a reply;
a missing thread permission is said; garbled messages get no internal text."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from adapters.discord.mentions import NO_TEXT
from adapters.discord.threads import NO_THREADS
from bench.fuzz_slack import metered_logs
from storage.store import Store
from tests.adapters.asking import QUESTION, AskingCore, asking_core, texts_of_sample_papers
from tests.adapters.discord.harness import MEMBER, DiscordHarness, drive, text_of
from tests.adapters.discord.test_app import posted_digest
from tests.conftest import DAY, sample_papers
from tests.support.discord_api import BOT_USER_ID, CHANNEL_ID, GUILD_ID, DiscordStandIn, command_interaction
from tests.support.fakes import FakeChat, FakeFullText

BOT = BOT_USER_ID
Scenario = Callable[..., None]


@pytest.fixture
def asking(make_settings: Any, arxiv: Any, discord_api: DiscordStandIn, discord_settings: Any) -> Scenario:
    """Run ``test(harness, llm, texts)`` against a logged-in bot on the asking core."""

    def run(test: Callable[[DiscordHarness, FakeChat, FakeFullText], Awaitable[None]], **overrides: Any) -> None:
        arxiv.set_day(DAY, sample_papers(12))
        settings = make_settings(**overrides)
        store = Store.open(settings.database_url)
        llm, texts = FakeChat(), texts_of_sample_papers()

        def core() -> AskingCore:
            return asking_core(settings, store, llm, texts)

        async def with_fakes(h: DiscordHarness) -> None:
            await test(h, llm, texts)

        try:
            asyncio.run(drive(discord_api, core, discord_settings(), with_fakes))
        finally:
            store.close()
        assert not discord_api.errors, discord_api.errors

    return run


def core_of(h: DiscordHarness) -> AskingCore:
    assert isinstance(h.core, AskingCore)
    return h.core


def sent_to(api: DiscordStandIn, channel: str) -> list[dict[str, Any]]:
    """The bodies of the bot's message requests to a channel (or thread), as sent."""
    return [r.json for r in api.requests if r.method == "POST" and r.path.endswith(f"/channels/{channel}/messages")]


def test_a_reply_naming_the_bot_opens_the_papers_thread_and_a_mention_there_is_a_follow_up(
    asking: Scenario,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[1]
        await h.say(f"<@{BOT}> {QUESTION}", reply_to=paper)
        thread = h.api.thread(paper["id"])
        assert thread is not None and thread["parent_id"] == str(CHANNEL_ID)
        arxiv_id = h.core.store.paper_of_message("discord", str(CHANNEL_ID), paper["id"])
        stored = h.core.store.get_paper(arxiv_id or "")
        assert stored is not None and thread["name"] == stored.title  # named after the paper
        [answer] = h.api.messages(paper["id"])
        shown = text_of(answer)
        assert "ImageNet-1k" in shown and "4.2 Experiments" in shown, shown
        assert all(body["allowed_mentions"] == {"parse": []} for body in sent_to(h.api, paper["id"]))
        caller, text, in_thread, replied_to, reply = core_of(h).mentions[-1]
        assert (caller.channel, caller.user, text, in_thread, replied_to) == (
            str(CHANNEL_ID), str(MEMBER), QUESTION, None, paper["id"])
        # the follow-up, written inside the thread (the bot learns the thread's parent from Discord)
        question = await h.say(f"<@{BOT}> how many images are in it?", thread=paper["id"])
        caller, text, in_thread, replied_to, reply = core_of(h).mentions[-1]
        assert reply.public and text == "how many images are in it?"
        assert (caller.channel, in_thread, replied_to) == (str(CHANNEL_ID), paper["id"], None)
        follow_up = h.api.messages(paper["id"])[-1]
        assert "1.28 million" in text_of(follow_up) and follow_up["author"]["id"] == str(BOT)
        assert QUESTION in llm.requests[-1] and len(texts.reads) == 1
        [body] = sent_to(h.api, paper["id"])[-1:]
        assert body["message_reference"]["message_id"] == int(question["id"])  # under the question, in the thread
        assert body["allowed_mentions"] == {"parse": [], "replied_user": False}

    asking(test)


def test_a_mention_in_the_channel_naming_a_rank_is_answered_in_the_papers_thread_with_a_link_here(
    asking: Scenario,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        question = await h.say(f"<@{BOT}> 1 {QUESTION}")
        paper = h.papers()[0]
        [answer] = h.api.messages(paper["id"])
        assert "ImageNet-1k" in text_of(answer)
        [note] = [b for b in sent_to(h.api, str(CHANNEL_ID)) if b.get("message_reference")]
        assert note["message_reference"]["message_id"] == int(question["id"])
        assert f"https://discord.com/channels/{GUILD_ID}/{paper['id']}" in note["embeds"][0]["description"]

    asking(test)


def test_a_thread_members_already_started_on_the_paper_gets_the_answer(asking: Scenario) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[0]
        async with httpx.AsyncClient() as member:  # someone opened a thread on the paper before asking
            started = await member.post(f"{h.api.api_base}/channels/{CHANNEL_ID}/messages/{paper['id']}/threads",
                                        json={"name": "Our notes"}, headers={"Authorization": "Bot member"})
        assert started.status_code == 201
        await h.say(f"<@{BOT}> {QUESTION}", reply_to=paper)
        thread = h.api.thread(paper["id"])
        assert thread is not None and thread["name"] == "Our notes"  # theirs, kept: Discord said 160004
        [answer] = h.api.messages(paper["id"])
        assert "ImageNet-1k" in text_of(answer)

    asking(test)


def test_a_reply_ping_without_the_written_mention_is_left_to_the_people(asking: Scenario) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[0]
        asks = len(llm.requests)
        await h.say("I liked this one", reply_to=paper)  # Discord lists the bot as mentioned: the reply ping
        await h.say(f"<@{BOT}> {QUESTION}", mentions=())  # the text names the bot, Discord's mentions do not
        assert h.api.thread(paper["id"]) is None and core_of(h).mentions == [] and len(llm.requests) == asks

    asking(test)


def test_arxiv_ask_answers_in_the_papers_thread_and_links_it_privately(asking: Scenario) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        answer = await h.command("ask", user=MEMBER, id_or_rank="2", question=QUESTION)
        assert answer.kind == 5 and answer.ephemeral  # deferred privately: reading a paper takes a while
        assert core_of(h).last.invocation.args == ("2", *QUESTION.split())
        [thread] = [h.api.thread(p["id"]) for p in h.papers() if h.api.thread(p["id"])]
        assert "ImageNet-1k" in text_of(h.api.messages(thread["id"])[0])
        assert f"https://discord.com/channels/{GUILD_ID}/{thread['id']}" in answer.text  # the link, privately

    asking(test)


def test_arxiv_ask_inside_the_papers_thread_reads_ranks_of_its_channel_and_answers_in_that_thread(
    asking: Scenario,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[0]
        await h.say(f"<@{BOT}> {QUESTION}", reply_to=paper)  # opens the paper's thread
        thread = h.api.thread(paper["id"])
        assert thread is not None
        payload = command_interaction("arxiv", "ask", options={"id_or_rank": "1", "question": "how many images?"},
                                      user_id=MEMBER, channel_id=int(thread["id"]))
        payload["channel"] = thread  # Discord sends the thread itself: type 11 with its parent_id
        answer = await h.dispatch(payload)
        assert core_of(h).last.caller.channel == str(CHANNEL_ID)  # the channel the digest is in
        assert "1.28 million" in text_of(h.api.messages(thread["id"])[-1])
        assert f"/{thread['id']}" in answer.text and answer.ephemeral

    asking(test)


def test_a_question_over_the_hourly_limit_is_refused_in_a_reply_and_nothing_is_posted_for_everyone(
    asking: Scenario,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[1]
        await h.say(f"<@{BOT}> {QUESTION}", reply_to=paper)
        question = await h.say(f"<@{BOT}> and the model size?", reply_to=paper)
        assert len(h.api.messages(paper["id"])) == 1  # the first answer only
        [refusal] = [b for b in sent_to(h.api, str(CHANNEL_ID)) if b.get("message_reference")]
        assert refusal["message_reference"]["message_id"] == int(question["id"])
        assert "hour" in refusal["embeds"][0]["description"]

    asking(test, ask_per_hour=1)


def test_without_create_public_threads_the_answer_is_a_reply_that_says_which_permission(
    asking: Scenario, discord_api: DiscordStandIn,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        h.api.deny_threads(CHANNEL_ID)
        paper = h.papers()[0]
        question = await h.say(f"<@{BOT}> {QUESTION}", reply_to=paper)
        [reply] = [b for b in sent_to(h.api, str(CHANNEL_ID)) if b.get("message_reference")]
        shown = "\n".join(e["description"] for e in reply["embeds"])
        assert reply["message_reference"]["message_id"] == int(question["id"])
        assert NO_THREADS.split(",")[0] in shown and "ImageNet-1k" in shown

    asking(test)


def test_a_mention_whose_text_discord_withheld_is_told_which_intent_it_needs(asking: Scenario) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        paper = h.papers()[0]
        await h.say("", reply_to=paper)
        [reply] = [b for b in sent_to(h.api, str(CHANNEL_ID)) if b.get("message_reference")]
        assert reply["embeds"][0]["description"] == NO_TEXT and "Message Content intent" in NO_TEXT
        assert core_of(h).mentions == []

    asking(test)


def test_a_question_in_a_channel_the_bot_cannot_see_is_left_alone_with_one_log_line(
    asking: Scenario, caplog: pytest.LogCaptureFixture,
) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        h.api.auto_channels = False  # Discord answers 404 Unknown Channel for it
        with caplog.at_level(logging.INFO):
            await h.say(f"<@{BOT}> 1 {QUESTION}", thread="4" * 18)
        assert core_of(h).mentions == [] and "cannot see" in caplog.text and "Traceback" not in caplog.text

    asking(test)


# --- fuzzing -------------------------------------------------------------------------------------------------

_ODD = ["", " ", "\u0000", "\ud800", "<@", f"<@{BOT}", f"<@!{BOT}>", "<@&1>", "@everyone", "@here", "```",
        "A" * 2500, "💥" * 300, "3", "0", "99999", "2503.10003", "\u202e", "{{7*7}}", "%s", "\n\n"]


def garbled_messages(seed: int, count: int, papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MESSAGE_CREATE bodies Discord could send: odd text, mentions or not, replies to papers, to unknown messages
    or across channels, inside a paper's thread, an unknown thread or none."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        words = [rng.choice([*_ODD, f"<@{BOT}>", "dataset", "which"]) for _ in range(rng.randint(0, 6))]
        paper = rng.choice(papers)
        found.append({
            "content": " ".join(words),
            "mentions": rng.choice([(BOT,), (), (BOT, MEMBER)]),
            "reply_to": rng.choice([None, paper, paper | {"id": "1" * 18}, paper | {"channel_id": "2" * 18}]),
            "thread": rng.choice([None, None, paper["id"], "3" * 18]),
        })
    return found


@pytest.mark.slow
def test_garbled_messages_get_no_traceback_no_internal_text_and_no_ping(asking: Scenario) -> None:
    async def test(h: DiscordHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted_digest(h)
        with metered_logs() as logs:
            for message in garbled_messages(11, 80, h.papers()):
                await h.say(message["content"], mentions=message["mentions"], reply_to=message["reply_to"],
                            thread=message["thread"])
        bodies = [r.json for r in h.api.requests if r.method == "POST" and r.path.endswith("/messages")
                  and isinstance(r.json, dict) and (r.json.get("message_reference") or r.json.get("allowed_mentions"))]
        for body in bodies:
            shown = json.dumps(body.get("embeds"), ensure_ascii=False)
            assert "Traceback" not in shown and "Exception" not in shown, shown[:300]
            assert body["allowed_mentions"]["parse"] == []  # nothing the bot writes pings anyone
        assert logs.tracebacks == 0, logs.traceback_samples[:1]
        assert len(logs.longest) < 400, logs.longest

    asking(test)
