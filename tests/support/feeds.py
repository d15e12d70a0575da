"""Builders for arXiv's real wire formats (rss.arxiv.org RSS 2.0, export API Atom) from plain paper dicts.

A paper dict: arxiv_id ("2503.03213", no version), version (int, default 1), title, authors (list[str]),
abstract, categories (list[str], first = primary), announce_type ("new" | "cross" | "replace" |
"replace-cross", default "new"), optionally affiliations (list[str], one per author, "" for none), and for
the API optionally published / updated (ISO date or datetime), primary_category (default: the first
category), comment, journal_ref, doi.

Text is written as given: pass TeX (``R\\'emy``, ``$\\sim$44%``) as arXiv writes it. The RSS follows
arXiv/arxiv-feed's serializer: ``dc:creator`` is ``Name (Affiliation, …), Name, …``; ``pubDate`` is
midnight in New York and ``lastBuildDate`` a few seconds later in UTC. Real samples: tests/fixtures/arxiv/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

__all__ = [
    "Paper",
    "build_atom",
    "build_error_rss",
    "build_rss",
    "creator",
    "last_build_date",
    "make_paper",
    "published_at",
    "rfc822",
    "versioned_id",
]

Paper = Mapping[str, Any]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Characters XML 1.0 forbids outright; escaping cannot save them, so drop them.
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RIGHTS = "http://creativecommons.org/licenses/by/4.0/"
_ARXIV_TZ = ZoneInfo("America/New_York")  # arXiv's business day, whose midnight dates the feed


def _x(text: object) -> str:
    return escape(_BAD_XML_CHARS.sub("", str(text)))


def _attr(text: object) -> str:
    return quoteattr(_BAD_XML_CHARS.sub("", str(text)))


def _rfc822(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta()
    sign, minutes = ("-" if offset < dt.timedelta() else "+"), abs(int(offset.total_seconds())) // 60
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year} "
        f"{moment:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


def rfc822(date: dt.date) -> str:
    """arXiv's RSS pubDate, locale-independent: 'Thu, 06 Mar 2025 00:00:00 -0500' (-0400 in summer)."""
    return _rfc822(dt.datetime(date.year, date.month, date.day, tzinfo=_ARXIV_TZ))


def last_build_date(date: dt.date) -> str:
    """arXiv's RSS lastBuildDate: built just after midnight New York, written in UTC ('… 04:00:09 +0000')."""
    built = dt.datetime(date.year, date.month, date.day, 0, 0, 9, tzinfo=_ARXIV_TZ).astimezone(dt.UTC)
    return _rfc822(built)


def creator(paper: Paper) -> str:
    """``dc:creator`` as arXiv writes it: names joined by ", ", each with its affiliations in parentheses."""
    authors = list(paper.get("authors") or [])
    affiliations = list(paper.get("affiliations") or [])
    affiliations += [""] * (len(authors) - len(affiliations))
    return ", ".join(f"{name} ({aff})" if aff else name for name, aff in zip(authors, affiliations, strict=False))


def build_error_rss(query: str, message: str, *, date: dt.date) -> str:
    """The document rss.arxiv.org answers (with HTTP 400) for a bad query: titled "Feed error for query", no items."""
    link = _x("http://rss.arxiv.org/rss/" + query)
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
version="2.0">
  <channel>
    <title>Feed error for query: {link}</title>
    <link>{link}</link>
    <description>{_x(message)}</description>
    <atom:link href="{link}" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{last_build_date(date)}</lastBuildDate>
    <managingEditor>rss-help.arxiv.org</managingEditor>
    <pubDate>{rfc822(date)}</pubDate>
  </channel>
</rss>
"""


def versioned_id(paper: Paper) -> str:
    return f"{paper['arxiv_id']}v{int(paper.get('version', 1))}"


def make_paper(arxiv_id: str, title: str = "", abstract: str = "", **extra: Any) -> dict[str, Any]:
    """A paper dict with harmless defaults for everything not given."""
    paper: dict[str, Any] = {
        "arxiv_id": arxiv_id,
        "version": 1,
        "title": title or f"Paper {arxiv_id}",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "abstract": abstract or f"Abstract of {arxiv_id}.",
        "categories": ["cs.LG"],
        "announce_type": "new",
    }
    paper.update(extra)
    return paper


# --- RSS ----------------------------------------------------------------------------------------------


def _rss_item(paper: Paper, pub: str, fallback_categories: list[str]) -> str:
    vid = versioned_id(paper)
    announce = paper.get("announce_type", "new")
    categories = list(paper.get("categories") or fallback_categories[:1])
    # The real description really has a space before the newline: "Announce Type: new \nAbstract: ...".
    description = f"arXiv:{vid} Announce Type: {announce} \nAbstract: {paper.get('abstract', '')}"
    lines = [
        "<item>",
        f"<title>{_x(paper.get('title', ''))}</title>",
        f"<link>https://arxiv.org/abs/{_x(paper['arxiv_id'])}</link>",
        f"<description>{_x(description)}</description>",
        f'<guid isPermaLink="false">oai:arXiv.org:{_x(vid)}</guid>',
        *(f"<category>{_x(c)}</category>" for c in categories),
        f"<pubDate>{pub}</pubDate>",
        f"<arxiv:announce_type>{_x(announce)}</arxiv:announce_type>",
        f"<dc:rights>{_RIGHTS}</dc:rights>",
        f"<dc:creator>{_x(creator(paper))}</dc:creator>",
        "</item>",
    ]
    return "\n      ".join(lines)


def build_rss(papers: Iterable[Paper], *, date: dt.date, categories: list[str]) -> str:
    """The RSS 2.0 document rss.arxiv.org serves for `categories` on `date` (no papers = empty day)."""
    cats = "+".join(categories)
    pub = rfc822(date)
    items = "\n    ".join(_rss_item(p, pub, categories) for p in papers)
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
version="2.0">
  <channel>
    <title>{_x(", ".join(categories))} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{_x(cats)}</link>
    <description>{_x(", ".join(categories))} updates on the arXiv.org e-print archive.</description>
    <atom:link href={_attr("http://rss.arxiv.org/rss/" + cats)} rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{last_build_date(date)}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{pub}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
    {items}
  </channel>
</rss>
"""


# --- export API Atom ----------------------------------------------------------------------------------


def _iso(value: Any) -> str:
    """Normalise a date / datetime / ISO string to the API's '2025-03-05T07:47:29Z'."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _default_published(arxiv_id: str) -> str:
    # New-style ids start with YYMM; the 1st of that month is a plausible submission date.
    m = re.match(r"(\d{2})(\d{2})\.", arxiv_id)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"20{m.group(1)}-{m.group(2)}-01T00:00:00Z"
    return "2025-01-01T00:00:00Z"


def published_at(paper: Paper) -> dt.datetime:
    """When version 1 was submitted, as the API reports it (UTC): ``published``, else a date from the id."""
    text = _iso(paper["published"]) if paper.get("published") else _default_published(paper["arxiv_id"])
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _atom_entry(paper: Paper) -> str:
    vid = versioned_id(paper)
    categories = list(paper.get("categories") or ["cs.LG"])
    published = _iso(paper["published"]) if paper.get("published") else _default_published(paper["arxiv_id"])
    updated = _iso(paper["updated"]) if paper.get("updated") else published
    lines = [
        "<entry>",
        f"<id>http://arxiv.org/abs/{_x(vid)}</id>",
        f"<updated>{updated}</updated>",
        f"<published>{published}</published>",
        f"<title>{_x(paper.get('title', ''))}</title>",
        f"<summary>{_x(paper.get('abstract', ''))}</summary>",
        *(f"<author><name>{_x(a)}</name></author>" for a in paper.get("authors") or []),
    ]
    for tag in ("comment", "journal_ref", "doi"):
        if paper.get(tag):
            lines.append(f"<arxiv:{tag}>{_x(paper[tag])}</arxiv:{tag}>")
    lines += [
        f'<link href="http://arxiv.org/abs/{_x(vid)}" rel="alternate" type="text/html"/>',
        f'<link title="pdf" href="http://arxiv.org/pdf/{_x(vid)}" rel="related" type="application/pdf"/>',
        f"<arxiv:primary_category term={_attr(paper.get('primary_category') or categories[0])} "
        'scheme="http://arxiv.org/schemas/atom"/>',
        *(f'<category term={_attr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in categories),
        "</entry>",
    ]
    return "\n    ".join(lines)


def build_atom(
    papers: Iterable[Paper],
    *,
    query_url: str = "",
    total_results: int | None = None,
    start_index: int = 0,
    items_per_page: int | None = None,
) -> str:
    """An export.arxiv.org/api/query answer; `papers` is this page, the opensearch numbers describe paging."""
    page = list(papers)
    total = len(page) if total_results is None else total_results
    per_page = len(page) if items_per_page is None else items_per_page
    query = query_url.split("?", 1)[1] if "?" in query_url else ""
    entries = "\n  ".join(_atom_entry(p) for p in page)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom">
  <link href={_attr(query_url or "http://arxiv.org/api/query")} rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {_x(query)}</title>
  <id>http://arxiv.org/api/stand-in</id>
  <updated>{now}</updated>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start_index}</opensearch:startIndex>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  {entries}
</feed>
"""
