"""Which announcement days a channel is owed, and getting each of them posted once, in order.

The scheduler calls :meth:`DailyRuns.run_due` at a channel's time, at start-up (catch-up after
downtime) and on retries. It decides everything from arXiv's calendar, the clock and the database,
so calling it again is always safe: days already posted are skipped, a day half done is finished.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.digest.pipeline import empty_day_message, past_announcement
from bot.digest.service import Delivery, DigestService
from bot.domain.calendar import ArxivCalendar
from bot.domain.errors import DigestError
from bot.domain.models import Announcement, Profile, Subscription
from bot.domain.platform import Place
from bot.domain.schedule import parse_schedule
from bot.domain.statuses import FINAL_RUNS, DayStatus, DeliveryStatus, PostKind, RunStatus
from bot.domain.taxonomy import feed_key
from storage.offload import background

log = logging.getLogger(__name__)

BUSY_RETRY = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class DayResult:
    date: dt.date
    status: DeliveryStatus | DayStatus
    message: str
    posted: int = 0


@dataclass
class DueOutcome:
    results: list[DayResult] = field(default_factory=list)
    retry_at: dt.datetime | None = None  # look again then: a late feed, a failed fetch, a busy run


class DailyRuns:
    def __init__(self, service: DigestService, calendar: ArxivCalendar) -> None:
        self.service = service
        self.store = service.store
        self.settings = service.settings
        self.calendar = calendar

    def schedule_of(self, sub: Subscription) -> tuple[dt.time, ZoneInfo]:
        default_time, default_zone = parse_schedule(self.settings.schedule)
        time = dt.time.fromisoformat(sub.schedule_time) if sub.schedule_time else default_time
        return time, ZoneInfo(sub.timezone or default_zone)

    def last_fire(self, sub: Subscription, now: dt.datetime) -> dt.datetime:
        """The channel's most recent scheduled time at or before ``now``."""
        time, zone = self.schedule_of(sub)
        local = now.astimezone(zone)
        fire = dt.datetime.combine(local.date(), time, zone)
        if fire > local:
            fire = dt.datetime.combine(local.date() - dt.timedelta(days=1), time, zone)
        return fire

    def owed(self, sub: Subscription, due: dt.date) -> list[dt.date]:
        """Days to post, oldest first: every announcement since the last one the channel got, up to
        ``due``, at most DIGEST_CATCHUP_DAYS of them before ``due``. A new channel starts at ``due``.
        Then any later day an ``/arxiv run`` started and a restart cut off: the requester was promised it."""
        interrupted = self.store.unfinished_after(sub.profile_id, due)
        last = self.store.latest_final_run(sub.profile_id)
        if last is not None and last >= due:
            return interrupted
        days = [due] if last is None else self.calendar.mailings_between(last, due)
        keep = days[-(self.settings.catchup_days + 1):]
        for dropped in days[: len(days) - len(keep)]:
            self.store.mark_run(
                sub.profile_id, dropped, RunStatus.SKIPPED, "older than DIGEST_CATCHUP_DAYS when caught up"
            )
            log.warning("%s:%s: skipped the digest of %s (older than DIGEST_CATCHUP_DAYS=%s)",
                        sub.platform, sub.channel, dropped, self.settings.catchup_days)
        statuses = self.store.run_statuses(sub.profile_id, keep)
        return [day for day in keep if statuses.get(day) not in FINAL_RUNS] + interrupted

    @background
    async def run_due(self, sub: Subscription, now: dt.datetime) -> DueOutcome:
        fire = self.last_fire(sub, now)
        outcome = DueOutcome()
        holiday = self.calendar.skipped_for_holiday(fire)
        if holiday is not None:
            outcome.results.append(await self._holiday_line(sub, holiday))
        due = self.calendar.latest_mailing(fire)
        owed = await self.store.aio(self.owed, sub, due)
        if not owed:
            return outcome
        profile = await self.store.aio(self.store.profile_by_id, sub.profile_id)
        feed_now: Announcement | None = None
        for index, day in enumerate(owed):
            try:
                if index == 0 and due in owed:  # the feed first: catch-up days leave out what it carries
                    feed_now = await self._read_feed(profile, due)
                result = await self._run_day(sub, profile, day, due=due, feed_now=feed_now, fire=fire, now=now)
            except DigestError as exc:  # arXiv or the LLM is unreachable: try again later, in order
                log.warning("%s:%s: the digest of %s failed: %s", sub.platform, sub.channel, day, exc)
                result = DayResult(day, DayStatus.FAILED, str(exc))
            outcome.results.append(result)
            if result.status in {DayStatus.WAITING, DayStatus.FAILED, DeliveryStatus.BUSY}:
                wait = (BUSY_RETRY if result.status == DeliveryStatus.BUSY
                        else dt.timedelta(minutes=self.settings.feed_retry_minutes))
                outcome.retry_at = now + wait
                if result.status == DayStatus.WAITING:  # never later than the deadline, so the line comes on time
                    outcome.retry_at = min(outcome.retry_at, self._deadline(fire) + dt.timedelta(seconds=1))
                break  # later days wait for this one: digests arrive in order
        return outcome

    async def _read_feed(self, profile: Profile, due: dt.date) -> Announcement | None:
        """Today's feed, read before any catch-up so that days rebuilt from the API can leave out what
        today's announcement carries. None when the database has the day already."""
        feed = feed_key(profile.categories)
        if await self.store.aio(self.store.load_announcement, feed, due) is not None:
            return None
        fetched = await self.service.fetcher_for(profile.categories).fetch()
        if fetched.date >= due and not fetched.is_empty:
            await self.store.aio(self.store.save_announcement, feed, fetched)
        return fetched

    def _deadline(self, fire: dt.datetime) -> dt.datetime:
        return fire + dt.timedelta(hours=self.settings.feed_deadline_hours)

    async def _run_day(
        self, sub: Subscription, profile: Profile, day: dt.date, *, due: dt.date, feed_now: Announcement | None,
        fire: dt.datetime, now: dt.datetime,
    ) -> DayResult:
        feed = feed_key(profile.categories)
        announcement = await self.store.aio(self.store.load_announcement, feed, day)
        if announcement is None and day == due and feed_now is not None and feed_now.date <= day:
            return await self._late(sub, day, feed_now, feed, fire, now)
        if announcement is None:
            announcement = await past_announcement(
                self.store, self.service.lookup, self.calendar, profile.categories, day,
                keep_types=self.settings.announce_types,
            )
            if announcement.is_empty:
                message = f"The arXiv API lists no papers for {day} (nothing new in {feed} that day)."
                await self.store.aio(self.store.mark_run, sub.profile_id, day, RunStatus.SKIPPED, message)
                return DayResult(day, DayStatus.SKIPPED, message)
        delivery: Delivery = await self.service.run_day(sub, announcement)
        return DayResult(day, delivery.status, delivery.message, delivery.posted)

    async def _late(
        self, sub: Subscription, day: dt.date, fetched: Announcement, feed: str, fire: dt.datetime, now: dt.datetime
    ) -> DayResult:
        """The feed does not carry the day yet (stale) or carries it empty: wait, and after the
        deadline say so once. A stale day stays owed, so the next run fetches it from the API."""
        stale = fetched.date < day
        if now < self._deadline(fire):
            what = f"still shows {fetched.date}" if stale else "is empty"
            return DayResult(day, DayStatus.WAITING, f"The {feed} feed {what}; waiting for the announcement of {day}.")
        if stale:
            message = (
                f"arXiv's {feed} feed has not published the announcement of {day:%a %Y-%m-%d} yet (it still shows "
                f"{fetched.date:%a %Y-%m-%d}). It will be posted with the next digest."
            )
            status = RunStatus.LATE
        else:
            message = empty_day_message(feed, day)
            status = RunStatus.EMPTY
        posted = await self._post_once(sub, day, PostKind.LATE, message)
        await self.store.aio(self.store.mark_run, sub.profile_id, day, status, message)
        return DayResult(day, DayStatus.LATE, message, posted)

    async def _holiday_line(self, sub: Subscription, mailing: dt.date) -> DayResult:
        template = self.settings.holiday_message
        if not template:
            return DayResult(
                mailing, DayStatus.HOLIDAY, "arXiv holiday (DIGEST_HOLIDAY_MESSAGE is empty: nothing posted)"
            )
        message = template.format(evening=mailing - dt.timedelta(days=1), date=mailing)
        posted = await self._post_once(sub, mailing, PostKind.HOLIDAY, message)
        return DayResult(mailing, DayStatus.HOLIDAY, message, posted)

    async def _post_once(self, sub: Subscription, day: dt.date, part: PostKind, text: str) -> int:
        poster = self.service.poster_for(sub)
        # Under the day's run lock: two schedulers starting together post the line once between them.
        async with self.store.locked_run(sub.profile_id, day) as held:
            if not held or part in await self.store.aio(self.store.posted_parts, sub.platform, sub.channel, day):
                return 0
            message_id = await poster.post_text(Place(sub.workspace, sub.channel), text)
            await self.store.aio(self.store.record_post, sub.platform, sub.channel, day, part, message_id)
            return 1
