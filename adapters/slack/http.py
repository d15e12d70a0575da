"""Slack's HTTP mode at the edge: every POST to /slack/events is verified before anything parses it.

bolt parses a request's body before its middleware checks the signature, so unsigned garbage (broken
JSON, bytes that are not UTF-8, ``X-Slack-Request-Timestamp: abc``, ``payload=%7B``) used to end in a
500 and a traceback each. Here the raw bytes and headers are checked first (slack_sdk's
``SignatureVerifier``, five-minute window): 401 without a valid signature, 400 for a signed body that
is not a JSON object or a form, and only then does bolt see the request. Nothing read from a request
is logged beyond a short, bounded excerpt.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; aiohttp answers 413 above this
WINDOW_SECONDS = 300  # Slack's advice: refuse requests older (or newer) than five minutes
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "+1", "1_0", "١٢"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
LOG_EXCERPT = 80

# The fields bolt reads to route a request, with the types Slack sends; null is accepted (Slack sends it
# for some) except in _NOT_NULL. bolt indexes into these fields without checking, so a signed payload with
# a string where an object belongs would end in a 500; such payloads are acknowledged and ignored instead.
_ID = (str, {"id": str})  # an ID, or an object carrying it
_STR: Any = str
SHAPE: dict[str, Any] = {
    **dict.fromkeys(["type", "token", "team_id", "enterprise_id", "user_id", "channel_id", "api_app_id", "command",
                     "text", "callback_id", "trigger_id", "response_url", "event_id", "ssl_check"], _STR),
    "team": (str, {"id": str, "enterprise_id": str}),
    "enterprise": _ID,
    "user": (str, {"id": str, "team_id": str}),
    "channel": _ID,
    "container": {"channel_id": str, "message_ts": str, "type": str},
    "message": {"ts": str, "thread_ts": str, "user": str, "text": str},
    "view": {"id": str, "type": str, "callback_id": str, "team_id": str, "app_installed_team_id": str,
             "private_metadata": str, "state": {"values": dict}},
    "actions": [{"action_id": str, "block_id": str, "type": str, "value": str}],
    "authorizations": [{"team_id": str, "enterprise_id": str, "user_id": str}],
    "response_urls": [{"response_url": str, "channel_id": str}],
    "function_data": {"execution_id": str, "inputs": dict},
    "event": {
        "type": str, "subtype": str, "user": _ID, "channel": _ID, "team": str, "user_team": str, "bot_id": str,
        "ts": str, "thread_ts": str, "event_ts": str, "channel_type": str, "text": str, "reaction": str,
        "item": {"type": str, "channel": str, "ts": str}, "message": dict, "previous_message": dict,
        "assistant_thread": {"context": dict}, "function_execution_id": str, "inputs": dict,
        "bot_access_token": str, "callback_id": str, "tab": str, "workflow_step": dict,
    },
}
_REQUIRED = {"event": ["type"]}  # bolt reads these without .get()
_NOT_NULL = {"event", "view", "actions", "event.type"}


def shape_problem(value: object, spec: Any = SHAPE, path: str = "") -> str | None:
    """Where ``value`` departs from ``spec`` (a type, a tuple of alternatives, a dict of fields or a
    one-element list for "a list of these"), or None. Fields the spec does not name are not checked."""
    if value is None:
        return f"{path} is null" if path in _NOT_NULL else None
    if isinstance(spec, tuple):
        problems = [shape_problem(value, alternative, path) for alternative in spec]
        return None if None in problems else problems[-1]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{path or 'body'} is not an object"
        for key in _REQUIRED.get(path, []):
            if key not in value:
                return f"{path}.{key} is missing"
        for key, inner in spec.items():
            if key in value and (problem := shape_problem(value[key], inner, f"{path}.{key}" if path else key)):
                return problem
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{path} is not a list"
        return next((p for i, v in enumerate(value) if (p := shape_problem(v, spec[0], f"{path}[{i}]"))), None)
    if isinstance(value, spec):
        return None
    return f"{path} is not {'a string' if spec is str else 'an object'}"


def clip(value: object, limit: int = LOG_EXCERPT) -> str:
    """A log-safe excerpt of something a request carried: repr (no raw newlines), at most ``limit`` chars."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def signature_problem(
    verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str], now: float
) -> str | None:
    """Why the request is not verifiably from Slack, or None when its signature is good."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if timestamp is None or signature is None:
        return "no signature headers"
    if not (timestamp.isascii() and _TIMESTAMP.fullmatch(timestamp)):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return "stale timestamp"
    if not (signature.isascii() and _SIGNATURE.fullmatch(signature)):
        return "malformed signature"
    try:
        text = body.decode("utf-8")  # Slack signs UTF-8 text; the SDK's verifier needs it decoded
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
        return "signature mismatch"
    return None


class SlackEndpoint:
    """The handler of POST /slack/events in front of bolt: verify, then parse, then dispatch."""

    def __init__(self, app: AsyncApp, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.clock = clock

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # bounded by the application's client_max_size (413 above it)
        problem = signature_problem(self.verifier, body, request.headers, self.clock())
        if problem is not None:
            log.warning("Slack: refused a request without a valid signature (%s, %d bytes, from %s)",
                        problem, len(body), clip(request.remote, 48))
            return web.json_response({"error": "invalid signature"}, status=401)
        text = body.decode("utf-8")  # checked above
        try:
            payload = read_body(text, request.headers.get("Content-Type", "").split(";")[0] or None)
        except ValueError:  # json.JSONDecodeError: a body or form payload that is not JSON
            payload = None
        if not isinstance(payload, dict) or not payload:
            log.warning("Slack: refused a signed request whose body is not a JSON object or form (%d bytes: %s)",
                        len(body), clip(text[:LOG_EXCERPT]))
            return web.json_response({"error": "unreadable body"}, status=400)
        if (shape := shape_problem(payload)) is not None:
            log.warning("Slack: ignored a signed %s request of the wrong shape (%s)",
                        clip(request_kind(payload), 40), clip(shape, 60))
            return web.Response(status=200)
        try:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
            if bolt_request.body != payload:  # bolt took a form mentioning "payload" for an interaction
                bolt_request.body = payload
                bolt_request.context = build_async_context(AsyncBoltContext({}), payload)
        except Exception as exc:  # bolt could not read the fields it routes on (wrong types): nothing to do
            log.warning("Slack: ignored a signed %s request bolt cannot read (%s)", clip(request_kind(payload), 40),
                        type(exc).__name__)
            return web.Response(status=200)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))


def read_body(text: str, content_type: str | None) -> object:
    """The body as bolt reads it (JSON, a form, or a form's ``payload`` field as JSON), except that a form
    is an interaction only when it has a ``payload`` field: bolt looks for the word anywhere, so a slash
    command mentioning it (``/arxiv search payload``, a channel named #payload) lost all its fields."""
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    form = dict(parse_qsl(text, keep_blank_values=True))
    return json.loads(form["payload"]) if "payload" in form else form


def request_kind(payload: object) -> object:
    """What a request is, for log lines: its event type, payload type or command."""
    if not isinstance(payload, dict):
        return type(payload).__name__
    event = payload.get("event")
    return event.get("type") if isinstance(event, dict) else payload.get("type") or payload.get("command")


def slack_web_app(app: AsyncApp, signing_secret: str, *, path: str = EVENTS_PATH) -> web.Application:
    """The aiohttp application of HTTP mode: verified POSTs at ``path``, bolt's OAuth pages when configured."""
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(path, SlackEndpoint(app, signing_secret).handle)
    flow = app.oauth_flow
    if flow is not None:  # GET, unsigned by design: the install page and the redirect Slack sends people to
        async def oauth(request: web.Request) -> web.StreamResponse:
            bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
            handle = flow.handle_installation if request.path == flow.install_path else flow.handle_callback
            return await to_aiohttp_response(await handle(bolt_request))

        web_app.router.add_get(flow.install_path, oauth)
        web_app.router.add_get(flow.redirect_uri_path, oauth)
    return web_app
