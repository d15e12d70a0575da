"""Real arXiv papers from ``../shared/data/arxiv_digest_testsets`` as plain paper dicts.

Used to build the bundled sample day and the benchmark's 1,000-paper day. Each dict has the keys the
test stand-ins' feed builders take: arxiv_id, title, authors, abstract, categories, announce_type.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

_DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv_digest_testsets"
DATA = Path(os.environ.get("DIGEST_SHARED_DATA", _DEFAULT_DATA))
DAIZEDONG = "daizedong_selected_gpt4o_2025-02-27_2025-09-04.jsonl"
DW = "dw_crosslisted_lg_ai_joined_12days_2025.jsonl"
JOHNX = "johnx69_graded_cs-AI-CV_16days_2025.jsonl"
_RSS_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*")
OUR_CATEGORIES = ("cs.LG", "cs.AI")


def rows(name: str) -> Iterator[dict]:
    path = DATA / name
    if not path.exists():
        raise SystemExit(f"{path} not found: run from a checkout with ../shared beside it, or set DIGEST_SHARED_DATA.")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _paper(row: dict, default_categories: tuple[str, ...]) -> dict:
    categories = list(row.get("categories") or default_categories)
    return {
        "arxiv_id": row["arxiv_id"],
        "title": row["title"],
        "authors": list(row["authors"]),
        "abstract": _RSS_PREFIX.sub("", row["abstract"]),
        "categories": categories,
        # A paper whose primary category is not ours reaches our feed as a cross-list.
        "announce_type": "new" if categories[0] in OUR_CATEGORIES else "cross",
    }


def day_papers(date: str) -> list[dict]:
    """Every paper the data holds for one announcement day (dw's listing plus the seed's selection)."""
    papers: dict[str, dict] = {}
    for row in rows(DW):
        if row["date"] == date:
            papers[row["arxiv_id"]] = _paper(row, ("cs.LG",))
    for row in rows(DAIZEDONG):
        if row["date"] == date and row["arxiv_id"] not in papers:
            papers[row["arxiv_id"]] = _paper(row, ("cs.LG",))
    return list(papers.values())


def all_papers() -> list[dict]:
    """All distinct papers of the three data sets, in file order."""
    papers: dict[str, dict] = {}
    for name, default in ((DAIZEDONG, ("cs.LG",)), (DW, ("cs.LG",)), (JOHNX, ("cs.CV", "cs.AI"))):
        for row in rows(name):
            papers.setdefault(row["arxiv_id"], _paper(row, default))
    return list(papers.values())
