"""The archive site's ``feed.xml``: an Atom feed (feedgen) of the papers a profile's digests posted, newest day
first, so people can follow a channel's digest in any feed reader.

Each entry's id names the profile, the day and the paper, and its dates are the digest's day, so a rebuild
writes the same entries and feed readers show no duplicates. The site has no absolute address of its own:
links to its pages are relative (readers resolve them against the feed's URL); the paper links are arXiv's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from bot.digest.text import authors_line
from bot.domain.models import Digest, RankedPaper

FEED_FILE = "feed.xml"
FEED_DAYS = 30  # the newest digest days a feed lists
FEED_ENTRIES = 500  # and at most this many papers
FEED_AUTHORS = 20  # <author> elements an entry keeps (collaborations list thousands)
_TAG = "tag:arxiv-digest,2025:"  # RFC 4151: a fixed authority and date, then the profile's path


def feed_id(profile: str) -> str:
    return _TAG + quote(profile, safe="")


def entry_id(profile: str, date: dt.date, arxiv_id: str) -> str:
    """Stable across rebuilds: the same paper on the same day of the same profile is the same entry."""
    return f"{feed_id(profile)}/{date.isoformat()}/{arxiv_id}"


def _midnight(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)


def _content(digest: Digest, item: RankedPaper, day_url: str) -> str:
    """The entry's HTML: scores, the TL;DR, the LLM's comment, the authors, the links. Every piece of text is
    escaped."""
    paper, judgment = item.paper, item.judgment
    scores = f"R {judgment.relevance} · N {judgment.novelty}" + (" (approximate)" if judgment.approximate else "")
    parts = [f"<p><strong>{escape(scores)}</strong> · rank {item.rank} in the digest of {digest.date}</p>"]
    if item.tldr:
        parts.append(f"<p><strong>TL;DR:</strong> {escape(item.tldr)}</p>")
    if judgment.comment:
        parts.append(f"<p>{escape(judgment.comment)}</p>")
    if paper.authors:
        parts.append(f"<p>{escape(authors_line(paper.authors))}</p>")
    parts.append(
        f'<p><a href="{escape(paper.url)}">arXiv:{escape(paper.arxiv_id)}</a> · '
        f'<a href="{escape(day_url)}">the digest of {digest.date}</a></p>'
    )
    return "\n".join(parts)


def atom_feed(
    digests: Sequence[Digest], *, title: str, profile: str, place: Callable[[dt.date, str], str]
) -> str:
    """``feed.xml``'s text: the newest FEED_DAYS days' posted papers in rank order, at most FEED_ENTRIES.
    ``place(day, arxiv_id)`` is the paper's place on the site, relative to the feed."""
    days = sorted(digests, key=lambda d: d.date, reverse=True)[:FEED_DAYS]
    feed = FeedGenerator()
    feed.id(feed_id(profile))
    feed.title(title)
    feed.subtitle(f"Papers posted by the arXiv digest of {profile}, with their scores and the LLM's comment.")
    feed.link(href=FEED_FILE, rel="self", type="application/atom+xml")
    feed.link(href="index.html", rel="alternate", type="text/html")
    feed.generator("arxiv-digest")
    # The newest day, not the build time: a rebuild with nothing new leaves the file unchanged.
    feed.updated(_midnight(days[0].date) if days else _midnight(dt.date(2025, 1, 1)))
    entries = [(digest, item) for digest in days for item in digest.ranked][:FEED_ENTRIES]
    for digest, item in entries:
        paper = item.paper
        entry = feed.add_entry(order="append")
        entry.id(entry_id(profile, digest.date, paper.arxiv_id))
        entry.title(paper.title)
        entry.link(href=paper.url, rel="alternate", type="text/html")
        for name in paper.authors[:FEED_AUTHORS]:
            entry.author(name=name)
        for category in paper.categories:
            entry.category(term=category)
        entry.published(_midnight(digest.date))
        entry.updated(_midnight(digest.date))
        entry.content(_content(digest, item, place(digest.date, paper.arxiv_id)), type="html")
    text: bytes = feed.atom_str(pretty=True)
    return text.decode("utf-8")
