"""Fuzzing the Slack endpoint: garbled, hostile and odd requests against the running app (HTTP mode).

What it does. The Slack app is started in HTTP mode (``adapters.slack.runner.SlackRunner``, the same
code ``arxiv-digest run`` starts) against the local Slack, arXiv and OpenAI stand-ins. Then N requests
(default 500, fixed seed) go to ``/slack/events`` over HTTP: garbage and non-UTF-8 bodies, bad
signature and timestamp headers (``abc``, floats, Unicode digits, a stale time, another secret),
truncated JSON, ``payload=%7B`` and other broken form payloads, 900 KB and oversized bodies, and real
Slack payloads (bolt-python's test fixtures in ``tests/fixtures/slack/``) mutated: keys dropped,
strings where objects belong, unknown types, our own action and callback IDs. About half are
correctly signed, so they pass the signature check and reach the listeners. It prints the requests,
the count per status code, the 5xx count, the log bytes the run added (total and per request), the
tracebacks logged, responses that show internal error text, and requests per second.

Run from the repository root:

    .venv/bin/python -m bench.fuzz_slack
    .venv/bin/python -m bench.fuzz_slack --requests 2000 --seed 7

``tests/adapters/slack/test_fuzz.py`` runs the same generator and checks the same figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import hmac
import io
import json
import logging
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlencode

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL, USER = "C111", "W111"  # the channel and person of the real samples
HUGE = 900_000  # bytes: under the body limit, so it is read and checked
TOO_LARGE = 1_500_000  # over the body limit
OUR_ACTIONS = ["digest_abstract", "digest_vote_up", "digest_vote_down"]
OUR_CALLBACK = "criteria_edit"
# Text in a response that means internals leaked out: tracebacks, exception names, source paths.
INTERNAL = re.compile(r"Traceback|Exception|[A-Z][a-z]+Error\b|\.py\b|File \"|invalid literal|Sorry, that failed:")
WRONG_VALUES: list[Any] = [
    None, "", "x", 0, -1, 1.5, True, [], {}, ["a"], {"id": None}, {"id": 7}, "²", "\u0000", "x" * 5000,
    {"nested": {"deep": [1, {"x": "y"}]}}, [{"id": "C111"}], "2503.10001", "99999999999999999999",
]
TYPES = ["block_actions", "view_submission", "view_closed", "event_callback", "shortcut", "message_action",
         "block_suggestion", "interactive_message", "url_verification", "app_rate_limited", "no_such_type", ""]
COMMAND_TEXTS = ["help", "", "stats", "criteria", "threshold", "categories", "abstract 3",
                 "feedback", "help " + "x" * 3000, "\u202e\u0000", "schedule", "empty-days", "nonsense"]


@dataclass(frozen=True)
class FuzzRequest:
    kind: str
    body: bytes
    headers: dict[str, str | bytes]
    signed: bool


def load_samples() -> dict[str, Any]:
    """The real request bodies: JSON ones as dicts, form ones as lists of (name, value) pairs."""
    samples: dict[str, Any] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        samples[path.stem] = json.loads(path.read_text())
    for path in sorted(FIXTURES.glob("*.txt")):
        samples[path.stem] = parse_qsl(path.read_text().strip(), keep_blank_values=True)
    return samples


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature over the raw bytes (what Slack sends, also for bytes that are not UTF-8)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        root = root[step]
    return root


def mutate(payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One to three edits at random places: a key dropped, a value of the wrong type, an unknown type."""
    payload = copy.deepcopy(payload)
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(payload))
        if not paths:
            break
        path = rng.choice(paths)
        parent = _parent(payload, path)
        op = rng.random()
        if op < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        elif op < 0.4 and path[-1] == "type":
            parent[path[-1]] = rng.choice(TYPES)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(WRONG_VALUES))
    return payload


class Generator:
    """Deterministic (one seed) hostile requests built from the real samples."""

    def __init__(self, seed: int, *, secret: str, response_url: str, now: float | None = None) -> None:
        self.rng = random.Random(seed)
        self.secret = secret
        self.response_url = response_url
        self.now = now
        self.samples = load_samples()

    # payloads ------------------------------------------------------------------------------------

    def _interactive(self) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice(["block_actions", "view_submission"])
        payload = copy.deepcopy(self.samples[name])
        payload["response_url"] = self.response_url
        if name == "block_actions" and rng.random() < 0.8:  # aim at our buttons
            action = payload["actions"][0]
            action["action_id"] = rng.choice(OUR_ACTIONS)
            action["value"] = rng.choice(["2503.10001", "3", "²", "x" * 300, "", "2503.99999"])
        if name == "view_submission" and rng.random() < 0.8:  # aim at our criteria modal
            view = payload["view"]
            view["callback_id"] = OUR_CALLBACK
            view["private_metadata"] = rng.choice(
                [json.dumps({"team": "T111", "channel": CHANNEL}), "{", "[]", '{"team": 1, "channel": []}', "",
                 "This is for you!"])
            view["state"] = {"values": {"criteria_0": {"text": {"type": "plain_text_input",
                                                                "value": rng.choice(["Topic: MoE", "", None])}}}}
        return payload

    def _event(self) -> dict[str, Any]:
        name = self.rng.choice(["reaction_added", "reaction_added", "app_mention", "url_verification"])
        return copy.deepcopy(self.samples[name])

    def _command(self) -> list[tuple[str, str]]:
        rng = self.rng
        form = dict(self.samples["slash_command"])
        form.update(command="/arxiv", text=rng.choice(COMMAND_TEXTS), response_url=self.response_url)
        for key in rng.sample(sorted(form), rng.randint(0, 3)):
            if rng.random() < 0.5:
                del form[key]
            else:
                form[key] = rng.choice(["", "²", "x" * 2000, "%ZZ", "\u0000", "[]", "{"])
        return list(form.items())

    # bodies --------------------------------------------------------------------------------------

    def body(self) -> tuple[str, bytes, str | None]:
        """(kind, body, content type)."""
        rng = self.rng
        form, js = "application/x-www-form-urlencoded", "application/json"
        kind = rng.choices(
            ["real", "mutated_json", "mutated_payload", "broken_json", "broken_payload", "non_object_json",
             "command", "garbage", "non_utf8", "form_garbage", "empty", "huge", "too_large"],
            weights=[6, 14, 14, 8, 8, 4, 10, 8, 6, 5, 2, 2, 1],
        )[0]
        if kind == "real":
            choice = rng.choice(["block_actions", "view_submission", "reaction_added", "app_mention",
                                 "url_verification", "slash_command", "ssl_check"])
            sample = copy.deepcopy(self.samples[choice])
            if isinstance(sample, list):
                sample = [(k, self.response_url if k == "response_url" else v) for k, v in sample]
                return kind, urlencode(sample).encode(), form
            if "response_url" in sample:
                sample["response_url"] = self.response_url
            if choice in {"block_actions", "view_submission"}:
                return kind, urlencode({"payload": json.dumps(sample)}).encode(), form
            return kind, json.dumps(sample).encode(), js
        if kind == "mutated_json":
            return kind, json.dumps(mutate(self._event(), rng)).encode(), js
        if kind == "mutated_payload":
            return kind, urlencode({"payload": json.dumps(mutate(self._interactive(), rng))}).encode(), form
        if kind == "broken_json":
            text = json.dumps(self._event())
            return kind, text[: rng.randint(1, len(text) - 1)].encode(), rng.choice([js, None, form])
        if kind == "broken_payload":
            text = json.dumps(self._interactive())
            cut = "payload=" + quote(text[: rng.randint(1, len(text) - 1)])
            broken = [cut, "payload=%7B", "payload=", "payload", "payload=null&payload=["]
            return kind, rng.choice(broken).encode(), form
        if kind == "non_object_json":
            return kind, rng.choice(["[]", "[1,2]", '"s"', "null", "123", "true", "{}", '{"type": null}']).encode(), js
        if kind == "command":
            return kind, urlencode(self._command()).encode(), form
        if kind == "garbage":
            return kind, rng.randbytes(rng.randint(1, 3000)), rng.choice([js, form, None, "text/plain"])
        if kind == "non_utf8":
            raw = json.dumps(self._event()).encode()
            at = rng.randint(0, len(raw))
            return kind, raw[:at] + rng.choice([b"\xff\xfe", b"\x80", b"\xc3\x28", b"\xed\xa0\x80"]) + raw[at:], js
        if kind == "form_garbage":
            return kind, rng.choice([b"a=%ZZ&&&==&", b"payload=%FF%FE", b"=&=&=", b"payload=%7B%22type%22%3A",
                                     b"command=%2Farxiv&text=%FF", b"%%%%"]), form
        if kind == "empty":
            return kind, b"", rng.choice([js, form, None])
        if kind == "huge":
            filler = "A" * HUGE
            return kind, rng.choice([filler.encode(), json.dumps({"type": "event_callback", "event": {
                "type": "reaction_added", "reaction": filler}}).encode()]), js
        return kind, b"B" * TOO_LARGE, js

    def headers(self, body: bytes, content_type: str | None, signed: bool) -> tuple[str, dict[str, str | bytes]]:
        now = int(self.now if self.now is not None else time.time())
        headers: dict[str, str | bytes] = {}
        if content_type:
            headers["Content-Type"] = content_type
        if signed:
            ts = str(now)
            headers.update({"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(self.secret, ts, body)})
            return "signed", headers
        mode = self.rng.choice(["none", "ts_abc", "ts_empty", "ts_plus", "ts_underscores", "ts_float", "ts_huge",
                                "ts_unicode", "ts_negative", "sig_garbage", "sig_other_secret", "sig_stale",
                                "sig_missing", "sig_not_hex", "sig_v1"])
        ts = {"ts_abc": "abc", "ts_empty": "", "ts_plus": f"+{now}", "ts_underscores": f"{now:_}",
              "ts_float": f"{now}.5", "ts_huge": "9" * 40, "ts_negative": f"-{now}",
              "sig_stale": str(now - 3600)}.get(mode, str(now))
        good = signature(self.secret, ts, body)
        sig = {"sig_garbage": "v0=deadbeef", "sig_other_secret": signature("not-the-secret", ts, body),
               "sig_not_hex": "v0=" + "z" * 64, "sig_v1": "v1=" + good[3:]}.get(mode, good)
        if mode != "none":
            headers["X-Slack-Request-Timestamp"] = "١٧٠٠٠".encode() if mode == "ts_unicode" else ts
            if mode != "sig_missing":
                headers["X-Slack-Signature"] = sig
        return mode, headers

    def requests(self, n: int, *, signed_share: float = 0.5) -> list[FuzzRequest]:
        out = []
        for _ in range(n):
            kind, body, content_type = self.body()
            signed = self.rng.random() < signed_share
            mode, headers = self.headers(body, content_type, signed)
            out.append(FuzzRequest(f"{kind}/{mode}", body, headers, signed))
        return out


# measuring -----------------------------------------------------------------------------------------


class LogMeter(logging.Handler):
    """Counts what the logs would grow by: each record formatted as the bot's log lines are, with tracebacks.
    The fuzzing client's own records (httpx, in this process) are not the bot's and are left out."""

    CLIENT_LOGGERS = ("httpx", "httpcore")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.bytes = 0
        self.records = 0
        self.tracebacks = 0
        self.longest = ""
        self.traceback_samples: list[str] = []  # the first few records with a traceback

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.CLIENT_LOGGERS):
            return
        text = self.format(record) + "\n"
        self.bytes += len(text.encode("utf-8", "replace"))
        self.records += 1
        found = text.count("Traceback (most recent call last)")
        self.tracebacks += found
        if found and len(self.traceback_samples) < 5:
            self.traceback_samples.append(text)
        if len(text) > len(self.longest):
            self.longest = text


@contextlib.contextmanager
def metered_logs(level: int = logging.INFO) -> Iterator[LogMeter]:
    root = logging.getLogger()
    meter = LogMeter()
    meter.setLevel(level)
    old_level = root.level
    root.addHandler(meter)
    root.setLevel(min(old_level or level, level))
    try:
        yield meter
    finally:
        root.removeHandler(meter)
        root.setLevel(old_level)


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # 5xx and connection failures, with their kind
    leaks: list[str] = field(default_factory=list)  # responses that show internal error text
    unsigned_accepted: list[str] = field(default_factory=list)  # unsigned requests answered 2xx
    log_bytes: int = 0
    log_records: int = 0
    tracebacks: int = 0
    longest_log_line: str = ""
    traceback_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        per = self.log_bytes / self.requests if self.requests else 0.0
        return "\n".join([
            f"requests:            {self.requests}",
            f"status codes:        {codes}",
            f"5xx:                 {self.server_errors}",
            f"log growth:          {self.log_bytes} bytes in {self.log_records} records ({per:.0f} bytes/request)",
            f"longest log record:  {len(self.longest_log_line)} characters",
            f"tracebacks logged:   {self.tracebacks}",
            f"internal text shown: {len(self.leaks)} responses",
            f"unsigned accepted:   {len(self.unsigned_accepted)}",
            f"throughput:          {self.requests / self.seconds:.0f} requests/s ({self.seconds:.1f} s)",
        ])


async def send_all(url: str, requests: list[FuzzRequest], *, concurrency: int = 8,
                   settle: float = 1.0) -> FuzzReport:
    """Send every request (``concurrency`` at a time), then wait ``settle`` s for work done after the acks."""
    report = FuzzReport(requests=len(requests))
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient, request: FuzzRequest) -> None:
        async with gate:
            try:
                # bytes values (a non-ASCII timestamp) go out as they are: httpx takes them, its types do not say so
                headers = cast("dict[str, str]", request.headers)
                response = await http.post(url, content=request.body, headers=headers)
            except httpx.HTTPError as exc:  # the server dropped the connection: as bad as a 5xx
                report.statuses[599] += 1
                report.failures.append(f"{request.kind}: {type(exc).__name__}")
                return
        code = response.status_code
        report.statuses[code] += 1
        report.by_kind.setdefault(request.kind, Counter())[code] += 1
        if code >= 500:
            report.failures.append(f"{request.kind}: {code} {response.text[:200]!r}")
        if INTERNAL.search(response.text):
            report.leaks.append(f"{request.kind}: {code} {response.text[:200]!r}")
        if not request.signed and code < 300:
            report.unsigned_accepted.append(f"{request.kind}: {code}")

    with metered_logs() as meter:
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(one(http, r) for r in requests))
        report.seconds = time.perf_counter() - started
        await asyncio.sleep(settle)
    report.log_bytes, report.log_records = meter.bytes, meter.records
    report.tracebacks, report.longest_log_line = meter.tracebacks, meter.longest
    report.traceback_samples = meter.traceback_samples
    return report


# the app under test ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_app(tmp: Path) -> AsyncIterator[tuple[str, Any]]:
    """The Slack app in HTTP mode on a free port against the Slack/arXiv/OpenAI stand-ins: (events URL, Slack)."""
    from adapters.slack.config import SlackSettings
    from adapters.slack.runner import EVENTS_PATH, SlackRunner
    from bot.bootstrap import build_core
    from bot.domain.settings import Settings
    from storage.store import Store
    from tests.support import ArxivStandIn, OpenAIStandIn
    from tests.support.slack_api import SlackStandIn

    with SlackStandIn() as slack, ArxivStandIn() as arxiv, OpenAIStandIn() as llm:
        slack.add_user(USER, admin=True)
        slack.add_channel(CHANNEL, creator=USER)
        settings = Settings(_env_file=None, openai_api_key="bench-key", openai_base_url=llm.base_url,
                            database_url=f"sqlite:///{tmp / 'fuzz.db'}", arxiv_rss_url=arxiv.rss_url,
                            arxiv_api_url=arxiv.api_url, arxiv_api_delay=0.0, retry_base_delay=0.01,
                            fetch_retries=1, llm_timeout=5.0, llm_max_retries=1)
        store = Store.open(settings.database_url)
        slack_settings = SlackSettings(_env_file=None, bot_token="xoxb-test", signing_secret=SECRET,
                                       api_url=slack.base_url, post_interval=0, port=0)
        runner = SlackRunner(build_core(settings, store), slack_settings, host="127.0.0.1")
        await runner.start()
        try:
            yield f"http://127.0.0.1:{runner.port}{EVENTS_PATH}", slack
        finally:
            await runner.stop()
            store.close()


async def fuzz(n: int, seed: int, *, concurrency: int = 8, signed_share: float = 0.5) -> FuzzReport:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_app(Path(tmp)) as (url, slack):
            generator = Generator(seed, secret=SECRET, response_url=slack.response_url("fuzz"))
            requests = generator.requests(n, signed_share=signed_share)
            report = await send_all(url, requests, concurrency=concurrency)
            for response in slack.responses:  # what people would see through response_url
                text = json.dumps(response)
                if INTERNAL.search(text):
                    report.leaks.append(f"response_url: {text[:200]}")
            return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--signed-share", type=float, default=0.5, help="share of correctly signed requests")
    parser.add_argument("--show", type=int, default=5, help="examples of 5xx and leaks to print")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.StreamHandler(io.StringIO()))  # keep the app's logs off the terminal
    report = asyncio.run(fuzz(args.requests, args.seed, concurrency=args.concurrency,
                              signed_share=args.signed_share))
    print(report.summary())
    for title, items in (("5xx", report.failures), ("internal text", report.leaks)):
        for item in items[: args.show]:
            print(f"  {title}: {item}")
    for sample in report.traceback_samples[: args.show]:
        print(f"  traceback: {sample[-600:]!r}")
    if report.longest_log_line:
        print(f"  longest log record starts: {report.longest_log_line[:160]!r}")


if __name__ == "__main__":
    main()
