"""Writes the archive site: ``index.html``, ``YYYY-MM/index.html`` per month, ``YYYY-MM/YYYY-MM-DD.html`` per
day, ``static/`` and ``search-index.js``, beside the Markdown and JSON files in the same folder.

Every link is relative, with ``index.html`` spelled out, so the folder works on any static host and from
file://. The whole site is rewritten each time: neighbours' prev/next links change when a day is added,
and rebuilding is cheap (see tests/adapters/test_site.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from adapters.files import APPROXIMATE_BANNER
from adapters.site.feed import FEED_DAYS, FEED_FILE, atom_feed
from bot.digest.archive import stored_digests
from bot.digest.text import affiliations_line, authors_line, cost_line, tldr_cost_line, totals_line
from bot.domain.models import Digest, Profile, RankedPaper
from storage.store import Store

STATIC_FILES = ("site.css", "search.js")
INDEX_SCRIPT = "search-index.js"
TOP_PER_DAY = 3  # papers a month page shows per day
SEARCH_AUTHORS = 3  # authors an index entry keeps before "et al."


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Pager:
    label: str  # what it steps through, for screen readers: "Days", "Months"
    prev: Link | None
    up: Link | None
    next: Link | None


@dataclass(frozen=True)
class SiteResult:
    index: Path
    days: int
    months: int
    seconds: float


def day_path(date: dt.date) -> str:
    return f"{date:%Y-%m}/{date:%Y-%m-%d}.html"


def month_path(date: dt.date) -> str:
    return f"{date:%Y-%m}/index.html"


def anchor(arxiv_id: str) -> str:
    """A paper's element id on its day page (old-style IDs carry a slash)."""
    return arxiv_id.replace("/", "_")


def level(score: int) -> str:
    return "high" if score >= 8 else "mid" if score >= 6 else "low"


def _affiliations(affiliations: tuple[str, ...]) -> str:
    """A page has more room than a chat message: more distinct affiliations, still bounded."""
    return affiliations_line(affiliations, limit=1000, shown=12)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.site", "templates"),
        autoescape=True,  # every title, abstract and comment is someone else's text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(anchor=anchor, level=level, authors=authors_line, affiliations=_affiliations)
    return env


_ENV = _environment()


def _banner() -> dict[str, str]:
    """The Markdown page's approximate-scores banner, as plain text in two parts (lead in bold)."""
    text = APPROXIMATE_BANNER.removeprefix("> ").replace("**", "")
    lead, _, rest = text.partition(". ")
    return {"lead": lead + ".", "rest": rest}


def _day_label(date: dt.date) -> str:
    return f"{date:%a %Y-%m-%d}"


def _month_label(date: dt.date) -> str:
    return f"{date:%B %Y}"


def _up(link: str) -> str:
    """A root-relative path as seen from a page one folder down."""
    return "../" + link


def _search_entry(digest: Digest, item: RankedPaper) -> dict[str, Any]:
    authors = list(item.paper.authors)
    short = ", ".join(authors[:SEARCH_AUTHORS]) + (" et al." if len(authors) > SEARCH_AUTHORS else "")
    return {
        "id": item.paper.arxiv_id,
        "title": item.paper.title,
        "authors": short,
        "date": digest.date.isoformat(),
        "url": f"{day_path(digest.date)}#{anchor(item.paper.arxiv_id)}",
        "r": item.judgment.relevance,
        "n": item.judgment.novelty,
    }


def search_index(digests: Sequence[Digest]) -> str:
    """``search-index.js``: newest day first, each day in rank order. ASCII-only JSON, so the file reads the
    same whatever charset a host or file:// guesses for it."""
    entries = [_search_entry(d, item) for d in sorted(digests, key=lambda d: d.date, reverse=True) for item in d.ranked]
    rows = ",\n".join(json.dumps(entry, ensure_ascii=True, separators=(",", ":")) for entry in entries)
    return f"window.DIGEST_INDEX = [\n{rows}\n];\n"


def write_site(digests: Sequence[Digest], out_dir: Path, *, title: str, profile: str = "") -> SiteResult:
    """Write every page for ``digests`` (one per day) into ``out_dir``, and ``feed.xml`` for ``profile``
    (its name, which the feed's entry ids carry; default: ``title``)."""
    started = time.perf_counter()
    days = sorted(digests, key=lambda d: d.date)
    out_dir.mkdir(parents=True, exist_ok=True)
    index_js = search_index(days)
    common = {
        "site_title": title,
        "feed": FEED_FILE,
        "built": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        # Changes with the content: hosts that cache the index or the CSS serve the new one.
        "version": hashlib.sha256(index_js.encode() + _static_digest()).hexdigest()[:12],
    }
    outputs: dict[str, str] = {INDEX_SCRIPT: index_js}
    for i, digest in enumerate(days):
        outputs[day_path(digest.date)] = _render_day(digest, days, i, common)
    months = [list(group) for _, group in groupby(days, key=lambda d: (d.date.year, d.date.month))]
    for i, month in enumerate(months):
        outputs[month_path(month[0].date)] = _render_month(month, months, i, common)
    outputs["index.html"] = _render_index(months, common)
    outputs[FEED_FILE] = _feed(days, title=title, profile=profile or title)
    for relative, text in outputs.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    static = out_dir / "static"
    static.mkdir(exist_ok=True)
    for name in STATIC_FILES:
        (static / name).write_bytes(files("adapters.site").joinpath("static", name).read_bytes())
    return SiteResult(out_dir / "index.html", len(days), len(months), time.perf_counter() - started)


def publish_site(store: Store, profile: Profile, out_dir: Path, fresh: Digest | None = None) -> SiteResult:
    """The whole site from the database; ``fresh`` (the digest just made) stands for its day as it was written."""
    digests = {d.date: d for d in stored_digests(store, profile)}
    if fresh is not None:
        digests[fresh.date] = fresh
    return write_site(list(digests.values()), out_dir, title=f"arXiv digest · {profile.name}", profile=profile.name)


def _feed(days: Sequence[Digest], *, title: str, profile: str) -> str:
    return atom_feed(days, title=title, profile=profile, place=lambda date, pid: f"{day_path(date)}#{anchor(pid)}")


def _static_digest() -> bytes:
    return b"".join(files("adapters.site").joinpath("static", name).read_bytes() for name in STATIC_FILES)


def _render_day(digest: Digest, days: list[Digest], i: int, common: dict[str, Any]) -> str:
    def link(other: Digest) -> Link:
        return Link(_up(day_path(other.date)), _day_label(other.date))

    pager = Pager(
        label="Days",
        prev=link(days[i - 1]) if i > 0 else None,
        up=Link("index.html", _month_label(digest.date)),
        next=link(days[i + 1]) if i + 1 < len(days) else None,
    )
    return _ENV.get_template("day.html").render(
        **common, root="../", digest=digest, pager=pager, day_label=_day_label(digest.date),
        banner=_banner() if digest.approximate else None, totals=totals_line(digest), cost=cost_line(digest),
        tldr_cost=tldr_cost_line(digest),
    )


def _render_month(month: list[Digest], months: list[list[Digest]], i: int, common: dict[str, Any]) -> str:
    def link(other: list[Digest]) -> Link:
        return Link(_up(month_path(other[0].date)), _month_label(other[0].date))

    pager = Pager(
        label="Months",
        prev=link(months[i - 1]) if i > 0 else None,
        up=Link("../index.html", "All months"),
        next=link(months[i + 1]) if i + 1 < len(months) else None,
    )
    days = [
        {"url": f"{d.date:%Y-%m-%d}.html", "label": _day_label(d.date), "digest": d, "top": d.ranked[:TOP_PER_DAY]}
        for d in reversed(month)
    ]
    return _ENV.get_template("month.html").render(
        **common, root="../", pager=pager, heading=_month_label(month[0].date), days=days,
        total_relevant=sum(d.relevant for d in month),
    )


def _render_index(months: list[list[Digest]], common: dict[str, Any]) -> str:
    listed = [
        {"url": month_path(m[0].date), "label": _month_label(m[0].date), "days": len(m),
         "relevant": sum(d.relevant for d in m)}
        for m in reversed(months)
    ]
    newest = months[-1][-1] if months else None
    latest = {"url": day_path(newest.date), "label": _day_label(newest.date), "digest": newest} if newest else None
    return _ENV.get_template("index.html").render(**common, root="", months=listed, latest=latest, feed_days=FEED_DAYS)
