"""The archive site: pages built from stored digests, every relative link resolving on disk, prev/next/month
navigation, escaping, the approximate banner, the CLI commands, speed, and the pages in headless Chromium
(skipped when /usr/bin/chromium is missing; .ci/run installs it)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col
from typer.testing import CliRunner

from adapters.arxiv_rss import parse_feed
from adapters.files import write_digest
from adapters.site.build import day_path, publish_site
from adapters.site.feed import FEED_DAYS
from bot.digest.archive import stored_digests
from bot.domain.models import Announcement, Judgment, Paper, Profile, Tldr
from bot.entrypoints.cli import app
from bot.scoring import local_scorer
from storage.store import Store
from storage.tables import RunRow
from tests.conftest import DAY, sample_papers

THU, MON, TUE = dt.date(2025, 2, 27), dt.date(2025, 3, 3), dt.date(2025, 3, 4)  # two months, three days
DAYS = (THU, MON, TUE)
MODEL, KEY = "gpt-4o-mini", "k" * 64
EVIL = '<script>alert("x")</script> & "quotes"'
CHROMIUM = Path("/usr/bin/chromium")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
runner = CliRunner()


def paper(arxiv_id: str, title: str, **changes: object) -> Paper:
    values: dict[str, object] = dict(
        arxiv_id=arxiv_id, title=title, authors=("Ann A", "Bo B", "Cy C", "Di D"),
        abstract=f"Abstract of {title}.", categories=("cs.LG",),
    )
    values.update(changes)
    return Paper(**values)  # type: ignore[arg-type]


def add_day(
    store: Store, profile: Profile, date: dt.date, papers: Sequence[Paper], scores: dict[str, tuple[int, int]], *,
    model: str = MODEL, approximate: bool = False,
) -> None:
    """A day as the pipeline leaves it: announcement, run and the run's scores (no run needed for a site)."""
    store.save_announcement("cs.LG", Announcement(date, tuple(papers), len(papers), "rss"))
    run_id = store.start_run(profile.id, date, model=model, criteria_key=KEY)
    judgments = [Judgment(pid, r, n, f"Comment on {pid}: {EVIL}", approximate) for pid, (r, n) in scores.items()]
    store.save_judgments(judgments, KEY, model)
    store.finish_run(run_id, status="done", total_arxiv=len(papers), scanned=len(scores), relevant=0, unscored=0)


@pytest.fixture
def profile(store: Store) -> Profile:
    return store.ensure_profile(
        "default", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, default_criteria="1. MoE"
    )


@pytest.fixture
def archive(store: Store, profile: Profile) -> Store:
    """Three days over two months: LLM-scored, with an unscored paper and an old-style ID; approximate; and one
    with a feedback explanation and hostile text."""
    add_day(store, profile, THU, [
        paper("2502.20001", "Sparse mixture of experts"), paper("2502.20002", "Graph networks"),
        paper("hep-th/9901001", "Old-style identifier experts"), paper("2502.20004", "Never scored"),
    ], {"2502.20001": (9, 8), "2502.20002": (3, 3), "hep-th/9901001": (8, 6)})  # fmt: skip
    add_day(store, profile, MON, [paper("2503.00001", "Local scorer experts"), paper("2503.00002", "Other")],
            {"2503.00001": (8, 7), "2503.00002": (2, 2)}, model=local_scorer.MODEL_NAME, approximate=True)
    add_day(store, profile, TUE, [
        paper("2503.10001", EVIL, abstract=f"Hostile abstract {EVIL}", authors=(EVIL,)),
        paper("2503.10002", "Quantization of transformers"),
    ], {"2503.10001": (10, 9), "2503.10002": (7, 6)})  # fmt: skip
    # The channel's feedback moved the second paper up that day.
    store.save_ranking_notes(profile.id, TUE, {"2503.10002": (2, 1, 3.0, "↑ like 3 papers you liked"),
                                               "2503.10001": (1, 2, 0.0, "")})
    return store


@pytest.fixture
def site(archive: Store, profile: Profile, tmp_path: Path) -> Path:
    out = tmp_path / "site"
    result = publish_site(archive, profile, out)
    assert (result.days, result.months, result.index) == (3, 2, out / "index.html")
    return out


# reading pages --------------------------------------------------------------------------------------------


@dataclass
class Page(HTMLParser):
    """What a test needs from one HTML page; raises on badly nested tags."""

    links: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (url, attributes)
    ids: set[str] = field(default_factory=set)
    stack: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if "id" in values:
            assert values["id"] not in self.ids, f"duplicate id {values['id']}"
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if name in values:
                self.links.append((values[name], values))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def rel(self, kind: str) -> str | None:
        found = [url for url, attrs in self.links if attrs.get("rel") == kind]
        assert len(set(found)) <= 1
        return found[0] if found else None

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def read(path: Path) -> Page:
    page = Page()
    source = path.read_text(encoding="utf-8")
    assert source.startswith("<!doctype html>\n")
    page.feed(source)
    page.close()
    assert page.stack == [], f"unclosed tags in {path}: {page.stack}"
    return page


def pages(site: Path) -> dict[Path, Page]:
    return {path: read(path) for path in sorted(site.rglob("*.html"))}


# structure and links --------------------------------------------------------------------------------------


def test_the_site_has_an_index_a_page_per_month_and_per_day_and_its_static_files(site):
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == [
        "2025-02/2025-02-27.html", "2025-02/index.html", "2025-03/2025-03-03.html", "2025-03/2025-03-04.html",
        "2025-03/index.html", "feed.xml", "index.html", "search-index.js", "static/search.js", "static/site.css",
    ]  # fmt: skip


def test_every_relative_href_and_src_resolves_to_a_file_and_every_anchor_exists(site):
    parsed = pages(site)
    checked = 0
    for path, page in parsed.items():
        for url, _ in page.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert parts.netloc == "arxiv.org" and parts.path.startswith("/abs/"), url
                continue
            assert not parts.scheme and not parts.netloc and not url.startswith("/"), f"{url} is not relative"
            target = (path.parent / parts.path).resolve() if parts.path else path
            assert target.is_file() and site.resolve() in target.parents, f"{url} in {path} points nowhere"
            if parts.fragment:
                assert parts.fragment in parsed[target].ids, f"{url} in {path}: no such anchor"
            checked += 1
    assert checked > 40


def test_the_search_index_lists_every_ranked_paper_with_a_link_that_resolves(site):
    source = (site / "search-index.js").read_text(encoding="ascii")  # ASCII only, whatever the host's charset
    assert source.startswith("window.DIGEST_INDEX = [")
    entries = json.loads(source.removeprefix("window.DIGEST_INDEX = ").rstrip().removesuffix(";"))
    assert [(e["id"], e["date"]) for e in entries] == [
        ("2503.10002", "2025-03-04"), ("2503.10001", "2025-03-04"), ("2503.00001", "2025-03-03"),
        ("2502.20001", "2025-02-27"), ("hep-th/9901001", "2025-02-27"),
    ]  # fmt: skip
    hostile = entries[1]
    assert (hostile["title"], hostile["r"], hostile["n"]) == (EVIL, 10, 9)
    assert entries[3]["authors"] == "Ann A, Bo B, Cy C et al."
    for entry in entries:
        page, _, anchor = entry["url"].partition("#")
        assert anchor in read(site / page).ids


def test_day_pages_link_the_previous_and_next_day_and_their_month_and_the_ends_have_no_link(site):
    first, middle, last = (read(site / day_path(d)) for d in DAYS)
    assert (first.rel("prev"), first.rel("up"), first.rel("next")) == (None, "index.html", "../2025-03/2025-03-03.html")
    assert (middle.rel("prev"), middle.rel("next")) == ("../2025-02/2025-02-27.html", "../2025-03/2025-03-04.html")
    assert (last.rel("prev"), last.rel("up"), last.rel("next")) == ("../2025-03/2025-03-03.html", "index.html", None)


def test_month_pages_list_their_days_newest_first_with_counts_and_top_papers(site):
    february, march = read(site / "2025-02/index.html"), read(site / "2025-03/index.html")
    assert (february.rel("prev"), february.rel("next"), february.rel("up")) == (
        None, "../2025-03/index.html", "../index.html"
    )
    assert (march.rel("prev"), march.rel("next")) == ("../2025-02/index.html", None)
    assert "4 announced · 3 scored · 2 relevant" in february.plain
    day_links = [url for url, _ in march.links if re.fullmatch(r"2025-03-0\d\.html", url)]
    assert day_links == ["2025-03-04.html", "2025-03-03.html"]  # newest first
    assert "2025-03-04.html#2503.10002" in [url for url, _ in march.links]
    assert "2 announced · 2 scored · 1 relevant · approximate scores" in march.plain


def test_the_index_lists_months_newest_first_links_the_latest_day_and_loads_the_search(site):
    index = read(site / "index.html")
    months = [url for url, _ in index.links if url.endswith("/index.html")]
    assert months == ["2025-03/index.html", "2025-02/index.html"]
    assert "Latest: Tue 2025-03-04" in index.plain
    scripts = [url.split("?")[0] for url, attrs in index.links if "src" in attrs]
    assert scripts == ["search-index.js", "static/search.js"]
    [form] = [attrs for tag, attrs in index.tags if tag == "form"]
    assert (form["action"], form["method"]) == ("index.html", "get")
    day = read(site / day_path(TUE))
    assert [attrs["action"] for tag, attrs in day.tags if tag == "form"] == ["../index.html"]  # every page's box


def test_a_day_page_shows_badges_comment_explanation_folded_abstract_authors_and_arxiv_links(site):
    html = (site / day_path(TUE)).read_text()
    page = read(site / day_path(TUE))
    papers = [attrs["id"] for tag, attrs in page.tags if tag == "li" and attrs.get("class") == "paper"]
    assert papers == ["2503.10002", "2503.10001"]  # the order the feedback adjustment gave the day
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<span class="badge high" title="Relevance 10 of 10">R 10</span>' in html
    assert '<span class="badge mid" title="Novelty 6 of 10">N 6</span>' in html
    assert '<p class="explanation">↑ like 3 papers you liked (+3.0 on R+N)</p>' in html
    folded = "<details>\n      <summary>Abstract</summary>\n      <p>Abstract of Quantization of transformers.</p>"
    assert folded in html and "<details open" not in html
    assert "Ann A, Bo B, Cy C, Di D" in page.plain
    assert '<a href="https://arxiv.org/abs/2503.10002">arXiv:2503.10002</a>' in html
    assert "2 arXiv · 2 scanned · 2 relevant (R ≥ 7, N ≥ 6)" in page.plain
    assert "Approximate scores" not in page.plain


def test_a_day_page_shows_the_stored_affiliations_apart_from_the_names(store, profile, tmp_path):
    real_day = Path(__file__).parents[1] / "fixtures" / "arxiv" / "rss_cs.LG+cs.AI_2025-03-25.xml"
    announcement = parse_feed(real_day.read_bytes(), keep_types=("new", "cross", "replace"), source="rss")
    papers = {paper.arxiv_id: paper for paper in announcement.papers}
    hostile = replace(papers["2503.18758"], affiliations=(EVIL, "", "", "", ""))
    add_day(store, profile, announcement.date, [papers["2503.17407"], papers["2503.18216"], hostile],
            {"2503.17407": (9, 8), "2503.18216": (8, 7), "2503.18758": (7, 6)})  # read back from the database
    publish_site(store, profile, tmp_path / "site")
    html = (tmp_path / "site" / day_path(announcement.date)).read_text()
    authors = re.findall(r'<p class="authors">(.*?)</p>', html)
    affiliations = re.findall(r'<p class="affiliations">(.*?)</p>', html)
    assert authors[0].startswith("Ana Araujo, Breno Costa, Carla Dias, Przemysław Nowak, Rémy Dubois")
    assert not any("Brasilia" in line or "Eindhoven" in line for line in authors)
    assert affiliations == [  # every distinct one in author order (a page has room); none for a paper without
        "University of Brasilia Brazil, The University of Melbourne Australia; University of Brasilia Brazil; "
        "Department of Physics and Astronomy, University of Brasilia; Faculty of Mathematics, Informatics and "
        "Mechanics, University of Warsaw, Poland; Université Paris-Saclay, CNRS, Inria; University of Helsinki, "
        "Finland and University College London, UK; Federal University of Minas Gerais, Brazil",
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;",
    ]


def test_untrusted_text_is_escaped_everywhere(site):
    for path, page in pages(site).items():
        html = path.read_text()
        assert "<script>alert" not in html, path
        assert [tag for tag, _ in page.tags].count("script") <= 2  # only the site's own
    html = (site / day_path(TUE)).read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert EVIL in read(site / day_path(TUE)).plain  # shown as typed


def test_an_approximate_day_carries_the_banner_and_marks_its_scores(site):
    page = read(site / day_path(MON))
    assert "Approximate scores. No OPENAI_API_KEY was set" in page.plain
    assert "R ~8" in page.plain and "local TF-IDF scorer" in page.plain
    assert "Approximate scores" not in read(site / day_path(THU)).plain


def test_unscored_papers_and_old_style_ids_are_listed(site):
    page = read(site / day_path(THU))
    assert "Papers without a score (1)" in page.plain and "2502.20004: not scored" in page.plain
    assert "hep-th_9901001" in page.ids
    assert "https://arxiv.org/abs/hep-th/9901001" in [url for url, _ in page.links]


def test_a_day_is_ranked_with_the_thresholds_its_run_used_never_with_a_days_json_file(archive, profile, tmp_path):
    out = tmp_path / "site"
    archive.update_profile(profile.id, min_relevance=9, min_novelty=8)  # the thresholds were higher that day
    archive.start_run(profile.id, THU, model=MODEL, criteria_key=KEY)
    archive.update_profile(profile.id, min_relevance=7, min_novelty=6)
    with Session(archive.engine) as session:  # a run stored before revision 0006 recorded no thresholds
        session.execute(sa.update(RunRow).where(col(RunRow.date) == MON).values(min_relevance=None, min_novelty=None))
        session.commit()
    [_, monday, _] = stored_digests(archive, profile)
    monday.min_relevance, monday.min_novelty = 9, 8  # what an earlier day's file says is not read back
    write_digest(monday, out)
    publish_site(archive, profile, out)
    page = read(out / day_path(THU))
    assert "3 scanned · 1 relevant (R ≥ 9, N ≥ 8)" in page.plain
    assert "hep-th_9901001" not in page.ids
    assert "1 relevant (R ≥ 7, N ≥ 6)" in read(out / day_path(MON)).plain  # none recorded: the profile's


def test_a_profile_whose_categories_changed_keeps_its_older_days(archive, profile, tmp_path):
    archive.update_profile(profile.id, categories=["cs.CV"])
    result = publish_site(archive, archive.profile_by_id(profile.id), tmp_path / "site")
    assert result.days == 3  # each day is found in the feed its run scored


def test_sixty_days_are_rebuilt_in_one_pass(store, profile, tmp_path):
    day, n = dt.date(2025, 1, 6), 0
    for _ in range(60):
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        papers = [paper(f"2501.{(n := n + 1):05d}", f"Paper {n} on experts") for _ in range(25)]
        add_day(store, profile, day, papers, {p.arxiv_id: (5 + i % 6, 6 + i % 5) for i, p in enumerate(papers)})
        day += dt.timedelta(days=1)
    started = time.perf_counter()
    result = publish_site(store, profile, tmp_path / "site")
    seconds = time.perf_counter() - started
    assert (result.days, result.months) == (60, 3)
    # About 0.5 s on an idle machine (printed with -s); the bound only catches a rebuild gone quadratic, not a
    # loaded CI machine (speed is measured in bench/, not asserted here).
    print(f"60 days rebuilt in {seconds:.2f} s")
    assert seconds < 30.0, f"60 days took {seconds:.2f} s"


def test_a_feed_entry_carries_the_papers_stored_tldr_as_text(store, profile, tmp_path):
    add_day(store, profile, TUE, [paper("2503.10001", "Sparse MoE")], {"2503.10001": (9, 8)})
    store.save_tldrs({"2503.10001": Tldr(f"They show {EVIL}.")}, profile.language, MODEL)
    publish_site(store, profile, tmp_path / "site")
    [entry] = read_feed(tmp_path / "site").entries
    assert f"TL;DR: They show {EVIL}." in unescape(re.sub("<[^>]+>", "", entry.content[0].value))
    assert "<script>" not in entry.content[0].value


# the Atom feed, read by feedparser as a feed reader would --------------------------------------------------


def read_feed(site: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_the_feed_lists_every_posted_paper_newest_day_first_in_rank_order_with_scores_and_links(site):
    feed = read_feed(site)
    assert feed.feed.title == "arXiv digest · default"
    assert [(e.link, e.published[:10]) for e in feed.entries] == [
        ("https://arxiv.org/abs/2503.10002", "2025-03-04"), ("https://arxiv.org/abs/2503.10001", "2025-03-04"),
        ("https://arxiv.org/abs/2503.00001", "2025-03-03"),
        ("https://arxiv.org/abs/2502.20001", "2025-02-27"), ("https://arxiv.org/abs/hep-th/9901001", "2025-02-27"),
    ]  # fmt: skip
    quantization = feed.entries[0]
    assert quantization.title == "Quantization of transformers"
    assert [a.name for a in quantization.authors] == ["Ann A", "Bo B", "Cy C", "Di D"]
    assert [t.term for t in quantization.tags] == ["cs.LG"]
    content = quantization.content[0].value
    assert "R 7 · N 6" in content and "rank 1 in the digest of 2025-03-04" in content
    assert "Comment on 2503.10002" in content
    assert 'href="2025-03/2025-03-04.html#2503.10002"' in content  # its place on the site, relative to the feed
    assert "(approximate)" in feed.entries[2].content[0].value


def test_feed_entry_ids_are_stable_across_rebuilds_and_unique(archive, profile, site):
    first = (site / "feed.xml").read_bytes()
    ids = [e.id for e in read_feed(site).entries]
    assert len(set(ids)) == len(ids) == 5
    assert ids[0] == "tag:arxiv-digest,2025:default/2025-03-04/2503.10002"
    publish_site(archive, profile, site)
    assert (site / "feed.xml").read_bytes() == first  # nothing new: the same file, so no reader sees duplicates


def test_hostile_titles_authors_and_comments_are_text_in_the_feed(site):
    [hostile] = [e for e in read_feed(site).entries if e.link.endswith("2503.10001")]
    assert hostile.title == EVIL and hostile.author == EVIL
    content = hostile.content[0].value
    assert "<script" not in content and "&lt;script&gt;alert" in content


def test_the_feed_keeps_the_newest_thirty_days(store, profile, tmp_path):
    day = dt.date(2025, 1, 1)
    for n in range(35):
        add_day(store, profile, day + dt.timedelta(days=n), [paper(f"2501.{n:05d}", f"Paper {n}")],
                {f"2501.{n:05d}": (9, 9)})
    publish_site(store, profile, tmp_path / "site")
    dates = [e.published[:10] for e in read_feed(tmp_path / "site").entries]
    assert len(dates) == FEED_DAYS and dates[0] == "2025-02-04" and dates[-1] == "2025-01-06"


def test_every_page_announces_the_feed_and_the_index_links_it_visibly(site):
    for path, page in pages(site).items():
        feeds = [attrs for tag, attrs in page.tags if tag == "link" and attrs.get("type") == "application/atom+xml"]
        assert [f["rel"] for f in feeds] == ["alternate"], path
        assert (path.parent / feeds[0]["href"]).resolve() == (site / "feed.xml").resolve()
    index = read(site / "index.html")
    assert [url for url, attrs in index.links if attrs.get("type") == "application/atom+xml"] == ["feed.xml"] * 2
    assert "Atom feed" in index.plain


# the commands ---------------------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch, arxiv, tmp_path) -> dict[str, str]:
    """The CLI without a key (the local scorer), reading the arXiv stand-in."""
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ARXIV_RSS_URL": arxiv.rss_url,
        "ARXIV_API_URL": arxiv.api_url,
        "DIGEST_RETRY_BASE_DELAY": "0.01",
        "DIGEST_FETCH_RETRIES": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_digest_out_writes_the_site_and_the_next_day_updates_the_day_before(env, arxiv, tmp_path):
    out = tmp_path / "out"
    arxiv.set_day(DAY, sample_papers(9))
    result = runner.invoke(app, ["digest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote the archive site (1 day, 1 month" in result.output and "index.html" in result.output
    first = read(out / day_path(DAY))
    assert first.rel("next") is None and (out / "2025-03/2025-03-06-output.md").exists()
    ranked = json.loads((out / "2025-03/2025-03-06-output.json").read_text())["papers"]
    on_page = [attrs["id"] for tag, attrs in first.tags if tag == "li" and "paper" in attrs.get("class", "")]
    assert ranked and on_page == [p["arxiv_id"] for p in ranked]  # the markdown's papers, in its order

    arxiv.set_day(DAY + dt.timedelta(days=1), sample_papers(6, start=50))
    assert runner.invoke(app, ["digest", "--out", str(out)]).exit_code == 0
    assert read(out / day_path(DAY)).rel("next") == "../2025-03/2025-03-07.html"
    assert read(out / day_path(DAY + dt.timedelta(days=1))).rel("prev") == "../2025-03/2025-03-06.html"


def test_the_site_command_rebuilds_everything_from_the_database(env, arxiv, tmp_path):
    arxiv.set_day(DAY, sample_papers(9))
    assert runner.invoke(app, ["digest", "--out", str(tmp_path / "first")]).exit_code == 0
    result = runner.invoke(app, ["site", "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "Wrote the archive site (1 day, 1 month" in result.output
    assert (tmp_path / "again" / day_path(DAY)).exists() and (tmp_path / "again/index.html").exists()
    missing = runner.invoke(app, ["site", "--out", str(tmp_path / "x"), "--profile", "slack:C404"])
    assert missing.exit_code == 1 and "no profile 'slack:C404'" in missing.output


# in a browser ---------------------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
)


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", f"--user-data-dir={profile}", *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def browsed(site: Path) -> Iterator[Path]:
    yield site
    shutil.rmtree(site.parent / "chromium-profile", ignore_errors=True)


@needs_chromium
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_day_page_renders_in_headless_chromium(browsed, tmp_path, width, height):
    shot = tmp_path / f"day-{width}.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}", (browsed / day_path(TUE)).as_uri())
    assert shot.stat().st_size > 10_000  # text, badges and colours, not a blank page
    assert png_size(shot) == (width, height)


@needs_chromium
def test_the_search_box_finds_a_paper_by_a_title_word_from_file_urls(browsed, tmp_path):
    def results(query: str) -> Page:
        dom = chromium(tmp_path, "--dump-dom", f"{(browsed / 'index.html').as_uri()}?q={query}")
        box = re.search(r'<div id="search-results"[^>]*>(.*?)</div>', dom, flags=re.DOTALL)
        assert box is not None and " hidden" not in box.group(0).split(">")[0], dom[:2000]
        page = Page()
        page.feed(box.group(1))
        return page

    found = results("quantiz%20TRANSFORMERS")  # words in any case, a prefix too
    assert [url for url, _ in found.links] == ["2025-03/2025-03-04.html#2503.10002"]
    assert "1 paper" in found.plain and "Quantization of transformers" in found.plain and "R 7 · N 6" in found.plain
    assert [url for url, _ in results("experts").links] == [
        "2025-03/2025-03-03.html#2503.00001", "2025-02/2025-02-27.html#2502.20001",
        "2025-02/2025-02-27.html#hep-th_9901001",
    ]
    assert "No paper matches." in results("diffusion").plain
    hostile = results("%3Cscript%3E")  # the hostile title, found and shown as text
    assert "script" not in [tag for tag, _ in hostile.tags] and EVIL in hostile.plain


@needs_chromium
def test_the_index_shows_the_feed_link_in_headless_chromium(browsed, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", (browsed / "index.html").as_uri())
    assert '<link rel="alternate" type="application/atom+xml" href="feed.xml"' in dom
    assert re.search(r'<a href="feed.xml" type="application/atom\+xml">Atom feed</a>', dom)
    shot = tmp_path / "index.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", (browsed / "index.html").as_uri())
    assert shot.stat().st_size > 10_000 and png_size(shot) == (1280, 900)


def test_a_day_page_shows_each_papers_stored_tldr_under_its_title_escaped(store, profile, tmp_path):
    papers = [paper("2503.10001", "Sparse MoE"), paper("2503.10002", "Quantization")]
    add_day(store, profile, TUE, papers, {"2503.10001": (9, 8), "2503.10002": (8, 7)})
    store.save_tldrs({"2503.10001": Tldr(f"They show {EVIL}.")}, profile.language, MODEL)
    publish_site(store, profile, tmp_path / "site")
    html = (tmp_path / "site" / day_path(TUE)).read_text()
    assert '<p class="tldr"><strong>TL;DR:</strong> They show &lt;script&gt;' in html
    assert html.count('class="tldr"') == 1 and "<script>alert" not in html
