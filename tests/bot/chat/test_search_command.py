"""``/arxiv search <words>`` through the platform-neutral command core, after a real digest run (arXiv and LLM
stand-ins), and its reply in each platform's markup."""

from __future__ import annotations

import asyncio
import re

import pytest

from adapters.discord.markup import DiscordMarkup
from adapters.slack.markup import SlackMarkup
from bot.chat.commands import COMMANDS, CommandCore, parse
from tests.conftest import DAY, sample_papers
from tests.support.fakes import caller, say

ON_TOPIC = ["2503.10003", "2503.10006", "2503.10009", "2503.10012"]  # sample_papers(12): every third is MoE


@pytest.fixture
def posted(core: CommandCore) -> CommandCore:
    """A subscribed channel that got the digest of DAY."""
    say(core, "subscribe")
    assert "Posted the digest" in say(core, "run").text
    return core


def numbered(text: str) -> list[str]:
    """The arXiv IDs of the numbered result lines, in order."""
    return re.findall(r"^\d+\. .*?(\d{4}\.\d{5})\)?$", text, flags=re.MULTILINE)


def test_search_lists_matching_papers_best_first_with_day_scores_and_the_abstract_hint(posted):
    reply = say(posted, "search quantization experts")
    assert not reply.public  # an answer for the one who asked
    lines = reply.text.splitlines()
    assert lines[0] == "*Papers matching “quantization experts” in past digests*"
    assert sorted(numbered(reply.text)) == ON_TOPIC
    first = lines[1]
    assert first.startswith("1. [Sparse mixture of experts with quantization, part ")
    assert "](https://arxiv.org/abs/2503.100" in first and "Thu 2025-03-06" in first
    assert re.search(r"· R \d+ · N \d+ ·", first)
    assert lines[-1] == f"Full abstract: `/arxiv abstract {numbered(reply.text)[0]}` (any ID from the list)."


def test_search_says_plainly_when_nothing_matches_or_no_words_were_given(posted):
    assert "No paper in this channel's past digests matches “diffusion”" in say(posted, "search diffusion").text
    for text in ("search", "search - * \""):
        reply = say(posted, text)
        assert "Give words from a title, an author or an arXiv ID" in reply.text
        assert "`/arxiv search mixture of experts`" in reply.text


def test_search_words_that_look_like_query_syntax_are_searched_as_words(posted):
    for text in ('search "experts" AND', "search experts*", "search -experts", "search experts) (quantization"):
        assert sorted(numbered(say(posted, text).text)) == ON_TOPIC, text


def test_search_by_arxiv_id_finds_the_paper(posted):
    assert numbered(say(posted, "search 2503.10004").text) == ["2503.10004"]  # off topic, but in the day's feed


def test_search_shows_at_most_ten_results(core, fake_arxiv):
    fake_arxiv.set_day(DAY, sample_papers(40, relevant_every=1))
    say(core, "subscribe")
    say(core, "run")
    assert len(numbered(say(core, "search experts").text)) == 10


def test_search_needs_a_subscribed_channel_and_searches_only_its_own_digests(posted):
    assert "not subscribed" in say(posted, "search experts", caller(channel="C9")).text
    say(posted, "subscribe", caller(channel="C9"))  # a channel that has had no digest yet
    assert "No paper in this channel's past digests" in say(posted, "search experts", caller(channel="C9")).text


def test_help_lists_search_and_the_reply_is_safe_in_every_platforms_markup(posted):
    assert COMMANDS["search"].usage == "search <words>" and not parse("search x").slow
    assert "`/arxiv search <words>`: find papers in past digests" in say(posted, "help").text
    slack = posted.execute(caller(), parse("search <experts> *quantization*"), SlackMarkup())
    discord = posted.execute(caller(), parse("search [experts](quantization)"), DiscordMarkup())
    slack_text, discord_text = asyncio.run(slack).text, asyncio.run(discord).text
    assert "<https://arxiv.org/abs/2503.100" in slack_text
    assert "“&lt;experts&gt; ∗quantization∗”" in slack_text and "<experts>" not in slack_text
    assert "`/arxiv abstract 2503.100" in slack_text
    assert "](https://arxiv.org/abs/2503.100" in discord_text and "\\[experts\\](quantization)" in discord_text
    assert "`/arxiv abstract id_or_rank:2503.100" in discord_text

