"""Look-ups by arXiv ID through the ``arxiv`` package, pointed at ``ARXIV_API_URL``.

One client per process keeps arXiv's rule of one request every three seconds across all callers
(the package sleeps between its own requests; a lock keeps concurrent callers in line).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import arxiv
import requests
from requests.adapters import HTTPAdapter

from bot.errors import DigestError
from bot.models import Paper, normalize_arxiv_id


class _TimeoutAdapter(HTTPAdapter):
    """The ``arxiv`` package sends requests without a timeout; a stalled API must not hang the bot."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def, override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def _paper(result: arxiv.Result) -> Paper | None:
    """Our Paper from an API entry; None for an entry cut short (arxiv parses garbled XML leniently)."""
    arxiv_id = normalize_arxiv_id(result.entry_id)
    if arxiv_id is None or not result.title.strip() or not result.summary.strip() or not result.categories:
        return None
    return Paper(
        arxiv_id=arxiv_id,
        title=" ".join(result.title.split()),
        authors=tuple(a.name for a in result.authors),
        abstract=" ".join(result.summary.split()),
        categories=tuple(result.categories),
        announce_type="lookup",
    )


class ArxivLookup:
    def __init__(
        self, api_url: str, *, delay_seconds: float = 3.0, num_retries: int = 3, timeout: float = 30.0
    ) -> None:
        self._client = arxiv.Client(page_size=100, delay_seconds=delay_seconds, num_retries=num_retries)
        # The package formats its query URL from a class attribute; set it on our instance only.
        self._client.query_url_format = api_url.rstrip("?") + "?{}"
        # Its requests.Session is private but the only place a timeout can be set.
        session: requests.Session = self._client._session
        for prefix in ("http://", "https://"):
            session.mount(prefix, _TimeoutAdapter(timeout))
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
            for result in self._client.results(arxiv.Search(id_list=ids, max_results=len(ids))):
                paper = _paper(result)
                if paper is None:
                    incomplete = True
                else:
                    found[paper.arxiv_id] = paper
        except (arxiv.ArxivError, requests.RequestException) as exc:
            raise DigestError(
                f"The arXiv API could not be read ({exc}); try again in a minute or check ARXIV_API_URL."
            ) from exc
        return incomplete

    async def lookup(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        return await asyncio.to_thread(self.lookup_sync, arxiv_ids)
