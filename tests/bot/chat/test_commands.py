"""The platform-neutral command core, on in-memory fakes of arXiv and the LLM (see conftest.py).

Posting goes to an in-memory poster here; the Slack and Discord tests drive the same core through
their real clients and stand-ins, and check only how they translate and render its replies.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import prompts
from bot.chat.commands import COMMANDS, CommandCore, parse
from bot.domain.errors import CriteriaError
from tests.conftest import DAY
from tests.support import make_paper
from tests.support.fakes import PlainMarkup, caller, say


def subscribed(core: CommandCore) -> CommandCore:
    say(core, "subscribe", caller("U1"))
    return core


def test_parse_reads_subcommands_case_insensitively():
    assert parse("") == parse("help")
    assert parse("criteria  Edit").name == "criteria edit"
    assert parse("criteria show").name == "criteria"
    assert parse("threshold 8 7").args == ("8", "7")
    assert parse("run").slow and not parse("stats").slow


def test_every_handler_is_registered_once_with_its_metadata():
    handlers = [name for name in vars(CommandCore) if name.startswith("_cmd_")]
    assert len(handlers) == len(COMMANDS) == len({command.handler for command in COMMANDS.values()})
    settings = {name for name, command in COMMANDS.items() if command.read_only_when_bare}
    assert settings == {"threshold", "categories", "schedule", "empty-days", "feedback", "follow", "weekly",
                        "language"}
    assert all(COMMANDS[name].admin for name in settings)
    slow = {name for name, command in COMMANDS.items() if command.slow}
    assert slow == {"run", "abstract", "suggest", "me", "bibtex", "criteria preview", "ask"}


def test_help_lists_every_command_and_the_reaction_map(core):
    text = say(core, "help").text
    for name in ("subscribe", "criteria edit", "threshold", "categories", "schedule", "abstract", "run", "stats"):
        assert f"/arxiv {name}" in text
    assert "👍" in text and "positive" in text


def test_an_unknown_command_says_so_and_shows_help(core):
    reply = say(core, "frobnicate")
    assert "Unknown command `frobnicate`" in reply.text and "/arxiv subscribe" in reply.text


def test_subscribing_announces_the_settings_to_the_channel_once(core):
    first = say(core, "subscribe")
    assert first.public and "subscribed this channel" in first.text and "cs.LG cs.AI" in first.text
    again = say(core, "subscribe")
    assert not again.public and "already gets the digest" in again.text


def test_commands_in_an_unsubscribed_channel_point_to_subscribe(core):
    for text in ("criteria", "threshold 8 7", "run", "stats"):
        assert "not subscribed" in say(core, text).text


def test_only_the_subscriber_or_an_admin_may_unsubscribe_and_settings_survive(core):
    subscribed(core)
    say(core, "threshold 9 9", caller("U1", admin=True))
    assert "Only the person who subscribed" in say(core, "unsubscribe", caller("U2")).text
    assert say(core, "unsubscribe", caller("U1")).public
    assert "not subscribed" in say(core, "criteria").text
    say(core, "subscribe", caller("U3"))
    assert "relevance ≥ 9" in say(core, "threshold").text


def test_a_non_admin_is_refused_every_change_but_may_read(core):
    subscribed(core)
    for text in ("criteria edit", "criteria undo", "threshold 8 7", "categories cs.CL", "schedule 10:00",
                 "empty-days on"):
        reply = say(core, text, caller("U2"))
        assert "Only workspace admins" in reply.text and not reply.public, text
    for text in ("threshold", "categories", "schedule", "empty-days"):
        assert "Only" not in say(core, text, caller("U2")).text


def test_users_in_digest_admins_may_change_settings(make_core):
    core = make_core(admins="U9, U8")
    say(core, "subscribe")
    assert say(core, "threshold 8 8", caller("U8")).public


def test_criteria_edit_opens_the_editor_with_the_current_text_and_saving_makes_a_version(core):
    subscribed(core)
    admin = caller("U1", admin=True)
    current = say(core, "criteria edit", admin).editor
    assert current == prompts.default_criteria()
    waiting = asyncio.run(core.save_criteria(admin, "Only papers about sparse attention.", PlainMarkup()))
    assert not waiting.public and "waits for you" in waiting.text  # test_criteria_preview.py: what it offers
    reply = say(core, "criteria apply", admin)
    assert reply.public and "v2" in reply.text
    assert "sparse attention" in say(core, "criteria").text
    history = say(core, "criteria history").text
    assert "v2" in history and "in force" in history and "@U1" in history
    undo = say(core, "criteria undo", admin)
    assert "v1 is back in force" in undo.text
    assert "Nothing to undo" in say(core, "criteria undo", admin).text


def test_saving_empty_oversized_or_unauthorised_criteria_is_refused_with_the_reason(core):
    subscribed(core)
    admin = caller("U1", admin=True)
    with pytest.raises(CriteriaError, match="empty"):
        asyncio.run(core.save_criteria(admin, "   \n", PlainMarkup()))
    with pytest.raises(CriteriaError, match="limit is 8000"):
        asyncio.run(core.save_criteria(admin, "x" * 8001, PlainMarkup()))
    with pytest.raises(CriteriaError, match="Only workspace admins"):
        asyncio.run(core.save_criteria(caller("U2"), "fine text", PlainMarkup()))
    assert "v1" in say(core, "criteria").text


def test_thresholds_are_validated_and_applied(core):
    subscribed(core)
    admin = caller("U1", admin=True)
    assert "two whole numbers" in say(core, "threshold 11 3", admin).text
    assert "two whole numbers" in say(core, "threshold high", admin).text
    reply = say(core, "threshold 8 5", admin)
    assert reply.public and "relevance ≥ 8" in reply.text and "was 7 and 6" in reply.text


def test_categories_are_checked_against_arxivs_taxonomy(core):
    subscribed(core)
    admin = caller("U1", admin=True)
    wrong = say(core, "categories cs.LG cs.CLL", admin)
    assert "cs.CL" in wrong.text and "Nothing was changed" in wrong.text
    assert say(core, "categories cs.CL, stat.ML", admin).public
    assert "`cs.CL stat.ML`" in say(core, "categories").text


def test_schedule_accepts_a_time_and_zone_and_explains_mistakes(core):
    subscribed(core)
    admin = caller("U1", admin=True)
    assert "09:00 America/New_York" in say(core, "schedule").text
    assert "Europe/Berlin" in say(core, "schedule 07:30 europe/berlin", admin).text
    assert "07:30 Europe/Berlin" in say(core, "schedule").text
    assert "17:00 Europe/Berlin" in say(core, "schedule 17:00", admin).text  # keeps the zone
    assert "24-hour HH:MM" in say(core, "schedule 25:00", admin).text
    assert "Did you mean Europe/Berlin" in say(core, "schedule 09:00 Europe/Berln", admin).text


def test_empty_days_toggle(core):
    subscribed(core)
    assert "off" in say(core, "empty-days").text
    assert say(core, "empty-days on", caller("U1", admin=True)).public
    assert "on" in say(core, "empty-days").text


def test_run_posts_summary_then_papers_in_rank_order_and_a_rerun_posts_nothing(core, fake_llm):
    subscribed(core)
    reply = say(core, "run")
    assert "Posted the digest of 2025-03-06" in reply.text
    kinds = [kind for _, kind, _ in core.poster.messages]
    assert kinds[0] == "summary" and kinds.count("paper") >= 2
    ranks = [content[1] for _, kind, content in core.poster.messages if kind == "paper"]
    assert ranks == sorted(ranks)
    assert all(content[0] == "m1" for _, kind, content in core.poster.messages if kind == "paper")
    requests = len(fake_llm.requests)
    assert "already in this channel" in say(core, "run").text
    assert len(core.poster.messages) == len(kinds) and len(fake_llm.requests) == requests


def test_an_interrupted_run_posts_only_the_missing_messages(core):
    subscribed(core)
    core.poster.fail_after = 2
    failed = say(core, "run")  # the requester hears it failed, with a log reference, not the exception
    assert "Sorry, that failed" in failed.text and "reference" in failed.text and "went away" not in failed.text
    assert len(core.poster.messages) == 2
    core.poster.fail_after = None
    say(core, "run")
    papers = [content[2] for _, kind, content in core.poster.messages if kind == "paper"]
    assert len(papers) == len(set(papers)) >= 2
    assert [kind for _, kind, _ in core.poster.messages].count("summary") == 1


def test_an_empty_day_posts_one_line_only_when_the_channel_asked(core, fake_arxiv):
    fake_arxiv.set_day(DAY, [])
    subscribed(core)
    assert "no new papers" in say(core, "run").text and core.poster.messages == []
    say(core, "empty-days on", caller("U1", admin=True))
    say(core, "run")
    say(core, "run")
    assert [kind for _, kind, _ in core.poster.messages] == ["text"]


def test_abstract_by_rank_by_id_and_by_lookup(core, fake_arxiv):
    subscribed(core)
    assert "no rank 1" in say(core, "abstract 1").text
    say(core, "run")
    first = next(content for _, kind, content in core.poster.messages if kind == "paper")
    assert say(core, "abstract 1").paper.arxiv_id == first[2]
    assert say(core, "abstract arXiv:2503.10003v2").paper.arxiv_id == "2503.10003"
    fake_arxiv.add_papers([make_paper("2401.00001", title="Elsewhere", abstract="Looked up from the API.")])
    looked_up = say(core, "abstract https://arxiv.org/abs/2401.00001")
    assert looked_up.paper.abstract == "Looked up from the API."
    assert "arXiv has no paper 2401.99999" in say(core, "abstract 2401.99999").text
    assert "not an arXiv ID" in say(core, "abstract banana").text


def test_reactions_on_paper_messages_are_stored_removed_and_deduplicated(core):
    subscribed(core)
    say(core, "run")
    paper_message = "m2"
    store = core.store

    def react(message: str, emoji: str, *, added: bool = True, event_id: str | None = None) -> str | None:
        return asyncio.run(core.reaction("chat", "C1", message, "U5", emoji, added=added, event_id=event_id))

    assert react(paper_message, "+1::skin-tone-3", event_id="E1") == "positive"
    assert react(paper_message, "+1", event_id="E1") is None  # re-sent
    assert react(paper_message, "eyes") == "later"
    assert react("m1", "+1") is None  # the summary
    assert react(paper_message, "pizza") is None
    assert sorted(f.kind for f in store.feedback_for("chat", "C1")) == ["later", "positive"]
    react(paper_message, "👍🏽", added=False)
    assert [f.kind for f in store.feedback_for("chat", "C1")] == ["later"]


def test_vote_buttons_toggle(core):
    subscribed(core)
    say(core, "run")
    pid = core.poster.messages[1][2][2]
    assert "Noted: 👍" in asyncio.run(core.vote(caller("U7"), pid, "positive")).text
    assert "Took back your 👍" in asyncio.run(core.vote(caller("U7"), pid, "positive")).text
    asyncio.run(core.vote(caller("U7"), pid, "negative"))
    assert [(f.kind, f.source) for f in core.store.feedback_for("chat", "C1")] == [("negative", "button")]


def test_stats_count_posts_spend_and_reactions_this_month(core, monkeypatch):
    subscribed(core)
    say(core, "run")
    asyncio.run(core.reaction("chat", "C1", "m2", "U5", "fire", added=True))

    class FixedDate(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return dt.date(2025, 3, 20)

    monkeypatch.setattr("bot.chat.commands.dt.date", FixedDate)
    posted = sum(1 for _, kind, _ in core.poster.messages if kind == "paper")
    text = say(core, "stats").text
    assert f"1 day, {posted} papers" in text and "12 of 12 announced" in text
    assert "1 positive" in text and "1 person" in text and "$" in text
    assert "per 1,000 papers)" in text  # the LLM's cost over every paper announced


def test_stats_say_what_recall_the_prefilters_cutoff_promises_and_the_setting_that_sets_it(core):
    subscription = subscribed(core).store.get_subscription("chat", "C1")
    profile = core.store.profile_by_id(subscription.profile_id)
    core.store.save_model(
        profile.id, criteria_version=profile.criteria_version, labels=400, positives=40, reactions=0, cutoff=0.3,
        metrics={"recall_bound": 0.9512}, weights=b"", train_seconds=0.1,
    )
    text = say(core, "stats").text
    assert "its cutoff keeps an estimated 95% or more of the LLM's selections" in text
    assert "(aiming at 95%, DIGEST_PREFILTER_RECALL)" in text

