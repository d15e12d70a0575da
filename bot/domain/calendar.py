"""arXiv's announcement calendar: which evenings announce, what each mailing is dated, what it covers.

arXiv announces new submissions Sunday–Thursday at 20:00 US Eastern, never on Friday or Saturday
evenings, and not on its holidays. The RSS feed dates each announcement with the *next* day (the Monday
20:00 announcement carries Tuesday's date); we call that date the *mailing* date, so mailings fall on
Monday–Friday. A mailing announces the submissions received between the previous announcement's
14:00 cutoff and its own (the cutoff of a Sunday announcement is the Friday before), so weekends and
holidays merge windows. Pure functions of dates and times: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = [
    "ANNOUNCE_TIME",
    "ARXIV_HOLIDAYS",
    "CUTOFF_TIME",
    "ET",
    "ArxivCalendar",
    "parse_holidays",
]

ET = ZoneInfo("America/New_York")
ANNOUNCE_TIME = dt.time(20, 0)  # ET, Sunday–Thursday
CUTOFF_TIME = dt.time(14, 0)  # ET, Monday–Friday
_ONE_DAY = dt.timedelta(days=1)
_ANNOUNCING_WEEKDAYS = frozenset({6, 0, 1, 2, 3})  # Sun, Mon, Tue, Wed, Thu (date.weekday())
_SEARCH_LIMIT = 366  # days to look for an announcing evening before concluding the holiday list is wrong


def _dates(*isoformats: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(d) for d in isoformats)


# Evenings (ET dates) on which arXiv makes no announcement although it is Sunday–Thursday; the mailing
# that evening would have carried (the next day) does not exist. arXiv publishes these under "On Deferred
# Mailings" at https://info.arxiv.org/help/availability.html (source: github.com/arXiv/arxiv-docs,
# source/help/availability.md), only for the current year and sometimes late (Decembers are often
# "not yet scheduled"). Operators add dates announced later, or ad-hoc closures, with
# DIGEST_ARXIV_HOLIDAYS (see parse_holidays); a missing date only means the bot looks for an
# announcement that never comes and reports an empty day.
ARXIV_HOLIDAYS: frozenset[dt.date] = (
    # 2024: the page's 2024 list as copied into public code that cites the page (e.g.
    # DCoEngine/PCoCrawler arxiv_time.py); no 2024 revision of arxiv-docs was found to read directly.
    _dates(
        "2024-01-15",
        "2024-05-22",
        "2024-06-19",
        "2024-07-04",
        "2024-09-02",
        "2024-11-28",
        "2024-12-25",
        "2024-12-26",
        "2024-12-31",
    )
    # 2025: arXiv/arxiv-docs source/help/availability.md at commit 782dfdf0 ("2025 Holidays"). That
    # revision says "December Holidays are not yet scheduled": none are listed here for December 2025.
    # Sun 6 July is arXiv's own entry (Independence Day fell on Friday 4 July).
    | _dates("2025-01-01", "2025-01-20", "2025-06-19", "2025-07-06", "2025-09-01", "2025-11-27")
    # 2026: the page's "2026 Holidays" as quoted in a public copy of info.arxiv.org/help/availability.html
    # (not arXiv's repository). It lists three Fridays (06-19, 07-03, 12-25); Friday evenings never
    # announce, so they change nothing here and are kept as published.
    | _dates(
        "2026-01-01",
        "2026-01-19",
        "2026-06-19",
        "2026-07-03",
        "2026-09-07",
        "2026-11-26",
        "2026-12-25",
        "2026-12-29",
        "2026-12-31",
    )
    # 2027: no published list was found; add the dates with DIGEST_ARXIV_HOLIDAYS once arXiv posts them.
)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    """``time`` on ``day`` in US Eastern (20:00 and 14:00 never fall in a DST gap)."""
    return dt.datetime.combine(day, time, tzinfo=ET)


def _eastern(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{now.isoformat()} has no time zone; pass an aware datetime (e.g. datetime.now(UTC))")
    return now.astimezone(ET)


def _last_evening(now: dt.datetime) -> dt.date:
    """The ET date of the most recent 20:00 ET at or before ``now``."""
    local = _eastern(now)
    return local.date() if local.time() >= ANNOUNCE_TIME else local.date() - _ONE_DAY


def _cutoff_day(evening: dt.date) -> dt.date:
    """The weekday whose 14:00 ET cutoff an announcement on ``evening`` closes (Sunday's: the Friday before)."""
    day = evening
    while day.weekday() >= 5:
        day -= _ONE_DAY
    return day


@dataclass(frozen=True)
class ArxivCalendar:
    """arXiv's announcement schedule with a set of holiday evenings (ET dates)."""

    holidays: frozenset[dt.date] = ARXIV_HOLIDAYS

    def announces_on(self, evening: dt.date) -> bool:
        """True when arXiv announces at 20:00 ET on this date: Sunday–Thursday and not a holiday."""
        return evening.weekday() in _ANNOUNCING_WEEKDAYS and evening not in self.holidays

    def is_mailing(self, d: dt.date) -> bool:
        """True when an announcement carries this date (it was made the evening before)."""
        return self.announces_on(d - _ONE_DAY)

    def announced_at(self, mailing: dt.date) -> dt.datetime:
        """When the mailing dated ``mailing`` is (or would be) announced: 20:00 ET the day before, aware."""
        return _at(mailing - _ONE_DAY, ANNOUNCE_TIME)

    def latest_mailing(self, now: dt.datetime) -> dt.date:
        """The newest mailing announced at or before ``now`` (aware; ValueError for naive)."""
        evening = _last_evening(now)
        for _ in range(_SEARCH_LIMIT):
            if self.announces_on(evening):
                return evening + _ONE_DAY
            evening -= _ONE_DAY
        raise ValueError(f"no arXiv announcement in the {_SEARCH_LIMIT} days before {now.isoformat()}")

    def next_mailing(self, now: dt.datetime) -> dt.date:
        """The first mailing announced strictly after ``now`` (aware; ValueError for naive)."""
        evening = _last_evening(now) + _ONE_DAY
        for _ in range(_SEARCH_LIMIT):
            if self.announces_on(evening):
                return evening + _ONE_DAY
            evening += _ONE_DAY
        raise ValueError(f"no arXiv announcement in the {_SEARCH_LIMIT} days after {now.isoformat()}")

    def mailings_between(self, after: dt.date, until: dt.date) -> list[dt.date]:
        """Mailings ``d`` with ``after < d <= until``, oldest first (empty when ``until <= after``)."""
        days = (until - after).days
        return [d for d in (after + dt.timedelta(days=i) for i in range(1, days + 1)) if self.is_mailing(d)]

    def skipped_for_holiday(self, now: dt.datetime) -> dt.date | None:
        """The mailing date a holiday cancelled, if the latest 20:00 ET at or before ``now`` was one; else None.

        Only Sunday–Thursday holidays count: a Friday or Saturday evening never announces anyway.
        """
        evening = _last_evening(now)
        if evening.weekday() in _ANNOUNCING_WEEKDAYS and evening in self.holidays:
            return evening + _ONE_DAY
        return None

    def submission_window(self, mailing: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """UTC ``[start, end)`` of the submissions the mailing announces.

        ``start`` is the previous announcement's 14:00 ET cutoff, ``end`` this one's (Sunday's is the
        Friday before); holidays and weekends in between widen the window. ValueError when no
        announcement carries ``mailing``.
        """
        evening = mailing - _ONE_DAY
        if not self.announces_on(evening):
            raise ValueError(f"{mailing.isoformat()} is not an arXiv mailing date (no announcement the evening before)")
        previous = evening - _ONE_DAY
        for _ in range(_SEARCH_LIMIT):
            if self.announces_on(previous):
                break
            previous -= _ONE_DAY
        else:
            raise ValueError(f"no arXiv announcement in the {_SEARCH_LIMIT} days before {mailing.isoformat()}")
        start = _at(_cutoff_day(previous), CUTOFF_TIME)
        end = _at(_cutoff_day(evening), CUTOFF_TIME)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def parse_holidays(value: str | Iterable[str | dt.date] | None) -> frozenset[dt.date]:
    """Holiday evenings from a setting: ``"2025-12-25,2025-12-31"``, a JSON list, or a list of dates/strings.

    Commas and whitespace separate dates; an empty value gives no dates. ValueError names a bad entry.
    """
    if value is None:
        return frozenset()
    items: Iterable[object]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"arXiv holidays: {text!r} is not a JSON list ({exc.msg}); "
                    'write e.g. ["2025-12-25", "2025-12-31"] or 2025-12-25,2025-12-31'
                ) from exc
            if not isinstance(items, list):
                raise ValueError(f"arXiv holidays: expected a JSON list of dates, got {text!r}")
        else:
            items = text.replace(",", " ").split()
    else:
        items = value
    dates: set[dt.date] = set()
    for item in items:
        if isinstance(item, dt.datetime):
            raise ValueError(f"arXiv holidays: {item!r} is a datetime; give the ET date of the evening")
        if isinstance(item, dt.date):
            dates.add(item)
            continue
        if not isinstance(item, str):
            raise ValueError(f"arXiv holidays: {item!r} is not a date; write YYYY-MM-DD, e.g. 2025-12-25")
        try:
            dates.add(dt.date.fromisoformat(item.strip()))
        except ValueError:
            raise ValueError(
                f"arXiv holidays: {item.strip()!r} is not a date; write YYYY-MM-DD, e.g. 2025-12-25,2025-12-31"
            ) from None
    return frozenset(dates)
