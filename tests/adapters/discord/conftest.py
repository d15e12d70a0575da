"""The Discord stand-in, and a started DiscordBot (logged in over REST, no gateway) to drive in a test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.discord.config import DiscordSettings
from bot.bootstrap import build_service
from storage.store import Store
from tests.adapters.discord.harness import DiscordHarness, drive
from tests.conftest import DAY, sample_papers
from tests.support.chat import RecordingCore
from tests.support.discord_api import DiscordStandIn

Scenario = Callable[..., None]


@pytest.fixture
def discord_settings(discord_api: DiscordStandIn) -> Callable[..., DiscordSettings]:
    def build(**overrides: Any) -> DiscordSettings:
        values: dict[str, Any] = {"token": "test-token", "api_url": discord_api.api_base, "post_interval": 0}
        return DiscordSettings(_env_file=None, **(values | overrides))

    return build


@pytest.fixture
def scenario(make_settings, arxiv, discord_api, discord_settings) -> Scenario:
    """Run ``test(harness)`` against a logged-in bot in one asyncio loop, then stop it.

    ``restart=True`` runs a second ``test`` with a fresh bot on the same database, like a redeploy.
    """

    def run(
        *tests: Callable[[DiscordHarness], Awaitable[None]], papers: int = 12,
        discord: dict[str, Any] | None = None, **overrides: Any,
    ) -> None:
        arxiv.set_day(DAY, sample_papers(papers))
        settings = make_settings(**overrides)
        store = Store.open(settings.database_url)

        def core() -> RecordingCore:
            return RecordingCore(build_service(settings, store))

        try:
            for test in tests:  # one asyncio.run per client, as discord.py needs; several = restarts
                asyncio.run(drive(discord_api, core, discord_settings(**(discord or {})), test))
        finally:
            store.close()
        assert not discord_api.errors, discord_api.errors

    return run
