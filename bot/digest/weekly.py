"""The weekly roundup: which week is due when, what it holds, and posting it once per channel and ISO week.

The week a roundup covers is the seven digest days ending on its scheduled day (Saturday to Friday for the
default Friday 16:00), recorded under the Monday of that day's ISO week: a restart, a retry or a second
scheduler finds the record (or another's fresh claim) and posts nothing (see Store.claim_week).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.digest.service import DigestService
from bot.domain.models import Subscription
from bot.domain.platform import Place
from bot.domain.schedule import parse_schedule
from bot.domain.statuses import DeliveryStatus
from bot.domain.weekly import DEFAULT_TIME, Roundup, assemble
from storage.offload import background

log = logging.getLogger(__name__)


def weekly_time(sub: Subscription) -> dt.time:
    return dt.time.fromisoformat(sub.weekly_time) if sub.weekly_time else DEFAULT_TIME


def channel_zone(sub: Subscription, default_schedule: str) -> ZoneInfo:
    """The channel's zone: its schedule's, else the deployment's DIGEST_SCHEDULE zone."""
    return ZoneInfo(sub.timezone or parse_schedule(default_schedule)[1])


def last_weekly_fire(sub: Subscription, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """The channel's most recent scheduled roundup at or before ``now`` (None when the roundup is off)."""
    if sub.weekly_day is None:
        return None
    local = now.astimezone(zone)
    day = local.date() - dt.timedelta(days=(local.isoweekday() - sub.weekly_day) % 7)
    fire = dt.datetime.combine(day, weekly_time(sub), zone)
    return fire if fire <= local else fire - dt.timedelta(days=7)


@dataclass(frozen=True)
class WeeklyResult:
    status: DeliveryStatus
    week: dt.date | None
    posted: int
    message: str


class WeeklyRoundups:
    """Posts a channel's roundup of the week due, once."""

    def __init__(self, service: DigestService) -> None:
        self.service = service
        self.store = service.store
        self.settings = service.settings

    def zone_of(self, sub: Subscription) -> ZoneInfo:
        return channel_zone(sub, self.settings.schedule)

    def roundup(self, sub: Subscription, last: dt.date) -> Roundup:
        first = last - dt.timedelta(days=6)
        papers = self.store.week_papers(sub.platform, sub.channel, sub.profile_id, first, last)
        figures = self.store.week_figures(sub.platform, sub.channel, sub.profile_id, first, last)
        return assemble(first, last, papers, figures)

    async def post_due(self, sub: Subscription, now: dt.datetime, *, within: dt.timedelta | None = None
                       ) -> WeeklyResult:
        """The roundup of the latest scheduled day at or before ``now``, unless the channel has it already or
        it was due more than ``within`` ago (a roundup turned on mid-week, or a process down for days)."""
        fire = last_weekly_fire(sub, now, self.zone_of(sub))
        if fire is None:
            return WeeklyResult(DeliveryStatus.EMPTY, None, 0, "The weekly roundup is off.")
        if within is not None and now - fire > within:
            return WeeklyResult(DeliveryStatus.EMPTY, None, 0, f"The roundup due {fire:%a %Y-%m-%d} is too old.")
        return await self.post(sub, fire.date())

    @background
    async def post(self, sub: Subscription, last: dt.date) -> WeeklyResult:
        """Post the roundup of the week ending ``last`` under a claim on its ISO week; a week without posted
        papers is one line when the channel posts empty days, else nothing."""
        poster = self.service.poster_for(sub)
        roundup = await self.store.aio(self.roundup, sub, last)
        week = roundup.week
        if roundup.empty and not sub.post_empty_days:
            return WeeklyResult(DeliveryStatus.EMPTY, week, 0, f"Nothing was posted in the week to {last}.")
        token = await self.store.aio(self.store.claim_week, sub.platform, sub.channel, week)
        if token is None:
            done = await self.store.aio(self.store.weekly_message, sub.platform, sub.channel, week) is not None
            return WeeklyResult(DeliveryStatus.ALREADY if done else DeliveryStatus.BUSY, week, 0,
                                f"The roundup of the week of {week} is " + ("posted." if done else "being posted."))
        try:
            message_id = await poster.post_weekly(Place(sub.workspace, sub.channel), roundup)
        except BaseException:
            await self.store.aio(self.store.release_week, sub.platform, sub.channel, week, token)
            raise
        await self.store.aio(self.store.record_week, sub.platform, sub.channel, week, token, message_id)
        log.info("weekly %s:%s %s: posted (%d papers)", sub.platform, sub.channel, week, roundup.figures.posted)
        status = DeliveryStatus.EMPTY if roundup.empty else DeliveryStatus.POSTED
        return WeeklyResult(status, week, 1, f"Posted the roundup of the week of {week}.")
