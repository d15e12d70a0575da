"""Benchmark: how many channels one bot process serves when every digest is due at once (issue 18).

What it measures. The production process (``python -m bot run --log-json``: Slack in HTTP mode and/or Discord,
configured only through its environment) runs against the local stand-ins in tests/support: arXiv's RSS feed
serving a real day (bot/sample/2025-03-25.xml, dated the day that is due), the OpenAI API answering each
request after ``--llm-latency`` s (1 s; the stand-in's answers, served by aiohttp in a process of its own:
bench/llm_process.py), and Slack and Discord enforcing their posting rate limits (tests/support/rate_limits.py).
``--relevant`` papers of the day (8) pass every channel's thresholds, so each digest is a summary plus 8 papers.
N channels are subscribed, each with criteria of its own (or all the same with ``--same-criteria``), and then either

* ``--mode schedule``: every channel's daily time is the same minute, a minute or two ahead, and the bot's
  scheduler runs them; or
* ``--mode run-command``: every Slack channel sends ``/arxiv run`` at the same moment over HTTP.

While it runs, ``/arxiv help`` goes to the Slack endpoint every second and the time to its HTTP answer is
recorded (Slack shows people an error after 3 s). It prints, per N: the time until every channel's digest was
posted (or how many were after 10 and 30 minutes, when ``--max-minutes`` cuts it off), LLM requests (scoring
and TL;DR), tokens and the most requests in flight, messages posted and 429s answered, the bot's resident
memory idle before the first run, at its peak and idle after, its CPU seconds, the slowest and p95 command
acks, and the time SIGTERM took to stop it; ``uptime``'s load average beside it, as the machine is shared.
The figures are checked against each other: every channel posted exactly once, and each channel's messages at
Slack/Discord are the ones its run line counts.

Run from the repository root:

    .venv/bin/python -m bench.capacity --channels 10 100
    .venv/bin/python -m bench.capacity --channels 50 --same-criteria --mode run-command
    .venv/bin/python -m bench.capacity --channels 1000 --max-minutes 20 --database postgres

``--workers N`` measures the deployment of many processes (DIGEST_RUNS=queue, on PostgreSQL): the bot process is
the clock and the HTTP endpoint, which only enqueues each channel's run; N ``arxiv-digest worker`` processes take
and post them (each DIGEST_WORKER_CONCURRENCY at once). The run lines then come from the workers; CPU is that of
all the processes together.

    .venv/bin/python -m bench.capacity --channels 60 --relevant 3 --workers 1
    .venv/bin/python -m bench.capacity --channels 60 --relevant 3 --workers 4

``--database postgres`` uses PostgreSQL at 127.0.0.1:5432 (database ``test``, user ``postgres`` without a
password), in a fresh schema dropped afterwards; when the server is down it says so and measures nothing.
Discord's commands come over its gateway, which has no stand-in: ``run-command`` drives the Slack channels.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.utils
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.bot_process import BotProcess, RunLine
from bench.llm_process import LLMProcess
from bench.loop_profile import LoopProfile
from bench.slack_requests import AckFigures, AckProbe, SlashCommands
from bot.digest.idle import QUIET_SECONDS
from bot.domain.settings import Settings
from prompts import default_criteria
from storage.store import Store
from tests.support import ArxivStandIn
from tests.support.http import StandIn
from tests.support.rate_limits import RateLimitedDiscord, RateLimitedSlack
from tests.support.unreachable import closed_port

SAMPLE_FEED = Path(__file__).resolve().parents[1] / "bot" / "sample" / "2025-03-25.xml"
SAMPLE_DAY = "Tue, 25 Mar 2025"  # how the sample's pubDate and lastBuildDate write its day
POSTGRES = ("127.0.0.1", 5432)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "capacity-bench-signing-secret"
HEALTH_TOKEN = "capacity-bench-health"
FINAL = {"posted", "already", "empty"}  # a channel whose run line says this has its digest
MARKS = (10, 30)  # minutes at which the channels done so far are counted
TOPICS = ("graph neural networks", "protein structure", "reinforcement learning from human feedback",
          "time series forecasting", "federated learning", "speech recognition", "causal inference",
          "robot manipulation", "weather and climate models", "tabular data", "model compression",
          "medical imaging", "code generation", "recommender systems", "optimisation theory")
DISCORD_CHANNEL_BASE = 1_350_000_000_000_100_000


@dataclass(frozen=True)
class Options:
    channels: int
    platform: str
    database: str
    same_criteria: bool
    mode: str
    max_minutes: float
    llm_latency: float
    feed: Path
    slack_workspace_per_minute: float | None
    relevant: int | None = 8
    asyncio_debug: bool = False
    profile_loop: bool = False
    profile_out: Path | None = None
    workers: int = 0  # DIGEST_RUNS=queue: the bot process is the clock, these `arxiv-digest worker`s run the digests
    settings: tuple[tuple[str, str], ...] = ()  # more of the bot's settings (DIGEST_DB_POOL_SIZE=4 and the like)


# --- the stand-ins -----------------------------------------------------------------------------------------


def dated_feed(path: Path, day: dt.date) -> str:
    """The real feed with its day changed to ``day`` (the bot posts the announcement its calendar says is due)."""
    stamp = email.utils.format_datetime(dt.datetime.combine(day, dt.time(), dt.UTC))[:16]  # "Mon, 30 Nov 2026"
    return path.read_text(encoding="utf-8").replace(SAMPLE_DAY, stamp)


def feed_ids(xml: str, kept: tuple[str, ...] = ("new", "cross")) -> list[str]:
    """The arXiv IDs of the feed's papers of the kept announce types, in feed order."""
    items = re.findall(r"<item>.*?</item>", xml, re.DOTALL)
    return [m[1] for item in items
            if (m := re.search(r"oai:arXiv\.org:(\d{4}\.\d{4,5})v\d+", item))
            and re.search(rf"<arxiv:announce_type>({'|'.join(kept)})</arxiv:announce_type>", item)]


def forget_requests(*stand_ins: StandIn) -> None:
    """Drop the stand-ins' request logs (a thousand channels' requests would fill the bench's memory); what
    is counted lives elsewhere. A stand-in that crashed is an error of the bench, not a figure."""
    for stand_in in stand_ins:
        if stand_in.errors:
            raise SystemExit(f"{type(stand_in).__name__} crashed: {stand_in.errors[0]!r}")
        StandIn.clear(stand_in)  # the base's: keeps the messages, calls and caches the subclasses hold


# --- the database ----------------------------------------------------------------------------------------


def postgres_up() -> bool:
    try:
        with socket.create_connection(POSTGRES, timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A SQLite file in ``folder``, or a new PostgreSQL schema (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bot.db'}"
        return
    from sqlalchemy import create_engine

    schema = f"capacity_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


# --- the channels ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    platform: str
    workspace: str
    channel: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.channel}"


def make_channels(n: int, platform: str, slack_team: str) -> list[Channel]:
    """N channels: all on one platform, or Slack and Discord alternating (``both``)."""
    channels = []
    for i in range(n):
        on = platform if platform != "both" else ("slack" if i % 2 == 0 else "discord")
        if on == "slack":
            channels.append(Channel("slack", slack_team, f"C{i:07d}"))
        else:
            channels.append(Channel("discord", "0", str(DISCORD_CHANNEL_BASE + i)))
    return channels


def criteria_of(i: int, same: bool) -> str | None:
    """Channel ``i``'s own criteria (the default ones plus a wish of its own), or None: the default ones."""
    if same:
        return None
    return (f"{default_criteria()}\n\nThis channel's readers (group {i}) also want papers on "
            f"{TOPICS[i % len(TOPICS)]}.")


def subscribe(store: Store, settings: Settings, channels: list[Channel], *, same_criteria: bool) -> float:
    """Each channel subscribed with its criteria, as ``/arxiv subscribe`` and ``criteria edit`` leave them; the
    seconds it took."""
    started = time.monotonic()
    for i, channel in enumerate(channels):
        profile = store.ensure_profile(
            channel.key, categories=settings.categories, min_relevance=settings.min_relevance,
            min_novelty=settings.min_novelty, top_n=settings.top_n, default_criteria=default_criteria(),
        )
        criteria = criteria_of(i, same_criteria)
        if criteria is not None:
            store.set_criteria(profile.id, criteria, author="U0BENCH")
        store.subscribe(channel.platform, channel.workspace, channel.channel, "U0BENCH", profile.id)
    return time.monotonic() - started


def schedule(store: Store, channels: list[Channel], at: dt.time, inactive: Channel | None) -> None:
    """Every channel's daily time ``at`` UTC, as ``/arxiv schedule`` leaves it; ``inactive`` unsubscribed again
    (its ``/arxiv subscribe`` over HTTP then tells the scheduler to read them all)."""
    for channel in channels:
        store.update_subscription(channel.platform, channel.channel, schedule_time=at.strftime("%H:%M"),
                                  timezone="UTC", active=channel != inactive)


# --- one measurement ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one run of the benchmark measured; ``check`` lists what does not add up."""

    channels: int
    platform: str
    database: str
    mode: str
    criteria: str
    load_before: str
    workers: int = 0
    workers_rss_peak_mib: float = 0.0  # the largest worker's peak
    load_after: str = ""
    all_posted_s: float | None = None
    done_at_marks: dict[str, int] = field(default_factory=dict)
    done: int = 0
    cut_off_min: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    llm: dict[str, int] = field(default_factory=dict)
    llm_most_in_flight: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    refused_429: dict[str, int] = field(default_factory=dict)
    rss_idle_before_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_idle_after_mib: float = 0.0
    idle_after_s: float = 0.0  # from all posted until the bot's CPU went flat (its trainings done)
    children_peak_mib: float = 0.0  # the peak of a child process of the bot's (the prefilter's fitting)
    cpu_s: float = 0.0
    acks: dict[str, Any] | None = None
    run_acks: dict[str, Any] | None = None
    sigterm_s: float = 0.0
    sigterm_clean: bool = True
    slowest_ack_at_s: float | None = None  # when the slowest /arxiv help was sent, seconds after the start
    loop_held: list[tuple[str, int, float, float]] = field(default_factory=list)  # where, times, total s, most s
    loop_samples: tuple[int, int] | None = None  # py-spy: samples of the loop's thread, and of those held
    loop_places: list[tuple[str, str, float]] = field(default_factory=list)  # where, calling into, seconds
    log_lines: int = 0
    log_top: list[tuple[str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def next_minute(after: dt.datetime) -> dt.datetime:
    return (after + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def wait_until(when: dt.datetime) -> None:
    while (left := (when - dt.datetime.now(dt.UTC)).total_seconds()) > 0:
        time.sleep(min(left, 1.0))


def measure(options: Options) -> Figures:
    n, settings = options.channels, Settings(_env_file=None)
    figures = Figures(n, options.platform, options.database, options.mode,
                      "same" if options.same_criteria else "own", load(), options.workers)
    uses_slack, uses_discord = options.platform in ("slack", "both"), options.platform in ("discord", "both")
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="capacity-")))
        arxiv = stack.enter_context(ArxivStandIn())
        slack = stack.enter_context(RateLimitedSlack(per_workspace_minute=options.slack_workspace_per_minute))
        discord = stack.enter_context(RateLimitedDiscord())
        url = stack.enter_context(database(options.database, folder))
        # Channels are subscribed once the process runs, so its start-up catch-up has nothing to post: the
        # first digest is the measured one, due at one minute for all (or asked for at one moment).
        overrides: dict[str, tuple[int, int]] = {}
        if options.relevant is not None:  # the same papers pass every channel's thresholds
            ids = feed_ids(options.feed.read_text(encoding="utf-8"))
            overrides = {arxiv_id: (8, 7) if i < options.relevant else (2, 3) for i, arxiv_id in enumerate(ids)}
        llm = stack.enter_context(LLMProcess(closed_port(), options.llm_latency, overrides))
        port = closed_port()  # free now; the bot listens on it
        env = {
            "DATABASE_URL": url, "PORT": str(port), "DIGEST_HEALTH_TOKEN": HEALTH_TOKEN,
            "ARXIV_RSS_URL": arxiv.rss_url, "ARXIV_API_URL": arxiv.api_url,
            "OPENAI_API_KEY": "bench-key", "OPENAI_BASE_URL": llm.base_url,
        }
        if uses_slack:
            env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url}
        if options.workers:
            env["DIGEST_RUNS"] = "queue"
        if options.asyncio_debug:  # asyncio logs every step that holds the loop over 0.1 s
            env["PYTHONASYNCIODEBUG"] = "1"
        env |= dict(options.settings)
        if uses_discord:
            env |= {"DISCORD_TOKEN": "bench-token", "DISCORD_API_URL": discord.api_base,
                    "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{closed_port()}/"}  # no gateway stand-in: REST only

        bot = BotProcess(env, folder)
        stack.callback(bot.kill)
        health = f"http://127.0.0.1:{port}/healthz"
        bot.wait_healthy(health, timeout=180)
        time.sleep(3)
        figures.rss_idle_before_mib = bot.rss_mib()
        # The workers listen on no port: PORT is the bot's (each would serve /healthz on its own).
        workers = [BotProcess({k: v for k, v in env.items() if k != "PORT"}, folder, command="worker")
                   for _ in range(options.workers)]
        for worker in workers:
            stack.callback(worker.kill)
        wait_ready(workers, timeout=180)
        runners = workers or [bot]  # the processes whose run lines say which digests are posted

        channels = make_channels(n, options.platform, slack.team_id)
        trigger = next((c for c in reversed(channels) if c.platform == "slack"), None)
        store = Store.open(url)
        try:
            took = subscribe(store, settings, channels, same_criteria=options.same_criteria)
            # The time follows from how fast this database took the subscriptions (one update each remains);
            # without Slack the scheduler reads them at its next minutely sync.
            lead = 20 + took / 2 + (0 if trigger is not None else 65)
            fire = next_minute(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead))
            arxiv.set_raw_feed(dated_feed(options.feed, settings.calendar.latest_mailing(fire)))
            schedule(store, channels, fire.time() if options.mode == "schedule" else
                     (fire + dt.timedelta(hours=12)).time(), trigger)
        finally:
            store.close()
        commands = SlashCommands(f"http://127.0.0.1:{port}/slack/events", SECRET, slack.team_id, slack.response_url)
        if trigger is not None:  # a Slack channel subscribes over HTTP: the scheduler reads every subscription at once
            import httpx

            with httpx.Client() as client:
                commands.send(client, trigger.channel, "subscribe")
        wait_for_jobs(health, n, timeout=120 if uses_slack else 150)
        if options.mode == "schedule" and dt.datetime.now(dt.UTC) > fire - dt.timedelta(seconds=2):
            raise SystemExit(f"Setting up {n} channels took past their time ({fire:%H:%M} UTC); run again.")

        probe = AckProbe(commands) if uses_slack else None
        cpu_before = sum(p.cpu_seconds() for p in [bot, *workers])
        raw_profile = options.profile_out or folder / "loop.txt"
        profile = LoopProfile.start(bot.pid, raw_profile) if options.profile_loop else None
        if options.profile_loop and profile is None:
            print("py-spy is not installed (pip install py-spy): the event loop is not profiled.")
        if options.mode == "schedule":
            if probe is not None:
                probe.start()
            wait_until(fire)
            t0 = time.monotonic() - (dt.datetime.now(dt.UTC) - fire).total_seconds()
            run_acks: list[float] = []
            sender = None
        else:
            if not uses_slack:
                raise SystemExit("--mode run-command sends /arxiv run to Slack's HTTP endpoint: use --platform "
                                 "slack or both (Discord's commands come over its gateway, which has no stand-in).")
            assert probe is not None
            probe.start()
            t0 = time.monotonic()
            asking = [c.channel for c in channels if c.platform == "slack"]
            run_acks = []
            sender = threading.Thread(target=lambda: run_acks.extend(commands.send_all(asking, "run")),
                                      name="run-commands", daemon=True)
            sender.start()
        wait_for_digests(runners, channels, t0, options.max_minutes, figures, (arxiv, slack, discord))
        figures.cpu_s = sum(p.cpu_seconds() + p.children_cpu_seconds() for p in [bot, *workers]) - cpu_before
        figures.children_peak_mib = max(p.children_peak_mib() for p in [bot, *workers])
        if probe is not None:
            figures.acks = ack_dict(probe.stop())
            if probe.sent:
                figures.slowest_ack_at_s = round(max(probe.sent, key=lambda sent: sent[1])[0] - t0, 1)
        figures.loop_held = loop_held(bot, t0)
        if profile is not None:
            loop_samples, held, places = profile.stop()
            figures.loop_samples = (loop_samples, held)
            figures.loop_places = [(p.where, p.via, p.seconds) for p in places[:15]]
        if sender is not None:
            sender.join(65)
            figures.run_acks = ack_dict(run_acks)
        # What stays resident once the process is idle: its trainings done (CPU flat for 2 s), then the quiet the
        # bot waits before giving memory back, and a little more.
        settled = time.monotonic()
        while time.monotonic() - settled < 180:
            cpu = bot.cpu_seconds()
            time.sleep(2)
            if bot.cpu_seconds() - cpu < 0.1:
                break
        figures.idle_after_s = round(time.monotonic() - settled, 1)
        time.sleep(QUIET_SECONDS + 5)
        figures.rss_idle_after_mib = bot.rss_mib()
        figures.rss_peak_mib = bot.peak_rss_mib()
        figures.workers_rss_peak_mib = max((w.peak_rss_mib() for w in workers), default=0.0)
        for worker in workers:
            worker.stop(timeout=settings.shutdown_grace_seconds + 40)
        figures.sigterm_s, figures.sigterm_clean = bot.stop(timeout=settings.shutdown_grace_seconds + 40)
        figures.load_after = load()
        tally(figures, bot, runners, channels, llm, slack, discord)
    return figures


def wait_for_jobs(health: str, n: int, timeout: float) -> None:
    """Until the scheduler holds a job for every channel (/healthz with the token says how many)."""
    import httpx

    deadline = time.monotonic() + timeout
    jobs = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            jobs = httpx.get(health, params={"token": HEALTH_TOKEN}, timeout=10).json().get("channels")
            if jobs == n:
                return
        time.sleep(1)
    raise SystemExit(f"The scheduler holds {jobs} channel jobs after {timeout:.0f} s, not {n}.")


def wait_ready(workers: list[BotProcess], timeout: float) -> None:
    """Until every worker says it takes digests (its imports, the database and the tokens checked)."""
    deadline = time.monotonic() + timeout
    while not all(w.tally.by_logger["bot.entrypoints.worker"] for w in workers):
        exited = [w for w in workers if w.process.poll() is not None]
        if exited or time.monotonic() > deadline:
            what = "exited at start" if exited else f"was not ready within {timeout:.0f} s"
            raise SystemExit(f"A worker {what}:\n" + (exited or workers)[0].last_problems())
        time.sleep(0.2)


def wait_for_digests(runners: list[BotProcess], channels: list[Channel], t0: float, max_minutes: float,
                     figures: Figures, stand_ins: tuple[StandIn, ...]) -> None:
    """Until every channel's run line (from the bot, or from the workers) says its digest is posted, or
    ``max_minutes`` have passed."""
    wanted = {c.key for c in channels}
    marks = {str(m): None for m in MARKS if m <= max_minutes}
    done: dict[str, float] = {}
    while True:
        for line in run_lines(runners):
            if line.status in FINAL and f"{line.platform}:{line.channel}" in wanted:
                done.setdefault(f"{line.platform}:{line.channel}", line.at - t0)
        elapsed = time.monotonic() - t0
        exited = next((r for r in runners if r.process.poll() is not None), None)
        if len(done) == len(wanted) or elapsed > max_minutes * 60 or exited is not None:
            break
        forget_requests(*stand_ins)
        for runner in runners:
            runner.watch_children()
        time.sleep(1)
    figures.done = len(done)
    figures.done_at_marks = {m: sum(t <= int(m) * 60 for t in done.values()) for m in marks}
    if len(done) == len(wanted):
        figures.all_posted_s = round(max(done.values()), 1)
    else:
        figures.cut_off_min = max_minutes
        if exited is not None:
            figures.check.append(f"the {'bot' if exited is runners[0] and not figures.workers else 'worker'} exited "
                                 f"(code {exited.process.returncode}) with {len(done)} channels posted")


def run_lines(runners: list[BotProcess]) -> list[RunLine]:
    return sorted((line for runner in runners for line in runner.run_lines()), key=lambda line: line.at)


def loop_held(bot: BotProcess, t0: float) -> list[tuple[str, int, float, float]]:
    """asyncio's slow steps since ``t0``, by where the step ended: (where, times, total s, longest s), worst first."""
    by_place: dict[str, list[float]] = {}
    for arrived, where, seconds in bot.tally.slow_steps:
        if arrived >= t0:
            by_place.setdefault(where, []).append(seconds)
    rows = [(where, len(held), round(sum(held), 2), round(max(held), 2)) for where, held in by_place.items()]
    return sorted(rows, key=lambda row: row[2], reverse=True)[:12]


def ack_dict(times: list[float]) -> dict[str, Any] | None:
    found = AckFigures.of(times)
    return asdict(found) if found is not None else None


def tally(figures: Figures, bot: BotProcess, runners: list[BotProcess], channels: list[Channel], llm: LLMProcess,
          slack: RateLimitedSlack, discord: RateLimitedDiscord) -> None:
    """The counts, and whether they agree (see :func:`disagreements`)."""
    lines = run_lines(runners)
    figures.statuses = dict(Counter(line.status for line in lines))
    figures.llm = llm.tally()
    figures.llm_most_in_flight = figures.llm.pop("most_in_flight", 0)
    with slack._state:
        stored = list(slack.messages.items())
    parts: Counter[tuple[str, str]] = Counter()
    at_platform: Counter[str] = Counter()
    for (channel, _), message in stored:
        at_platform[f"slack:{channel}"] += 1
        part = ((message.get("metadata") or {}).get("event_payload") or {}).get("part", message["ts"])
        parts[(f"slack:{channel}", str(part))] += 1
    for c in channels:
        if c.platform == "discord":
            for message in discord.messages(c.channel):
                at_platform[c.key] += 1
                parts[(c.key, str(message.get("nonce") or message["id"]))] += 1  # a nonce per digest part
    figures.messages = {platform: sum(n for key, n in at_platform.items() if key.startswith(f"{platform}:"))
                        for platform in ("slack", "discord")}
    figures.refused_429 = {"slack": len(slack.refused), "discord": len(discord.refused)}
    figures.check += disagreements([c.key for c in channels], lines, at_platform, parts,
                                   every_channel=figures.cut_off_min is None)
    if not figures.sigterm_clean:
        figures.check.append(f"SIGTERM did not stop the bot within {figures.sigterm_s:.0f} s (killed)")
    processes = list(dict.fromkeys([bot, *runners]))
    figures.log_lines = sum(p.tally.lines for p in processes)
    figures.log_top = sum((p.tally.by_logger for p in processes), Counter()).most_common(4)
    figures.problems = [problem for p in processes for problem in list(p.tally.problems)[-5:]][-5:]


def disagreements(channels: list[str], lines: list[RunLine], at_platform: Mapping[str, int],
                  parts: Mapping[tuple[str, str], int], *, every_channel: bool) -> list[str]:
    """What does not add up: a channel without exactly one posted run (when all should be done), messages at
    the platform other than its run lines count, a digest part posted more than once. A run cut off by the
    benchmark's end (``every_channel`` false) may have posted part of its digest without a run line."""
    found = []
    posted: dict[str, list[RunLine]] = {}
    for line in lines:
        if line.status == "posted":
            posted.setdefault(f"{line.platform}:{line.channel}", []).append(line)
    for key in channels:
        runs = posted.get(key, [])
        if every_channel and len(runs) != 1:
            found.append(f"{key}: {len(runs)} posted runs, not 1")
        if not every_channel and not runs:
            continue
        said = sum(run.messages for run in runs)
        if at_platform.get(key, 0) != said:
            found.append(f"{key}: {at_platform.get(key, 0)} messages at the platform, its run lines say {said}")
    twice = sorted(key for key, count in parts.items() if count > 1)
    if twice:
        found.append(f"{len(twice)} digest parts posted more than once, e.g. {twice[0][0]} {twice[0][1]}")
    return found


# --- the report --------------------------------------------------------------------------------------------


def report(f: Figures) -> str:
    head = (f"{f.channels} channels · {f.platform} · {f.database} · {f.mode} · {f.criteria} criteria"
            + (f" · {f.workers} worker process(es)" if f.workers else "") + f" (load {f.load_before} → {f.load_after})")
    if f.all_posted_s is not None:
        posted = f"every digest posted after {f.all_posted_s:.1f} s ({f.all_posted_s / 60:.1f} min)"
    else:
        posted = f"cut off at {f.cut_off_min:g} min: {f.done} of {f.channels} posted"
    marks = ", ".join(f"{count} by {m} min" for m, count in f.done_at_marks.items())
    llm = f.llm
    tokens = llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0)
    lines = [
        head,
        f"  {posted}" + (f" ({marks})" if marks else ""),
        f"  run lines: {', '.join(f'{count} {status}' for status, count in sorted(f.statuses.items())) or 'none'}",
        f"  LLM: {llm.get('scoring_requests', 0)} scoring + {llm.get('tldr_requests', 0)} TL;DR requests, "
        f"{tokens:,} tokens ({llm.get('prompt_tokens', 0):,} prompt, {llm.get('cached_tokens', 0):,} cached, "
        f"{llm.get('completion_tokens', 0):,} completion), at most {f.llm_most_in_flight} in flight",
        f"  messages: {f.messages.get('slack', 0)} Slack, {f.messages.get('discord', 0)} Discord "
        f"({sum(f.messages.values()) / max(f.channels, 1):.1f} a channel); 429s answered: "
        f"{f.refused_429.get('slack', 0)} Slack, {f.refused_429.get('discord', 0)} Discord",
        f"  bot RSS: idle {f.rss_idle_before_mib:.0f} MiB before the run, peak {f.rss_peak_mib:.0f} MiB, idle "
        f"{f.rss_idle_after_mib:.0f} MiB after (idle {f.idle_after_s:.0f} s after the last post); "
        f"CPU {f.cpu_s:.0f} s during the run"
        + (f" (all processes; a worker's peak RSS {f.workers_rss_peak_mib:.0f} MiB)" if f.workers else "")
        + (f"; its training process peaked at {f.children_peak_mib:.0f} MiB" if f.children_peak_mib else ""),
    ]
    if f.acks is not None:
        when = f" (the slowest sent {f.slowest_ack_at_s:g} s in)" if f.slowest_ack_at_s is not None else ""
        lines.append(f"  /arxiv help acks: {AckFigures(**f.acks).text()}{when}")
    if f.run_acks is not None:
        lines.append(f"  /arxiv run acks: {AckFigures(**f.run_acks).text()}")
    lines.append(f"  SIGTERM: stopped in {f.sigterm_s:.1f} s" + ("" if f.sigterm_clean else " (did not stop; killed)"))
    lines.append(f"  log: {f.log_lines} lines, most from " + ", ".join(f"{name} {count}" for name, count in f.log_top))
    lines += [f"  logged: {problem}" for problem in f.problems]
    if f.loop_held:
        lines.append("  event loop held (asyncio debug: the step ended at):")
        lines += [f"    {times}× {total:.1f} s (longest {most:.2f} s) {where}"
                  for where, times, total, most in f.loop_held]
    if f.loop_samples is not None:
        total, held = f.loop_samples
        lines.append(f"  event loop held in {held} of {total} samples ({held / max(total, 1):.0%}; py-spy), by our "
                     "innermost frame → what it called:")
        lines += [f"    {seconds:6.1f} s  {where} → {via}" for where, via, seconds in f.loop_places]
    lines.append("  consistent: every channel posted once, every message counted" if not f.check
                 else "  NOT CONSISTENT:\n" + "\n".join(f"    {c}" for c in f.check[:20]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[10], help="channel counts to measure, in turn")
    parser.add_argument("--platform", choices=("slack", "discord", "both"), default="slack")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--same-criteria", action="store_true", help="every channel with the default criteria")
    parser.add_argument("--mode", choices=("schedule", "run-command"), default="schedule")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="stop waiting for digests after this")
    parser.add_argument("--llm-latency", type=float, default=1.0, help="seconds the OpenAI stand-in takes")
    parser.add_argument("--feed", type=Path, default=SAMPLE_FEED, help="a real arXiv RSS file, dated 25 Mar 2025")
    parser.add_argument("--slack-workspace-per-minute", type=float, default=None,
                        help="Slack's workspace-wide chat.postMessage limit (unpublished; off by default)")
    parser.add_argument("--relevant", type=int, default=8,
                        help="papers of the day the LLM stand-in rates relevant (R 8, N 7; the rest R 2, N 3), so a "
                        "digest is a summary plus this many; -1: the stand-in's own keyword judgement")
    parser.add_argument("--asyncio-debug", action="store_true",
                        help="run the bot with PYTHONASYNCIODEBUG=1 and list where the event loop was held (slower)")
    parser.add_argument("--profile-loop", action="store_true",
                        help="sample the bot with py-spy and list the lines of ours that held the event loop")
    parser.add_argument("--profile-out", type=Path, default=None,
                        help="with --profile-loop: keep py-spy's raw stacks in this file (for a flame graph)")
    parser.add_argument("--workers", type=int, default=0,
                        help="DIGEST_RUNS=queue: the bot process only enqueues, this many `arxiv-digest worker` "
                        "processes post (PostgreSQL; implies --database postgres)")
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                        help="one more setting for the bot's processes, e.g. --set DIGEST_DB_POOL_SIZE=4 (repeatable)")
    parser.add_argument("--json", action="store_true", help="also print each run's figures as one JSON line")
    args = parser.parse_args(argv)
    if args.workers < 0:
        parser.error("--workers takes 0 (no queue) or more")
    if args.workers:
        args.database = "postgres"
    if any("=" not in item or item.startswith("=") for item in args.set):
        parser.error("--set takes NAME=VALUE, e.g. --set DIGEST_DB_POOL_SIZE=4")
    settings = tuple((name, value) for name, _, value in (item.partition("=") for item in args.set))
    if any(n < 1 for n in args.channels):
        parser.error("--channels takes counts of 1 or more")
    if args.database == "postgres" and not postgres_up():
        print(f"PostgreSQL is not reachable at {POSTGRES[0]}:{POSTGRES[1]}: start it (database 'test', user "
              "'postgres' without a password) or use --database sqlite. Nothing measured.")
        return 0
    failed = False
    for n in args.channels:
        options = Options(n, args.platform, args.database, args.same_criteria, args.mode, args.max_minutes,
                          args.llm_latency, args.feed, args.slack_workspace_per_minute,
                          None if args.relevant < 0 else args.relevant, args.asyncio_debug, args.profile_loop,
                          args.profile_out, args.workers, settings)
        figures = measure(options)
        if settings:
            print("settings: " + " ".join(f"{name}={value}" for name, value in settings), flush=True)
        print(report(figures), flush=True)
        if args.json:
            print(json.dumps(asdict(figures)), flush=True)
        failed = failed or bool(figures.check)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
