"""A question asked about a paper, as the database keeps it: who asked where, what was answered, and its cost.

The asking core (bot/asking) writes one per question it took on; the rate limits count them, a thread's
follow-ups read the earlier ones back, and /arxiv stats sums their cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.domain.models import Usage
from bot.domain.statuses import AskOutcome


@dataclass(frozen=True)
class Ask:
    platform: str
    workspace: str
    channel: str  # where the digest is posted (for a question in a thread, the thread's parent channel)
    thread: str  # the message whose thread the answer went in; "" for an answer posted in the channel itself
    user: str
    arxiv_id: str
    question: str
    answer: str  # what the bot said, before the chat markup ("" when it failed)
    sections: tuple[str, ...] = ()  # "§4.2 Experiments", "Table 3": the parts of the paper the answer used
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0  # None: the model's price is unknown
    outcome: AskOutcome = AskOutcome.ANSWERED
    created_at: dt.datetime | None = None  # set by the database when None
    id: int | None = None


@dataclass(frozen=True)
class AskFigures:
    """What asking did since a day: for /arxiv stats and the month's budget."""

    questions: int = 0
    tokens: int = 0
    cost_usd: float | None = 0.0  # None when any question's price was unknown


@dataclass(frozen=True)
class Spend:
    """The LLM's cost since a moment, every digest run and every question together."""

    runs_usd: float = 0.0
    asks_usd: float = 0.0
    unknown: bool = False  # some run or question had no known price: the sum is a lower bound

    @property
    def total_usd(self) -> float:
        return self.runs_usd + self.asks_usd
