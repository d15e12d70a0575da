"""Digests built in memory for renderer tests (Slack blocks, Discord embeds)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain.models import Digest, RankedPaper, Usage


def digest_of(ranked: list[RankedPaper], **changes: Any) -> Digest:
    """A realistic LLM-scored day around ``ranked``; ``changes`` override any Digest field."""
    values: dict[str, Any] = dict(
        date=dt.date(2025, 3, 25),
        profile="default",
        model="gpt-4o-mini",
        approximate=False,
        total_arxiv=412,
        scanned=409,
        ranked=ranked,
        unscored=[],
        usage=Usage(prompt_tokens=170_000, cached_tokens=9_600, completion_tokens=14_112, requests=21),
        cost_usd=0.0323,
        prompt="criteria",
        min_relevance=7,
        min_novelty=6,
    )
    values.update(changes)
    return Digest(**values)
