"""A paper's full text as the bot reads it: blocks of plain text, each under the section it belongs to.

Read from arXiv's HTML rendering or, without one, from the PDF (adapters/arxiv_fulltext.py); kept per paper and
version (the paper_text table) and searched for the passages a question needs (bot/asking).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.statuses import TextSource


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, a caption or a table, as plain text (math as its TeX, e.g. ``$\\alpha_t$``)."""

    section: str  # the heading it sits under, numbered as the paper numbers it: "4.2 Experiments"; "Abstract"
    text: str
    label: str = ""  # "Table 3", "Figure 2", "Algorithm 1" for captions and tables; "" for running text


@dataclass(frozen=True)
class FullText:
    arxiv_id: str  # without its version: 2503.01234
    version: int  # the version read (2 for 2503.01234v2); 0 when the source did not say
    source: TextSource
    blocks: tuple[TextBlock, ...]
    title: str = ""
    pages: int | None = None  # the PDF's page count; None for HTML

    @property
    def chars(self) -> int:
        return sum(len(block.text) for block in self.blocks)
