"""/arxiv weekly: a channel setting (everyone reads it, admins change it), and its wording."""

from __future__ import annotations

import asyncio

import pytest

from bot.chat.commands import COMMANDS, CommandCore, parse
from bot.domain.platform import Reply
from tests.support.fakes import PlainMarkup, caller


def say(core: CommandCore, text: str, admin: bool = True, user: str = "U1") -> Reply:
    return asyncio.run(core.execute(caller(user, admin=admin), parse(text), PlainMarkup()))


@pytest.fixture
def channel(core: CommandCore) -> CommandCore:
    say(core, "subscribe")
    return core


def test_weekly_is_a_setting_anyone_reads_and_admins_change(channel):
    assert COMMANDS["weekly"].read_only_when_bare
    shown = say(channel, "weekly", admin=False, user="U2")
    assert shown.text == ("The weekly roundup is off. Use `/arxiv weekly on` (Fridays at 16:00), "
                          "`/arxiv weekly on mon 09:30` or `/arxiv weekly off`.")
    refused = say(channel, "weekly on", admin=False, user="U2")
    assert "Only workspace admins" in refused.text and channel.store.get_subscription("chat", "C1").weekly_day is None


def test_weekly_on_defaults_to_friday_at_four_in_the_channels_zone(channel):
    reply = say(channel, "weekly on")
    assert reply.public
    assert reply.text == ("@U1 turned the weekly roundup on: Fridays at 16:00 America/New_York: the week's most "
                          "liked papers, the best-scored ones nobody reacted to, and the week's figures.")
    say(channel, "schedule 08:00 Europe/Berlin")
    assert say(channel, "weekly").text.startswith("The weekly roundup is on: Fridays at 16:00 Europe/Berlin.")


def test_weekly_on_takes_a_day_and_a_time_and_off_turns_it_off(channel):
    changes: list[str] = []
    channel.service.on_subscriptions_changed(lambda: changes.append("sync"))
    assert "on: Mondays at 09:30" in say(channel, "weekly on Mon 9:30").text
    sub = channel.store.get_subscription("chat", "C1")
    assert (sub.weekly_day, sub.weekly_time) == (1, "09:30")
    reply = say(channel, "weekly off")
    assert reply.text == "@U1 turned the weekly roundup off: no roundup is posted."
    assert channel.store.get_subscription("chat", "C1").weekly_day is None and changes == ["sync", "sync"]


@pytest.mark.parametrize(("text", "says"), [
    ("weekly on funday", "'funday' is not a day of the week; use one of Mon, Tue, Wed, Thu, Fri, Sat, Sun."),
    ("weekly on fri 25:00", "'25:00' is not a time of day; use 24-hour HH:MM, e.g. 09:00 or 17:30."),
    ("weekly on fri 16:00 extra", "give at most a day and a time, e.g. fri 16:00."),
    ("weekly on ²", "'²' is not a day of the week"),
])
def test_weekly_on_refuses_what_it_cannot_read_and_changes_nothing(channel, text, says):
    say(channel, "weekly on tue 10:00")
    reply = say(channel, text)
    assert says in reply.text and "Nothing was changed." in reply.text and not reply.public, reply.text
    sub = channel.store.get_subscription("chat", "C1")
    assert (sub.weekly_day, sub.weekly_time) == (2, "10:00")


@pytest.mark.parametrize("text", ["weekly maybe", "weekly off now", "weekly 16:00"])
def test_weekly_with_other_words_shows_how_to_use_it(channel, text):
    assert say(channel, text).text.startswith("Use `/arxiv weekly on` (Fridays at 16:00)")
