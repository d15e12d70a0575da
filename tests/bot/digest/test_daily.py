"""Which days a channel is owed and how each gets posted: arXiv's calendar, late feeds, catch-up
through the arXiv API, holidays. The clock is an argument; arXiv and the LLM are in-memory fakes."""

from __future__ import annotations

import datetime as dt

from tests.bot.conftest import FRI, MON, THU, TUE, WED, berlin, papers_of
from tests.conftest import sample_papers


def test_a_new_channel_gets_the_days_announcement_at_its_time_and_only_once(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(9))
    outcome = w.run(berlin(THU))
    assert [r.status for r in outcome.results] == ["posted"] and outcome.retry_at is None
    assert w.summaries() == [THU] and w.posted_papers()
    assert outcome.results[0].posted == 1 + len(w.posted_papers())
    assert w.store.get_run(w.sub.profile_id, THU).status == "posted"
    before = len(w.poster.messages)
    assert w.run(berlin(THU, 9, 5)).results == [] and w.run(berlin(THU, 22)).results == []
    assert len(w.poster.messages) == before


def test_before_its_time_a_channel_is_owed_the_previous_day(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(WED, sample_papers(6))
    # 08:59 Thursday in Berlin: Thursday's 09:00 has not come, so the due day is Wednesday's.
    assert w.daily.calendar.latest_mailing(w.daily.last_fire(w.sub, berlin(THU, 8, 59))) == WED
    assert [r.date for r in w.run(berlin(THU, 8, 59)).results] == [WED]


def test_saturday_has_no_run_because_friday_evening_announces_nothing(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(FRI, sample_papers(6))
    w.run(berlin(FRI))
    reads, messages = w.rss_reads(), len(w.poster.messages)
    for day in (dt.date(2025, 3, 8), dt.date(2025, 3, 9)):  # Saturday and Sunday mornings
        assert w.run(berlin(day)).results == []
    assert w.rss_reads() == reads and len(w.poster.messages) == messages


def test_a_holiday_posts_the_configured_line_once(world, fake_arxiv):
    w = world(arxiv_holidays=[WED], holiday_message="No arXiv today ({evening:%a %d %b}); back on {date:%a}.")
    fake_arxiv.set_day(WED, sample_papers(6))
    w.run(berlin(WED))
    outcome = w.run(berlin(THU))  # Wednesday evening was a holiday: no Thursday mailing
    assert [r.status for r in outcome.results] == ["holiday"]
    assert w.texts() == ["No arXiv today (Wed 05 Mar); back on Thu."]
    w.run(berlin(THU, 12))
    assert len(w.texts()) == 1


def test_an_empty_holiday_message_keeps_the_channel_quiet(world, fake_arxiv):
    w = world(arxiv_holidays=[WED], holiday_message="")
    fake_arxiv.set_day(WED, sample_papers(3))
    w.run(berlin(WED))
    assert [r.status for r in w.run(berlin(THU)).results] == ["holiday"] and w.texts() == []


def test_catch_up_after_two_missed_days_posts_both_in_order_once(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(MON, papers_of(MON, 3, start=1))
    w.run(berlin(MON))
    # The bot is down Tuesday and Wednesday; the API knows those days, the feed now carries Thursday.
    fake_arxiv.add_papers(papers_of(TUE, 6, start=100) + papers_of(WED, 6, start=200))
    fake_arxiv.set_day(THU, papers_of(THU, 3, start=300))
    outcome = w.run(berlin(THU))
    assert [(r.date, r.status) for r in outcome.results] == [(TUE, "posted"), (WED, "posted"), (THU, "posted")]
    assert w.summaries() == [MON, TUE, WED, THU]
    tue, wed = w.store.load_announcement("cs.AI+cs.LG", TUE), w.store.load_announcement("cs.AI+cs.LG", WED)
    assert {p.arxiv_id for p in tue.papers} == {f"2503.{10000 + i}" for i in range(100, 106)}
    assert {p.arxiv_id for p in wed.papers} == {f"2503.{10000 + i}" for i in range(200, 206)}
    assert len(w.posted_papers()) == len(set(w.posted_papers()))  # nothing twice
    messages = len(w.poster.messages)
    assert w.run(berlin(THU, 10)).results == [] and len(w.poster.messages) == messages


def test_catch_up_is_bounded_and_says_what_it_skipped(world, fake_arxiv):
    w = world(catchup_days=1)
    fake_arxiv.set_day(MON, papers_of(MON, 3, start=1))
    w.run(berlin(MON))
    fake_arxiv.add_papers(papers_of(TUE, 3, start=100) + papers_of(WED, 3, start=200))
    fake_arxiv.set_day(THU, papers_of(THU, 3, start=300))
    assert [r.date for r in w.run(berlin(THU)).results] == [WED, THU]
    assert w.store.get_run(w.sub.profile_id, TUE).status == "skipped"


def test_a_day_rebuilt_from_the_api_leaves_out_papers_a_later_day_carries(world, fake_arxiv):
    """An announcement that did not happen (an unlisted holiday) moves its papers to the next day."""
    w = world()
    fake_arxiv.set_day(MON, papers_of(MON, 3, start=1))
    w.run(berlin(MON))
    moved = papers_of(TUE, 3, start=100)
    fake_arxiv.add_papers(moved)
    fake_arxiv.set_day(WED, moved + papers_of(WED, 3, start=200))  # Tuesday's papers arrive with Wednesday's
    outcome = w.run(berlin(WED))
    assert [(r.date, r.status) for r in outcome.results] == [(TUE, "skipped"), (WED, "posted")]
    assert w.summaries() == [MON, WED]


def test_a_stale_feed_is_read_again_and_after_the_deadline_one_line_says_so(world, fake_arxiv):
    w = world(feed_retry_minutes=30, feed_deadline_hours=3)
    fake_arxiv.set_day(WED, papers_of(WED, 3, start=1))
    w.run(berlin(WED))
    # Thursday 09:00: arXiv's feed still shows Wednesday.
    outcome = w.run(berlin(THU))
    assert [r.status for r in outcome.results] == ["waiting"]
    assert outcome.retry_at == berlin(THU, 9, 30)
    outcome = w.run(berlin(THU, 11, 45))
    assert outcome.retry_at == berlin(THU, 12) + dt.timedelta(seconds=1)  # not past the deadline
    outcome = w.run(berlin(THU, 12, 1))
    assert [r.status for r in outcome.results] == ["late"] and outcome.retry_at is None
    assert len(w.texts()) == 1 and "has not published the announcement of Thu 2025-03-06" in w.texts()[0]
    w.run(berlin(THU, 15))
    assert len(w.texts()) == 1  # said once
    # Friday: Thursday comes from the API, then Friday's feed; both posted, in order.
    fake_arxiv.add_papers(papers_of(THU, 3, start=100))
    fake_arxiv.set_day(FRI, papers_of(FRI, 3, start=200))
    assert [(r.date, r.status) for r in w.run(berlin(FRI)).results] == [(THU, "posted"), (FRI, "posted")]
    assert w.summaries() == [WED, THU, FRI]


def test_an_empty_feed_on_an_announcement_day_waits_then_posts_one_line(world, fake_arxiv):
    w = world(feed_deadline_hours=2)
    fake_arxiv.set_day(THU, [])
    assert [r.status for r in w.run(berlin(THU)).results] == ["waiting"]
    assert w.store.load_announcement("cs.AI+cs.LG", THU) is None  # an empty read is not remembered
    fake_arxiv.set_day(THU, sample_papers(3))
    assert [r.status for r in w.run(berlin(THU, 9, 30)).results] == ["posted"]  # it appeared: posted

    other = world(feed_deadline_hours=2)  # a database of its own
    fake_arxiv.set_day(FRI, [])
    assert [r.status for r in other.run(berlin(FRI, 11, 1)).results] == ["late"]
    assert "has no new papers dated Fri 2025-03-07" in other.texts()[0]
    assert other.run(berlin(FRI, 12)).results == []  # the empty day is settled


def test_an_unreachable_feed_is_retried_later_and_nothing_is_lost(world, fake_arxiv):
    w = world(fetch_retries=0, feed_retry_minutes=15)
    fake_arxiv.set_day(THU, sample_papers(6))
    fake_arxiv.failures = 1  # a 503 with no retries left
    outcome = w.run(berlin(THU))
    assert [r.status for r in outcome.results] == ["failed"] and outcome.retry_at == berlin(THU, 9, 15)
    assert "try again" in outcome.results[0].message
    assert [r.status for r in w.run(berlin(THU, 9, 15)).results] == ["posted"]


def test_a_run_held_by_another_process_is_left_to_it_and_retried(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(6))
    with w.store.run_lock(w.sub.profile_id, THU) as held:
        assert held
        outcome = w.run(berlin(THU))
    assert [r.status for r in outcome.results] == ["busy"] and outcome.retry_at == berlin(THU, 9, 2)
    assert w.poster.messages == []
    assert [r.status for r in w.run(berlin(THU, 9, 2)).results] == ["posted"]


def test_a_days_spend_is_stored_reply_by_reply(world, fake_arxiv, fake_llm):
    w = world(batch_size=2, concurrency=1)
    fake_arxiv.set_day(THU, sample_papers(6))
    w.run(berlin(THU))
    run = w.store.get_run(w.sub.profile_id, THU)
    assert run.requests == len(fake_llm.requests) == 3 and run.prompt_tokens > 0 and run.attempts == 1
    assert run.owner and run.heartbeat_at is not None
