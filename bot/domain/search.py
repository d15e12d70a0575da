"""A search over past digests (``/arxiv search``): the words of a query, and what a match is."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MAX_WORDS = 20  # a longer query finds nothing more, and each word is one more index lookup


def search_words(text: str) -> list[str]:
    """The words of a query: letters and digits only, so no operator, quote or wildcard reaches the engine."""
    return re.findall(r"\w+", text)[:MAX_WORDS]


@dataclass(frozen=True)
class SearchHit:
    """A paper of a past digest: the day it was announced (the newest, if several) and its stored scores."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    date: dt.date
    relevance: int | None
    novelty: int | None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"
