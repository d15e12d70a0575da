"""RSSFetcher / parse_feed against the arXiv stand-in over real HTTP (httpx + feedparser)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.arxiv_rss import RSSFetcher, parse_feed, split_authors, strip_abstract_prefix
from bot.domain.errors import FeedError
from bot.domain.models import Announcement
from bot.domain.settings import Settings
from tests.conftest import DAY
from tests.support import ArxivStandIn, Delay, Malformed, Status, build_rss, make_paper


def fetch(url: str, **options: Any) -> Announcement:
    options.setdefault("base_delay", 0.01)
    return asyncio.run(RSSFetcher(url, **options).fetch())


def feed_url(arxiv: ArxivStandIn) -> str:
    return arxiv.rss_url + "cs.LG"


def ids(announcement: Announcement) -> list[str]:
    return [p.arxiv_id for p in announcement.papers]


MIXED_DAY = [
    make_paper("2503.00001", announce_type="new"),
    make_paper("2503.00002", announce_type="cross"),
    make_paper("2502.00003", announce_type="replace", version=2),
    make_paper("2502.00004", announce_type="replace-cross", version=3),
]


# --- filtering, dedupe and field extraction -----------------------------------------------------------


def test_keeps_new_and_cross_and_drops_replacements(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, MIXED_DAY)

    announcement = fetch(feed_url(arxiv))

    assert ids(announcement) == ["2503.00001", "2503.00002"]
    assert [p.announce_type for p in announcement.papers] == ["new", "cross"]
    assert announcement.total_in_feed == 4  # counted before filtering
    assert announcement.source == feed_url(arxiv)


def test_keep_types_choose_which_announce_types_are_kept(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, MIXED_DAY)

    assert ids(fetch(feed_url(arxiv), keep_types=("cross", "replace-cross"))) == ["2503.00002", "2502.00004"]


@pytest.mark.parametrize(
    ("keep_types", "expected"),
    [
        (("new",), ["2503.00001"]),
        (("replace", "replace-cross"), ["2502.00003", "2502.00004"]),
        ((" NEW ", "Replace"), ["2503.00001", "2502.00003"]),  # trimmed, case-insensitive
        (("new", "cross", "replace", "replace-cross"), ["2503.00001", "2503.00002", "2502.00003", "2502.00004"]),
        ((), []),
    ],
)
def test_parse_feed_keeps_exactly_the_given_types(keep_types: tuple[str, ...], expected: list[str]) -> None:
    announcement = parse_feed(build_rss(MIXED_DAY, date=DAY, categories=["cs.LG"]), keep_types=keep_types)

    assert ids(announcement) == expected
    assert announcement.total_in_feed == 4


def test_announce_types_from_settings_feed_the_fetcher(
    arxiv: ArxivStandIn, make_settings: Callable[..., Settings]
) -> None:
    arxiv.set_day(DAY, MIXED_DAY)
    settings = make_settings(categories=["cs.LG"], announce_types="new,replace")

    announcement = fetch(settings.feed_url, keep_types=settings.announce_types)

    assert ids(announcement) == ["2503.00001", "2502.00003"]


def test_same_paper_twice_is_kept_once_whatever_its_version(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(
        DAY,
        [
            make_paper("2503.00010", title="First sighting", version=1, announce_type="new"),
            make_paper("2503.00011"),
            make_paper("2503.00010", title="Second sighting", version=2, announce_type="cross"),
        ],
    )

    announcement = fetch(feed_url(arxiv))

    assert ids(announcement) == ["2503.00010", "2503.00011"]  # IDs without version
    first = announcement.papers[0]
    assert (first.title, first.announce_type) == ("First sighting", "new")
    assert announcement.total_in_feed == 3


def test_categories_are_kept_in_feed_order(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00020", categories=["stat.ML", "cs.LG", "math.OC", "cs.AI"])])

    (paper,) = fetch(feed_url(arxiv)).papers

    assert paper.categories == ("stat.ML", "cs.LG", "math.OC", "cs.AI")


AUTHOR_LISTS = [
    ["Huy Nguyen", "Nhat Ho", "Ada Lovelace"],
    ["Nhat Ho"],
    ["Alexandre Anderson", "Sandy Randall", "Fernando Andrade"],  # "and" inside names is not a separator
    ["Jean-Luc Picard", "J. R. R. Tolkien", "María José García-Sánchez"],
]


def test_authors_are_split_from_dc_creator(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper(f"2503.0003{i}", authors=authors) for i, authors in enumerate(AUTHOR_LISTS)])

    papers = fetch(feed_url(arxiv)).papers

    assert [p.authors for p in papers] == [tuple(authors) for authors in AUTHOR_LISTS]


def test_split_authors_understands_the_older_and_style() -> None:
    assert split_authors("A. Person, B. Person and C. Person") == ("A. Person", "B. Person", "C. Person")
    assert split_authors("  Alexandre Anderson  ") == ("Alexandre Anderson",)
    assert split_authors("") == ()


def test_abstract_prefix_is_stripped_and_whitespace_collapsed(arxiv: ArxivStandIn) -> None:
    abstract = "Mixture of experts (MoE) has emerged.\n  We study   its convergence. Abstract: stays."
    arxiv.set_day(
        DAY,
        [
            make_paper("2503.00040", abstract=abstract, announce_type="new"),
            make_paper("2503.00041", abstract=abstract, announce_type="cross", version=3),
        ],
    )

    papers = fetch(feed_url(arxiv)).papers

    expected = "Mixture of experts (MoE) has emerged. We study its convergence. Abstract: stays."
    assert [p.abstract for p in papers] == [expected, expected]


ABSTRACTS = {  # a feed item's description → the abstract in it
    "arXiv:2503.03213v1 Announce Type: new \nAbstract: Text here.": "Text here.",
    "arXiv:2502.00004v3 Announce Type: replace-cross \nAbstract:   Multi\n line.": "Multi line.",
    "  arxiv:hep-th/9901001v2 announce type: cross\nabstract: Old style.": "Old style.",
    "No prefix at all.": "No prefix at all.",
}


@pytest.mark.parametrize(("raw", "expected"), ABSTRACTS.items())
def test_strip_abstract_prefix(raw: str, expected: str) -> None:
    assert strip_abstract_prefix(raw) == expected


def test_announcement_date_comes_from_the_feed_not_the_clock(arxiv: ArxivStandIn) -> None:
    far_away = dt.date(2019, 1, 2)
    arxiv.set_day(far_away, [make_paper("1901.00050")])

    announcement = fetch(feed_url(arxiv))

    assert announcement.date == far_away
    assert ids(announcement) == ["1901.00050"]


def test_empty_feed_is_an_empty_announcement_not_an_error(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(dt.date(2025, 3, 10), [])

    announcement = fetch(feed_url(arxiv))

    assert announcement.is_empty
    assert announcement.papers == ()
    assert announcement.total_in_feed == 0
    assert announcement.date == dt.date(2025, 3, 10)
    assert len(arxiv.requests) == 1


def test_feed_of_only_replacements_is_empty_after_filtering(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, MIXED_DAY[2:])

    announcement = fetch(feed_url(arxiv))

    assert announcement.is_empty
    assert announcement.total_in_feed == 2


# --- retries and failures -----------------------------------------------------------------------------


def test_malformed_xml_once_is_retried_and_then_read(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00060"), make_paper("2503.00061")])
    arxiv.add_fault(Malformed())

    announcement = fetch(feed_url(arxiv))

    assert ids(announcement) == ["2503.00060", "2503.00061"]
    assert len(arxiv.requests) == 2
    assert isinstance(arxiv.requests[0].fault, Malformed)


def test_malformed_xml_every_time_raises_feed_error_that_says_what_to_do(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00070")])
    arxiv.add_fault(*[Malformed()] * 3)

    with pytest.raises(FeedError) as caught:
        fetch(feed_url(arxiv), retries=2)

    message = str(caught.value)
    assert feed_url(arxiv) in message
    assert "after 3 attempts" in message
    assert "not well-formed XML" in message
    assert "try again in a few minutes" in message
    assert "ARXIV_RSS_URL" in message
    assert len(arxiv.requests) == 3


def test_non_feed_answer_is_retried_then_reported(arxiv: ArxivStandIn) -> None:
    arxiv.set_raw_feed("")

    with pytest.raises(FeedError, match="not an RSS feed"):
        fetch(feed_url(arxiv), retries=1)

    assert len(arxiv.requests) == 2


def test_http_500_is_retried(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00080")])
    arxiv.add_fault(Status(500))

    announcement = fetch(feed_url(arxiv))

    assert ids(announcement) == ["2503.00080"]
    assert [r.status for r in arxiv.requests] == [500, 200]


def test_persistent_503_raises_feed_error_after_all_attempts(arxiv: ArxivStandIn) -> None:
    arxiv.add_fault(*[Status(503)] * 3)

    with pytest.raises(FeedError, match=r"after 3 attempts: HTTP 503"):
        fetch(feed_url(arxiv), retries=2)

    assert len(arxiv.requests) == 3


def test_429_waits_for_retry_after(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00090")])
    arxiv.add_fault(Status(429, headers={"Retry-After": "1"}))

    started = time.monotonic()
    announcement = fetch(feed_url(arxiv))
    elapsed = time.monotonic() - started

    assert ids(announcement) == ["2503.00090"]
    first, second = arxiv.requests
    assert (first.status, second.status) == (429, 200)
    assert elapsed >= 0.95  # base_delay is 0.01: only Retry-After explains the wait
    assert second.time - first.time >= 0.95


def test_404_fails_at_once_with_feed_error(arxiv: ArxivStandIn) -> None:
    arxiv.add_fault(Status(404))

    with pytest.raises(FeedError) as caught:
        fetch(feed_url(arxiv))

    assert "HTTP 404" in str(caught.value)
    assert "DIGEST_CATEGORIES" in str(caught.value)
    assert len(arxiv.requests) == 1


def test_unknown_path_404_is_not_retried(arxiv: ArxivStandIn) -> None:
    with pytest.raises(FeedError, match="HTTP 404"):
        fetch(arxiv.url + "/nothing-here")

    assert len(arxiv.requests) == 1


def test_timeout_is_retried(arxiv: ArxivStandIn) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00100")])
    arxiv.add_fault(Delay(0.6))

    announcement = fetch(feed_url(arxiv), timeout=0.15)

    assert ids(announcement) == ["2503.00100"]
    # A second request means the client gave up on the slow answer (waiting would have needed one);
    # no wall-clock bound, which a loaded CI machine would make flaky.
    assert len(arxiv.requests) == 2


def test_timeouts_every_time_raise_feed_error(arxiv: ArxivStandIn) -> None:
    arxiv.add_fault(Delay(0.4), Delay(0.4))

    with pytest.raises(FeedError, match="timed out"):
        fetch(feed_url(arxiv), timeout=0.1, retries=1)

    assert len(arxiv.requests) == 2


@pytest.mark.parametrize(
    "retry_after",
    [
        "soon",
        "Wed, 21 Oct 2015 07:28:00 -0000",
        "Wed, 21 Oct 2015 07:28:00 GMT",  # a date in the past: retry at once
    ],
)
def test_unparseable_retry_after_is_still_retried(arxiv: ArxivStandIn, retry_after: str) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00110")])
    arxiv.add_fault(Status(429, headers={"Retry-After": retry_after}))

    announcement = fetch(feed_url(arxiv))

    assert ids(announcement) == ["2503.00110"]
    assert len(arxiv.requests) == 2


# --- where the feed comes from ------------------------------------------------------------------------


def test_feed_url_is_rss_url_plus_categories_joined_by_plus(
    arxiv: ArxivStandIn, make_settings: Callable[..., Settings]
) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00120")])
    settings = make_settings(categories=["cs.LG", "cs.AI", "stat.ML"])

    assert settings.feed_url == arxiv.rss_url + "cs.LG+cs.AI+stat.ML"
    assert make_settings(arxiv_rss_url=arxiv.rss_url.rstrip("/"), categories=["cs.CL"]).feed_url == (
        arxiv.rss_url + "cs.CL"
    )

    fetch(settings.feed_url)

    (request,) = arxiv.requests
    assert request.method == "GET"
    assert request.path == "/rss/cs.LG+cs.AI+stat.ML"
    assert request.headers["User-Agent"].startswith("arxiv-digest/")


def test_feed_url_follows_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARXIV_RSS_URL", "http://127.0.0.1:9/rss")
    monkeypatch.setenv("DIGEST_CATEGORIES", "cs.LG, math.OC")

    assert Settings(_env_file=None).feed_url == "http://127.0.0.1:9/rss/cs.LG+math.OC"


@pytest.mark.parametrize("form", ["file", "path"])
def test_local_file_source_is_read_without_http(arxiv: ArxivStandIn, tmp_path: Path, form: str) -> None:
    day = dt.date(2024, 12, 31)
    papers = [make_paper("2412.00001"), make_paper("2412.00002", announce_type="replace")]
    path = tmp_path / "feed.xml"
    path.write_text(build_rss(papers, date=day, categories=["cs.LG"]), encoding="utf-8")
    url = f"file://{path}" if form == "file" else str(path)

    announcement = fetch(url)

    assert announcement.date == day
    assert ids(announcement) == ["2412.00001"]
    assert announcement.source == str(path)
    assert arxiv.requests == []


def test_parse_feed_reads_text_and_bytes_alike() -> None:
    xml = build_rss([make_paper("2503.00130")], date=DAY, categories=["cs.LG"])

    from_text = parse_feed(xml, keep_types=["new"], source="x")
    from_bytes = parse_feed(xml.encode("utf-8"), keep_types=["new"], source="x")

    assert from_text == from_bytes
    assert from_text.date == DAY


def test_abstract_keeps_tag_like_text(arxiv: ArxivStandIn) -> None:
    abstract = "Models emit <think> tokens before the <EOS> token; we show x < y."
    arxiv.set_day(DAY, [make_paper("2503.00140", abstract=abstract)])

    (paper,) = fetch(feed_url(arxiv)).papers

    assert paper.abstract == abstract


# --- real feeds: affiliations, TeX, arXiv's error feed, other formats (tests/fixtures/arxiv/SOURCES.md) -------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"
REAL_DAY = (FIXTURES / "rss_cs.LG+cs.AI_2025-03-25.xml").read_bytes()
ERROR_FEED = (FIXTURES / "rss_error_bad_subject_class.xml").read_text(encoding="utf-8")
RDF_FEED = (FIXTURES / "rdf_hep-ex_2018-05-23.xml").read_text(encoding="utf-8")
ALL_TYPES = ("new", "cross", "replace", "replace-cross")


def real_papers() -> dict[str, Any]:
    return {p.arxiv_id: p for p in parse_feed(REAL_DAY, keep_types=ALL_TYPES, source="fixture").papers}


def test_real_feed_splits_authors_at_top_level_commas_and_keeps_affiliations_apart() -> None:
    paper = real_papers()["2503.17407"]

    assert paper.authors == (
        "Ana Araujo",
        "Breno Costa",
        "Carla Dias",
        "Przemysław Nowak",
        "Rémy Dubois",
        "Hyvärinen Aapo",
        "João Silva",
        "Otávio Lima",
    )
    assert paper.affiliations == (
        "University of Brasilia Brazil, The University of Melbourne Australia",
        "University of Brasilia Brazil",
        "Department of Physics and Astronomy, University of Brasilia",
        "Faculty of Mathematics, Informatics and Mechanics, University of Warsaw, Poland",
        "Université Paris-Saclay, CNRS, Inria",
        "University of Helsinki, Finland and University College London, UK",
        "",
        "Federal University of Minas Gerais, Brazil",
    )


def test_real_feed_decodes_tex_in_names_titles_and_abstracts() -> None:
    papers = real_papers()

    assert papers["2503.18758"].authors == (
        "Yunus Can Gültekin",
        "Péter Scheepers",
        "Yuncheng Yuan",
        "Federico Corradi",
        "Alex Alvarado",
    )
    assert papers["2503.18758"].affiliations[0] == "Eindhoven University of Technology, Eindhoven, The Netherlands"
    rana = papers["2503.18216"].abstract
    assert "~44%" in rana and "$" not in rana and "\\" not in rana
    completion = papers["2503.17514"].abstract
    assert "A completion test is often" in completion and "\\emph" not in completion
    assert "n-gram" in completion  # "$n$-gram": math stays readable, nothing lost
    survey = papers["2503.17407"].abstract
    assert "LCLM-Horizon (https://github.com/LCLM-Horizon/" in survey  # \href keeps its link
    assert all("\\" not in p.title and "\\" not in "".join(p.authors) for p in papers.values())


def test_real_feed_keeps_its_announcement_date_and_types() -> None:
    announcement = parse_feed(REAL_DAY, keep_types=("new", "cross"), source="fixture")

    assert announcement.date == dt.date(2025, 3, 25)
    assert announcement.total_in_feed == 4
    assert ids(announcement) == ["2503.18216", "2503.18758", "2503.17407"]


@pytest.mark.parametrize("status", [400, 200])
def test_arxivs_error_feed_is_an_error_naming_arxivs_message(arxiv: ArxivStandIn, status: int) -> None:
    arxiv.set_raw_feed(ERROR_FEED, status=status)

    with pytest.raises(FeedError) as caught:
        fetch(feed_url(arxiv))

    message = str(caught.value)
    assert "Bad subject class 'XY'" in message and "cs.SY. Check DIGEST_CATEGORIES" in message
    assert "DIGEST_CATEGORIES" in message
    assert "no new papers" not in message.lower() and "may be down" not in message
    assert len(arxiv.requests) == 1  # a bad query does not get better by asking again


def test_pre_2024_rdf_feed_is_an_error_saying_what_arrived(arxiv: ArxivStandIn) -> None:
    arxiv.set_raw_feed(RDF_FEED)

    with pytest.raises(FeedError) as caught:
        fetch(feed_url(arxiv))

    message = str(caught.value)
    assert "RSS 1.0 (RDF)" in message and "before 2024" in message
    assert "https://rss.arxiv.org/rss/" in message
    assert len(arxiv.requests) == 1


def test_html_page_is_an_error_saying_what_arrived(arxiv: ArxivStandIn) -> None:
    page = "<!DOCTYPE html>\n<html><head><title>Sign in - Campus Wi-Fi</title></head><body><p>Log in</p></body></html>"
    arxiv.set_raw_feed(page)

    with pytest.raises(FeedError) as caught:
        fetch(feed_url(arxiv))

    assert "an HTML page" in str(caught.value)
    assert "Sign in - Campus Wi-Fi" in str(caught.value)
    assert len(arxiv.requests) == 1


def test_unresolvable_host_says_so_not_that_arxiv_may_be_down() -> None:
    with pytest.raises(FeedError) as caught:
        fetch("http://rss.arxiv.invalid/rss/cs.LG", retries=1)

    message = str(caught.value)
    assert "rss.arxiv.invalid could not be resolved" in message
    assert "may be down" not in message


def test_refused_connection_says_the_network_is_unreachable(arxiv: ArxivStandIn) -> None:
    closed_port = arxiv.url.rsplit(":", 1)[0] + ":9"  # discard: nothing listens there

    with pytest.raises(FeedError) as caught:
        fetch(closed_port + "/rss/cs.LG", retries=1)

    message = str(caught.value)
    assert "could not connect" in message
    assert "may be down" not in message


def test_each_retry_logs_a_line_as_it_happens(arxiv: ArxivStandIn, caplog: pytest.LogCaptureFixture) -> None:
    arxiv.set_day(DAY, [make_paper("2503.00150")])
    arxiv.add_fault(Status(503), Malformed())

    with caplog.at_level("WARNING", logger="adapters.arxiv_rss"):
        fetch(feed_url(arxiv), retries=3)

    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.arxiv_rss"]
    assert len(lines) == 2
    assert "attempt 1 of 4" in lines[0] and "HTTP 503" in lines[0] and "retrying in 0.01 s" in lines[0]
    assert "attempt 2 of 4" in lines[1] and "not well-formed XML" in lines[1] and "retrying in 0.02 s" in lines[1]


def test_stand_in_feed_carries_affiliations_and_tex_like_the_real_one(arxiv: ArxivStandIn) -> None:
    day = [
        make_paper(
            "2503.00160",
            title="L$^2$M: Mutual Information Scaling Law  for Long-Context Language Modeling",
            authors=["Zhuo Chen", "Oriol Mayn\\'e i Comas", "Marin Solja\\v{c}i\\'c"],
            affiliations=["MIT, Cambridge and Harvard", "", "MIT"],
        )
    ]
    arxiv.set_day(DAY, day)

    (paper,) = fetch(feed_url(arxiv)).papers

    assert paper.title == "L^2M: Mutual Information Scaling Law for Long-Context Language Modeling"
    assert paper.authors == ("Zhuo Chen", "Oriol Mayné i Comas", "Marin Soljačić")
    assert paper.affiliations == ("MIT, Cambridge and Harvard", "", "MIT")
    xml = build_rss(day, date=DAY, categories=["cs.LG"])
    assert "<dc:creator>Zhuo Chen (MIT, Cambridge and Harvard), Oriol Mayn\\'e i Comas, " in xml
    assert "<lastBuildDate>" in xml and " +0000</lastBuildDate>" in xml  # arXiv builds at 04:00/05:00 UTC


def test_a_misspelt_category_gets_arxivs_refusal_not_an_empty_day(arxiv: ArxivStandIn) -> None:
    arxiv.filter_categories = True
    arxiv.set_day(DAY, [make_paper("2503.00170", categories=["cs.LG"])])

    with pytest.raises(FeedError) as caught:
        fetch(arxiv.rss_url + "cs.LG+cs.XY")

    assert "arXiv refused the feed query: Bad subject class 'XY'. Valid subject classes for the archive 'cs'" in str(
        caught.value
    )
    assert [r.status for r in arxiv.requests] == [400]
    assert ids(fetch(arxiv.rss_url + "cs.LG")) == ["2503.00170"]
