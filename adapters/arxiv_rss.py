"""The day's announcement from arXiv's RSS feed (rss.arxiv.org), read with feedparser.

HTTP errors, 429s, network failures and malformed XML are retried with exponential backoff (honouring
Retry-After), each retry logged as it happens, then reported with a message that says what to do.
arXiv's own error feed ("Feed error for query", for a bad category) and documents in another format
(the pre-2024 RDF feed, an HTML page) fail at once, saying what arrived. The announcement date is the
feed's own. Titles, abstracts and authors are decoded from TeX here, once (see adapters/tex.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import re
import xml.sax
from collections.abc import Iterable
from typing import Any

import feedparser
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from adapters.http_client import USER_AGENT, retry_after
from adapters.network import NETWORK_ADVICE, connection_failure
from adapters.tex import decode_tex, split_creators
from bot.domain.errors import FeedError
from bot.domain.models import Announcement, Paper, normalize_arxiv_id

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE | re.DOTALL)
FEED_HELP = "https://rss.arxiv.org/rss/"
_ERROR_TITLE = "feed error for query"
# An HTML document: its root (after an optional XML declaration and comments) is <html>.
_HTML_START = re.compile(r"(?is)(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])")


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, *, network: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.network = network  # the request never reached a server: our side's network, not arXiv


def strip_abstract_prefix(text: str) -> str:
    """``arXiv:2503.03213v1 Announce Type: new \\nAbstract: Text`` → ``Text``."""
    return " ".join(_PREFIX.sub("", text, count=1).split())


def split_authors(creator: str) -> tuple[str, ...]:
    """The author names of a ``dc:creator`` ("A (Affiliation, …), B, C"; older feeds: "A, B and C")."""
    return tuple(name for name, _ in split_creators(creator))


def _feed_date(parsed: Any) -> dt.date | None:
    """The announcement date as the feed states it (its own timezone), never the local clock."""
    candidates = [parsed.feed.get("published"), parsed.feed.get("updated")]
    candidates += [entry.get("published") for entry in parsed.entries[:1]]
    for raw in candidates:
        if raw:
            try:
                return email.utils.parsedate_to_datetime(raw).date()
            except (TypeError, ValueError):
                continue
    return None


def _what_arrived(content: bytes | str) -> str:
    """A short description of a document that is not arXiv's RSS feed, for the error message."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if _HTML_START.match(head):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", head)
        name = " ".join(title.group(1).split())[:100] if title else ""
        return f'an HTML page ("{name}")' if name else "an HTML page"
    snippet = " ".join(head.split())[:80]
    return f"a document that is not a feed ({snippet!r})" if snippet else "an empty answer"


def _check_format(parsed: Any, content: bytes | str) -> None:
    """Refuse arXiv's error feed and any document other than an RSS 2.0 / Atom feed."""
    title = str(parsed.feed.get("title", ""))
    if title.strip().lower().startswith(_ERROR_TITLE):
        said = " ".join(str(parsed.feed.get("description") or parsed.feed.get("subtitle") or "").split())
        raise FeedError(
            f"arXiv refused the feed query: {(said or title).rstrip('.')}. "
            "Check DIGEST_CATEGORIES (e.g. cs.LG,cs.AI; see https://arxiv.org/category_taxonomy) and ARXIV_RSS_URL."
        )
    version = str(parsed.get("version", ""))
    if version.startswith(("rss090", "rss10")):
        raise FeedError(
            "The arXiv feed answered an RSS 1.0 (RDF) document, the format arXiv's feeds had before 2024. "
            f"Set ARXIV_RSS_URL to {FEED_HELP} (or unset it)."
        )
    if version and not version.startswith(("rss2", "atom")):
        raise FeedError(f"The arXiv feed answered a {version} feed, not arXiv's RSS 2.0; check ARXIV_RSS_URL.")


def parse_feed(content: bytes | str, *, keep_types: Iterable[str], source: str = "") -> Announcement:
    """Parse RSS text into an Announcement: filter announce types, dedupe IDs, decode TeX, clean abstracts."""
    # No HTML sanitizing: abstracts are plain text, and "<think>" or "x < y" must survive as written.
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    arrived = _what_arrived(content)
    if arrived.startswith("an HTML page"):
        raise FeedError(f"The arXiv feed answered {arrived}, not an RSS feed. Check ARXIV_RSS_URL and the network.")
    if parsed.bozo and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        raise _Retryable(f"the feed is not well-formed XML ({parsed.bozo_exception})")
    if not parsed.feed and not parsed.entries:
        raise _Retryable(f"the answer is not an RSS feed ({arrived})")
    _check_format(parsed, content)
    date = _feed_date(parsed)
    if date is None:
        raise _Retryable("the feed carries no publication date")
    keep = {t.strip().lower() for t in keep_types}
    papers: dict[str, Paper] = {}
    for entry in parsed.entries:
        announce_type = str(entry.get("arxiv_announce_type", "new")).strip().lower()
        if announce_type not in keep:
            continue
        arxiv_id = normalize_arxiv_id(entry.get("id") or entry.get("link", ""))
        if arxiv_id is None or arxiv_id in papers:
            continue
        creators = split_creators(entry.get("author", ""))
        papers[arxiv_id] = Paper(
            arxiv_id=arxiv_id,
            title=decode_tex(entry.get("title", "")),
            authors=tuple(name for name, _ in creators),
            abstract=decode_tex(strip_abstract_prefix(entry.get("summary", ""))),
            categories=tuple(tag["term"] for tag in entry.get("tags", []) if tag.get("term")),
            announce_type=announce_type,
            affiliations=tuple(affiliation for _, affiliation in creators) if any(a for _, a in creators) else (),
        )
    return Announcement(date=date, papers=tuple(papers.values()), total_in_feed=len(parsed.entries), source=source)


class RSSFetcher:
    def __init__(
        self,
        url: str,
        *,
        keep_types: Iterable[str] = ("new", "cross"),
        retries: int = 4,
        timeout: float = 30.0,
        base_delay: float = 2.0,
    ) -> None:
        self.url = url
        self.keep_types = tuple(keep_types)
        self.retries = retries
        self.timeout = timeout
        self.base_delay = base_delay

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = self.base_delay * 2 ** (state.attempt_number - 1)
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return backoff

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "arXiv feed %s: attempt %d of %d failed (%s); retrying in %.2g s",
            self.url,
            state.attempt_number,
            self.retries + 1,
            exc,
            wait,
        )

    async def fetch(self) -> Announcement:
        if not self.url.startswith(("http://", "https://")):  # a local file: the demo's sample day
            path = self.url.removeprefix("file://")
            return await asyncio.to_thread(self._read_file, path)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True
            ) as client:
                async for attempt in retrying:
                    with attempt:
                        return await self._fetch_once(client)
        except _Retryable as exc:
            advice = (
                f"This machine could not reach it. {NETWORK_ADVICE}, or check ARXIV_RSS_URL."
                if exc.network
                else "arXiv may be down or rate-limiting; try again in a few minutes, or check ARXIV_RSS_URL."
            )
            raise FeedError(
                f"Could not read the arXiv feed {self.url} after {self.retries + 1} attempts: {exc}. {advice}"
            ) from exc
        raise AssertionError("unreachable")

    async def _fetch_once(self, client: httpx.AsyncClient) -> Announcement:
        try:
            response = await client.get(self.url)
        except httpx.TimeoutException as exc:
            raise _Retryable("the request timed out") from exc
        except httpx.ConnectError as exc:
            raise _Retryable(connection_failure(httpx.URL(self.url).host, exc), network=True) from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"network error: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}", retry_after(response))
        if response.status_code >= 400:
            # A bad query gets arXiv's error feed with a 400: its message says what was wrong.
            _raise_error_feed(response.content)
            raise FeedError(
                f"The arXiv feed {self.url} answered HTTP {response.status_code}. "
                "Check DIGEST_CATEGORIES (e.g. cs.LG,cs.AI) and ARXIV_RSS_URL."
            )
        # Parsing a day's feed is CPU work of a fraction of a second: off the event loop.
        return await asyncio.to_thread(parse_feed, response.content, keep_types=self.keep_types, source=self.url)

    def _read_file(self, path: str) -> Announcement:
        with open(path, "rb") as handle:
            return parse_feed(handle.read(), keep_types=self.keep_types, source=path)


def _raise_error_feed(content: bytes) -> None:
    """Raise arXiv's own explanation when ``content`` is its "Feed error for query" document."""
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if str(parsed.feed.get("title", "")).strip().lower().startswith(_ERROR_TITLE):
        _check_format(parsed, content)
