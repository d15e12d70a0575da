"""The weekly roundup on the fakes: which week is due, what it holds, and that it is posted once per channel and
ISO week however often (and by however many processes) it is asked for."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from bot.digest.weekly import WeeklyResult, WeeklyRoundups, last_weekly_fire
from bot.domain.weekly import Roundup, WeekFigures, WeekPaper, assemble, parse_weekly, week_of
from tests.bot.conftest import BERLIN, FRI, THU, WED, World, berlin
from tests.bot.digest.test_two_schedulers import SharedChannel
from tests.conftest import sample_papers

FIGURES = WeekFigures(read=900, scored=300, posted=4, reactions=5, cost_usd=0.12)


def paper(n: int, relevance: int | None, positive: int = 0, negative: int = 0, later: int = 0) -> WeekPaper:
    return WeekPaper(f"2503.{n:05d}", f"Paper {n}", WED, relevance, None if relevance is None else 6,
                     positive, negative, positive + negative + later)


def test_the_liked_list_orders_by_likes_minus_dislikes_then_score_and_the_quiet_list_by_score():
    papers = [paper(1, 9, positive=1), paper(2, 7, positive=3, negative=1), paper(3, 10, positive=2),
              paper(4, 10), paper(5, 8), paper(6, 9, later=1), paper(7, None), paper(8, 6, negative=2)]
    roundup = assemble(WED, FRI, papers, FIGURES)
    assert [p.arxiv_id[-1] for p in roundup.reacted] == ["3", "2", "1", "8"]  # net 2 (R10), 2 (R7), 1, -2
    assert [p.arxiv_id[-1] for p in roundup.unnoticed] == ["4", "5", "7"]  # a 👀 is a reaction too
    assert not roundup.empty and roundup.week == dt.date(2025, 3, 3)


def test_each_list_shows_at_most_five():
    roundup = assemble(WED, FRI, [paper(n, n % 10, positive=n % 3) for n in range(1, 30)], FIGURES)
    assert len(roundup.reacted) == len(roundup.unnoticed) == 5


@pytest.mark.parametrize(("words", "expected"), [
    ((), (5, dt.time(16))), (("mon",), (1, dt.time(16))), (("08:30",), (5, dt.time(8, 30))),
    (("Sunday", "7:05"), (7, dt.time(7, 5))), (("18:00", "tu"), (2, dt.time(18))),
])
def test_weekly_on_takes_a_day_and_a_time_in_either_order(words, expected):
    assert parse_weekly(words) == expected


@pytest.mark.parametrize("words", [("t",), ("funday",), ("fri", "25:00"), ("fri", "16:00", "x"), ("s",)])
def test_weekly_on_refuses_what_is_not_a_day_or_a_time(words):
    with pytest.raises(ValueError):
        parse_weekly(words)


def test_the_due_roundup_is_the_latest_scheduled_one_in_the_channels_zone(world):
    w = world()
    sub = replace(w.sub, weekly_day=5, weekly_time="16:00")
    assert last_weekly_fire(sub, berlin(FRI, 16), BERLIN) == berlin(FRI, 16)
    assert last_weekly_fire(sub, berlin(FRI, 15, 59), BERLIN) == berlin(FRI - dt.timedelta(days=7), 16)
    assert last_weekly_fire(sub, berlin(THU + dt.timedelta(days=3), 9), BERLIN) == berlin(FRI, 16)
    assert last_weekly_fire(replace(sub, weekly_day=None), berlin(FRI, 17), BERLIN) is None
    assert week_of(FRI) == week_of(dt.date(2025, 3, 9)) == dt.date(2025, 3, 3)


def posted_week(w: World, fake_arxiv) -> None:
    """Wednesday's and Thursday's digests, and the channel's reactions to two of their papers."""
    fake_arxiv.set_day(WED, sample_papers(6, start=1))
    fake_arxiv.set_day(THU, sample_papers(6, start=10))
    w.run(berlin(WED))
    w.run(berlin(THU))
    liked, disliked = w.posted_papers()[:2]
    for user in ("U1", "U2"):
        w.store.add_feedback("chat", "C1", user, liked, kind="positive", emoji="👍", source="reaction")
    w.store.add_feedback("chat", "C1", "U1", disliked, kind="negative", emoji="👎", source="reaction")


def weekly_on(w: World, **values) -> WeeklyRoundups:
    w.sub = w.store.update_subscription("chat", "C1", weekly_day=5, **values)
    return WeeklyRoundups(w.daily.service)


def roundups(w: World) -> list[Roundup]:
    return [content for _, kind, content in w.poster.messages if kind == "weekly"]


def test_the_roundup_holds_the_weeks_papers_reactions_and_figures_and_is_posted_once(world, fake_arxiv):
    w = world()
    posted_week(w, fake_arxiv)
    weekly = weekly_on(w)
    first = asyncio.run(weekly.post_due(w.sub, berlin(FRI, 16, 1)))
    again = asyncio.run(weekly.post_due(w.sub, berlin(FRI, 18)))  # a retry, or the restart's catch-up
    assert (first.status, first.posted, again.status, again.posted) == ("posted", 1, "already", 0)
    [roundup] = roundups(w)
    posted = w.posted_papers()
    assert (roundup.first, roundup.last) == (dt.date(2025, 3, 1), FRI)
    assert [p.arxiv_id for p in roundup.reacted] == posted[:2] and roundup.reacted[0].net == 2
    assert [p.arxiv_id for p in roundup.unnoticed] == sorted(
        posted[2:], key=lambda i: -next(p.score for p in weekly.roundup(w.sub, FRI).unnoticed if p.arxiv_id == i))
    figures = roundup.figures
    assert (figures.posted, figures.reactions, figures.read) == (len(posted), 3, 12)
    assert figures.cost_usd is not None and figures.cost_usd > 0
    assert w.store.weekly_message("chat", "C1", dt.date(2025, 3, 3)) is not None


def test_two_services_asked_at_once_post_the_roundup_once(world, fake_arxiv):
    w = world()
    posted_week(w, fake_arxiv)
    weekly_on(w)
    channel = SharedChannel()
    barrier = threading.Barrier(2)

    def process() -> WeeklyResult:
        return w.as_another_process(channel, barrier,
                                    lambda service: WeeklyRoundups(service).post_due(w.sub, berlin(FRI, 16)))

    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(process) for _ in range(2)]]
    assert [kind for _, kind, _ in channel.messages] == ["weekly"]
    assert sorted(r.status for r in results) in (["already", "posted"], ["busy", "posted"])


def test_a_failed_post_leaves_the_week_to_the_next_attempt(world, fake_arxiv):
    w = world()
    posted_week(w, fake_arxiv)
    weekly = weekly_on(w)
    w.poster.fail_after = len(w.poster.messages)
    with pytest.raises(ConnectionError):
        asyncio.run(weekly.post_due(w.sub, berlin(FRI, 16)))
    w.poster.fail_after = None
    assert asyncio.run(weekly.post_due(w.sub, berlin(FRI, 16, 5))).status == "posted"
    assert len(roundups(w)) == 1


def test_a_week_without_papers_is_one_line_with_empty_days_on_else_silent(world):
    w = world()
    weekly = weekly_on(w)
    quiet = asyncio.run(weekly.post_due(w.sub, berlin(FRI, 16)))
    assert (quiet.status, quiet.posted, roundups(w)) == ("empty", 0, [])
    weekly = weekly_on(w, post_empty_days=True)
    said = asyncio.run(weekly.post_due(w.sub, berlin(FRI, 16)))
    assert (said.status, said.posted) == ("empty", 1)
    [roundup] = roundups(w)
    assert roundup.empty
    assert asyncio.run(weekly.post_due(w.sub, berlin(FRI, 17))).posted == 0


def test_a_channel_with_the_roundup_off_gets_none(world):
    w = world()
    result = asyncio.run(WeeklyRoundups(w.daily.service).post_due(w.sub, berlin(FRI, 16)))
    assert (result.posted, w.poster.messages) == (0, [])
