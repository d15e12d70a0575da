"""``arxiv-digest run`` as real processes against the stand-ins: killed with SIGKILL mid-run and started
again it posts every paper once and re-scores at most the requests that were in flight; two processes
on one PostgreSQL database post one digest between them."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.settings import Settings
from storage.store import Store
from tests.bot.entrypoints.test_runner import free_port, wait_for
from tests.conftest import sample_papers
from tests.storage.conftest import postgres_schema
from tests.support import ArxivStandIn, Delay, OpenAIStandIn, parse_papers
from tests.support.openai_server import is_tldr_request
from tests.support.slack_api import SlackStandIn
from tests.support.waiting import until_now

BATCH, IN_FLIGHT = 4, 2
PAPERS = 40


def due_day() -> dt.date:
    """The announcement a channel scheduled at 00:00 UTC is owed right now."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Settings(_env_file=None).calendar.latest_mailing(today)


def subscribe(url: str, team: str) -> int:
    store = Store.open(url)
    try:
        profile = store.ensure_profile("slack:C1", categories=["cs.LG", "cs.AI"], min_relevance=7, min_novelty=6,
                                       top_n=None, default_criteria="Mixture of experts and quantization.")
        store.subscribe("slack", team, "C1", "U1", profile.id)
        store.update_subscription("slack", "C1", schedule_time="00:00", timezone="UTC")
        return profile.id
    finally:
        store.close()


def run_status(url: str, profile_id: int, day: dt.date) -> tuple[str, int] | None:
    store = Store.open(url)
    try:
        run = store.get_run(profile_id, day)
        return (run.status, run.attempts) if run else None
    finally:
        store.close()


def paper_posts(slack: SlackStandIn) -> Counter[str]:
    """arXiv IDs of the paper messages posted (each carries its ID on its buttons)."""
    ids: Counter[str] = Counter()
    for call in slack.posted("C1"):
        blocks = call.args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for block in blocks:
            if block.get("type") == "actions":
                ids[block["elements"][0]["value"]] += 1
    return ids


def summaries(slack: SlackStandIn) -> int:
    return sum(1 for call in slack.posted("C1") if not call.args.get("thread_ts"))


def papers_asked(llm: OpenAIStandIn) -> list[str]:
    asked = []
    for request in llm.requests_to("/chat/completions"):
        messages = json.loads(request.body)["messages"]
        if is_tldr_request(messages[0]["content"]):
            continue  # the posted papers' TL;DRs, asked once the day is scored
        asked += [block.arxiv_id for block in parse_papers(messages[-1]["content"])]
    return asked


class Bot:
    """One ``python -m bot run`` process."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env={**env, "PORT": str(self.port)}, cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        wait_for(f"http://127.0.0.1:{self.port}/healthz", self.process)

    def kill(self) -> str:
        self.process.send_signal(signal.SIGKILL)
        return self.process.communicate(timeout=20)[0]

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output = self.process.communicate(timeout=30)[0]
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def services() -> Iterator[tuple[ArxivStandIn, OpenAIStandIn, SlackStandIn]]:
    with ArxivStandIn() as arxiv, OpenAIStandIn() as llm, SlackStandIn() as slack:
        arxiv.set_day(due_day(), sample_papers(PAPERS))
        yield arxiv, llm, slack


def bot_env(arxiv: ArxivStandIn, llm: OpenAIStandIn, slack: SlackStandIn, database_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "OPENAI_", "ARXIV_"))},
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "crash-test-secret",
        "SLACK_API_URL": slack.base_url, "SLACK_POST_INTERVAL": "0",
        "DATABASE_URL": database_url, "ARXIV_RSS_URL": arxiv.rss_url, "ARXIV_API_URL": arxiv.api_url,
        "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": llm.base_url,
        "DIGEST_BATCH_SIZE": str(BATCH), "DIGEST_CONCURRENCY": str(IN_FLIGHT), "DIGEST_ARXIV_API_DELAY": "0",
        "DIGEST_HOLIDAY_MESSAGE": "",
    }


@pytest.mark.slow
def test_killed_mid_run_and_restarted_posts_every_paper_once_and_rescores_only_the_batches_in_flight(
    services, tmp_path: Path
):
    arxiv, llm, slack = services
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    profile_id = subscribe(url, slack.team_id)
    env = bot_env(arxiv, llm, slack, url)
    llm.add_fault(*[Delay(0.25)] * 200)  # slow replies, so the kill lands mid-scoring

    first = Bot(env, tmp_path)
    until_now(lambda: len(llm.requests) >= 5, what="scoring to start")
    first.kill()
    asked_before = papers_asked(llm)
    assert run_status(url, profile_id, due_day()) == ("started", 1)
    assert summaries(slack) == 0

    second = Bot(env, tmp_path)
    until_now(lambda: (run_status(url, profile_id, due_day()) or ("",))[0] == "posted", what="the digest")
    output = second.stop()

    asked = papers_asked(llm)
    assert set(asked) == {p["arxiv_id"] for p in sample_papers(PAPERS)}
    rescored = len(asked) - PAPERS
    print(f"killed after {len(asked_before)} papers were asked; {rescored} of {PAPERS} asked again")
    assert 0 <= rescored <= BATCH * IN_FLIGHT, f"{rescored} papers were scored twice"
    assert len(asked_before) >= BATCH  # the first process really had stored some judgments
    posts = paper_posts(slack)
    assert posts and set(posts.values()) == {1} and summaries(slack) == 1
    assert run_status(url, profile_id, due_day()) == ("posted", 2)
    run_lines = [line for line in output.splitlines() if f"run slack:C1 {due_day()} posted" in line]
    assert len(run_lines) == 1 and "requests" in run_lines[0] and "$" in run_lines[0]


@pytest.mark.slow
def test_killed_while_posting_and_restarted_posts_the_missing_papers_only(services, tmp_path: Path):
    arxiv, llm, slack = services
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    profile_id = subscribe(url, slack.team_id)
    env = {**bot_env(arxiv, llm, slack, url), "SLACK_POST_INTERVAL": "0.3"}

    first = Bot(env, tmp_path)
    until_now(lambda: len(paper_posts(slack)) >= 3, what="papers to be posted")
    first.kill()
    requests_before = len(llm.requests)

    second = Bot(env, tmp_path)
    until_now(lambda: (run_status(url, profile_id, due_day()) or ("",))[0] == "posted", what="the digest")
    second.stop()
    assert len(llm.requests) == requests_before  # every score was stored: nothing asked again
    posts = paper_posts(slack)
    assert summaries(slack) == 1 and set(posts.values()) == {1}, posts


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.mark.slow
def test_two_processes_on_one_postgresql_database_post_one_digest(services, pg_url: str, tmp_path: Path):
    arxiv, llm, slack = services
    profile_id = subscribe(pg_url, slack.team_id)
    env = bot_env(arxiv, llm, slack, pg_url)
    llm.add_fault(*[Delay(0.05)] * 100)

    bots = [Bot(env, tmp_path), Bot(env, tmp_path)]
    try:
        until_now(lambda: (run_status(pg_url, profile_id, due_day()) or ("",))[0] == "posted",
              what="the digest")
        time.sleep(1.0)  # give a second digest every chance to appear
    finally:
        for bot in bots:
            bot.stop()
    posts = paper_posts(slack)
    assert summaries(slack) == 1 and posts and set(posts.values()) == {1}
    assert sorted(papers_asked(llm)) == sorted(p["arxiv_id"] for p in sample_papers(PAPERS))  # scored once
    assert run_status(pg_url, profile_id, due_day()) == ("posted", 1)
