"""Kill points: a digest killed at every boundary it crosses (before and after each message it posts and
each database record it writes), then resumed by a fresh service on the same database, leaves every
message in the channel exactly once, on Slack and on Discord.

A kill is a ``BaseException`` raised at the boundary (nothing in the bot catches it, as nothing survives
``kill -9``). "After a message" is the moment the platform has accepted it and we have not recorded it;
"after a record" is the moment it is committed. The real posters talk to the Slack and Discord stand-ins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord import embeds
from adapters.discord.poster import DiscordPoster, part_nonce
from adapters.slack import blocks
from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.poster import SlackPoster
from bot.digest.service import DigestService, summary_part
from bot.domain.models import Announcement, Subscription
from bot.domain.platform import ChannelPoster, Place
from bot.domain.settings import Settings
from storage.store import Store
from tests.conftest import as_paper, sample_papers
from tests.support.discord_api import CHANNEL_ID, GUILD_ID, DiscordStandIn, logged_in
from tests.support.slack_api import SlackStandIn

DAY = dt.date(2025, 3, 6)
PAPERS = 6
SLACK_CHANNEL = "CKILL"
# Every write a run makes: the day's papers, the run row, scores, ranking notes, posted messages, status.
WRITES = ("save_papers", "save_announcement", "start_run", "save_judgments", "add_run_usage", "save_ranking_notes",
          "save_decisions", "finish_run", "mark_run", "record_post", "set_batch_id", "save_model")


class Killed(BaseException):
    """The process dies here: no handler in the bot runs."""


@dataclass
class Boundaries:
    """Counts the boundaries a run crosses and kills it at number ``kill_at``."""

    kill_at: int | None = None
    crossed: list[str] = field(default_factory=list)

    def hit(self, name: str) -> None:
        self.crossed.append(name)
        if len(self.crossed) == self.kill_at:
            raise Killed(name)


def killing_store(url: str, boundaries: Boundaries) -> Store:
    """A Store whose every write crosses a boundary before it starts and after it committed."""
    store = Store.open(url)
    for name in WRITES:
        method = getattr(store, name)

        def wrapped(*args: Any, _name: str = name, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            what = _name + (f" {args[3]}" if _name == "record_post" else "")
            boundaries.hit(f"before {what}")
            result = _method(*args, **kwargs)
            boundaries.hit(f"after {what}")
            return result

        setattr(store, name, wrapped)
    return store


def crossing_sends(poster: Any, attribute: str, part_of: Callable[..., str], boundaries: Boundaries) -> None:
    """Each message the poster sends crosses a boundary before the request and after the platform accepted it."""
    send = getattr(poster, attribute)

    async def wrapped(*args: Any, **kwargs: Any) -> str:
        part = part_of(*args, **kwargs)
        boundaries.hit(f"before message {part}")
        message_id = await send(*args, **kwargs)
        boundaries.hit(f"after message {part}")
        return str(message_id)

    setattr(poster, attribute, wrapped)


class OneDay:
    async def fetch(self) -> Announcement:
        papers = tuple(as_paper(p) for p in sample_papers(PAPERS))
        return Announcement(DAY, papers, len(papers), "rss")


@dataclass
class Platform:
    """One chat platform for the matrix: how to post through it, and what its channel holds."""

    name: str
    where: tuple[str, str, str]  # platform, workspace, channel
    open: Callable[[Callable[[ChannelPoster], Awaitable[None]]], None]  # runs body(poster) in a fresh client
    parts: Callable[[], list[str]]  # the digest part of every message in the channel, in order
    message_ids: Callable[[], list[str]]
    wrap: Callable[[Any, Boundaries], None]
    clear: Callable[[], None]


@pytest.fixture
def slack_platform(slack: SlackStandIn) -> Platform:
    def open_(body: Callable[[ChannelPoster], Awaitable[None]]) -> None:
        async def main() -> None:
            client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url),
                                 "xoxb-test")

            async def client_for(_: str) -> Any:
                return client

            await body(SlackPoster(client_for, interval=0))

        asyncio.run(main())

    def parts() -> list[str]:
        return [str(c.args["metadata"]["event_payload"]["part"]) for c in slack.posted(SLACK_CHANNEL)]

    def clear() -> None:  # a new channel history for each kill
        slack.clear()
        slack.messages.clear()

    def wrap(poster: Any, boundaries: Boundaries) -> None:
        crossing_sends(poster, "_post", lambda place, message, thread=None: message.metadata["event_payload"]["part"],
                       boundaries)

    return Platform(
        "Slack", ("slack", slack.team_id, SLACK_CHANNEL), open_, parts,
        lambda: [str(c.response["ts"]) for c in slack.posted(SLACK_CHANNEL)], wrap, clear,
    )


@pytest.fixture
def discord_platform(discord_api: DiscordStandIn) -> Iterator[Platform]:
    place = Place(str(GUILD_ID), str(CHANNEL_ID))
    nonces = {part_nonce(place, DAY, summary_part(n)): summary_part(n) for n in range(1, 20)}
    nonces |= {part_nonce(place, DAY, p["arxiv_id"]): p["arxiv_id"] for p in sample_papers(PAPERS)}

    def open_(body: Callable[[ChannelPoster], Awaitable[None]]) -> None:
        async def main() -> None:
            client = discord.Client(intents=discord.Intents.none())
            async with logged_in(client):
                await body(DiscordPoster(client, lambda _: discord.ui.View(), interval=0))

        asyncio.run(main())

    def parts() -> list[str]:
        return [nonces.get(m.get("nonce") or "", f"unknown {m['id']}") for m in discord_api.messages(CHANNEL_ID)]

    def wrap(poster: Any, boundaries: Boundaries) -> None:
        def part_of(place: Place, embeds: Any, view: Any = None, *, nonce: str | None = None) -> str:
            return nonces.get(nonce or "", "message")

        crossing_sends(poster, "_send", part_of, boundaries)

    yield Platform(
        "Discord", ("discord", str(GUILD_ID), str(CHANNEL_ID)), open_, parts,
        lambda: [m["id"] for m in discord_api.messages(CHANNEL_ID)], wrap, discord_api.clear,
    )


@pytest.fixture
def small_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets that split a six-paper ranked list over three summary messages, as 150 papers would be."""
    monkeypatch.setattr(blocks, "MESSAGE_TEXT_BUDGET", 280)
    monkeypatch.setattr(embeds, "MESSAGE_BUDGET", 280)


def settings_for(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url, openai_api_key=None, categories=["cs.LG"])


def attempt(platform: Platform, sub: Subscription, url: str, boundaries: Boundaries) -> str:
    """One process's run of the day: 'done', or the boundary it was killed at."""
    store = killing_store(url, boundaries)
    service = DigestService(settings_for(url), store, fetcher_for=lambda _: OneDay(), chat_factory=None,
                            lookup=None)  # type: ignore[arg-type]  # a fixed day needs no API
    outcome = "done"

    async def body(poster: ChannelPoster) -> None:
        nonlocal outcome
        platform.wrap(poster, boundaries)
        service.register(poster)
        try:
            await service.run_channel(sub)
        except Killed as killed:
            outcome = str(killed)

    try:
        platform.open(body)
    finally:
        store.close()
    return outcome


def subscribe(platform: Platform, url: str) -> Subscription:
    store = Store.open(url)
    try:
        profile = store.ensure_profile(f"{platform.name}:kill", categories=["cs.LG"], min_relevance=0, min_novelty=0,
                                       top_n=None, default_criteria="Mixture of experts and quantization.")
        return store.subscribe(*platform.where, "U1", profile.id)
    finally:
        store.close()


@dataclass
class Row:
    boundaries: int = 0
    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    unrecorded: Counter[str] = field(default_factory=Counter)


def kill_matrix(platform: Platform, tmp_path: Path) -> tuple[Row, list[str]]:
    """Kill at each boundary of a clean run in turn, resume, and count what is lost or posted twice."""
    url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean = Boundaries()
    assert attempt(platform, subscribe(platform, url), url, clean) == "done"
    expected = platform.parts()
    assert len(expected) == len(set(expected)) and sum(p.startswith("summary") for p in expected) >= 3, expected
    row = Row(boundaries=len(clean.crossed))
    for number, boundary in enumerate(clean.crossed, start=1):
        platform.clear()
        url = f"sqlite:///{tmp_path / f'kill{number}.db'}"
        sub = subscribe(platform, url)
        killed_at = attempt(platform, sub, url, Boundaries(kill_at=number))
        assert killed_at == boundary, (killed_at, boundary)  # a run crosses the same boundaries every time
        assert attempt(platform, sub, url, Boundaries()) == "done"
        seen = Counter(platform.parts())
        for part in expected:
            if seen[part] == 0:
                row.lost[boundary] += 1
        for part, times in seen.items():
            if times > 1 or part not in expected:
                row.duplicated[boundary] += times - (part in expected)
        store = Store.open(url)
        try:
            recorded = store.posted_parts(sub.platform, sub.channel, DAY)
            run = store.get_run(sub.profile_id, DAY)
        finally:
            store.close()
        # Every message is recorded under its own ID, so reactions and later runs map to it.
        if set(recorded.values()) != set(platform.message_ids()) or set(recorded) != set(expected):
            row.unrecorded[boundary] += 1
        assert run is not None and run.status == "posted"
    return row, clean.crossed


def report(name: str, row: Row, crossed: Sequence[str]) -> str:
    lines = [f"{name}: {row.boundaries} boundaries tried, {sum(row.lost.values())} messages lost, "
             f"{sum(row.duplicated.values())} duplicated, {sum(row.unrecorded.values())} runs with unrecorded messages"]
    for number, boundary in enumerate(crossed, start=1):
        lines.append(f"  {number:3} killed {boundary:<32} lost {row.lost[boundary]}  duplicated "
                     f"{row.duplicated[boundary]}  unrecorded {row.unrecorded[boundary]}")
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["slack_platform", "discord_platform"])
def test_a_digest_killed_at_any_boundary_and_resumed_posts_every_message_exactly_once(
    which: str, request: pytest.FixtureRequest, small_messages: None, tmp_path: Path,
) -> None:
    platform: Platform = request.getfixturevalue(which)
    row, crossed = kill_matrix(platform, tmp_path)
    print("\n" + report(platform.name, row, crossed))
    kinds = {b.split(" ", 1)[1].split(" ")[0] for b in crossed}
    assert {"message", "save_announcement", "start_run", "save_judgments", "record_post", "finish_run",
            "mark_run"} <= kinds  # every kind of boundary was tried
    assert sum(b.startswith("before message summary") for b in crossed) >= 3
    assert not row.lost and not row.duplicated and not row.unrecorded, report(platform.name, row, crossed)
