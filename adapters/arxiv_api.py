"""Look-ups by arXiv ID through the ``arxiv`` package, pointed at ``ARXIV_API_URL``.

One client per process keeps arXiv's rule of one request every three seconds across all callers
(the package sleeps between its own requests; a lock keeps concurrent callers in line).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import arxiv

from bot.errors import DigestError
from bot.models import Paper, normalize_arxiv_id


class ArxivLookup:
    def __init__(self, api_url: str, *, delay_seconds: float = 3.0, num_retries: int = 3) -> None:
        self._client = arxiv.Client(page_size=100, delay_seconds=delay_seconds, num_retries=num_retries)
        # The package formats its query URL from a class attribute; set it on our instance only.
        self._client.query_url_format = api_url.rstrip("?") + "?{}"
        self._lock = threading.Lock()

    def lookup_sync(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        ids = [i for i in (normalize_arxiv_id(raw) for raw in arxiv_ids) if i]
        if not ids:
            return {}
        search = arxiv.Search(id_list=ids, max_results=len(ids))
        found: dict[str, Paper] = {}
        with self._lock:
            try:
                for result in self._client.results(search):
                    arxiv_id = normalize_arxiv_id(result.entry_id)
                    if arxiv_id is None:
                        continue
                    found[arxiv_id] = Paper(
                        arxiv_id=arxiv_id,
                        title=" ".join(result.title.split()),
                        authors=tuple(a.name for a in result.authors),
                        abstract=" ".join(result.summary.split()),
                        categories=tuple(result.categories),
                        announce_type="lookup",
                    )
            except arxiv.ArxivError as exc:
                raise DigestError(
                    f"The arXiv API could not be read ({exc}); try again in a minute or check ARXIV_API_URL."
                ) from exc
        return found

    async def lookup(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        return await asyncio.to_thread(self.lookup_sync, arxiv_ids)
