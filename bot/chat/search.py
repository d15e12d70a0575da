"""The words of ``/arxiv search``: what a channel gets back when it searches its past digests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.digest.text import truncate
from bot.domain.search import SearchHit, search_words

if TYPE_CHECKING:  # bot.chat.commands imports this module
    from bot.domain.platform import Markup

RESULTS = 10
TITLE_LIMIT = 150
QUERY_LIMIT = 100  # of the query as echoed back


def usage(m: Markup) -> str:
    return (
        f"Give words from a title, an author or an arXiv ID, e.g. {m.command('search mixture of experts')}: "
        "every word must match (letters and digits count, operators and quotes do not)."
    )


def search_text(words: str, hits: list[SearchHit], m: Markup) -> str:
    """A numbered list, best match first: linked title, day, scores; then how to read an abstract."""
    if not search_words(words) and not hits:
        return usage(m)
    asked = m.escape(truncate(" ".join(words.split()), QUERY_LIMIT))
    if not hits:
        return (
            f"No paper in this channel's past digests matches “{asked}”. Only papers announced on days this "
            "channel had a digest are searched; try fewer or other words."
        )
    lines = [m.bold(f"Papers matching “{asked}” in past digests")]
    for number, hit in enumerate(hits, start=1):
        scores = "not scored" if hit.relevance is None else f"R {hit.relevance} · N {hit.novelty}"
        lines.append(
            f"{number}. {m.link(hit.url, truncate(hit.title, TITLE_LIMIT))} · {hit.date:%a %Y-%m-%d} · {scores} · "
            f"{m.escape(hit.arxiv_id)}"
        )
    lines.append(f"Full abstract: {m.command(f'abstract {hits[0].arxiv_id}')} (any ID from the list).")
    return "\n".join(lines)
