"""The words of the weekly roundup, shared by every chat platform (each brings its own markup)."""

from __future__ import annotations

from bot.digest.text import truncate
from bot.domain.counting import counted
from bot.domain.platform import Markup
from bot.domain.pricing import format_cost
from bot.domain.weekly import Roundup, WeekFigures, WeekPaper

TITLE_LIMIT = 120


def headline(roundup: Roundup) -> str:
    """``Weekly roundup · Sat 2025-03-01 – Fri 2025-03-07``."""
    return f"Weekly roundup · {roundup.first:%a %Y-%m-%d} – {roundup.last:%a %Y-%m-%d}"


def figures_line(figures: WeekFigures) -> str:
    return (f"This week: {figures.read:,} papers read, {figures.scored:,} scored, {figures.posted:,} posted, "
            f"{counted(figures.reactions, 'reaction')}, "
            f"LLM {format_cost(figures.cost_usd)}.")


def _scores(paper: WeekPaper) -> str:
    return "no score" if paper.relevance is None else f"R{paper.relevance} N{paper.novelty}"


def _paper_line(number: int, paper: WeekPaper, markup: Markup, detail: str) -> str:
    title = markup.link(f"https://arxiv.org/abs/{paper.arxiv_id}", truncate(paper.title, TITLE_LIMIT))
    return f"{number}. {title} — {detail} · {paper.date:%a}"


def roundup_text(roundup: Roundup, markup: Markup) -> str:
    """The whole roundup as one message; a week without posted papers is one line."""
    if roundup.empty:
        return f"No papers were posted in the week {roundup.first:%a %Y-%m-%d} – {roundup.last:%a %Y-%m-%d}."
    lines = [markup.bold(headline(roundup))]
    if roundup.reacted:
        lines += ["", markup.bold("Most reacted to (👍 minus 👎)")]
        lines += [_paper_line(n, p, markup, f"👍 {p.positive} 👎 {p.negative} · {_scores(p)}")
                  for n, p in enumerate(roundup.reacted, 1)]
    if roundup.unnoticed:
        lines += ["", markup.bold("Top scored, no reactions yet")]
        lines += [_paper_line(n, p, markup, _scores(p)) for n, p in enumerate(roundup.unnoticed, 1)]
    lines += ["", figures_line(roundup.figures)]
    return "\n".join(lines)
