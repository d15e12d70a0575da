"""The HTTP edge of Slack's HTTP mode with hostile and odd requests: nothing unsigned reaches a parser
(401), a signed body that is not JSON or a form is a 400, signed payloads of the wrong shape are
acknowledged with one log line, and nothing taken from a request makes a log line long."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from adapters.slack.blocks import ABSTRACT_ACTION, CRITERIA_CALLBACK, VOTE_UP_ACTION
from bench.fuzz_slack import LogMeter, load_samples, metered_logs, signature
from bot.domain.errors import FAILED
from tests.adapters.slack.harness import ADMIN, CHANNEL, MEMBER, SECRET, SlackHarness, serve_http, until

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
Test = Callable[[SlackHarness, LogMeter], Awaitable[None]]


@pytest.fixture
def endpoint(make_settings, slack) -> Callable[[Test], None]:
    """Run ``test(harness, log meter)`` against the app in HTTP mode; the meter sees every log record."""

    def run(test: Test) -> None:
        async def metered(harness: SlackHarness) -> None:
            with metered_logs() as meter:
                await test(harness, meter)

        serve_http(make_settings(), slack, metered)

    return run


async def post_bytes(h: SlackHarness, body: bytes, headers: dict[str, Any]) -> httpx.Response:
    return await h.http.post(h.url, content=body, headers=headers)


def signed(body: bytes, content_type: str | None = JSON, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(SECRET, ts, body)}
    return {**headers, "Content-Type": content_type} if content_type else headers


def payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


REAL_EVENT = (FIXTURES / "reaction_added.json").read_bytes()
UNSIGNED = [
    pytest.param(b"{", {"Content-Type": JSON}, id="broken-json-no-headers"),
    pytest.param(b"\xff\xfe\x00garbage", {"Content-Type": JSON}, id="not-utf8"),
    pytest.param(b"payload=%7B", {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc",
                                  "X-Slack-Signature": "v0=00"}, id="payload-%7B-timestamp-abc"),
    pytest.param(REAL_EVENT, {"Content-Type": JSON, "X-Slack-Request-Timestamp": "abc",
                              "X-Slack-Signature": signature(SECRET, "abc", REAL_EVENT)}, id="timestamp-abc"),
    pytest.param(REAL_EVENT, {"Content-Type": JSON, "X-Slack-Request-Timestamp": f"+{int(time.time())}",
                              "X-Slack-Signature": signature(SECRET, f"+{int(time.time())}", REAL_EVENT)},
                 id="timestamp-plus-sign"),
    pytest.param(REAL_EVENT, {"Content-Type": JSON, "X-Slack-Request-Timestamp": "9" * 40,
                              "X-Slack-Signature": "v0=" + "0" * 64}, id="timestamp-huge"),
    pytest.param(REAL_EVENT, signed(REAL_EVENT, timestamp=int(time.time()) - 600), id="stale"),
    pytest.param(b"[1, 2]", {"Content-Type": JSON, "X-Slack-Request-Timestamp": str(int(time.time())),
                             "X-Slack-Signature": "v1=" + "0" * 64}, id="signature-v1"),
]


@pytest.mark.parametrize(("body", "headers"), UNSIGNED)
def test_an_unsigned_request_is_refused_with_401_and_one_short_log_line(endpoint, body, headers):
    async def test(h: SlackHarness, logs: LogMeter) -> None:
        response = await post_bytes(h, body, headers)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid signature"}
        await asyncio.sleep(0.1)
        assert logs.records == 1 and logs.tracebacks == 0
        assert "refused a request without a valid signature" in logs.longest and len(logs.longest) < 300

    endpoint(test)


def test_two_900_kb_bodies_with_bad_signatures_add_two_short_lines_to_the_log(endpoint):
    async def test(h: SlackHarness, logs: LogMeter) -> None:
        body = json.dumps({"type": "event_callback", "event": {"type": "reaction_added", "x": "A" * 900_000}}).encode()
        for headers in (signed(body, timestamp=int(time.time()) - 3600),
                        {"Content-Type": JSON, "X-Slack-Request-Timestamp": str(int(time.time())),
                         "X-Slack-Signature": signature("not-the-secret", str(int(time.time())), body)}):
            assert (await post_bytes(h, body, headers)).status_code == 401
        assert logs.records == 2 and logs.bytes < 600, logs.longest[:300]
        assert "AAAA" not in logs.longest

    endpoint(test)


@pytest.mark.parametrize("body", [b"{", b"payload=%7B", b'payload={"type": "block_actions"', b"[1, 2]", b'"text"',
                                  b"", b"payload=null", b"A" * 900_000])
def test_a_signed_body_that_is_not_a_json_object_or_form_is_a_400(endpoint, body):
    async def test(h: SlackHarness, logs: LogMeter) -> None:
        response = await post_bytes(h, body, signed(body, FORM if body.startswith(b"payload") else JSON))
        assert response.status_code == 400 and response.json() == {"error": "unreadable body"}
        assert logs.records == 1 and logs.tracebacks == 0 and len(logs.longest) < 300

    endpoint(test)


def _without(payload: dict[str, Any], *path: str | int) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    node: Any = payload
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return payload


def _with(payload: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    node: Any = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


def malformed_requests(response_url: str) -> list[tuple[str, str, str]]:
    """(what, body, content type): real payloads from bolt's tests, aimed at our listeners and then broken."""
    samples = load_samples()
    click = copy.deepcopy(samples["block_actions"])
    click.update(response_url=response_url, channel={"id": CHANNEL}, user={"id": MEMBER})
    click["actions"][0].update(action_id=VOTE_UP_ACTION, value="2503.10001")
    abstract = _with(click, ABSTRACT_ACTION, "actions", 0, "action_id")
    view = copy.deepcopy(samples["view_submission"])
    metadata = json.dumps({"team": "T111", "channel": CHANNEL})
    view["view"].update(callback_id=CRITERIA_CALLBACK, private_metadata=metadata)
    view["user"]["id"] = ADMIN
    event = copy.deepcopy(samples["reaction_added"])
    command = dict(samples["slash_command"])
    command.update(command="/arxiv", text="help", response_url=response_url)
    cases: list[tuple[str, Any]] = [
        ("vote without channel", _without(_without(click, "channel"), "container")),
        ("vote with a string user", _with(click, "W111", "user")),
        ("vote with team as a list", _with(click, ["T111"], "team")),
        ("vote with actions as a string", _with(click, "digest_vote_up", "actions")),
        ("vote without response_url", _without(click, "response_url")),
        ("vote with a response_url that is no URL", _with(click, "%7B", "response_url")),
        ("abstract without value", _without(abstract, "actions", 0, "value")),
        ("criteria with broken metadata", _with(view, "{", "view", "private_metadata")),
        ("criteria without state", _without(view, "view", "state")),
        ("criteria with state values as a string", _with(view, "x", "view", "state", "values")),
        ("criteria without user", _without(view, "user")),
        ("reaction without item channel", _without(event, "event", "item", "channel")),
        ("reaction with a number as user", _with(event, 7, "event", "user")),
        ("reaction with event as a string", _with(event, "reaction_added", "event")),
        ("event without a type", _without(event, "event", "type")),
        ("unknown event type", _with(event, "member_joined_channel", "event", "type")),
        ("unknown payload type", _with(click, "no_such_type", "type")),
        ("button of another app", _with(click, "a", "actions", 0, "action_id")),
    ]
    out = [(what, json.dumps(p) if "event" in p else payload_form(p), JSON if "event" in p else FORM)
           for what, p in cases]
    out += [("command without channel_id", urlencode({k: v for k, v in command.items() if k != "channel_id"}), FORM),
            ("command without response_url",
             urlencode({k: v for k, v in command.items() if k != "response_url"}), FORM)]
    return out


def test_signed_payloads_of_the_wrong_shape_get_200_and_one_log_line_each(endpoint, slack):
    async def test(h: SlackHarness, logs: LogMeter) -> None:
        for what, body, content_type in malformed_requests(slack.response_url("malformed")):
            before = logs.records
            response = await h.post(body, content_type)
            assert response.status_code == 200, (what, response.status_code, response.text)
            await asyncio.sleep(0.05)
            assert logs.records - before == 1, (what, logs.records - before)
        assert logs.tracebacks == 0
        assert len(logs.longest) < 300, logs.longest
        assert slack.responses == [] and slack.posted() == []

    endpoint(test)


def test_url_verification_ssl_check_and_real_payloads_still_work(endpoint, slack):
    samples = load_samples()

    async def test(h: SlackHarness, logs: LogMeter) -> None:
        challenge = await h.post(json.dumps(samples["url_verification"]), JSON)
        assert challenge.status_code == 200
        assert challenge.json() == {"challenge": samples["url_verification"]["challenge"]}
        assert (await h.post(urlencode(samples["ssl_check"]), FORM)).status_code == 200
        unsigned = await h.http.post(h.url, json=samples["url_verification"])
        assert unsigned.status_code == 401 and "challenge" not in unsigned.text
        reply = await h.say("help", MEMBER)
        assert "/arxiv" in json.dumps(reply)
        assert logs.tracebacks == 0

    endpoint(test)


def test_a_failing_command_tells_the_user_without_internal_text_and_logs_the_traceback(endpoint, slack):
    async def test(h: SlackHarness, logs: LogMeter) -> None:
        async def broken(*_args: Any) -> None:
            raise RuntimeError("invalid literal at /srv/bot/chat/commands.py line 425")

        h.core.execute = broken  # type: ignore[method-assign]  # a bug in the command core
        reply = await h.say("stats", MEMBER)
        # The command core's wording, with the reference that finds the log entry; never the error's text.
        found = re.fullmatch(re.escape(FAILED).replace(re.escape("{reference}"), "([0-9a-f]{8})"), reply["text"])
        assert found, reply["text"]
        assert reply["response_type"] == "ephemeral"
        assert f"[ref {found[1]}]" in logs.longest  # the log entry the reference finds …
        assert "RuntimeError" in logs.longest and "in broken" in logs.longest  # … with the error and its frames


    endpoint(test)


def test_a_slash_command_mentioning_payload_keeps_its_fields(endpoint, slack):
    """bolt reads any form containing the word "payload" as an interaction and loses its fields."""

    async def test(h: SlackHarness, logs: LogMeter) -> None:
        form = dict(load_samples()["slash_command"])
        form.update(command="/arxiv", text="help payload", channel_id=CHANNEL, channel_name="payload-alerts",
                    user_id=MEMBER, response_url=slack.response_url())
        response = await h.post(urlencode(form), FORM)
        assert response.status_code == 200, response.text
        await until(lambda: slack.responses)
        assert "/arxiv" in json.dumps(slack.responses[0])

    endpoint(test)
