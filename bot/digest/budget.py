"""What the LLM may still cost: DIGEST_MAX_COST_USD per run, and DIGEST_MONTHLY_BUDGET_USD for the UTC calendar
month, digests and questions about papers together (counted from the database, so every process agrees)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.settings import Settings
from storage.store import Store


def month_start(now: dt.datetime) -> dt.datetime:
    """Midnight UTC on the first of ``now``'s UTC month."""
    now = now.astimezone(dt.UTC)
    return dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)


def next_month(now: dt.datetime) -> dt.datetime:
    """Midnight UTC on the first of the next month: when the monthly budget starts again."""
    start = month_start(now)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def month_left(settings: Settings, store: Store, now: dt.datetime) -> float | None:
    """What DIGEST_MONTHLY_BUDGET_USD leaves for the rest of the month (≥ 0); None without a monthly budget."""
    if settings.monthly_budget_usd is None:
        return None
    return max(settings.monthly_budget_usd - store.spend_since(month_start(now)).total_usd, 0.0)


@dataclass(frozen=True)
class RunBudget:
    usd: float  # what the run may still spend (≥ 0)
    name: str  # the setting that limits it, for the note when scoring stops: "DIGEST_MAX_COST_USD"


def run_budget(settings: Settings, store: Store, run_id: int, now: dt.datetime | None = None) -> RunBudget | None:
    """What the run may still spend: the rest of DIGEST_MAX_COST_USD after what it spent already (an attempt after
    a crash), and at most what is left of the month; None when neither budget is set."""
    limits: list[RunBudget] = []
    if settings.max_cost_usd is not None:
        spent = store.get_run_by_id(run_id).cost_usd or 0.0
        limits.append(RunBudget(max(settings.max_cost_usd - spent, 0.0), "DIGEST_MAX_COST_USD"))
    month = month_left(settings, store, now or dt.datetime.now(dt.UTC))
    if month is not None:
        limits.append(RunBudget(month, "DIGEST_MONTHLY_BUDGET_USD (what is left of the month)"))
    return min(limits, key=lambda limit: limit.usd) if limits else None
