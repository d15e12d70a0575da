"""Who may ask how often, and the month's budget: counted from the stored questions and runs, so restarts and
several processes agree.

DIGEST_ASK_PER_HOUR (per person) and DIGEST_ASK_CHANNEL_PER_HOUR (per channel) count the questions of the last
hour; 0 turns asking off. DIGEST_MONTHLY_BUDGET_USD covers the UTC calendar month's digests and questions
together. A refusal says which limit, and when it frees up.
"""

from __future__ import annotations

import datetime as dt

from bot.digest.budget import month_left, next_month
from bot.domain.counting import counted
from bot.domain.errors import BudgetError
from bot.domain.pricing import format_cost, price_for
from bot.domain.settings import Settings
from storage.store import Store

HOUR = dt.timedelta(hours=1)


def refusal(settings: Settings, store: Store, platform: str, workspace: str, channel: str, user: str,
            now: dt.datetime) -> str | None:
    """Why this person may not ask now, in words; None when they may. Raises BudgetError when a monthly budget is
    set that cannot be kept (no price for the model)."""
    if settings.ask_per_hour == 0 or settings.ask_channel_per_hour == 0:
        which = "DIGEST_ASK_PER_HOUR" if settings.ask_per_hour == 0 else "DIGEST_ASK_CHANNEL_PER_HOUR"
        return f"Questions about papers are turned off on this bot ({which} is 0); whoever runs it can turn them on."
    since = now - HOUR
    mine = store.ask_times(platform, since, workspace=workspace, user=user)
    if len(mine) >= settings.ask_per_hour:
        return (f"You have asked {len(mine)} questions in the last hour, the most one person may "
                f"(DIGEST_ASK_PER_HOUR). You can ask again {_when(mine, settings.ask_per_hour, now)}.")
    here = store.ask_times(platform, since, channel=channel)
    if len(here) >= settings.ask_channel_per_hour:
        frees = _when(here, settings.ask_channel_per_hour, now)
        return (f"This channel has asked {len(here)} questions in the last hour, the most a channel may "
                f"(DIGEST_ASK_CHANNEL_PER_HOUR). Questions work again {frees}.")
    if settings.monthly_budget_usd is not None:
        if price_for(settings.model, settings.prices) is None:
            raise BudgetError(
                f"DIGEST_MONTHLY_BUDGET_USD is set but no price is known for model {settings.model!r}, so questions "
                "cannot be kept within it. Whoever runs the bot can add one with DIGEST_PRICES or unset the budget."
            )
        left = month_left(settings, store, now)
        if left is not None and left <= 0:
            return (f"This month's LLM budget ({format_cost(settings.monthly_budget_usd)}, digests and questions "
                    f"together) is spent, so I cannot answer questions until {next_month(now):%-d %B} (UTC).")
    return None


def _when(times: list[dt.datetime], limit: int, now: dt.datetime) -> str:
    """When the oldest question that counts against ``limit`` leaves the hour: "at 14:32 UTC (in 12 minutes)"."""
    frees = times[len(times) - limit] + HOUR
    minutes = max(1, -(-int((frees - now).total_seconds()) // 60))
    return f"at {frees:%H:%M} UTC (in {counted(minutes, 'minute')})"
