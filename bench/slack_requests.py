"""Slash commands as Slack sends them to HTTP mode, signed, and the time the bot takes to acknowledge them.

The body is bolt-python's recorded slash command (tests/fixtures/slack/slash_command.txt) with our team,
channel, user, text and response_url put in; the signature is slack_sdk's. Slack gives an app 3 s to answer
before it shows the person an error, so the HTTP answer's delay is what a person waits for.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from slack_sdk.signature import SignatureVerifier

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "slack" / "slash_command.txt"
SLACK_ACK_LIMIT = 3.0  # seconds Slack waits for the HTTP answer
ACK_TIMEOUT = 60.0  # a probe still unanswered after this counts as this long


@dataclass(frozen=True)
class SlashCommands:
    """Signed ``/arxiv …`` requests for one bot's /slack/events endpoint."""

    url: str
    secret: str
    team: str
    response_url: Callable[[], str]  # a fresh response_url on the Slack stand-in per request

    def request(self, channel: str, text: str, user: str = "U0BENCH") -> tuple[bytes, dict[str, str]]:
        form = dict(parse_qsl(SAMPLE.read_text().strip(), keep_blank_values=True))
        form.update(team_id=self.team, channel_id=channel, channel_name=channel.lower(), user_id=user,
                    command="/arxiv", text=text, response_url=self.response_url(),
                    trigger_id=f"{time.monotonic_ns()}.1.bench")
        form.pop("enterprise_id", None)  # one workspace, not an Enterprise Grid org
        form.pop("enterprise_name", None)
        body = urlencode(form)
        ts = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body) or ""
        return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                               "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def send(self, client: httpx.Client, channel: str, text: str) -> float:
        """Send one command; seconds until the bot answered (ACK_TIMEOUT when it did not, or not with 200)."""
        body, headers = self.request(channel, text)
        started = time.monotonic()
        try:
            answer = client.post(self.url, content=body, headers=headers, timeout=ACK_TIMEOUT)
        except httpx.HTTPError:
            return ACK_TIMEOUT
        took = time.monotonic() - started
        return took if answer.status_code == 200 else ACK_TIMEOUT

    def send_all(self, channels: list[str], text: str) -> list[float]:
        """The same command in every channel at once; each one's ack time. The requests are signed first and
        sent from a process of their own over plain sockets: sent from this process (which serves the Slack
        stand-in) through httpx, the client's own work had been most of the figure."""
        url = urlsplit(self.url)
        requests = []
        for channel in channels:
            body, headers = self.request(channel, text)
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            requests.append((f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n{head}Content-Length: {len(body)}\r\n"
                             "Connection: close\r\n\r\n").encode() + body)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as sender:
            return sender.submit(_burst, url.hostname or "127.0.0.1", url.port or 80, requests).result()


def _burst(host: str, port: int, requests: list[bytes]) -> list[float]:
    """Send every request at once, each on its own connection; seconds from connecting to the answer's
    status line (ACK_TIMEOUT for no answer or not 200)."""

    async def one(request: bytes) -> float:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), ACK_TIMEOUT)
            try:
                writer.write(request)
                status = await asyncio.wait_for(reader.readline(), ACK_TIMEOUT)
                took = time.monotonic() - started
                await reader.read()
            finally:
                writer.close()
        except (OSError, TimeoutError):
            return ACK_TIMEOUT
        return took if status.split(b" ")[1:2] == [b"200"] else ACK_TIMEOUT

    async def every() -> list[float]:
        return list(await asyncio.gather(*(one(request) for request in requests)))

    return asyncio.run(every())


@dataclass
class AckProbe:
    """``/arxiv help`` every ``interval`` s from its own thread each (as Slack sends them: a slow answer does not
    hold the next request back), recording how long each answer took."""

    commands: SlashCommands
    channel: str = "CPROBE"
    interval: float = 1.0
    times: list[float] = field(default_factory=list)
    sent: list[tuple[float, float]] = field(default_factory=list)  # (time.monotonic() at sending, seconds taken)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._client = httpx.Client(limits=httpx.Limits(max_connections=None, max_keepalive_connections=10))
        ticker = threading.Thread(target=self._tick, name="ack-probe", daemon=True)
        ticker.start()
        self._threads.append(ticker)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            probe = threading.Thread(target=self._probe, daemon=True)
            probe.start()
            self._threads.append(probe)

    def _probe(self) -> None:
        started = time.monotonic()
        took = self.commands.send(self._client, self.channel, "help")
        self.times.append(took)  # list.append is atomic under the GIL
        self.sent.append((started, took))

    def stop(self) -> list[float]:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(ACK_TIMEOUT + 5)
        self._client.close()
        return sorted(self.times)


@dataclass(frozen=True)
class AckFigures:
    count: int
    slowest: float
    p95: float
    median: float
    over_1s: int
    over_3s: int

    @classmethod
    def of(cls, times: list[float]) -> AckFigures | None:
        if not times:
            return None
        ordered = sorted(times)
        return cls(len(ordered), ordered[-1], percentile(ordered, 95), percentile(ordered, 50),
                   sum(t > 1.0 for t in ordered), sum(t > SLACK_ACK_LIMIT for t in ordered))

    def text(self) -> str:
        return (f"slowest {self.slowest:.2f} s, p95 {self.p95:.2f} s, median {self.median:.3f} s over {self.count}; "
                f"{self.over_1s} over 1 s, {self.over_3s} over Slack's 3 s")


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
