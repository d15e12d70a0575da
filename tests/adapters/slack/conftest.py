"""The Slack stand-in with the people and channel the Slack tests act as."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.slack.harness import ADMIN, CHANNEL, CREATOR, MEMBER
from tests.support.slack_api import SlackStandIn


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        server.add_user(ADMIN, admin=True)
        server.add_user(MEMBER)
        server.add_user(CREATOR)
        server.add_channel(CHANNEL, creator=CREATOR)
        yield server
