"""The FullTextSource port: a paper's full text from wherever arXiv renders it."""

from __future__ import annotations

from typing import Protocol

from bot.domain.fulltext import FullText


class FullTextSource(Protocol):
    async def full_text(self, arxiv_id: str) -> FullText | None:
        """The newest version's text of ``arxiv_id`` (bare, no version): from the HTML rendering, else the
        PDF; None when arXiv has neither for the paper. Raises bot.domain.errors.FullTextError when arXiv cannot be
        reached or answers with an error (busy, down), saying what to do next."""
        ...

    async def aclose(self) -> None: ...
