"""When a channel's digest is posted: ``HH:MM Area/City``, checked against the IANA time zone database."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_SCHEDULE = "09:00 America/New_York"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_time(text: str) -> dt.time:
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day; use 24-hour HH:MM, e.g. 09:00 or 17:30")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_zone(text: str) -> str:
    """The canonical IANA name (case-insensitive input), or a ValueError with close matches."""
    name = _zones().get(text.strip().lower())
    if name is None:
        close = difflib.get_close_matches(text.strip().lower(), list(_zones()), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(_zones()[c] for c in close)}?" if close else ""
        raise ValueError(f"{text!r} is not a time zone; use an IANA name such as Europe/Berlin or UTC.{hint}")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # listed but without data on this machine
        raise ValueError(f"time zone {name} has no data on this machine (install tzdata)") from exc
    return name


def parse_schedule(text: str, default_zone: str | None = None) -> tuple[dt.time, str]:
    """``"09:00 Europe/Berlin"`` → (09:00, "Europe/Berlin"); the zone may be omitted when a default is given."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"{text!r} is not a schedule; use HH:MM [Area/City], e.g. 09:00 Europe/Berlin")
    if len(parts) == 1 and default_zone is None:
        raise ValueError(f"{text!r} has no time zone; use HH:MM Area/City, e.g. 09:00 Europe/Berlin")
    zone = parts[1] if len(parts) == 2 else default_zone
    assert zone is not None
    return parse_time(parts[0]), parse_zone(zone)
