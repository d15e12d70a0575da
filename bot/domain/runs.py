"""A profile's digest of one announcement day, as the database keeps it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.statuses import RunStatus


@dataclass(frozen=True)
class Run:
    date: dt.date
    status: RunStatus
    model: str
    criteria_key: str
    criteria_version: int  # the profile's criteria version the run scored with
    prompt_examples: str  # the liked/disliked titles in its prompt, fixed at the day's first attempt
    # The thresholds its ranking used; None for runs older than revision 0006, which did not record them.
    min_relevance: int | None
    min_novelty: int | None
    relevant: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    requests: int
    cost_usd: float | None  # None: the price of a model it used is unknown
    attempts: int
    owner: str  # the process that works on it ("host:pid")
    heartbeat_at: dt.datetime | None
    llm_batch_id: str  # the OpenAI Batch API job in progress, "" when none
