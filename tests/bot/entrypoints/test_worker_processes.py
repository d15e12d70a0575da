"""DIGEST_RUNS=queue end to end: one clock (``arxiv-digest run``) and two, then four, real ``arxiv-digest worker``
processes on one PostgreSQL database share 200 channels' digests; one worker is killed (SIGKILL) mid-run, and
every channel still gets its digest exactly once.

The stand-ins are those of bench/capacity.py: arXiv's RSS feed serving a real day, the OpenAI API in a process of
its own (three papers relevant for every channel) and Slack's Web API, which counts the messages per channel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy

from bench.bot_process import BotProcess
from bench.capacity import SAMPLE_FEED, database, dated_feed, feed_ids, make_channels, postgres_up, subscribe
from bench.llm_process import LLMProcess
from bot.domain.settings import Settings
from storage.store import Store
from tests.support import ArxivStandIn
from tests.support.slack_api import SlackStandIn
from tests.support.unreachable import closed_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_up(), reason="needs PostgreSQL at 127.0.0.1:5432 (database test, user postgres)"),
]

CHANNELS = 200
RELEVANT = 3
MESSAGES = 1 + RELEVANT  # a summary and the relevant papers, in every channel
SECRET = "worker-test-signing-secret"
HEALTH_TOKEN = "worker-test-health"


@contextlib.contextmanager
def stand_ins(tmp_path: Path) -> Iterator[tuple[ArxivStandIn, SlackStandIn, LLMProcess, str]]:
    ids = feed_ids(SAMPLE_FEED.read_text(encoding="utf-8"))
    overrides = {arxiv_id: (8, 7) if i < RELEVANT else (2, 3) for i, arxiv_id in enumerate(ids)}
    with ArxivStandIn() as arxiv, SlackStandIn() as slack, LLMProcess(closed_port(), 0.0, overrides) as llm, \
            database("postgres", tmp_path) as url:
        yield arxiv, slack, llm, url


def posted(slack: SlackStandIn) -> Counter[str]:
    """Messages per channel at Slack."""
    with slack._state:
        return Counter(channel for channel, _ in slack.messages)


def parts_twice(slack: SlackStandIn) -> list[tuple[str, str]]:
    """(channel, digest part) posted more than once: the part names ride in each message's metadata."""
    with slack._state:
        parts = Counter((channel, str(((m.get("metadata") or {}).get("event_payload") or {}).get("part", ts)))
                        for (channel, ts), m in slack.messages.items())
    return [key for key, count in parts.items() if count > 1]


def jobs_left(url: str) -> int:
    """Jobs waiting or running in the queue (done ones are deleted)."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')").scalar_one())
    finally:
        engine.dispose()


def wait_for(what: str, check: Callable[[], object], timeout: float, processes: list[BotProcess]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            problems = "\n".join(p.last_problems() for p in processes)
            pytest.fail(f"{what} did not happen within {timeout:.0f} s. Logged:\n{problems}")
        time.sleep(0.2)


@pytest.mark.timeout(400)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_share_the_channels_and_one_killed_mid_run_leaves_no_digest_missing_or_twice(
    tmp_path: Path, workers: int
) -> None:
    with stand_ins(tmp_path) as (arxiv, slack, llm, url):
        settings = Settings(_env_file=None)
        started = time.monotonic()
        store = Store.open(url)
        try:
            channels = make_channels(CHANNELS, "slack", slack.team_id)
            subscribe(store, settings, channels, same_criteria=True)
        finally:
            store.close()
        # Every channel's time was a few minutes ago (today, UTC): the day that made due is in the feed.
        fire = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).replace(second=0, microsecond=0)
        arxiv.set_raw_feed(dated_feed(SAMPLE_FEED, settings.calendar.latest_mailing(fire)))
        env = {
            "DATABASE_URL": url, "DIGEST_RUNS": "queue", "ARXIV_RSS_URL": arxiv.rss_url,
            "ARXIV_API_URL": arxiv.api_url, "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": llm.base_url,
            "DIGEST_BATCH_SIZE": "200", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.base_url,
            "SLACK_POST_INTERVAL": "0.1", "DIGEST_WORKER_HEARTBEAT_SECONDS": "1",
            "DIGEST_WORKER_STALLED_SECONDS": "10", "DIGEST_SHUTDOWN_GRACE_SECONDS": "2",
            "DIGEST_SCHEDULE": f"{fire:%H:%M} Etc/UTC", "DIGEST_PREFILTER": "false",
        }
        processes: list[BotProcess] = []
        try:
            pool = [BotProcess(env, tmp_path, command="worker") for _ in range(workers)]
            processes += pool
            port = closed_port()
            # The clock, with Slack in HTTP mode for commands: its start-up catch-up enqueues every channel's run.
            clock = BotProcess({**env, "PORT": str(port), "SLACK_SIGNING_SECRET": SECRET,
                                "DIGEST_HEALTH_TOKEN": HEALTH_TOKEN}, tmp_path)
            processes.append(clock)
            clock.wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=90)

            # Kill the first worker once it has posted part of its share, while it has runs in flight.
            victim = pool[0]
            wait_for("a tenth of the channels posted", lambda: len(posted(slack)) >= CHANNELS // 10, 90, processes)
            wait_for("the first worker finishing a run", lambda: victim.run_lines(), 60, processes)
            victim.kill()
            killed_after = len(victim.run_lines())

            wait_for("every channel's digest", lambda: len(posted(slack)) == CHANNELS
                     and all(n >= MESSAGES for n in posted(slack).values()), 240, processes)
            # The killed worker's runs go to the others once it is taken for dead (DIGEST_WORKER_STALLED_SECONDS)
            # and their retry is due; a run the kill cut off after its digest was recorded finds nothing owed.
            wait_for("every job done", lambda: jobs_left(url) == 0, 120, processes)
            time.sleep(2)  # a duplicate would be posted by now
            took = time.monotonic() - started
            counts = posted(slack)
            assert set(counts) == {c.channel for c in channels}
            assert sorted(set(counts.values())) == [MESSAGES], {c: n for c, n in counts.items() if n != MESSAGES}
            assert parts_twice(slack) == []
            # The killed worker had runs in flight (the queue was far from empty): they went to the others.
            assert killed_after >= 1
            rescued = [line for p in pool[1:] for line in p.tally.problems if "stopped answering" in line]
            assert rescued, "no job of the killed worker was put back in the queue"
            assert not [p for p in pool[1:] if p.process.poll() is not None], "a worker exited"
            print(f"{workers} workers: {CHANNELS} channels posted in {took:.1f} s")
        finally:
            for process in processes:
                process.stop(timeout=15)
