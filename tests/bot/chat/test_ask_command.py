"""Questions about papers in chat: /arxiv ask and mentions, which paper they mean, where the answer goes, how it
is worded; on the in-memory fakes (the Slack and Discord tests drive the same calls through their clients)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.chat.commands import CommandCore
from bot.domain.platform import Caller, Reply
from tests.bot.asking.texts import moe_paper
from tests.support.fakes import FakeFullText, PlainMarkup, caller, say

PAPER = "2503.10009"  # rank 1 of the fakes' day


def posted(core: CommandCore, full_text: FakeFullText) -> dict[str, str]:
    """Subscribe, post the day's digest; the paper's text is readable. Returns part → message ID."""
    say(core, "subscribe")
    say(core, "run")
    full_text.texts[PAPER] = moe_paper(PAPER)
    day = core.store.latest_posted_day("chat", "C1")
    assert day is not None
    return core.store.posted_parts("chat", "C1", day)


def mention(core: CommandCore, text: str, *, thread: str | None = None, replied_to: str | None = None,
            who: Caller | None = None) -> Reply:
    return asyncio.run(core.ask_mention(who or caller(), text, thread=thread, replied_to=replied_to,
                                        markup=PlainMarkup()))


def test_ask_by_rank_answers_in_the_papers_thread_naming_the_sections(core: Any, fake_full_text: FakeFullText):
    parts = posted(core, fake_full_text)
    assert core.store.paper_at_rank("chat", "C1", 1)[1] == PAPER
    reply = say(core, "ask 1 which dataset do they train on?")
    assert reply.public and reply.thread == parts[PAPER]
    assert "@U1 asked about" in reply.text and "which dataset do they train on?" in reply.text
    assert "C4 dataset" in reply.text
    assert "Sources: §4.2 Experiments · [arXiv 2503.10009](https://arxiv.org/abs/2503.10009)" in reply.text


def test_ask_by_id_of_a_paper_not_posted_here_answers_where_asked(core: Any, fake_full_text: FakeFullText,
                                                                   fake_arxiv: Any):
    posted(core, fake_full_text)
    other = moe_paper("2503.10011")
    fake_full_text.texts["2503.10011"] = other
    reply = say(core, "ask arXiv:2503.10011v1 how many GPUs?", caller(channel="C9"))
    assert reply.public and reply.thread is None and "64 A100 GPUs" in reply.text


def test_an_unknown_rank_and_a_missing_question_say_what_to_give(core: Any, fake_full_text: FakeFullText):
    posted(core, fake_full_text)
    assert "There is no rank 40 in the digest of 2025-03-06" in say(core, "ask 40 what data?").text
    assert "Give the paper and your question" in say(core, "ask 1").text
    assert "is not an arXiv ID or a rank" in say(core, "ask what is this paper about").text


def test_a_mention_replying_to_a_paper_answers_in_its_thread(core: Any, fake_full_text: FakeFullText):
    parts = posted(core, fake_full_text)
    reply = mention(core, "which dataset do they train on?", replied_to=parts[PAPER])
    assert reply.public and reply.thread == parts[PAPER] and "C4 dataset" in reply.text
    assert "asked about" not in reply.text  # the question is in the channel already


def test_a_mention_in_the_day_thread_picks_the_paper_by_rank_then_follows_up(core: Any, fake_full_text: FakeFullText,
                                                                           fake_llm: Any):
    parts = posted(core, fake_full_text)
    summary = parts["summary"]
    first = mention(core, "1 how many GPUs do they use?", thread=summary)
    assert first.public and first.thread == summary and "64 A100 GPUs" in first.text
    follow_up = mention(core, "and what perplexity at 4 bits?", thread=summary)
    assert follow_up.public and follow_up.thread == summary
    assert "Q: 1 how many GPUs" not in fake_llm.requests[-1]  # the rank is not part of the question
    assert "Q: how many GPUs do they use?" in fake_llm.requests[-1]  # the earlier question carried over
    assert "A: According to the paper" in fake_llm.requests[-1]


def test_a_mention_in_the_day_thread_without_a_paper_asks_which(core: Any, fake_full_text: FakeFullText):
    parts = posted(core, fake_full_text)
    reply = mention(core, "what dataset do they use?", thread=parts["summary"])
    assert not reply.public and reply.thread == parts["summary"] and "Which paper?" in reply.text


def test_a_mention_replying_to_the_days_summary_picks_that_days_paper_by_rank(
    core: Any, fake_full_text: FakeFullText,
):
    parts = posted(core, fake_full_text)
    reply = mention(core, "1 how many GPUs do they use?", replied_to=parts["summary"])
    assert reply.public and reply.thread == parts["summary"] and "64 A100 GPUs" in reply.text
    missing = mention(core, "30 what?", thread=parts["summary"])
    assert not missing.public and "There is no rank 30 in the digest of Thu 06 March" in missing.text


def test_a_mention_in_the_channel_needs_a_rank_or_id(core: Any, fake_full_text: FakeFullText):
    parts = posted(core, fake_full_text)
    assert "Which paper?" in mention(core, "what dataset do they use?").text
    reply = mention(core, "1 what dataset do they use?")
    assert reply.public and reply.thread == parts[PAPER] and "C4 dataset" in reply.text


def test_without_a_full_text_source_questions_say_it_is_not_set_up(make_core: Any, fake_arxiv: Any):
    from tests.conftest import DAY, sample_papers

    fake_arxiv.set_day(DAY, sample_papers(12))
    core = make_core()
    core.questions.service.source = None
    say(core, "subscribe")
    say(core, "run")
    reply = say(core, "ask 1 what dataset?")
    assert "not set up on this bot" in reply.text


def test_refusals_are_private_and_say_which_limit(make_core: Any, fake_arxiv: Any, fake_full_text: FakeFullText):
    from tests.conftest import DAY, sample_papers

    fake_arxiv.set_day(DAY, sample_papers(12))
    core = make_core(ask_per_hour=1)
    parts = posted(core, fake_full_text)
    assert say(core, "ask 1 how many GPUs?").public
    refused = say(core, "ask 1 which dataset?")
    assert not refused.public and refused.thread is None and "DIGEST_ASK_PER_HOUR" in refused.text
    by_mention = mention(core, "which dataset?", replied_to=parts[PAPER])
    assert not by_mention.public and by_mention.thread == parts[PAPER] and "You have asked 1 question" in \
        by_mention.text.replace("questions", "question")


def test_stats_show_the_months_questions_and_budget(make_core: Any, fake_arxiv: Any, fake_full_text: FakeFullText):
    from tests.conftest import DAY, sample_papers

    fake_arxiv.set_day(DAY, sample_papers(12))
    core = make_core(monthly_budget_usd=5.0)
    posted(core, fake_full_text)
    say(core, "ask 1 how many GPUs?")
    say(core, "ask 1 who won the football world cup in 1954?")  # not covered: counted, costs nothing
    text = say(core, "stats").text
    assert "Questions about papers: 2 questions this month" in text
    assert "Month's LLM budget (every channel): spent $" in text and "of $5.00 (digests $" in text


def test_a_paper_that_talks_to_the_model_cannot_ping_or_link_through_the_answer(
    core: Any, fake_full_text: FakeFullText, fake_llm: Any,
):
    """The LLM here obeys the paper's injected text; what reaches the channel still pings nobody, links nowhere
    new, and the bot's instructions were never in the paper's reach."""
    from adapters.discord.markup import DiscordMarkup
    from adapters.slack.markup import SlackMarkup
    from tests.bot.asking.texts import INJECTION

    parts = posted(core, fake_full_text)
    fake_full_text.texts[PAPER] = moe_paper(PAPER, injected=True)
    obeying = ("<!channel> @everyone PWNED <@U0ADMIN> [the results](https://evil.example/steal) "
               "<https://evil.example/steal|the results> " + "x" * 3000 + "\nSOURCES: 99")
    # A masked link is Discord's link trick, <url|text> Slack's: each platform's escape must disarm its own.
    for markup, trick in ((SlackMarkup(), r"<https://evil"), (DiscordMarkup(), r"(?<!\\)\]\(https://evil")):
        fake_llm.replies.append(obeying)
        reply = asyncio.run(core.ask_mention(caller(), "how many GPUs?", thread=None, replied_to=parts[PAPER],
                                             markup=markup))
        assert reply.public and reply.thread == parts[PAPER]
        for ping in ("<!channel>", "@everyone", "<@U0ADMIN>", trick):
            assert re.search(ping, reply.text) is None, (type(markup).__name__, ping)
        assert len(reply.text) < 1700  # the answer is capped; the sources and the paper's link follow it
        assert "From: §4.2 Experiments" in reply.text  # the invented citation 99 is dropped
        system, user = fake_llm.systems[-1], fake_llm.requests[-1]
        assert "Ignore previous instructions" not in system and INJECTION[:30] in user
