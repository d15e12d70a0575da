"""The weekly roundup posted to Slack through the real client and the Slack stand-in: one mrkdwn message with
Slack's links, bold and escaping."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.poster import SlackPoster
from bot.domain.platform import Place
from bot.domain.weekly import WeekFigures, WeekPaper, assemble
from tests.support.slack_api import SlackStandIn

CHANNEL = "CWEEKLY"
WED, FRI = dt.date(2025, 3, 5), dt.date(2025, 3, 7)


def test_the_roundup_is_one_slack_message_with_links_to_the_papers(slack: SlackStandIn):
    papers = [WeekPaper("2503.00001", "Experts <and> routers & more", WED, 9, 7, positive=2, reactions=2),
              WeekPaper("2503.00002", "Quiet one", FRI, 8, 6)]
    roundup = assemble(FRI - dt.timedelta(days=6), FRI, papers,
                       WeekFigures(read=500, scored=200, posted=2, reactions=2, cost_usd=0.05))

    async def main() -> str:
        client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")

        async def client_for(_: str) -> Any:
            return client

        return await SlackPoster(client_for, interval=0).post_weekly(Place(slack.team_id, CHANNEL), roundup)

    message_id = asyncio.run(main())
    [call] = slack.posted(CHANNEL)
    text = "\n".join(block["text"]["text"] for block in call.args["blocks"])
    assert text.startswith("*Weekly roundup · Sat 2025-03-01 – Fri 2025-03-07*")
    assert "<https://arxiv.org/abs/2503.00001|Experts &lt;and&gt; routers &amp; more> — 👍 2 👎 0 · R9 N7 · Wed" in text
    assert "1. <https://arxiv.org/abs/2503.00002|Quiet one> — R8 N6 · Fri" in text
    assert text.endswith("This week: 500 papers read, 200 scored, 2 posted, 2 reactions, LLM $0.05.")
    assert message_id and "thread_ts" not in call.args
