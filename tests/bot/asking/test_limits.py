"""Who may ask how often and the month's budget, counted from what the database holds (so every process agrees)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.asking.limits import refusal
from bot.digest.budget import month_left, month_start, next_month, run_budget
from bot.domain.asks import Ask
from bot.domain.errors import BudgetError
from bot.domain.models import Usage
from bot.domain.settings import Settings
from storage.store import Store
from tests.support.fakes import fake_settings

NOW = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(fresh_database: Callable[[], str]) -> Iterator[Store]:
    opened = Store.open(fresh_database())
    yield opened
    opened.close()


def settings_for(store: Store, **overrides: Any) -> Settings:
    return fake_settings(str(store.engine.url), **overrides)


def asked(store: Store, minutes_ago: float, *, user: str = "U1", channel: str = "C1", workspace: str = "T1",
          cost: float | None = 0.0, now: dt.datetime = NOW) -> None:
    store.record_ask(Ask("chat", workspace, channel, "m2", user, "2503.10003", "q?", "a.", usage=Usage(100, 0, 10, 1),
                         cost_usd=cost, created_at=now - dt.timedelta(minutes=minutes_ago)))


def why(store: Store, settings: Settings, user: str = "U1", channel: str = "C1", workspace: str = "T1",
        now: dt.datetime = NOW) -> str | None:
    return refusal(settings, store, "chat", workspace, channel, user, now)


def test_a_person_may_ask_per_hour_what_the_setting_allows_and_learns_when_again(store: Store) -> None:
    settings = settings_for(store, ask_per_hour=3)
    asked(store, 61)  # left the hour
    for minutes in (50, 20):
        asked(store, minutes)
    assert why(store, settings) is None
    asked(store, 5)
    said = why(store, settings)
    assert said is not None and "You have asked 3 questions in the last hour" in said and "DIGEST_ASK_PER_HOUR" in said
    assert "at 12:10 UTC (in 10 minutes)" in said  # when the one asked 50 minutes ago leaves the hour
    assert why(store, settings, user="U2") is None  # someone else may
    assert why(store, settings, workspace="T2") is None  # the same user ID in another workspace is someone else


def test_a_channel_may_ask_per_hour_what_its_setting_allows(store: Store) -> None:
    settings = settings_for(store, ask_per_hour=5, ask_channel_per_hour=4)
    for n in range(4):
        asked(store, 59 - n, user=f"U{n}")
    said = why(store, settings, user="U9")
    assert said is not None and "This channel has asked 4 questions" in said
    assert "DIGEST_ASK_CHANNEL_PER_HOUR" in said and "at 12:01 UTC (in 1 minute)" in said
    assert why(store, settings, user="U9", channel="C2") is None


@pytest.mark.parametrize("setting", ["ask_per_hour", "ask_channel_per_hour"])
def test_zero_per_hour_turns_asking_off_and_says_so(store: Store, setting: str) -> None:
    said = why(store, settings_for(store, **{setting: 0}))
    assert said is not None and "turned off" in said and f"DIGEST_{setting.upper()} is 0" in said


def test_the_monthly_budget_counts_digests_and_questions_and_refuses_once_spent(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    profile = store.ensure_profile("chat:C1", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None,
                                   default_criteria="x")
    run = store.start_run(profile.id, now.date(), model="gpt-4o-mini", criteria_key="k")
    store.add_run_usage(run, Usage(1000, 0, 100, 1), 0.60)  # the month's digests
    asked(store, 10, cost=0.30, now=now)
    settings = settings_for(store, monthly_budget_usd=1.0)
    assert month_left(settings, store, now) == pytest.approx(0.10)
    assert why(store, settings, now=now) is None
    asked(store, 5, cost=0.10, now=now)
    said = why(store, settings, now=now)
    assert said is not None and "This month's LLM budget ($1.00, digests and questions together) is spent" in said
    assert f"until {next_month(now):%-d %B} (UTC)" in said
    # The run's budget is what is left of the month when that is less than DIGEST_MAX_COST_USD.
    assert run_budget(settings_for(store, monthly_budget_usd=1.5, max_cost_usd=2.0), store, run, now).usd \
        == pytest.approx(0.5)
    limit = run_budget(settings_for(store, monthly_budget_usd=5.0, max_cost_usd=2.0), store, run, now)
    assert limit is not None and limit.usd == pytest.approx(1.4) and limit.name == "DIGEST_MAX_COST_USD"
    # Next month, all of it is free again.
    assert why(store, settings, now=next_month(now)) is None and month_left(settings, store, next_month(now)) == 1.0


def test_the_month_is_the_utc_calendar_month(store: Store) -> None:
    settings = settings_for(store, monthly_budget_usd=0.5)
    first = dt.datetime(2025, 4, 1, 0, 0, 30, tzinfo=dt.UTC)
    asked(store, 1, cost=0.5, now=first)  # 31 March, 23:59:30 UTC: March's money
    assert why(store, settings, now=first) is None
    assert why(store, settings, now=dt.datetime(2025, 3, 31, 23, 59, 59, tzinfo=dt.UTC)) is not None
    berlin = dt.timezone(dt.timedelta(hours=2))
    assert month_start(dt.datetime(2025, 4, 1, 1, 0, tzinfo=berlin)) == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert next_month(dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_a_monthly_budget_without_a_price_for_the_model_cannot_be_kept(store: Store) -> None:
    with pytest.raises(BudgetError, match="DIGEST_MONTHLY_BUDGET_USD is set but no price is known"):
        why(store, settings_for(store, monthly_budget_usd=1.0, model="my-own-model"))
    assert why(store, settings_for(store, model="my-own-model")) is None  # no budget: nothing to keep
