"""Rebuild the demo's bundled sample day, ``bot/sample/2025-03-25.xml``, from ../shared data.

The file is a real announcement day (169 papers in cs.LG/cs.AI, 2025-03-25) in arXiv's RSS format,
plus a few replacement entries so the demo shows them being filtered out. Author names, titles and
abstracts keep their real strings as arXiv writes them, TeX included (``Yunus Can G\\"ultekin``,
``$\\sim$44%``), so the demo exercises the feed parser's decoding. The data holds no affiliations.
Run: python -m bench.make_sample_day
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.shared_data import day_papers
from tests.support.feeds import build_rss

DAY = "2025-03-25"
REPLACED_FROM = "2025-03-17"  # a few earlier papers re-announced as new versions
OUT = Path(__file__).resolve().parents[1] / "bot" / "sample" / f"{DAY}.xml"


def main() -> None:
    papers = day_papers(DAY)
    replaced = [dict(p, announce_type="replace", version=2) for p in day_papers(REPLACED_FROM)[:4]]
    xml = build_rss(papers + replaced, date=dt.date.fromisoformat(DAY), categories=["cs.LG", "cs.AI"])
    OUT.write_text(xml, encoding="utf-8")
    print(f"wrote {OUT} ({len(papers)} papers, {len(replaced)} replacements, {len(xml) // 1024} KiB)")


if __name__ == "__main__":
    main()
