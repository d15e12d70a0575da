"""Full texts per paper and version, the questions asked, their figures and the month's spend, and the posted
messages a question can be asked under; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.asks import Ask, AskFigures
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.models import Usage
from bot.domain.statuses import AskOutcome, TextSource
from storage.store import Store
from tests.storage.test_channels import profile_id

DAY = dt.date(2025, 3, 6)
NOW = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


def text(version: int, words: str = "We train on C4.") -> FullText:
    return FullText("2503.10003", version, TextSource.PDF if version == 1 else TextSource.HTML, (
        TextBlock("Abstract", "Mixture of experts with $\\alpha_t$ ∂ — “quoted”, 日本語."),
        TextBlock("4.2 Experiments", words),
        TextBlock("4.2 Experiments", "16 bits 12.1 | 4 bits 12.9", "Table 3"),
    ), "Sparse MoE", 12 if version == 1 else None)


def ask(minutes_ago: float, *, user: str = "U1", channel: str = "C1", thread: str = "m2", paper: str = "2503.10003",
        cost: float | None = 0.001, outcome: AskOutcome = AskOutcome.ANSWERED, workspace: str = "T1") -> Ask:
    return Ask("slack", workspace, channel, thread, user, paper, f"question {minutes_ago}?", f"answer {minutes_ago}.",
               ("§4.2 Experiments", "Table 3"), Usage(1200, 200, 80, 1), cost, outcome,
               NOW - dt.timedelta(minutes=minutes_ago))


def test_a_full_text_is_kept_per_version_and_the_newest_comes_back(db: Store) -> None:
    assert db.full_text("2503.10003") is None
    db.save_full_text(text(1))
    db.save_full_text(text(2))
    db.save_full_text(text(2, "Another process read it meanwhile."))  # the version kept stays as it was
    assert db.full_text("2503.10003") == text(2)
    assert db.full_text("2503.1000") is None and db.full_text_checked("2503.1000") is None


def test_reading_a_kept_version_again_only_moves_when_it_was_read(db: Store) -> None:
    db.save_full_text(text(2), read_at=NOW)
    assert db.full_text_checked("2503.10003") == NOW
    db.save_full_text(text(2, "Read again: the same version."), read_at=NOW + dt.timedelta(days=8))
    assert db.full_text_checked("2503.10003") == NOW + dt.timedelta(days=8) and db.full_text("2503.10003") == text(2)


def test_an_ask_comes_back_as_recorded(db: Store) -> None:
    recorded = ask(3, cost=None, outcome=AskOutcome.NOT_COVERED)
    number = db.record_ask(recorded)
    [back] = db.thread_asks("slack", "C1", ["m2"])
    assert back.id == number
    assert back == Ask(**{**recorded.__dict__, "id": number, "usage": back.usage})
    assert (back.usage.prompt_tokens, back.usage.cached_tokens, back.usage.completion_tokens) == (1200, 200, 80)


def test_thread_asks_are_the_newest_in_the_threads_oldest_first(db: Store) -> None:
    for minutes, thread, paper in [(50, "m2", "2503.10003"), (40, "m3", "2503.10003"), (30, "m2", "2503.10006"),
                                   (20, "m2", "2503.10003"), (10, "m9", "2503.10003")]:
        db.record_ask(ask(minutes, thread=thread, paper=paper))
    questions = [a.question for a in db.thread_asks("slack", "C1", ["m2", "m3"], arxiv_id="2503.10003")]
    assert questions == ["question 50?", "question 40?", "question 20?"]
    assert [a.question for a in db.thread_asks("slack", "C1", ["m2"], limit=1)] == ["question 20?"]
    assert db.thread_asks("slack", "C2", ["m2"]) == [] and db.thread_asks("slack", "C1", []) == []


def test_ask_times_count_a_person_or_a_channel_since_a_moment(db: Store) -> None:
    for minutes, user, channel, workspace in [(70, "U1", "C1", "T1"), (50, "U1", "C1", "T1"), (40, "U1", "C2", "T1"),
                                              (30, "U2", "C1", "T1"), (20, "U1", "C1", "T2")]:
        db.record_ask(ask(minutes, user=user, channel=channel, workspace=workspace))
    hour_ago = NOW - dt.timedelta(hours=1)
    mine = db.ask_times("slack", hour_ago, workspace="T1", user="U1")
    assert mine == [NOW - dt.timedelta(minutes=50), NOW - dt.timedelta(minutes=40)]
    assert len(db.ask_times("slack", hour_ago, channel="C1")) == 3
    assert db.ask_times("discord", hour_ago, channel="C1") == []


def test_figures_and_the_months_spend_add_runs_and_questions(db: Store) -> None:
    db.record_ask(ask(10, cost=0.002))
    db.record_ask(ask(5, cost=0.003, channel="C2"))
    db.record_ask(ask(60 * 24 * 10, cost=0.5))  # last month
    since = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert db.ask_figures(since, platform="slack", channel="C1") == AskFigures(1, 1280, pytest.approx(0.002))
    assert db.ask_figures(since).questions == 2
    run = db.start_run(profile_id(db), DAY, model="gpt-4o-mini", criteria_key="k")
    db.add_run_usage(run, Usage(100, 0, 10, 1), 0.25)
    spend = db.spend_since(since)
    assert spend.asks_usd == pytest.approx(0.005) and spend.runs_usd == pytest.approx(0.25) and not spend.unknown
    db.record_ask(ask(1, cost=None))
    assert db.spend_since(since).unknown and db.ask_figures(since, platform="slack", channel="C1").cost_usd is None


def test_the_posted_messages_a_question_can_name(db: Store) -> None:
    db.record_post("slack", "C1", DAY, "summary", "100.1")
    db.record_post("slack", "C1", DAY, "2503.10003", "100.2", arxiv_id="2503.10003", rank=1)
    db.record_post("slack", "C1", DAY, "2503.10006", "100.3", arxiv_id="2503.10006", rank=2)
    later = DAY + dt.timedelta(days=1)
    db.record_post("slack", "C1", later, "2503.10003", "200.2", arxiv_id="2503.10003", rank=4)
    assert db.posted_message("slack", "C1", "100.1") == (DAY, "summary", None)
    assert db.posted_message("slack", "C1", "100.2") == (DAY, "2503.10003", "2503.10003")
    assert db.posted_message("slack", "C2", "100.2") is None
    assert db.day_paper("slack", "C1", DAY, 2) == ("2503.10006", "100.3")
    assert db.day_paper("slack", "C1", DAY, 3) is None
    assert db.paper_messages("slack", "C1", "2503.10003") == [(later, "200.2", ""), (DAY, "100.2", "100.1")]
    assert sorted(db.day_messages("slack", "C1", DAY)) == ["100.1", "100.2", "100.3"]
