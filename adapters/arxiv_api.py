"""The arXiv API through the ``arxiv`` package, pointed at ``ARXIV_API_URL``: look-ups by ID, and past
mailings rebuilt from a submission-date search (the RSS feed only holds the newest one).

One client per process keeps arXiv's rule of one request every three seconds across all callers
(the package sleeps between its own requests; a lock keeps concurrent callers in line). Titles,
abstracts and names are decoded from TeX here, as the RSS adapter does (adapters/tex.py). Each failed
request is logged as it happens; a DNS or connection failure is reported as such, not as arXiv trouble.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import arxiv
import requests
from requests.adapters import HTTPAdapter

from adapters.network import NETWORK_ADVICE, connection_failure
from adapters.tex import decode_tex
from bot.domain.errors import DigestError
from bot.domain.models import Announcement, Paper, normalize_arxiv_id

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

SEARCH_PAGE_SIZE = 200  # results per request for a mailing's search (the API allows up to 2000)
# arXiv categories ("cs.LG", "hep-th", "cond-mat.stat-mech"); the API's <category> also carries ACM
# ("I.2.6") and MSC ("68T05") classes, which the RSS feed does not list.
_ARXIV_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")


class _TimeoutAdapter(HTTPAdapter):
    """The ``arxiv`` package sends requests without a timeout; a stalled API must not hang the bot.

    The package also retries failed requests quietly: this logs each failure as it happens, numbered
    among the attempts a read gets (``reset()`` before each read).
    """

    def __init__(self, timeout: float, attempts: int, delay: float) -> None:
        super().__init__()
        self._timeout = timeout
        self._attempts = attempts
        self._delay = delay
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]  # requests passes its options by keyword
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        host = request.url.split("/")[2] if "://" in request.url else request.url
        try:
            response = super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            self._log_failure(connection_failure(host, exc))
            raise
        except requests.Timeout:
            log.warning("arXiv API request to %s timed out after %.0f s (not retried)", host, self._timeout)
            raise
        if response.status_code == 200:
            self._failures = 0
        else:
            self._log_failure(f"{host} answered HTTP {response.status_code}")
        return response

    def _log_failure(self, reason: str) -> None:
        self._failures += 1
        k, n = self._failures, self._attempts
        then = f"retrying in {self._delay:.2g} s" if k < n else "giving up"
        log.warning("arXiv API: attempt %d of %d failed (%s); %s", k, n, reason, then)


def _failure(exc: Exception, what: str, api_url: str, retry: str = "try again in a minute") -> DigestError:
    """The error for a failed API read: the network's fault, or arXiv's."""
    if isinstance(exc, requests.ConnectionError):
        host = api_url.split("/")[2] if "://" in api_url else api_url
        return DigestError(f"{what}: {connection_failure(host, exc)}. {NETWORK_ADVICE}, or check ARXIV_API_URL.")
    return DigestError(f"{what} ({exc}). arXiv may be down or rate-limiting: {retry}, or check ARXIV_API_URL.")


def _names(result: arxiv.Result) -> tuple[str, ...]:
    return tuple(name for name in (decode_tex(a.name) for a in result.authors) if name)


def _paper(result: arxiv.Result, categories: tuple[str, ...], announce_type: str) -> Paper | None:
    """Our Paper from an API entry; None for an entry cut short (arxiv parses garbled XML leniently)."""
    arxiv_id = normalize_arxiv_id(result.entry_id)
    if arxiv_id is None or not categories or not result.title.strip() or not result.summary.strip():
        return None
    return Paper(
        arxiv_id=arxiv_id,
        title=decode_tex(result.title),
        authors=_names(result),
        abstract=decode_tex(result.summary),
        categories=categories,
        announce_type=announce_type,
        primary_category=result.primary_category or "",
        doi=(result.doi or "").strip(),
        journal_ref=" ".join((result.journal_ref or "").split()),
    )


def _looked_up(result: arxiv.Result) -> Paper | None:
    return _paper(result, tuple(result.categories), "lookup")


def _in_categories(category: str, wanted: Sequence[str]) -> bool:
    """``cs.LG`` is in ``cs.LG`` and in the whole archive ``cs``."""
    return any(category == w or category.startswith(w + ".") for w in wanted)


def _category_terms(category: str) -> list[str]:
    # A whole archive ("cs") is asked for with its subcategories too; "hep-th" has none, which is harmless.
    return [f"cat:{category}"] if "." in category else [f"cat:{category}", f"cat:{category}.*"]


def window_query(categories: Sequence[str], window: tuple[dt.datetime, dt.datetime]) -> str:
    """``(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202503241800 TO 202503251800]`` (GMT, to the minute).

    arXiv's range is inclusive and minute-grained, so results are filtered to ``[start, end)`` afterwards.
    """
    start, end = (_utc(moment) for moment in window)
    terms = " OR ".join(term for c in categories for term in _category_terms(c))
    return f"({terms}) AND submittedDate:[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; submission windows must be aware datetimes")
    return moment.astimezone(dt.UTC)


def _announced(result: arxiv.Result, wanted: Sequence[str]) -> Paper | None:
    """A mailing's Paper from a search result; None when the entry came back incomplete."""
    primary = (result.primary_category or "").strip()
    if not primary:
        return None
    categories = tuple(c for c in (c.strip() for c in result.categories) if _ARXIV_CATEGORY.match(c))
    return _paper(result, categories, "new" if _in_categories(primary, wanted) else "cross")


class _Pass:
    """What one search over a window brought back."""

    def __init__(self) -> None:
        self.listed = 0  # API results inside the window, complete or not, repeats included
        self.papers: dict[str, tuple[dt.datetime, Paper]] = {}
        self.incomplete: list[str | None] = []  # ids of entries cut short (None: no usable id)


def _in_a_thread(blocking: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(blocking, *args, **kwargs)

    return run


class ArxivLookup:
    def __init__(
        self,
        api_url: str,
        *,
        delay_seconds: float = 3.0,
        num_retries: int = 3,
        timeout: float = 30.0,
        search_page_size: int = SEARCH_PAGE_SIZE,
    ) -> None:
        self._client = arxiv.Client(page_size=100, delay_seconds=delay_seconds, num_retries=num_retries)
        self._search_page_size = search_page_size
        self._api_url = api_url
        # The package formats its query URL from a class attribute; set it on our instance only.
        self._client.query_url_format = api_url.rstrip("?") + "?{}"
        # Its requests.Session is private but the only place a timeout can be set.
        session: requests.Session = self._client._session
        self._adapter = _TimeoutAdapter(timeout, num_retries + 1, delay_seconds)
        for prefix in ("http://", "https://"):
            session.mount(prefix, self._adapter)
        self._lock = threading.Lock()

    def lookup_sync(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        """Papers by ID; unknown IDs are absent. Entries garbled in transit are asked for once more."""
        ids = list(dict.fromkeys(i for i in (normalize_arxiv_id(raw) for raw in arxiv_ids) if i))
        found: dict[str, Paper] = {}
        with self._lock:
            for _ in range(2):
                missing = [i for i in ids if i not in found]
                if not missing:
                    break
                incomplete = self._fetch(missing, found)
                if not incomplete:
                    break
        return found

    def _fetch(self, ids: list[str], found: dict[str, Paper]) -> bool:
        """Add what arXiv returns to ``found``; True when an entry came back incomplete."""
        incomplete = False
        try:
            self._adapter.reset()
            for result in self._client.results(arxiv.Search(id_list=ids, max_results=len(ids))):
                paper = _looked_up(result)
                if paper is None:
                    incomplete = True
                else:
                    found[paper.arxiv_id] = paper
        except (arxiv.ArxivError, requests.RequestException) as exc:
            raise _failure(exc, "The arXiv API could not be read", self._api_url) from exc
        return incomplete

    def announcement_sync(
        self,
        categories: Sequence[str],
        mailing: dt.date,
        window: tuple[dt.datetime, dt.datetime],
        *,
        keep_types: Iterable[str],
    ) -> Announcement:
        """The mailing dated ``mailing`` rebuilt from the papers first submitted in ``window`` (UTC ``[start, end)``).

        Every page of a submittedDate search, oldest submission first. ``announce_type`` is "new" when the
        primary category is one of ``categories``, else "cross"; replacements never come back (the search
        matches the first version's submission time). Only approximates arXiv's listing: papers held in
        moderation are announced later than their window.
        """
        wanted = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
        if not wanted:
            raise ValueError("no arXiv category given (e.g. cs.LG)")
        start, end = (_utc(moment) for moment in window)
        keep = {t.strip().lower() for t in keep_types}
        query = window_query(wanted, (start, end))
        with self._lock:
            first = self._search_window(query, wanted, start, end, mailing)
            found = dict(first.papers)
            listed = first.listed
            retry_ids = [i for i in dict.fromkeys(first.incomplete) if i is not None and i not in found]
            if first.listed == 0 or None in first.incomplete:
                # Nothing listed (a garbled first page ends the package's paging) or an entry without an
                # id: ask the whole question once more.
                second = self._search_window(query, wanted, start, end, mailing)
                for arxiv_id, item in second.papers.items():
                    found.setdefault(arxiv_id, item)
                listed = max(listed, second.listed)
            elif retry_ids:
                # Entries cut short in transit: ask for those papers by id once.
                for arxiv_id, item in self._refetch(retry_ids, wanted, start, end, mailing).items():
                    found.setdefault(arxiv_id, item)
        ordered = sorted(found.values(), key=lambda item: item[0])  # stable: the API's order breaks ties
        papers = tuple(paper for _, paper in ordered if paper.announce_type in keep)
        return Announcement(date=mailing, papers=papers, total_in_feed=listed, source="arxiv-api")

    # The arXiv package blocks: the event loop's callers get the same methods run on a worker thread.
    lookup = _in_a_thread(lookup_sync)
    announcement = _in_a_thread(announcement_sync)

    def _search_window(
        self, query: str, wanted: Sequence[str], start: dt.datetime, end: dt.datetime, mailing: dt.date
    ) -> _Pass:
        search = arxiv.Search(
            query=query,
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Ascending,
        )
        return self._collect(search, wanted, start, end, mailing, page_size=self._search_page_size)

    def _refetch(
        self, ids: list[str], wanted: Sequence[str], start: dt.datetime, end: dt.datetime, mailing: dt.date
    ) -> dict[str, tuple[dt.datetime, Paper]]:
        search = arxiv.Search(id_list=ids, max_results=len(ids))
        return self._collect(search, wanted, start, end, mailing, page_size=self._client.page_size).papers

    def _collect(
        self,
        search: arxiv.Search,
        wanted: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        mailing: dt.date,
        *,
        page_size: int,
    ) -> _Pass:
        """Run ``search`` through every page (the package's paging and retries); keep what lies in the window."""
        found = _Pass()
        default_page_size, self._client.page_size = self._client.page_size, page_size
        try:
            self._adapter.reset()
            for result in self._client.results(search):
                if not start <= result.published < end:
                    continue  # the API's range is minute-grained and inclusive at both ends
                if result.categories and not any(_in_categories(c, wanted) for c in result.categories):
                    continue  # not ours (the query already says so; a lenient server might not)
                found.listed += 1
                paper = _announced(result, wanted)
                if paper is None:
                    found.incomplete.append(normalize_arxiv_id(result.entry_id))
                else:
                    found.papers.setdefault(paper.arxiv_id, (result.published, paper))
        except (arxiv.ArxivError, requests.RequestException) as exc:
            what = f"The arXiv API could not list the papers of {mailing.isoformat()}"
            raise _failure(exc, what, self._api_url, "try again in a few minutes") from exc
        finally:
            self._client.page_size = default_page_size
        return found
