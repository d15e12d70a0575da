"""A digest interrupted after Slack accepted a message we never recorded: the resumed run finds that
message by its metadata and does not post it again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.poster import SlackPoster
from bot.digest.service import DigestService
from bot.domain.platform import Place
from storage.store import Store
from tests.adapters.slack.test_blocks import ranked_paper
from tests.support import Delay, Malformed
from tests.support.digests import digest_of
from tests.support.slack_api import SlackStandIn

CHANNEL = "CRECOVER"


def paper_ids(slack: SlackStandIn) -> list[str]:
    return [c.args["metadata"]["event_payload"]["part"] for c in slack.posted(CHANNEL) if c.args.get("thread_ts")]


@pytest.fixture
def service(make_settings, tmp_path) -> Any:
    settings = make_settings()
    store = Store.open(settings.database_url)
    yield DigestService(settings, store, fetcher_for=lambda _: None, chat_factory=None, lookup=None)  # type: ignore[arg-type]
    store.close()


def test_a_resumed_digest_finds_the_message_slack_accepted_but_we_never_recorded(service, slack: SlackStandIn):
    digest = digest_of([ranked_paper(rank) for rank in range(1, 6)])
    place = Place(slack.team_id, CHANNEL)

    async def main() -> None:
        client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")

        async def client_for(_: str) -> Any:
            return client

        poster = SlackPoster(client_for, interval=0)
        # Summary and two papers go through; the third is stored by Slack but its answer is cut off.
        slack.add_fault(Delay(0), Delay(0), Delay(0), Malformed())
        with pytest.raises(Exception):  # noqa: B017  (whatever the client raises, the run stops)
            await service.deliver(poster, place, digest)
        assert len(paper_ids(slack)) == 3
        assert len(service.store.posted_parts("slack", CHANNEL, digest.date)) == 3  # summary + 2 recorded
        delivery = await service.deliver(poster, place, digest, resume=True)
        assert delivery.posted == 2

    asyncio.run(main())
    ids = paper_ids(slack)
    assert sorted(ids) == sorted(item.paper.arxiv_id for item in digest.ranked) and len(ids) == len(set(ids))
    assert len([c for c in slack.posted(CHANNEL) if not c.args.get("thread_ts")]) == 1
    recovered = service.store.posted_parts("slack", CHANNEL, digest.date)
    assert set(recovered) == {"summary"} | set(ids)  # reactions on the recovered message map to its paper


def test_without_history_access_a_resumed_digest_still_completes(service, slack: SlackStandIn):
    slack.fail_channel(CHANNEL, "not_in_channel")
    digest = digest_of([ranked_paper(1)])

    async def main() -> dict[str, str]:
        client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")

        async def client_for(_: str) -> Any:
            return client

        return await SlackPoster(client_for, interval=0).recover(Place(slack.team_id, CHANNEL), digest.date)

    assert asyncio.run(main()) == {}
