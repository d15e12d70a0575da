"""The weekly roundup's setting (a weekday and a time in the channel's zone) and what a week holds: the papers
posted in it with their reactions and scores, and its figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.schedule import parse_time

DEFAULT_WEEKDAY = 5  # ISO weekday: Friday
DEFAULT_TIME = dt.time(16, 0)
SHOWN = 5  # papers in each list of the roundup
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekday_name(day: int) -> str:
    """ISO weekday 1–7 → "Friday"."""
    return WEEKDAYS[day - 1].capitalize()


def parse_weekday(text: str) -> int:
    """``"fri"``, ``"Friday"`` → 5 (ISO weekday); a ValueError that lists the days for anything else."""
    word = text.strip().lower()
    matches = [number for number, name in enumerate(WEEKDAYS, 1) if len(word) >= 2 and name.startswith(word)]
    if len(matches) != 1:
        raise ValueError(f"{text!r} is not a day of the week; use one of Mon, Tue, Wed, Thu, Fri, Sat, Sun")
    return matches[0]


def parse_weekly(words: tuple[str, ...]) -> tuple[int, dt.time]:
    """The words after ``weekly on``: ``()``, ``("fri",)``, ``("16:00",)`` or ``("fri", "16:00")``, each
    missing part defaulting to Friday 16:00."""
    if len(words) > 2:
        raise ValueError("give at most a day and a time, e.g. fri 16:00")
    day, time = DEFAULT_WEEKDAY, DEFAULT_TIME
    for word in words:
        if ":" in word:
            time = parse_time(word)
        else:
            day = parse_weekday(word)
    return day, time


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week: what a channel's roundup is recorded under."""
    return day - dt.timedelta(days=day.isoweekday() - 1)


@dataclass(frozen=True)
class WeekPaper:
    """A paper the channel's digest posted in the week, with its scores and the channel's 👍/👎 on it."""

    arxiv_id: str
    title: str
    date: dt.date  # the digest day it was posted in
    relevance: int | None  # None: no judgment is stored for the day's criteria and model
    novelty: int | None
    positive: int = 0
    negative: int = 0
    reactions: int = 0  # every reaction, "later" ones included

    @property
    def score(self) -> int:
        return (self.relevance or 0) + (self.novelty or 0)

    @property
    def net(self) -> int:
        return self.positive - self.negative


@dataclass(frozen=True)
class WeekFigures:
    """A channel's week in numbers."""

    read: int  # papers the feed announced on the week's digest days
    scored: int
    posted: int
    reactions: int  # reactions on the week's posted papers
    cost_usd: float | None  # None: a run's price is unknown


@dataclass(frozen=True)
class Roundup:
    """A channel's week: the papers it reacted to most, the best-scored ones nobody reacted to, its figures."""

    first: dt.date
    last: dt.date
    reacted: tuple[WeekPaper, ...]
    unnoticed: tuple[WeekPaper, ...]
    figures: WeekFigures

    @property
    def empty(self) -> bool:
        """No paper was posted in the week."""
        return self.figures.posted == 0

    @property
    def week(self) -> dt.date:
        return week_of(self.last)


def assemble(first: dt.date, last: dt.date, papers: list[WeekPaper], figures: WeekFigures, *,
             shown: int = SHOWN) -> Roundup:
    """The roundup of the papers posted ``first``…``last``: those with 👍 or 👎 by 👍 minus 👎, then by score
    (relevance + novelty), then by day; and the best-scored of those with no reaction at all."""
    voted = [paper for paper in papers if paper.positive or paper.negative]
    reacted = sorted(voted, key=lambda p: (-p.net, -p.score, p.date, p.arxiv_id))[:shown]
    quiet = [paper for paper in papers if paper.reactions == 0]
    unnoticed = sorted(quiet, key=lambda p: (-p.score, p.date, p.arxiv_id))[:shown]
    return Roundup(first, last, tuple(reacted), tuple(unnoticed), figures)
