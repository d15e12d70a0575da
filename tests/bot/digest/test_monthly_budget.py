"""DIGEST_MONTHLY_BUDGET_USD in the daily job: a run spends at most what questions and earlier runs left of the
UTC month, and a budget that cannot be priced stops the run before any request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from bot.domain.asks import Ask
from bot.domain.errors import BudgetError
from bot.domain.models import Usage
from storage.store import Store
from tests.bot.digest.test_pipeline import run
from tests.conftest import DAY, sample_papers
from tests.support.fakes import FakeArxiv, FakeChat


def spend_on_questions(database_url: str, cost: float) -> None:
    store = Store.open(database_url)
    try:
        store.record_ask(Ask("chat", "T1", "C1", "m1", "U1", "2503.10003", "q?", "a.", usage=Usage(10, 0, 1, 1),
                             cost_usd=cost, created_at=dt.datetime.now(dt.UTC)))
    finally:
        store.close()


def test_questions_spent_this_month_leave_the_digest_only_the_rest(
    fake_arxiv: FakeArxiv, fake_llm: FakeChat, core_settings: Callable[..., Any],
) -> None:
    fake_arxiv.set_day(DAY, sample_papers(40))
    settings = core_settings(batch_size=5, concurrency=1, monthly_budget_usd=0.0108)
    spend_on_questions(settings.database_url, 0.01)  # leaves 0.0008, what DIGEST_MAX_COST_USD=0.0008 allows
    partial = run(settings, fake_arxiv, lambda: fake_llm)
    assert partial.status == "partial" and partial.digest is not None
    assert partial.digest.unscored and partial.digest.scanned + len(partial.digest.unscored) == 40
    assert any("DIGEST_MONTHLY_BUDGET_USD (what is left of the month)" in note for note in partial.digest.notes)
    assert partial.digest.cost_usd is not None and partial.digest.cost_usd <= 0.0008


def test_a_spent_month_writes_no_tldr_and_scores_nothing(
    fake_arxiv: FakeArxiv, fake_llm: FakeChat, core_settings: Callable[..., Any],
) -> None:
    fake_arxiv.set_day(DAY, sample_papers(6))
    settings = core_settings(monthly_budget_usd=0.01)
    spend_on_questions(settings.database_url, 0.02)
    result = run(settings, fake_arxiv, lambda: fake_llm)
    assert result.status == "partial" and fake_llm.requests == []


def test_a_monthly_budget_without_a_price_stops_the_run_before_any_request(
    fake_arxiv: FakeArxiv, fake_llm: FakeChat, core_settings: Callable[..., Any],
) -> None:
    fake_arxiv.set_day(DAY, sample_papers(3))
    with pytest.raises(BudgetError, match="DIGEST_MONTHLY_BUDGET_USD is set but no price"):
        run(core_settings(model="my-own-model", monthly_budget_usd=1.0), fake_arxiv, lambda: fake_llm)
    assert fake_llm.requests == []
