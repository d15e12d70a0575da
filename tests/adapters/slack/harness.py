"""Driving the Slack app the way Slack does: signed slash commands, interactions and events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from adapters.slack.blocks import CRITERIA_INPUT_ACTION, text_message, with_actions
from adapters.slack.config import SlackSettings
from adapters.slack.runner import EVENTS_PATH, SlackRunner
from bot.bootstrap import build_service
from bot.chat.commands import CommandCore
from bot.domain.settings import Settings
from storage.store import Store
from tests.support.chat import Answered, RecordingCore
from tests.support.slack_api import SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
CHANNEL, ADMIN, MEMBER, CREATOR = "C0DIGEST", "UADMIN", "UMEMBER", "UCREATOR"


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for work bolt does after acknowledging (Slack sees the ack long before the result)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the Slack app")
        await asyncio.sleep(0.02)


def serve_http(
    settings: Settings, slack: SlackStandIn, test: Callable[[SlackHarness], Awaitable[None]],
    core_for: Callable[[Settings, Store], CommandCore] = lambda settings, store: RecordingCore(
        build_service(settings, store)
    ),
) -> None:
    """Run ``test(harness)`` against the Slack app started in HTTP mode on the stand-in, then stop it."""
    store = Store.open(settings.database_url)
    slack_settings = SlackSettings(_env_file=None, bot_token="xoxb-test", signing_secret=SECRET,
                                   api_url=slack.base_url, post_interval=0, port=0)

    async def main() -> None:
        runner = SlackRunner(core_for(settings, store), slack_settings, host="127.0.0.1")
        await runner.start()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                await test(SlackHarness(slack, runner, http))
        finally:
            await runner.stop()

    try:
        asyncio.run(main())
    finally:
        store.close()


class SlackHarness:
    """Sends what Slack sends to /slack/events: slash commands, interactions and events, signed."""

    def __init__(self, slack: SlackStandIn, runner: SlackRunner, http: httpx.AsyncClient) -> None:
        self.slack = slack
        self.runner = runner
        self.http = http
        self.core = runner.core
        self.verifier = SignatureVerifier(SECRET)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runner.port}{EVENTS_PATH}"

    async def post(
        self, body: str, content_type: str, *, secret: str = SECRET, timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        return await self.http.post(
            self.url, content=body.encode(),
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
                     **(headers or {})},
        )

    async def command(self, text: str, user: str = ADMIN, channel: str = CHANNEL, **kw: Any) -> httpx.Response:
        form = {
            "token": "legacy", "team_id": self.slack.team_id, "team_domain": "example", "channel_id": channel,
            "channel_name": "digest", "user_id": user, "user_name": user.lower(), "command": "/arxiv",
            "text": text, "api_app_id": self.slack.app_id, "response_url": self.slack.response_url(),
            "trigger_id": f"trigger.{time.monotonic_ns()}",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def click(self, action_id: str, value: str, user: str = MEMBER) -> httpx.Response:
        return await self.interact({
            "type": "block_actions", "user": {"id": user}, "team": {"id": self.slack.team_id},
            "api_app_id": self.slack.app_id, "channel": {"id": CHANNEL}, "trigger_id": "trigger.click",
            "response_url": self.slack.response_url(), "container": {"type": "message", "channel_id": CHANNEL},
            "actions": [{"action_id": action_id, "block_id": f"paper:{value}", "value": value, "type": "button"}],
        })

    async def submit(self, view: dict[str, Any], values: list[str], user: str = ADMIN) -> httpx.Response:
        state = {f"criteria_{i}": {CRITERIA_INPUT_ACTION: {"type": "plain_text_input", "value": v}}
                 for i, v in enumerate(values)}
        return await self.interact({
            "type": "view_submission", "user": {"id": user}, "team": {"id": self.slack.team_id},
            "api_app_id": self.slack.app_id, "trigger_id": "trigger.submit",
            "view": {**view, "id": "V1", "state": {"values": state}},
        })

    async def event(self, event: dict[str, Any], event_id: str, retry: int | None = None) -> httpx.Response:
        body = json.dumps({
            "token": "legacy", "team_id": self.slack.team_id, "api_app_id": self.slack.app_id, "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        })
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, "application/json", headers=headers)

    async def reaction(self, name: str, ts: str, user: str = MEMBER, *, added: bool = True,
                       event_id: str = "Ev1", retry: int | None = None) -> httpx.Response:
        event = {"type": "reaction_added" if added else "reaction_removed", "user": user, "reaction": name,
                 "item": {"type": "message", "channel": CHANNEL, "ts": ts}, "item_user": "UBOT",
                 "event_ts": f"{time.time():.6f}"}
        return await self.event(event, event_id, retry)

    async def mention(
        self, text: str, *, thread_ts: str | None = None, user: str = MEMBER, event_id: str = "EvMention1",
        retry: int | None = None, **fields: Any,
    ) -> tuple[str, httpx.Response]:
        """``text`` written by ``user`` (in ``thread_ts``'s thread) and the app_mention event Slack sends for it,
        in the shape of bolt-python's recorded sample (tests/fixtures/slack/app_mention.json); the message's ts
        and the answer to the event."""
        sample = json.loads((FIXTURES / "app_mention.json").read_text(encoding="utf-8"))["event"]
        ts = self.slack.add_message(CHANNEL, user, text, thread_ts=thread_ts)
        event = sample | {"text": text, "user": user, "ts": ts, "event_ts": ts, "team": self.slack.team_id,
                          "channel": CHANNEL}
        if thread_ts is not None:
            event |= {"thread_ts": thread_ts, "parent_user_id": self.slack.bot_user_id}
        return ts, await self.event(event | fields, event_id, retry)

    def summary_ts(self) -> str:
        """The ts of the day's summary: the first message the bot posted in the channel, the papers' thread."""
        return str(self.slack.posted(CHANNEL)[0].response["ts"])

    def answers(self, root: str) -> list[dict[str, Any]]:
        """What the bot posted in ``root``'s thread after the digest: its messages there that carry no paper."""
        return [m for m in self.slack.thread(CHANNEL, root)
                if m.get("user") == self.slack.bot_user_id and not m.get("metadata")]

    def replies(self) -> list[dict[str, Any]]:
        return list(self.slack.responses)

    async def say(self, text: str, user: str = ADMIN) -> dict[str, Any]:
        """A command and the reply it produced through its response_url."""
        before = len(self.slack.responses)
        response = await self.command(text, user)
        assert response.status_code == 200, response.text
        await until(lambda: len(self.slack.responses) > before)
        return self.slack.responses[before]

    @property
    def last(self) -> Answered:
        """The core's latest answer, as the Slack app asked for it."""
        assert isinstance(self.core, RecordingCore)
        return self.core.last

    def shows(self, message: dict[str, Any]) -> bool:
        """Whether ``message`` is the core's latest reply as Slack shows it: its text in sections, to the
        channel when it is public and to the caller alone otherwise."""
        reply = self.last.reply
        expected = with_actions(text_message(reply.text), reply.actions).payload()
        return message.get("response_type") == ("in_channel" if reply.public else "ephemeral") and (
            message.get("blocks") == expected["blocks"]
        )

    async def posted_digest(self, *, user: str = ADMIN, timeout: float = 10.0) -> None:
        """``/arxiv run`` in the channel, then wait until the run says it posted the digest."""
        await self.command("run", user)
        await until(lambda: any("Posted the digest" in text_of(r) for r in self.slack.responses), timeout)


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
    return "\n".join(parts)


