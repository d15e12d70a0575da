"""bench/capacity.py keeps working: three channels through the real bot process, and the parts its figures rest on
(the dated feed, the consistency check, reading asyncio's and py-spy's reports)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.arxiv_rss import parse_feed
from bench.bot_process import RunLine, slow_step
from bench.capacity import SAMPLE_FEED, dated_feed, disagreements, feed_ids
from bench.loop_profile import held_places
from bot.domain.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bench"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_channels_asking_at_once_are_each_posted_once_and_the_figures_agree() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.capacity", "--channels", "3", "--mode", "run-command", "--max-minutes", "5",
         "--llm-latency", "0", "--relevant", "3", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=540,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert "consistent: every channel posted once, every message counted" in done.stdout
    assert figures["check"] == []
    assert figures["done"] == 3 and 0 < figures["all_posted_s"] < 300
    assert figures["statuses"] == {"posted": 3}
    assert figures["messages"] == {"slack": 3 * (1 + 3), "discord": 0}  # a summary and the 3 relevant papers each
    # 169 papers in batches of DIGEST_BATCH_SIZE, once per channel (each has its own criteria)
    assert figures["llm"]["scoring_requests"] >= 3 * math.ceil(169 / Settings.model_fields["batch_size"].default)
    # A TL;DR is per paper, language and model: the three channels' same three papers share one request's.
    assert figures["llm"]["tldr_requests"] >= 1 and figures["llm"]["prompt_tokens"] > 0
    assert figures["run_acks"]["count"] == 3 and figures["run_acks"]["over_3s"] == 0  # each answered, with 200
    assert figures["acks"]["count"] >= 1
    assert 0 < figures["rss_idle_before_mib"] <= figures["rss_peak_mib"]
    assert figures["sigterm_clean"]


def test_the_real_feed_is_served_as_the_day_that_is_due() -> None:
    due = dt.date(2026, 11, 30)
    announcement = parse_feed(dated_feed(SAMPLE_FEED, due), keep_types=("new", "cross"))
    assert announcement.date == due
    assert [p.arxiv_id for p in announcement.papers] == feed_ids(SAMPLE_FEED.read_text())
    assert len(announcement.papers) == 169


def line(channel: str, status: str, messages: int) -> RunLine:
    return RunLine(0.0, "slack", channel, status, messages, {})


def test_the_check_names_a_channel_posted_twice_a_count_that_differs_and_a_part_sent_twice() -> None:
    channels = ["slack:C1", "slack:C2", "slack:C3"]
    lines = [line("C1", "posted", 3), line("C2", "posted", 3), line("C2", "posted", 1), line("C3", "busy", 0)]
    at_platform = {"slack:C1": 2, "slack:C2": 4}
    parts = {("slack:C1", "summary"): 1, ("slack:C2", "summary"): 2}
    assert disagreements(channels, lines, at_platform, parts, every_channel=True) == [
        "slack:C1: 2 messages at the platform, its run lines say 3",
        "slack:C2: 2 posted runs, not 1",
        "slack:C3: 0 posted runs, not 1",
        "1 digest parts posted more than once, e.g. slack:C2 summary",
    ]
    agreeing = [line("C1", "posted", 2), line("C2", "posted", 4)]
    assert disagreements(channels[:2], agreeing, at_platform, {}, every_channel=True) == []
    cut_off = {**at_platform, "slack:C3": 5}  # C3 was posting when the benchmark ended: no run line yet
    assert disagreements(channels, agreeing, cut_off, {}, every_channel=False) == []


def test_asyncio_debug_lines_say_which_coroutine_held_the_loop_and_for_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def blocking_step() -> None:
        time.sleep(0.15)  # a synchronous call on the loop, as a database query is
        await asyncio.sleep(0)

    async def main() -> None:
        asyncio.get_running_loop().slow_callback_duration = 0.1
        await asyncio.create_task(blocking_step())

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        asyncio.run(main(), debug=True)
    found = [slow_step(r.getMessage()) for r in caplog.records if r.name == "asyncio"]
    suspended_at = blocking_step.__code__.co_firstlineno + 2  # the await after the blocking call
    step = ("test_asyncio_debug_lines_say_which_coroutine_held_the_loop_and_for_how_long.<locals>.blocking_step() "
            f"running at {Path(__file__)}:{suspended_at}")
    # On a busy machine other steps may pass 0.1 s too; the blocking one is among them, with its time.
    assert any(f is not None and f[0] == step and f[1] >= 0.15 for f in found), found
    assert slow_step("Executing took nothing") is None


def test_py_spy_samples_of_the_bot_are_grouped_by_the_line_of_ours_that_held_the_loop() -> None:
    """A real py-spy 0.4.3 recording (--idle --format raw) of the bot during a four-channel run."""
    loop, held, places = held_places((FIXTURES / "py_spy_raw.txt").read_text())
    assert 0 < held < loop
    ours = [p for p in places if not p.where.startswith("(no frame of ours")]
    assert ours and all(p.where.split("(")[1].startswith(("bot/", "adapters/", "storage/")) for p in ours)
    assert places == sorted(places, key=lambda p: p.samples, reverse=True)
    assert sum(p.samples for p in places) == held
