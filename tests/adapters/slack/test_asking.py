"""Questions about a paper in Slack, end to end: bolt over HTTP against the Slack stand-in, the real command core
on the fake LLM and full texts. A mention in the day's thread and ``/arxiv ask`` are answered in that thread with
the sections used; Slack's retries are answered once; refusals are shown only to the asker; garbled mention
events get a 200 and no internal text."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.slack.app import IN_THREAD, MARKUP
from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from bench.fuzz_slack import metered_logs
from bot.chat.commands import parse
from bot.domain.platform import Caller
from storage.store import Store
from tests.adapters.asking import DATASET_SENTENCE, QUESTION, AskingCore, asking_core, texts_of_sample_papers
from tests.adapters.slack.harness import CHANNEL, FIXTURES, MEMBER, SlackHarness, serve_http, text_of, until
from tests.conftest import DAY, sample_papers
from tests.support.fakes import FakeChat, FakeFullText
from tests.support.slack_api import SlackStandIn, SocketModeStandIn

BOT = "UBOT"  # the stand-in's bot user, whom the mentions name
Scenario = Callable[..., None]


@pytest.fixture
def asking(make_settings: Any, arxiv: Any, slack: SlackStandIn) -> Scenario:
    """Run ``test(harness, llm, texts)`` against the Slack app on the asking core, after the day's feed is set."""

    def run(test: Callable[[SlackHarness, FakeChat, FakeFullText], Awaitable[None]], **overrides: Any) -> None:
        arxiv.set_day(DAY, sample_papers(12))
        llm, texts = FakeChat(), texts_of_sample_papers()

        def core(settings: Any, store: Store) -> AskingCore:
            return asking_core(settings, store, llm, texts)

        async def with_fakes(h: SlackHarness) -> None:
            await test(h, llm, texts)

        serve_http(make_settings(**overrides), slack, with_fakes, core_for=core)

    return run


async def posted(h: SlackHarness) -> None:
    """The channel subscribed and today's digest posted: a summary and its thread of papers; the prefilter's
    training that follows the posting is over (its log lines are not the test's)."""
    await h.say("subscribe")
    await h.posted_digest()
    await h.core.service.retrainer.wait()


def core_of(h: SlackHarness) -> AskingCore:
    assert isinstance(h.core, AskingCore)
    return h.core


async def answered(h: SlackHarness, root: str, count: int = 1) -> list[dict[str, Any]]:
    await until(lambda: len(h.answers(root)) >= count)
    return h.answers(root)


def test_a_mention_in_the_days_thread_is_answered_there_with_the_sections_it_used(asking: Scenario) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        _, response = await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root)
        assert response.status_code == 200
        [answer] = await answered(h, root)
        shown = text_of(answer)
        assert "ImageNet-1k" in shown and "4.2 Experiments" in shown, shown
        assert answer["thread_ts"] == root  # in the day's thread, for everyone
        caller, text, thread, replied_to, reply = core_of(h).mentions[-1]
        assert (caller.channel, caller.user, text, thread, replied_to) == (CHANNEL, MEMBER, f"2 {QUESTION}", root,
                                                                           None)
        assert reply.public and f"<@{BOT}>" not in llm.requests[-1]
        # a follow-up without a rank is about the same paper, and the LLM sees the earlier question
        await h.mention(f"<@{BOT}> how many images are in it?", thread_ts=root, event_id="EvMention2")
        second = (await answered(h, root, 2))[-1]
        assert "1.28 million" in text_of(second) and second["thread_ts"] == root
        assert QUESTION in llm.requests[-1]
        assert len(texts.reads) == 1  # the paper's text was read once and kept

    asking(test)


def test_slacks_retry_of_a_mention_is_answered_once_and_bots_and_edits_not_at_all(asking: Scenario) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root, event_id="EvOnce")
        await answered(h, root)
        _, again = await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root, event_id="EvOnce", retry=1)
        assert again.status_code == 200
        await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root, event_id="EvBot", bot_id="B0OTHER")
        await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root, event_id="EvEdit",
                        edited={"user": MEMBER, "ts": root})
        asks = len(llm.requests)
        await _quiet(h)
        assert len(h.answers(root)) == 1 and len(core_of(h).mentions) == 1 and len(llm.requests) == asks

    asking(test)


def test_arxiv_ask_answers_in_the_papers_thread_and_tells_the_asker_where(asking: Scenario) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        before = len(h.slack.responses)
        llm.delays.append(1.5)  # a slow LLM: Slack's 3 s for the acknowledgement must not wait for it
        started = time.monotonic()
        response = await h.command(f"ask 2 {QUESTION}", MEMBER)
        acknowledged = time.monotonic() - started
        assert response.status_code == 200 and "Reading the paper" in response.text
        [answer] = await answered(h, root)
        assert acknowledged < 1.0 < time.monotonic() - started, acknowledged
        assert "ImageNet-1k" in text_of(answer) and answer["thread_ts"] == root
        await until(lambda: len(h.slack.responses) > before)
        note = h.slack.responses[-1]
        assert note["response_type"] == "ephemeral" and IN_THREAD in text_of(note)
        assert core_of(h).last.invocation.name == "ask"

    asking(test)


def test_a_question_over_the_hourly_limit_is_refused_only_to_the_asker_in_the_thread(asking: Scenario) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        await h.mention(f"<@{BOT}> 2 {QUESTION}", thread_ts=root, event_id="EvFirst")
        await answered(h, root)
        await h.mention(f"<@{BOT}> 2 what else?", thread_ts=root, event_id="EvSecond")
        await until(lambda: h.slack.ephemerals)
        [refusal] = h.slack.ephemerals
        assert refusal["user"] == MEMBER and refusal["thread_ts"] == root and refusal["channel"] == CHANNEL
        assert refusal["shown"]  # the day's thread exists, so Slack shows it there
        assert "hour" in text_of(refusal), text_of(refusal)
        assert len(h.answers(root)) == 1  # nothing more for everyone

    asking(test, ask_per_hour=1)


def test_a_mention_at_the_channels_top_level_naming_a_paper_is_answered_in_the_days_thread(
    asking: Scenario,
) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        # not in a thread, the paper named by an address Slack turned into a link: the core names the paper's
        # message, whose thread is the day's
        paper = h.slack.thread(CHANNEL, root)[1]
        arxiv_id = paper["metadata"]["event_payload"]["part"]
        link = f"<https://arxiv.org/abs/{arxiv_id}|arxiv.org/abs/{arxiv_id}>"
        await h.mention(f"<@{BOT}> {link} {QUESTION}")
        [answer] = await answered(h, root)
        assert DATASET_SENTENCE.split(" with ")[0] in text_of(answer) and answer["thread_ts"] == root
        assert h.slack.calls_to("conversations.replies")[-1].args["ts"] == paper["ts"]  # its root looked up
        await until(lambda: h.slack.ephemerals)
        [note] = h.slack.ephemerals  # and the asker is told where, at the top level, alone
        assert note["thread_ts"] is None and note["user"] == MEMBER and IN_THREAD in text_of(note)

    asking(test)


def test_a_mention_at_the_top_level_naming_no_paper_is_told_how_only_by_the_asker_where_they_asked(
    asking: Scenario,
) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        asks = len(llm.requests)
        await h.mention(f"<@{BOT}> hello there")
        await until(lambda: h.slack.ephemerals)
        [how] = h.slack.ephemerals
        assert how["thread_ts"] is None and how["user"] == MEMBER and how["shown"]  # not in a thread nobody opened
        assert "/arxiv ask" in text_of(how) or "rank" in text_of(how), text_of(how)
        assert len(llm.requests) == asks and h.answers(h.summary_ts()) == []

    asking(test)


def test_a_mention_over_socket_mode_in_the_recorded_envelope_is_acknowledged_and_answered(
    make_settings: Any, arxiv: Any, slack: SlackStandIn,
) -> None:
    """The same question through Socket Mode: python-slack-sdk's recorded app_mention envelope, its event
    pointed at a member's message in the day's thread."""
    arxiv.set_day(DAY, sample_papers(12))
    settings = make_settings()
    store = Store.open(settings.database_url)
    core = asking_core(settings, store, FakeChat(), texts_of_sample_papers())
    envelope = json.loads((FIXTURES / "app_mention_envelope.json").read_text(encoding="utf-8"))
    slack_settings = SlackSettings(_env_file=None, bot_token="xoxb-test", app_token="xapp-test",
                                   api_url=slack.base_url, post_interval=0)
    member = Caller("slack", slack.team_id, CHANNEL, MEMBER, _no_admin, "admins")

    async def main() -> None:
        runner = SlackRunner(core, slack_settings)
        await runner.start()
        try:
            await sockets.wait_connected_async()
            for command in ("subscribe", "run"):
                await core.execute(member, parse(command), MARKUP)
            root = str(slack.posted(CHANNEL)[0].response["ts"])
            text = f"<@{BOT}> 1 {QUESTION}"
            ts = slack.add_message(CHANNEL, MEMBER, text, thread_ts=root)
            payload = envelope["payload"]
            payload["event"] |= {"text": text, "user": MEMBER, "ts": ts, "event_ts": ts, "channel": CHANNEL,
                                 "team": slack.team_id, "thread_ts": root, "parent_user_id": slack.bot_user_id}
            payload |= {"team_id": slack.team_id, "api_app_id": slack.app_id}
            envelope_id = await asyncio.to_thread(sockets.send_envelope, "events_api", payload)
            await sockets.wait_ack_async(envelope_id)
            await until(lambda: [m for m in slack.thread(CHANNEL, root) if "ImageNet-1k" in text_of(m)])
        finally:
            await runner.stop()

    with SocketModeStandIn() as sockets:
        slack.socket_url = sockets.url
        try:
            asyncio.run(main())
        finally:
            store.close()


async def _no_admin() -> bool:
    return False


async def _quiet(h: SlackHarness) -> None:
    """Give bolt's background listeners a moment to post anything they were going to."""
    await asyncio.sleep(0.3)


# --- fuzzing -------------------------------------------------------------------------------------------------

_GARBAGE: list[Any] = [None, 0, -1, 1e308, True, [], {}, [None], {"x": 1}, "", " ", "\x00", "\ud800", "<@", "<@>",
                       "<@UBOT", "<!channel>", "<!here>", "@everyone", "%s%n", "{{7*7}}", "Traceback", "A" * 5000,
                       "1700000000.000100", "C0DIGEST", "UBOT", "\u202e", "💥" * 100]


def garbled_mentions(seed: int, count: int, root: str) -> list[dict[str, Any]]:
    """App mention events with fields missing, of the wrong type, or full of odd text; some about real papers."""
    rng = random.Random(seed)
    base = {"type": "app_mention", "user": MEMBER, "text": f"<@{BOT}> 2 {QUESTION}", "ts": "1700000001.000100",
            "channel": CHANNEL, "event_ts": "1700000001.000100", "thread_ts": root}
    events = []
    for _ in range(count):
        event: dict[str, Any] = dict(base)
        for _ in range(rng.randint(1, 4)):
            key = rng.choice([*base, "subtype", "bot_id", "edited", "blocks", "team"])
            action = rng.random()
            if action < 0.3:
                event.pop(key, None)
            elif action < 0.6:
                event[key] = rng.choice(_GARBAGE)
            else:
                words = [rng.choice(["<@UBOT>", "3", "99999", "2503.10003", "<@U0OTHER>", "¿", "ß", "\n", "dataset",
                                     "<!channel>", "@here", "```", "*bold*", "<https://x|y>"]) for _ in range(8)]
                event[key] = " ".join(words)
        events.append(event)
    return events


@pytest.mark.slow
def test_garbled_mention_events_get_200_no_traceback_no_internal_text_and_short_logs(asking: Scenario) -> None:
    async def test(h: SlackHarness, llm: FakeChat, texts: FakeFullText) -> None:
        await posted(h)
        root = h.summary_ts()
        with metered_logs() as logs:
            for n, event in enumerate(garbled_mentions(7, 120, root)):
                response = await h.event(event, f"EvFuzz{n}")
                assert response.status_code == 200, (event, response.status_code)
            await _quiet(h)
        shown = [text_of(m) for m in h.answers(root)] + [text_of(e) for e in h.slack.ephemerals]
        for text in shown:
            assert "Traceback" not in text and "Error" not in text and "Exception" not in text, text
            assert "<!channel>" not in text and "<!here>" not in text  # no broadcast ever leaves the bot
        assert logs.tracebacks == 0, logs.traceback_samples[:1]
        assert len(logs.longest) < 400, logs.longest
        assert not [c for c in h.slack.calls if not c.ok and c.method.startswith("chat.")], \
            json.dumps([c.response for c in h.slack.calls if not c.ok])[:500]

    asking(test)
