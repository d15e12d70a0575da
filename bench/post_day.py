"""Benchmark: posting a real day's digest to Slack, our way versus pasting the seed's Markdown page.

What it measures. The 2025-03-25 announcement (real papers from ``../shared``) is ranked by the local
scorer with thresholds low enough that ``--papers`` papers (default 60) are relevant. Then:

* "ours": ``adapters.slack.poster.SlackPoster`` through the real ``AsyncWebClient`` to the local Slack
  stand-in (``tests.support.slack_api``), which enforces Block Kit's limits: one parent message with the
  ranked table, one thread reply per paper. It prints messages, API calls, rejected calls, the largest
  message (blocks, characters), the time to build the blocks and to post with pacing off, the time the
  default pacing (``SLACK_POST_INTERVAL`` = 1 s per channel) adds, and peak memory;
* "seed": gpt_paper_assistant writes one Markdown page per day (``adapters.files.render_markdown`` is that
  layout). Pasted into Slack as one message it is measured against Slack's 40,000-character message
  limit and the 3,000-character section limit.

Run from the repository root:

    .venv/bin/python -m bench.post_day
    .venv/bin/python -m bench.post_day --papers 120
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import time
import tracemalloc
from typing import Any

from adapters.files import render_markdown
from adapters.slack.app import make_client
from adapters.slack.blocks import paper_message, summary_messages
from adapters.slack.config import SlackSettings
from adapters.slack.poster import SlackPoster
from bench.shared_data import day_papers
from bot.domain.models import Digest, Paper, Usage
from bot.domain.platform import Place
from bot.scoring import local_scorer
from bot.scoring.ranking import rank
from prompts import default_criteria
from tests.support.slack_api import SlackStandIn

SLACK_MESSAGE_LIMIT = 40_000
SECTION_LIMIT = 3_000


def build_digest(n: int) -> Digest:
    papers = [Paper.from_dict(p) for p in day_papers("2025-03-25")]
    judgments = local_scorer.score_locally(papers, default_criteria())
    ranked = rank(papers, judgments, min_relevance=1, min_novelty=1, top_n=n)
    return Digest(
        date=dt.date(2025, 3, 25), profile="bench", model=local_scorer.MODEL_NAME,
        approximate=True, total_arxiv=len(papers), scanned=len(papers), ranked=ranked, unscored=[],
        usage=Usage(), cost_usd=0.0, prompt=default_criteria(), min_relevance=1, min_novelty=1,
    )


def message_chars(payload: dict[str, Any]) -> int:
    total = len(payload.get("text", ""))
    for block in payload.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            total += len(text.get("text", ""))
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                total += len(element["text"])
    return total


async def post(digest: Digest, slack: SlackStandIn) -> float:
    settings = SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url)
    client = make_client(settings, "xoxb-test")

    async def client_for(_: str) -> Any:
        return client

    poster = SlackPoster(client_for, interval=0)
    place = Place(slack.team_id, "CBENCH")
    start = time.perf_counter()
    parent, *_ = await poster.post_summary(place, digest)
    for item in digest.ranked:
        await poster.post_paper(place, parent, digest, item)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=60, help="relevant papers in the digest")
    args = parser.parse_args()

    digest = build_digest(args.papers)
    tracemalloc.start()
    started = time.perf_counter()
    messages = [m.payload() for m in summary_messages(digest)] + [
        paper_message(digest, item).payload() for item in digest.ranked
    ]
    build_s = time.perf_counter() - started
    with SlackStandIn() as slack:
        post_s = asyncio.run(post(digest, slack))
        calls = slack.calls_to("chat.postMessage")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rejected = [c for c in calls if not c.ok]

    print(f"Digest of 2025-03-25: {digest.total_arxiv} papers announced, {len(digest.ranked)} relevant\n")
    print("ours (Block Kit: parent + one thread reply per paper)")
    print(f"  messages {len(messages)}, chat.postMessage calls {len(calls)}, "
          f"rejected by Slack's limits {len(rejected)}")
    print(f"  largest message: {max(len(m['blocks']) for m in messages)} blocks (limit 50), "
          f"{max(message_chars(m) for m in messages):,} characters")
    print(f"  build blocks {build_s * 1000:.1f} ms; post with pacing off {post_s:.2f} s "
          f"({post_s / len(calls) * 1000:.1f} ms per message); default pacing adds about {len(calls) - 1} s "
          "per channel (1 message/s, Slack's rate)")
    print(f"  tracemalloc peak {peak / 2**20:.1f} MiB, process peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    page = render_markdown(digest)
    longest_paragraph = max(len(p) for p in page.split("\n\n"))
    print("\nseed (one Markdown page pasted as one message)")
    print(f"  {len(page):,} characters: {'over' if len(page) > SLACK_MESSAGE_LIMIT else 'within'} Slack's "
          f"{SLACK_MESSAGE_LIMIT:,}-character message limit "
          f"({max(0, len(page) - SLACK_MESSAGE_LIMIT):,} characters would be cut); longest paragraph "
          f"{longest_paragraph:,} characters (a section holds {SECTION_LIMIT:,}); no per-paper message to react "
          "to, no buttons")
    if rejected:
        raise SystemExit(f"{len(rejected)} messages were rejected: {rejected[0].response}")


if __name__ == "__main__":
    main()
