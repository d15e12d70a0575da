"""The weekly roundup's wording, once for every platform (each brings only its markup)."""

from __future__ import annotations

import datetime as dt

from bot.digest.weekly_text import roundup_text
from bot.domain.weekly import WeekFigures, WeekPaper, assemble
from tests.support.fakes import PlainMarkup

SAT, WED, FRI = dt.date(2025, 3, 1), dt.date(2025, 3, 5), dt.date(2025, 3, 7)


def test_the_roundup_lists_the_liked_and_the_unnoticed_papers_and_the_weeks_figures():
    papers = [
        WeekPaper("2503.00001", "Sparse experts", WED, 9, 7, positive=3, negative=1, reactions=4),
        WeekPaper("2503.00002", "Quantized attention", FRI, 8, 6),
        WeekPaper("2503.00003", "Unjudged", FRI, None, None),
    ]
    figures = WeekFigures(read=1234, scored=410, posted=3, reactions=4, cost_usd=0.4212)
    text = roundup_text(assemble(SAT, FRI, papers, figures), PlainMarkup())
    assert text == (
        "*Weekly roundup · Sat 2025-03-01 – Fri 2025-03-07*\n"
        "\n"
        "*Most reacted to (👍 minus 👎)*\n"
        "1. [Sparse experts](https://arxiv.org/abs/2503.00001) — 👍 3 👎 1 · R9 N7 · Wed\n"
        "\n"
        "*Top scored, no reactions yet*\n"
        "1. [Quantized attention](https://arxiv.org/abs/2503.00002) — R8 N6 · Fri\n"
        "2. [Unjudged](https://arxiv.org/abs/2503.00003) — no score · Fri\n"
        "\n"
        "This week: 1,234 papers read, 410 scored, 3 posted, 4 reactions, LLM $0.42."
    )


def test_a_week_without_papers_is_one_line():
    empty = assemble(SAT, FRI, [], WeekFigures(read=0, scored=0, posted=0, reactions=0, cost_usd=None))
    assert roundup_text(empty, PlainMarkup()) == "No papers were posted in the week Sat 2025-03-01 – Fri 2025-03-07."
