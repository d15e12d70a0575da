"""ArxivCalendar: announcement evenings, mailing dates, holidays, submission windows, DST."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.domain.calendar import ARXIV_HOLIDAYS, ET, ArxivCalendar, parse_holidays

D = dt.date
PLAIN = ArxivCalendar(holidays=frozenset())  # weekday rules only
CAL = ArxivCalendar()  # arXiv's published holidays


def et(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hour, minute, tzinfo=ET)


def utc(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hour, minute, tzinfo=dt.UTC)


# --- weekday rules -------------------------------------------------------------------------------------


def test_sunday_to_thursday_evenings_announce_friday_and_saturday_do_not() -> None:
    week = [D(2025, 3, 23) + dt.timedelta(days=i) for i in range(7)]  # Sun 23 .. Sat 29 March 2025

    assert [PLAIN.announces_on(d) for d in week] == [True, True, True, True, True, False, False]


def test_mailing_dates_are_monday_to_friday() -> None:
    week = [D(2025, 3, 24) + dt.timedelta(days=i) for i in range(7)]  # Mon 24 .. Sun 30 March 2025

    assert [PLAIN.is_mailing(d) for d in week] == [True, True, True, True, True, False, False]


def test_a_sunday_evening_announcement_carries_monday() -> None:
    assert PLAIN.latest_mailing(et(2025, 3, 23, 20, 0)) == D(2025, 3, 24)
    assert PLAIN.announced_at(D(2025, 3, 24)) == et(2025, 3, 23, 20, 0)


def test_announced_at_is_aware_eastern_evening_before() -> None:
    moment = PLAIN.announced_at(D(2025, 3, 25))

    assert moment.tzinfo is not None
    assert moment == et(2025, 3, 24, 20, 0)
    assert moment.astimezone(dt.UTC) == utc(2025, 3, 25, 0, 0)  # "Tue, 25 Mar 2025 00:00 -0400"


def test_over_the_weekend_the_latest_mailing_is_friday() -> None:
    assert PLAIN.latest_mailing(et(2025, 3, 21, 9, 0)) == D(2025, 3, 21)  # Friday morning
    assert PLAIN.latest_mailing(et(2025, 3, 22, 12, 0)) == D(2025, 3, 21)  # Saturday
    assert PLAIN.latest_mailing(et(2025, 3, 23, 9, 0)) == D(2025, 3, 21)  # Sunday morning
    assert PLAIN.latest_mailing(et(2025, 3, 23, 19, 59)) == D(2025, 3, 21)  # Sunday just before 20:00


def test_monday_morning_already_has_mondays_mailing_from_sunday_evening() -> None:
    assert PLAIN.latest_mailing(et(2025, 3, 24, 9, 0)) == D(2025, 3, 24)


def test_monday_evening_after_the_announcement_has_tuesdays_mailing() -> None:
    assert PLAIN.latest_mailing(et(2025, 3, 24, 19, 59)) == D(2025, 3, 24)
    assert PLAIN.latest_mailing(et(2025, 3, 24, 20, 30)) == D(2025, 3, 25)


def test_the_announcement_moment_belongs_to_latest_not_next() -> None:
    thursday_eight_pm = et(2025, 3, 27, 20, 0)

    assert PLAIN.latest_mailing(thursday_eight_pm) == D(2025, 3, 28)
    assert PLAIN.next_mailing(thursday_eight_pm) == D(2025, 3, 31)  # nothing Friday/Saturday evening


def test_next_mailing() -> None:
    assert PLAIN.next_mailing(et(2025, 3, 24, 9, 0)) == D(2025, 3, 25)
    assert PLAIN.next_mailing(et(2025, 3, 27, 19, 59)) == D(2025, 3, 28)
    assert PLAIN.next_mailing(et(2025, 3, 28, 10, 0)) == D(2025, 3, 31)  # Friday -> Monday's
    assert PLAIN.next_mailing(et(2025, 3, 22, 10, 0)) == D(2025, 3, 24)  # Saturday -> Monday's


def test_times_in_other_zones_are_read_as_the_same_instant() -> None:
    # 09:00 in Berlin on Tuesday is 04:00 Eastern: Tuesday's mailing (Monday 20:00 ET) is out.
    berlin = dt.datetime(2025, 3, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))

    assert PLAIN.latest_mailing(berlin) == D(2025, 3, 25)
    # 01:30 Berlin on Tuesday is 20:30 ET Monday.
    assert PLAIN.latest_mailing(dt.datetime(2025, 3, 25, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == D(
        2025, 3, 25
    )
    # 00:30 Berlin on Tuesday is 19:30 ET Monday: still Monday's.
    assert PLAIN.latest_mailing(dt.datetime(2025, 3, 25, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == D(
        2025, 3, 24
    )


@pytest.mark.parametrize("method", ["latest_mailing", "next_mailing", "skipped_for_holiday"])
def test_naive_datetimes_are_refused(method: str) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        getattr(PLAIN, method)(dt.datetime(2025, 3, 24, 9, 0))


# --- submission windows --------------------------------------------------------------------------------


def test_a_weekday_mailing_covers_one_day_from_cutoff_to_cutoff() -> None:
    # Announced Tuesday 25 March 20:00 ET: submissions Monday 14:00 .. Tuesday 14:00 ET (EDT, UTC-4).
    assert PLAIN.submission_window(D(2025, 3, 26)) == (utc(2025, 3, 24, 18), utc(2025, 3, 25, 18))


def test_mondays_mailing_covers_thursday_to_friday() -> None:
    # Announced Sunday 20:00: submissions Thursday 14:00 .. Friday 14:00.
    assert PLAIN.submission_window(D(2025, 3, 24)) == (utc(2025, 3, 20, 18), utc(2025, 3, 21, 18))


def test_tuesdays_mailing_covers_the_weekend() -> None:
    # Announced Monday 20:00: submissions Friday 14:00 .. Monday 14:00.
    assert PLAIN.submission_window(D(2025, 3, 25)) == (utc(2025, 3, 21, 18), utc(2025, 3, 24, 18))


def test_consecutive_windows_tile_without_gaps_or_overlaps() -> None:
    mailings = CAL.mailings_between(D(2024, 12, 1), D(2026, 12, 31))
    windows = [CAL.submission_window(m) for m in mailings]

    assert all(earlier[1] == later[0] for earlier, later in itertools.pairwise(windows))
    assert all(start < end for start, end in windows)
    assert all(start.tzinfo is not None and start.utcoffset() == dt.timedelta(0) for start, _ in windows)


def test_window_of_a_date_without_announcement_is_refused() -> None:
    with pytest.raises(ValueError, match="not an arXiv mailing date"):
        PLAIN.submission_window(D(2025, 3, 29))  # Saturday


# --- holidays ------------------------------------------------------------------------------------------


HOLIDAY_WEDNESDAY = ArxivCalendar(holidays=frozenset({D(2025, 3, 26)}))


def test_a_holiday_evening_has_no_announcement_and_its_mailing_does_not_exist() -> None:
    assert not HOLIDAY_WEDNESDAY.announces_on(D(2025, 3, 26))
    assert not HOLIDAY_WEDNESDAY.is_mailing(D(2025, 3, 27))
    assert HOLIDAY_WEDNESDAY.latest_mailing(et(2025, 3, 27, 9, 0)) == D(2025, 3, 26)
    assert HOLIDAY_WEDNESDAY.next_mailing(et(2025, 3, 26, 12, 0)) == D(2025, 3, 28)


def test_skipped_for_holiday_names_the_cancelled_mailing_until_the_next_evening() -> None:
    assert HOLIDAY_WEDNESDAY.skipped_for_holiday(et(2025, 3, 26, 19, 59)) is None  # before the evening
    assert HOLIDAY_WEDNESDAY.skipped_for_holiday(et(2025, 3, 26, 20, 0)) == D(2025, 3, 27)
    assert HOLIDAY_WEDNESDAY.skipped_for_holiday(et(2025, 3, 27, 9, 0)) == D(2025, 3, 27)
    assert HOLIDAY_WEDNESDAY.skipped_for_holiday(et(2025, 3, 27, 20, 0)) is None  # Thursday announced
    assert PLAIN.skipped_for_holiday(et(2025, 3, 27, 9, 0)) is None


def test_weekends_are_not_holidays() -> None:
    assert PLAIN.skipped_for_holiday(et(2025, 3, 22, 9, 0)) is None  # Saturday morning
    assert PLAIN.skipped_for_holiday(et(2025, 3, 23, 9, 0)) is None  # Sunday morning


def test_a_listed_friday_changes_nothing() -> None:
    friday = ArxivCalendar(holidays=frozenset({D(2026, 6, 19)}))

    assert friday.skipped_for_holiday(et(2026, 6, 20, 9, 0)) is None
    assert friday.mailings_between(D(2026, 6, 14), D(2026, 6, 28)) == PLAIN.mailings_between(
        D(2026, 6, 14), D(2026, 6, 28)
    )
    assert friday.submission_window(D(2026, 6, 22)) == PLAIN.submission_window(D(2026, 6, 22))


def test_the_mailing_after_a_holiday_covers_both_days() -> None:
    # No announcement Wednesday 26 March: Thursday's announcement (mailing Friday 28) takes
    # Tuesday 14:00 .. Thursday 14:00.
    assert HOLIDAY_WEDNESDAY.submission_window(D(2025, 3, 28)) == (utc(2025, 3, 25, 18), utc(2025, 3, 27, 18))
    # The mailing before it is untouched.
    assert HOLIDAY_WEDNESDAY.submission_window(D(2025, 3, 26)) == PLAIN.submission_window(D(2025, 3, 26))


def test_thanksgiving_2025_from_arxivs_list() -> None:
    assert D(2025, 11, 27) in ARXIV_HOLIDAYS
    assert not CAL.is_mailing(D(2025, 11, 28))
    assert CAL.skipped_for_holiday(et(2025, 11, 28, 9, 0)) == D(2025, 11, 28)
    assert CAL.latest_mailing(et(2025, 11, 29, 9, 0)) == D(2025, 11, 27)
    assert CAL.next_mailing(et(2025, 11, 27, 12, 0)) == D(2025, 12, 1)
    # Sunday 30 November's announcement takes Wednesday 14:00 .. Friday 14:00 EST (UTC-5).
    assert CAL.submission_window(D(2025, 12, 1)) == (utc(2025, 11, 26, 19), utc(2025, 11, 28, 19))


def test_a_monday_holiday_merges_the_weekend_into_wednesdays_mailing() -> None:
    # MLK day 2025: no announcement Monday 20 January, so Tuesday 21 has no mailing.
    assert not CAL.is_mailing(D(2025, 1, 21))
    assert CAL.submission_window(D(2025, 1, 22)) == (utc(2025, 1, 17, 19), utc(2025, 1, 21, 19))


def test_a_sunday_holiday_moves_fridays_submissions_to_tuesdays_mailing() -> None:
    # arXiv listed Sunday 6 July 2025 (Independence Day was Friday 4 July).
    assert not CAL.is_mailing(D(2025, 7, 7))
    assert CAL.latest_mailing(et(2025, 7, 7, 9, 0)) == D(2025, 7, 4)
    assert CAL.submission_window(D(2025, 7, 8)) == (utc(2025, 7, 3, 18), utc(2025, 7, 7, 18))


def test_the_built_in_list_holds_dates_of_2024_to_2026_and_is_the_default() -> None:
    assert ArxivCalendar().holidays == ARXIV_HOLIDAYS
    assert {d.year for d in ARXIV_HOLIDAYS} == {2024, 2025, 2026}
    assert all(d.weekday() != 5 for d in ARXIV_HOLIDAYS)  # never a Saturday
    assert {D(2024, 12, 25), D(2025, 1, 1), D(2026, 11, 26)} <= ARXIV_HOLIDAYS


# --- mailings_between ----------------------------------------------------------------------------------


def test_mailings_between_excludes_after_includes_until_oldest_first() -> None:
    assert PLAIN.mailings_between(D(2025, 3, 21), D(2025, 3, 28)) == [
        D(2025, 3, 24),
        D(2025, 3, 25),
        D(2025, 3, 26),
        D(2025, 3, 27),
        D(2025, 3, 28),
    ]


def test_mailings_between_skips_weekends_and_holidays() -> None:
    assert HOLIDAY_WEDNESDAY.mailings_between(D(2025, 3, 26), D(2025, 4, 1)) == [
        D(2025, 3, 28),
        D(2025, 3, 31),
        D(2025, 4, 1),
    ]


def test_mailings_between_empty_ranges() -> None:
    assert PLAIN.mailings_between(D(2025, 3, 24), D(2025, 3, 24)) == []
    assert PLAIN.mailings_between(D(2025, 3, 25), D(2025, 3, 24)) == []
    assert PLAIN.mailings_between(D(2025, 3, 28), D(2025, 3, 30)) == []  # a weekend only


def test_mailings_between_agrees_with_latest_mailing() -> None:
    # Every mailing after Friday's up to the one in force on Tuesday evening.
    assert PLAIN.mailings_between(D(2025, 3, 21), PLAIN.latest_mailing(et(2025, 3, 25, 21, 0))) == [
        D(2025, 3, 24),
        D(2025, 3, 25),
        D(2025, 3, 26),
    ]


# --- daylight saving time ------------------------------------------------------------------------------


def test_spring_forward_2025_moves_the_announcement_from_01_to_00_utc() -> None:
    # DST began Sunday 9 March 2025 at 02:00: Thursday 6 March 20:00 was EST, Sunday 9 March 20:00 EDT.
    assert PLAIN.announced_at(D(2025, 3, 7)).astimezone(dt.UTC) == utc(2025, 3, 7, 1, 0)
    assert PLAIN.announced_at(D(2025, 3, 10)).astimezone(dt.UTC) == utc(2025, 3, 10, 0, 0)
    assert PLAIN.latest_mailing(utc(2025, 3, 9, 23, 59)) == D(2025, 3, 7)
    assert PLAIN.latest_mailing(utc(2025, 3, 10, 0, 0)) == D(2025, 3, 10)


def test_fall_back_2025_moves_the_announcement_from_00_to_01_utc() -> None:
    # DST ended Sunday 2 November 2025 at 02:00: Thursday 30 October 20:00 was EDT, Sunday 2 November EST.
    assert PLAIN.announced_at(D(2025, 10, 31)).astimezone(dt.UTC) == utc(2025, 10, 31, 0, 0)
    assert PLAIN.announced_at(D(2025, 11, 3)).astimezone(dt.UTC) == utc(2025, 11, 3, 1, 0)
    assert PLAIN.latest_mailing(utc(2025, 11, 3, 0, 30)) == D(2025, 10, 31)  # 19:30 EST Sunday
    assert PLAIN.latest_mailing(utc(2025, 11, 3, 1, 0)) == D(2025, 11, 3)


def test_windows_across_dst_changes_are_an_hour_short_or_long() -> None:
    # Friday 7 March 14:00 EST (19:00Z) .. Monday 10 March 14:00 EDT (18:00Z): 71 hours.
    spring = PLAIN.submission_window(D(2025, 3, 11))
    # Friday 31 October 14:00 EDT (18:00Z) .. Monday 3 November 14:00 EST (19:00Z): 73 hours.
    autumn = PLAIN.submission_window(D(2025, 11, 4))

    assert spring == (utc(2025, 3, 7, 19), utc(2025, 3, 10, 18))
    assert spring[1] - spring[0] == dt.timedelta(hours=71)
    assert autumn == (utc(2025, 10, 31, 18), utc(2025, 11, 3, 19))
    assert autumn[1] - autumn[0] == dt.timedelta(hours=73)


# --- parse_holidays ------------------------------------------------------------------------------------


def test_parse_holidays_comma_separated() -> None:
    assert parse_holidays("2025-12-25,2025-12-31") == {D(2025, 12, 25), D(2025, 12, 31)}
    assert parse_holidays(" 2025-12-25 , 2025-12-31 ,") == {D(2025, 12, 25), D(2025, 12, 31)}
    assert parse_holidays("2025-12-25 2025-12-31") == {D(2025, 12, 25), D(2025, 12, 31)}


def test_parse_holidays_json_list() -> None:
    assert parse_holidays('["2025-12-25", "2025-12-31"]') == {D(2025, 12, 25), D(2025, 12, 31)}
    assert parse_holidays("[]") == frozenset()


def test_parse_holidays_accepts_dates_and_nothing() -> None:
    assert parse_holidays([D(2025, 12, 25), "2025-12-31"]) == {D(2025, 12, 25), D(2025, 12, 31)}
    assert parse_holidays("") == frozenset()
    assert parse_holidays("   ") == frozenset()
    assert parse_holidays(None) == frozenset()


def test_parsed_holidays_extend_the_built_in_list() -> None:
    calendar = ArxivCalendar(holidays=ARXIV_HOLIDAYS | parse_holidays("2025-12-25"))

    assert not calendar.is_mailing(D(2025, 12, 26))
    assert not calendar.is_mailing(D(2025, 11, 28))


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("2025-12-25,2025-13-01", "'2025-13-01'"),
        ("25/12/2025", "'25/12/2025'"),
        ("christmas", "'christmas'"),
        ('["2025-12-25", "soon"]', "'soon'"),
        ("[20251225]", "20251225"),
    ],
)
def test_parse_holidays_names_the_bad_entry(value: str, named: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD") as caught:
        parse_holidays(value)

    assert named in str(caught.value)


def test_parse_holidays_refuses_broken_json() -> None:
    with pytest.raises(ValueError, match="not a JSON list"):
        parse_holidays('["2025-12-25",')
    with pytest.raises(ValueError, match="datetime"):
        parse_holidays([dt.datetime(2025, 12, 25, 20, 0)])
