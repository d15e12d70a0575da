"""Past mailings rebuilt through the arXiv API: ArxivLookup.announcement (the `arxiv` package) against the
stand-in's /api/query, with submission windows from ArxivCalendar."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import arxiv as arxiv_package
import pytest

from adapters.arxiv_api import ArxivLookup, window_query
from bot.domain.calendar import ArxivCalendar
from bot.domain.errors import DigestError
from bot.domain.models import Announcement, Paper
from tests.adapters.test_arxiv_api import assert_gave_up_after_three_503s
from tests.support import ArxivStandIn, Delay, Malformed, Status, make_paper

CALENDAR = ArxivCalendar(holidays=frozenset())
TUESDAY = dt.date(2025, 3, 25)  # announced Monday 24 March 20:00 ET: Friday 21 18:00Z .. Monday 24 18:00Z
WEDNESDAY = dt.date(2025, 3, 26)  # announced Tuesday 25 March: Monday 24 18:00Z .. Tuesday 25 18:00Z
CATEGORIES = ["cs.LG", "cs.AI"]
KEEP = ("new", "cross")


def paper(number: int, published: str, categories: list[str], **extra: Any) -> dict[str, Any]:
    return make_paper(f"2503.{number:05d}", categories=categories, published=published, **extra)


# Registered out of submission order on purpose; `published` decides.
TUESDAY_PAPERS = [
    paper(18003, "2025-03-24T10:00:00Z", ["cs.AI"]),
    paper(18001, "2025-03-21T18:00:00Z", ["cs.LG"]),  # the window's first instant: in
    paper(18002, "2025-03-22T09:30:00Z", ["stat.ML", "cs.LG"]),  # cross-list from stat.ML
    paper(18004, "2025-03-24T17:59:59Z", ["cs.LG", "stat.ML"]),  # last second before the cutoff
]
WEDNESDAY_PAPERS = [
    paper(18101, "2025-03-24T18:00:00Z", ["cs.AI", "cs.LG"]),  # the cutoff itself: Wednesday's
    paper(18102, "2025-03-24T18:00:30Z", ["math.OC", "cs.AI"], primary_category="math.OC"),
    paper(18103, "2025-03-25T11:11:00Z", ["cs.LG"]),
    paper(18104, "2025-03-25T17:00:00Z", ["cs.AI"]),
    paper(18105, "2025-03-25T17:45:00Z", ["eess.SP", "cs.LG"]),
]
ELSEWHERE = [
    paper(18201, "2025-03-24T12:00:00Z", ["math.AG"]),  # in Tuesday's window, not our categories
    paper(18202, "2025-03-25T12:00:00Z", ["hep-th", "quant-ph"]),  # in Wednesday's window, not ours
    paper(18203, "2025-03-21T17:59:00Z", ["cs.LG"]),  # Monday's window (before Tuesday's start)
    paper(18204, "2025-03-25T18:00:00Z", ["cs.LG"]),  # Thursday's window (at Wednesday's end)
]


@pytest.fixture
def days(arxiv: ArxivStandIn) -> ArxivStandIn:
    arxiv.add_papers([*WEDNESDAY_PAPERS, *ELSEWHERE, *TUESDAY_PAPERS])
    return arxiv


def client(arxiv: ArxivStandIn, **options: Any) -> ArxivLookup:
    options.setdefault("delay_seconds", 0)
    return ArxivLookup(arxiv.api_url, **options)


def announcement(
    lookup: ArxivLookup, mailing: dt.date, *, categories: list[str] = CATEGORIES, keep: tuple[str, ...] = KEEP
) -> Announcement:
    return lookup.announcement_sync(categories, mailing, CALENDAR.submission_window(mailing), keep_types=keep)


def ids(result: Announcement) -> list[str]:
    return [p.arxiv_id for p in result.papers]


def search_requests(arxiv: ArxivStandIn) -> list[Any]:
    return [r for r in arxiv.requests_to("/api/query") if r.query.get("search_query")]


# --- what each mailing holds ---------------------------------------------------------------------------


def test_each_mailing_holds_exactly_its_windows_papers_in_submission_order(days: ArxivStandIn) -> None:
    lookup = client(days)

    tuesday = announcement(lookup, TUESDAY)
    wednesday = announcement(lookup, WEDNESDAY)

    assert ids(tuesday) == ["2503.18001", "2503.18002", "2503.18003", "2503.18004"]
    assert ids(wednesday) == ["2503.18101", "2503.18102", "2503.18103", "2503.18104", "2503.18105"]
    assert (tuesday.date, wednesday.date) == (TUESDAY, WEDNESDAY)
    assert (tuesday.total_in_feed, wednesday.total_in_feed) == (4, 5)
    assert tuesday.source == wednesday.source == "arxiv-api"


def test_new_or_cross_follows_the_primary_category(days: ArxivStandIn) -> None:
    result = announcement(client(days), WEDNESDAY)

    assert {p.arxiv_id: p.announce_type for p in result.papers} == {
        "2503.18101": "new",  # primary cs.AI
        "2503.18102": "cross",  # primary math.OC, cross-listed to cs.AI
        "2503.18103": "new",
        "2503.18104": "new",
        "2503.18105": "cross",  # primary eess.SP
    }


def test_papers_are_built_like_the_rss_path(days: ArxivStandIn) -> None:
    days.add_papers(
        [
            paper(
                18106,
                "2025-03-25T01:00:00Z",
                ["cs.LG", "I.2.6", "68T05"],
                title="A  title\n  over lines",
                abstract="An abstract\n   wrapped\tby arXiv.",
                authors=["Ada  Lovelace", "Alan Turing"],
                version=3,
            )
        ]
    )

    result = announcement(client(days), WEDNESDAY)

    assert result.papers[2] == Paper(
        arxiv_id="2503.18106",  # versionless
        title="A title over lines",
        authors=("Ada Lovelace", "Alan Turing"),
        abstract="An abstract wrapped by arXiv.",
        categories=("cs.LG",),  # ACM and MSC classes dropped, as in the RSS feed
        announce_type="new",
    )


def test_keep_types_filters_after_counting(days: ArxivStandIn) -> None:
    result = announcement(client(days), WEDNESDAY, keep=("new",))

    assert ids(result) == ["2503.18101", "2503.18103", "2503.18104"]
    assert result.total_in_feed == 5


def test_categories_limit_the_search(days: ArxivStandIn) -> None:
    result = announcement(client(days), WEDNESDAY, categories=["cs.AI"])

    assert ids(result) == ["2503.18101", "2503.18102", "2503.18104"]
    assert [p.announce_type for p in result.papers] == ["new", "cross", "new"]


def test_a_whole_archive_matches_its_subcategories(days: ArxivStandIn) -> None:
    result = announcement(client(days), WEDNESDAY, categories=["hep-th", "math"])

    assert ids(result) == ["2503.18102", "2503.18202"]
    assert [p.announce_type for p in result.papers] == ["new", "new"]


def test_a_window_without_papers_is_asked_twice_then_empty(days: ArxivStandIn) -> None:
    saturday_window = (dt.datetime(2025, 3, 29, 18, tzinfo=dt.UTC), dt.datetime(2025, 3, 30, 18, tzinfo=dt.UTC))

    result = client(days).announcement_sync(CATEGORIES, dt.date(2025, 3, 31), saturday_window, keep_types=KEEP)

    assert result.is_empty and result.total_in_feed == 0
    assert len(search_requests(days)) == 2  # a garbled first page looks the same, so one more look


def test_async_announcement_gives_the_same_answer(days: ArxivStandIn) -> None:
    lookup = client(days)

    result = asyncio.run(
        lookup.announcement(CATEGORIES, TUESDAY, CALENDAR.submission_window(TUESDAY), keep_types=iter(KEEP))
    )

    assert result == announcement(lookup, TUESDAY)


# --- the request -----------------------------------------------------------------------------------------


def test_the_query_asks_for_the_window_in_gmt_sorted_by_submission(days: ArxivStandIn) -> None:
    announcement(client(days), WEDNESDAY)

    (request,) = days.requests
    assert request.path == "/api/query"
    assert request.query["search_query"] == (
        "(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202503241800 TO 202503251800]"
    )
    assert request.query["sortBy"] == "submittedDate"
    assert request.query["sortOrder"] == "ascending"
    assert request.query["id_list"] == ""
    assert (request.query["start"], request.query["max_results"]) == ("0", "200")


def test_window_query_for_a_whole_archive_and_winter_time() -> None:
    window = CALENDAR.submission_window(dt.date(2025, 12, 2))  # Friday 28 Nov .. Monday 1 Dec, 14:00 EST

    assert window_query(["cs", "stat.ML"], window) == (
        "(cat:cs OR cat:cs.* OR cat:stat.ML) AND submittedDate:[202511281900 TO 202512011900]"
    )


def test_window_query_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        window_query(["cs.LG"], (dt.datetime(2025, 3, 24, 18), dt.datetime(2025, 3, 25, 18)))


def test_every_page_is_fetched(days: ArxivStandIn) -> None:
    result = announcement(client(days, search_page_size=2), WEDNESDAY)

    assert len(result.papers) == 5
    assert [(r.query["start"], r.query["max_results"]) for r in search_requests(days)] == [
        ("0", "2"),
        ("2", "2"),
        ("4", "2"),
    ]


def test_the_id_lookup_keeps_its_own_page_size(days: ArxivStandIn) -> None:
    lookup = client(days, search_page_size=2)

    announcement(lookup, WEDNESDAY)
    lookup.lookup_sync(["2503.18101"])

    assert days.requests[-1].query["max_results"] == "100"


def test_searches_and_lookups_share_the_rate_limit(days: ArxivStandIn) -> None:
    lookup = client(days, delay_seconds=0.3, search_page_size=4)

    announcement(lookup, WEDNESDAY)  # two pages
    lookup.lookup_sync(["2503.18101"])

    times = [r.time for r in days.requests]
    assert len(times) == 3
    assert all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times))


# --- faults ----------------------------------------------------------------------------------------------


def test_503_then_success_is_retried(days: ArxivStandIn) -> None:
    days.add_fault(Status(503))

    result = announcement(client(days, num_retries=1), TUESDAY)

    assert len(result.papers) == 4
    assert [r.status for r in days.requests] == [503, 200]


def test_503_on_a_later_page_is_retried_from_that_page(days: ArxivStandIn) -> None:
    days.add_fault(Delay(0), Status(503))  # the first page is answered normally, the second fails once

    result = announcement(client(days, num_retries=1, search_page_size=2), WEDNESDAY)

    assert len(result.papers) == 5
    assert [(r.query["start"], r.status) for r in days.requests] == [("0", 200), ("2", 503), ("2", 200), ("4", 200)]


def test_persistent_failure_raises_an_actionable_digest_error(days: ArxivStandIn) -> None:
    days.add_fault(*[Status(503)] * 3)

    with pytest.raises(DigestError) as caught:
        announcement(client(days, num_retries=2), TUESDAY)

    assert_gave_up_after_three_503s(caught, days, "2025-03-25", "try again in a few minutes")


def test_unreachable_api_raises_digest_error() -> None:
    with ArxivStandIn() as gone:
        url = gone.api_url

    with pytest.raises(DigestError, match="ARXIV_API_URL"):
        ArxivLookup(url, delay_seconds=0, num_retries=1).announcement_sync(
            CATEGORIES, TUESDAY, CALENDAR.submission_window(TUESDAY), keep_types=KEEP
        )


@pytest.mark.parametrize("page_size", [1, 2, 4, 8])
def test_a_garbled_first_page_loses_nothing(days: ArxivStandIn, page_size: int) -> None:
    """lxml recovers the entries before the cut and the header's totalResults, so the package pages on from
    there; an entry cut short is asked for again by id, and a page with no entry left (page size 1)
    ends the package's paging, so the whole search is asked once more."""
    days.add_fault(Malformed())

    result = announcement(client(days, search_page_size=page_size), WEDNESDAY)

    assert ids(result) == ["2503.18101", "2503.18102", "2503.18103", "2503.18104", "2503.18105"]
    assert all(p.abstract and p.categories and p.authors for p in result.papers)
    assert isinstance(days.requests[0].fault, Malformed)
    assert result.total_in_feed == 5


def test_an_entry_that_stays_incomplete_is_counted_but_not_kept(days: ArxivStandIn) -> None:
    days.add_papers([paper(18107, "2025-03-25T02:00:00Z", ["cs.LG"], abstract=" ")])

    result = announcement(client(days), WEDNESDAY)

    assert "2503.18107" not in ids(result)
    assert len(result.papers) == 5
    assert result.total_in_feed == 6
    # One search, then one look-up by id for the incomplete entry; no further asking.
    assert [r.query.get("id_list") for r in days.requests] == ["", "2503.18107"]


# --- the stand-in's query language (what the tests above rely on) -------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat:cs.AI", ["2503.18101", "2503.18102", "2503.18104"]),
        ("cat:cs.AI ANDNOT cat:math.OC", ["2503.18101", "2503.18104"]),
        ("cat:cs.AI AND (cat:math.OC OR cat:cs.LG)", ["2503.18101", "2503.18102"]),
        ("cat:math.OC OR cat:eess.SP AND cat:cs.LG", ["2503.18102", "2503.18105"]),  # AND binds tighter
        ("cat:math* OR cat:hep-th", ["2503.18102", "2503.18202"]),
        ("submittedDate:[202503251100 TO 202503251111]", ["2503.18103"]),  # inclusive, to the minute
        ("submittedDate:[20250325 TO 202503251110]", []),
    ],
)
def test_the_standin_understands_boolean_queries_and_ranges(
    days: ArxivStandIn, query: str, expected: list[str]
) -> None:
    package = arxiv_package.Client(delay_seconds=0)
    package.query_url_format = days.api_url + "?{}"
    window = "submittedDate:[202503241800 TO 202503251800]"

    found = package.results(
        arxiv_package.Search(
            query=f"({query}) AND {window}" if "submittedDate" not in query else query,
            max_results=None,
            sort_by=arxiv_package.SortCriterion.SubmittedDate,
            sort_order=arxiv_package.SortOrder.Ascending,
        )
    )

    assert [r.get_short_id().removesuffix("v1") for r in found] == expected
    assert days.errors == []


def test_a_past_mailing_decodes_tex_in_names_titles_and_abstracts(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers(
        [
            paper(
                18301,
                "2025-03-24T10:00:00Z",
                ["cs.LG"],
                title="L$^2$M: Mutual Information Scaling Law for Long-Context Language Modeling",
                authors=["Zhuo Chen", "Oriol Mayn\\'e i Comas", "Marin Solja\\v{c}i\\'c"],
                abstract="A bipartite mutual information scaling law, \\emph{distinct} from $\\sim$conventional ones.",
            )
        ]
    )

    (found,) = announcement(client(arxiv), TUESDAY).papers

    assert found.title == "L^2M: Mutual Information Scaling Law for Long-Context Language Modeling"
    assert found.authors == ("Zhuo Chen", "Oriol Mayné i Comas", "Marin Soljačić")
    assert found.abstract == "A bipartite mutual information scaling law, distinct from ~conventional ones."
