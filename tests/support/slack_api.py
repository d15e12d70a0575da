"""A stand-in for the Slack Web API, response_url endpoints and the Socket Mode websocket, for tests.

It speaks Slack's wire protocol, so the real `slack_sdk` clients and bolt talk to it unchanged:
`AsyncWebClient(token="xoxb-test", base_url=slack.base_url)`. Like Slack it answers HTTP 200 with
`{"ok": false, "error": ...}` for API errors, HTTP 429 + Retry-After when rate limited, and it rejects
Block Kit payloads that break Slack's documented limits (see `block_errors` / `view_errors`), so tests
catch digests that would be refused in production.

`SocketModeStandIn` is the websocket side of Socket Mode: point `SlackStandIn.socket_url` at its `url`
and slack_sdk's Socket Mode client (or bolt's handler) connects to it through `apps.connections.open`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from .http import Fault, Malformed, Recorded, Response, Route, Served, StandIn, Status

__all__ = [
    "MESSAGE_MAX_BLOCKS",
    "VIEW_MAX_BLOCKS",
    "SlackCall",
    "SlackStandIn",
    "SocketModeStandIn",
    "block_errors",
    "view_errors",
]

# --- Block Kit limits -----------------------------------------------------------------------------------
# https://docs.slack.dev/reference/block-kit/blocks and .../block-elements; Slack reports violations as
# "<reason> [json-pointer:/path]" strings, which is what the validators below produce.

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_MAX_TEXT = 40_000
_BLOCK_TYPES = frozenset(
    {"actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text", "section"}
    | {"table", "video", "call"}
)
_CONTEXT_ELEMENT_TYPES = frozenset({"image", "plain_text", "mrkdwn"})
_SELECT_TYPES = frozenset({"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"})


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _too_many(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, list) and len(value) > limit:
        return [f"must be less than {limit + 1} items [json-pointer:{pointer}]"]
    return []


def _text_errors(obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> list[str]:
    """A composition text object ({"type": "plain_text"|"mrkdwn", "text": ...}) within `limit` characters."""
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed or not isinstance(obj.get("text"), str):
        return [f"must be a {' or '.join(allowed)} text object [json-pointer:{pointer}]"]
    if not obj["text"]:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    return _too_long(obj["text"], limit, f"{pointer}/text")


def _element_errors(el: Any, pointer: str) -> list[str]:
    """Interactive elements (buttons, selects, inputs) wherever they appear."""
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    errors = _too_long(el.get("action_id"), 255, f"{pointer}/action_id")
    kind = el["type"]
    if kind == "button":
        errors += _text_errors(el.get("text"), 75, f"{pointer}/text", plain_only=True)
        errors += _too_long(el.get("value"), 2000, f"{pointer}/value")
        errors += _too_long(el.get("url"), 3000, f"{pointer}/url")
    elif kind == "plain_text_input":
        max_length = el.get("max_length")
        if isinstance(max_length, int) and max_length > 3000:
            errors.append(f"must be less than 3001 [json-pointer:{pointer}/max_length]")
        limit = max_length if isinstance(max_length, int) and 0 < max_length <= 3000 else 3000
        errors += _too_long(el.get("initial_value"), limit, f"{pointer}/initial_value")
    elif kind in _SELECT_TYPES:
        options = el.get("options")
        errors += _too_many(options, 5 if kind == "overflow" else 100, f"{pointer}/options")
        for i, opt in enumerate(options if isinstance(options, list) else []):
            opt_ptr = f"{pointer}/options/{i}"
            text = opt.get("text") if isinstance(opt, dict) else None
            errors += _text_errors(text, 75, f"{opt_ptr}/text")
            errors += _too_long(opt.get("value") if isinstance(opt, dict) else None, 150, f"{opt_ptr}/value")
    if "placeholder" in el:
        errors += _text_errors(el["placeholder"], 150, f"{pointer}/placeholder", plain_only=True)
    return errors


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    kind = block["type"]
    if kind not in _BLOCK_TYPES:
        return [f"unsupported type: {kind} [json-pointer:{pointer}/type]"]
    errors = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
        if "text" in block:
            errors += _text_errors(block["text"], 3000, f"{pointer}/text")
        fields = block.get("fields")
        if fields is not None:
            errors += _too_many(fields, 10, f"{pointer}/fields")
            for i, f in enumerate(fields if isinstance(fields, list) else []):
                errors += _text_errors(f, 2000, f"{pointer}/fields/{i}")
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        errors += _text_errors(block.get("text"), 150, f"{pointer}/text", plain_only=True)
    elif kind == "markdown":
        errors += _too_long(block.get("text"), 12_000, f"{pointer}/text")
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return [*errors, f"must provide at least one element [json-pointer:{pointer}/elements]"]
        errors += _too_many(elements, 10 if kind == "context" else 25, f"{pointer}/elements")
        for i, el in enumerate(elements):
            el_ptr = f"{pointer}/elements/{i}"
            if kind == "actions":
                errors += _element_errors(el, el_ptr)
            elif not isinstance(el, dict) or el.get("type") not in _CONTEXT_ELEMENT_TYPES:
                errors.append(f"must be an image or text object [json-pointer:{el_ptr}]")
            elif el["type"] != "image":
                errors += _text_errors(el, 3000, el_ptr)
    elif kind == "input":
        errors += _text_errors(block.get("label"), 2000, f"{pointer}/label", plain_only=True)
        if "hint" in block:
            errors += _text_errors(block["hint"], 2000, f"{pointer}/hint", plain_only=True)
        if "element" not in block:
            errors.append(f"missing required field: element [json-pointer:{pointer}]")
        else:
            errors += _element_errors(block["element"], f"{pointer}/element")
    elif kind == "image":
        errors += _too_long(block.get("image_url"), 3000, f"{pointer}/image_url")
        errors += _too_long(block.get("alt_text"), 2000, f"{pointer}/alt_text")
    return errors


def block_errors(blocks: Any, *, max_blocks: int = MESSAGE_MAX_BLOCKS, pointer: str = "/blocks") -> list[str]:
    """Why Slack would refuse this `blocks` array (empty list: it is fine), in Slack's own wording."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors = _too_many(blocks, max_blocks, pointer)
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"{pointer}/{i}")
    return errors


def view_errors(view: Any) -> list[str]:
    """Why views.open/update/push would refuse this modal (empty list: it is fine)."""
    if not isinstance(view, dict):
        return ["failed to match all allowed schemas [json-pointer:/view]"]
    errors = [
        f"missing required field: {name} [json-pointer:/view]"
        for name in ("type", "title", "blocks")
        if name not in view
    ]
    if view.get("type", "modal") != "modal":
        errors.append(f"unsupported view type: {view['type']} [json-pointer:/view/type]")
    for name in ("title", "submit", "close"):
        if name in view and view[name] is not None:
            errors += _text_errors(view[name], 24, f"/view/{name}", plain_only=True)
    errors += _too_long(view.get("private_metadata"), 3000, "/view/private_metadata")
    errors += _too_long(view.get("callback_id"), 255, "/view/callback_id")
    errors += _too_long(view.get("external_id"), 255, "/view/external_id")
    if "blocks" in view:
        errors += block_errors(view["blocks"], max_blocks=VIEW_MAX_BLOCKS, pointer="/view/blocks")
    return errors


# --- the Web API ----------------------------------------------------------------------------------------


@dataclass
class SlackCall:
    """One Web API call the stand-in answered itself (not rate limited away), with its answer."""

    method: str
    args: dict[str, Any]
    token: str | None
    time: float
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


# Fields slack_sdk (or a hand-made form post) may send as JSON strings; Slack decodes them server-side.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "user_auth_blocks", "files")
_FIRST_TS = 1_700_000_000 * 1_000_000  # microseconds; ts values count up from "1700000000.000100"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")  # what Slack's user IDs look like

_Result = dict[str, Any]
_Method = Callable[[dict[str, Any], str | None, Recorded], _Result]


def _fail(error: str, **extra: Any) -> _Result:
    return {"ok": False, "error": error, **extra}


def _invalid_arguments(messages: list[str]) -> _Result:
    """Slack's answer to schema errors in views.* (and missing required fields): details only in metadata."""
    return _fail("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def _json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload), "application/json; charset=utf-8", dict(headers or {}))


class SlackStandIn(StandIn):
    """Slack's Web API at `/api/<method>` plus response_url endpoints at `/response/<id>`.

    Configure it through the plain attributes (`tokens`, `users`, `channels`, `oauth_codes`, `socket_url`,
    ...) or the `add_*` helpers, break it with `fail_channel` / `fail_method` / `ratelimit_next`; inspect
    `calls`, `messages`, `direct_messages(user)`, `views`, `responses`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._state = threading.RLock()  # one API call at a time: ts values follow arrival order
        self.team_id: str = "T0TEST"
        self.team_name: str = "Test Workspace"
        self.domain: str = "example"  # https://<domain>.slack.com
        self.app_id: str = "A0TEST"
        self.bot_user_id: str = "UBOT"
        self.bot_id: str = "BBOT"
        self.tokens: set[str] = {"xoxb-test"}  # bot tokens the Web API accepts
        self.token_teams: dict[str, str] = {}  # token -> team it belongs to (default: self.team_id)
        self.app_tokens: set[str] = {"xapp-test"}  # app-level tokens, only for apps.connections.open
        self.socket_url: str = "ws://127.0.0.1:9/link/?ticket=no-socket-mode-stand-in"  # refused until set
        self.client_id: str = "1111111111.2222222222"
        self.client_secret: str = "standin-client-secret"
        self.oauth_codes: dict[str, str] = {}  # OAuth code -> team id it installs into (single use)
        self.installer_id: str = "UINSTALLER"  # authed_user of every installation
        # The bot scopes of an install from our manifest.yml (set fewer to play an older install).
        self.bot_scopes: str = ("commands,chat:write,chat:write.public,reactions:read,channels:read,groups:read,"
                                "users:read,channels:history,groups:history,im:write,files:write,app_mentions:read")
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.channel_errors: dict[str, str] = {}  # channel -> error chat.* answers for it (see fail_channel)
        self.method_errors: dict[str, dict[str, Any]] = {}  # Web API method -> its error answer (see fail_method)
        self.ims: dict[str, str] = {}  # user -> ID of the bot's direct-message channel with them (conversations.open)
        self.calls: list[SlackCall] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view as last opened / updated
        self.responses: list[dict[str, Any]] = []  # accepted response_url posts, each with its "id"
        # chat.postEphemeral: channel, user, text, blocks, thread_ts, and whether Slack shows it ("shown")
        self.ephemerals: list[dict[str, Any]] = []
        self._used_codes: set[str] = set()
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._im_ids = itertools.count(1)
        self._response_ids = itertools.count(1)
        self._methods: dict[str, tuple[str, _Method]] = {
            "auth.test": ("bot", self._auth_test),
            "chat.postMessage": ("bot", self._post_message),
            "chat.postEphemeral": ("bot", self._post_ephemeral),
            "chat.update": ("bot", self._update),
            "chat.getPermalink": ("bot", self._permalink),
            "views.open": ("bot", self._views_open),
            "views.push": ("bot", self._views_push),
            "views.update": ("bot", self._views_update),
            "users.info": ("bot", self._users_info),
            "conversations.info": ("bot", self._conversations_info),
            "conversations.history": ("bot", self._conversations_history),
            "conversations.replies": ("bot", self._conversations_replies),
            "conversations.open": ("bot", self._conversations_open),
            "oauth.v2.access": ("client", self._oauth_v2_access),
            "apps.connections.open": ("app", self._connections_open),
            "files.getUploadURLExternal": ("bot", self._get_upload_url),
            "files.completeUploadExternal": ("bot", self._complete_upload),
        }
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> {"filename", "length", "content" once posted}
        self.files: list[dict[str, Any]] = []  # files shared by files.completeUploadExternal, with their content
        self._file_ids = itertools.count(1)
        self.add_user(self.bot_user_id, name="arxiv-digest", bot=True)

    # test-facing setup

    @property
    def base_url(self) -> str:
        """What to pass as `base_url=` to slack_sdk clients (the trailing slash matters to them)."""
        return f"{self.url}/api/"

    def response_url(self, id: str | None = None) -> str:
        """A response_url on this server, as Slack would put in a slash command or interaction payload.

        Without an id each call makes a fresh one ("R0001", "R0002", ...).
        """
        if id is None:
            id = f"R{next(self._response_ids):04d}"
        return f"{self.url}/response/{id}"

    def add_user(
        self,
        user_id: str,
        *,
        admin: bool = False,
        owner: bool = False,
        primary_owner: bool = False,
        bot: bool = False,
        name: str | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """Make users.info know this user. Like Slack, owners are admins and the primary owner is an owner."""
        name = name or f"user-{user_id.lower()}"
        owner = owner or primary_owner
        user = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name,
            "deleted": False,
            "real_name": name,
            "tz": "Europe/Berlin",
            "is_admin": admin or owner,
            "is_owner": owner,
            "is_primary_owner": primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": bot,
            "is_app_user": False,
            "profile": {"real_name": name, "display_name": name},
        }
        with self._state:
            self.users[user_id] = user
        return user

    def add_channel(
        self, channel_id: str, *, creator: str, name: str | None = None, private: bool = False
    ) -> dict[str, Any]:
        """Make conversations.info know this channel."""
        name = name or f"channel-{channel_id.lower()}"
        channel = {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": True,
            "created": 1_690_000_000,
            "creator": creator,
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        with self._state:
            self.channels[channel_id] = channel
        return channel

    def fail_channel(self, channel: str, error: str = "not_in_channel") -> None:
        """Make chat.* calls for this channel fail like Slack does (not_in_channel, is_archived, ...)."""
        with self._state:
            self.channel_errors[channel] = error

    def fail_method(self, method: str, error: str = "missing_scope", **extra: Any) -> None:
        """Make every call to a Web API method fail like Slack does, until ``method_errors`` is cleared.

        ``fail_method("conversations.open", needed="im:write")`` is an install from before the app asked for
        im:write; for missing_scope Slack also lists the token's scopes in ``provided``.
        """
        if error == "missing_scope":
            extra.setdefault("provided", self.bot_scopes)
        with self._state:
            self.method_errors[method] = _fail(error, **extra)

    def ratelimit_next(self, n: int = 1, retry_after: int = 1) -> None:
        """Answer the next n requests with HTTP 429, like Slack's rate limiter."""
        self.add_fault(*[Status(429, {"Retry-After": str(retry_after)})] * n)

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._state:
            return [c for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None) -> list[SlackCall]:
        """Successful chat.postMessage calls (optionally to one channel), in order."""
        return [c for c in self.calls_to("chat.postMessage") if c.ok and channel in (None, c.args.get("channel"))]

    def direct_messages(self, user: str) -> list[dict[str, Any]]:
        """Messages the bot posted in its direct-message channel with ``user``, oldest first."""
        with self._state:
            im = self.ims.get(user)
            found = [dict(m) for (c, _), m in self.messages.items() if c == im]
        return sorted(found, key=lambda m: float(m["ts"]))

    def add_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A message someone wrote (in ``thread_ts``'s thread when given), as Slack stores it; its ts. The events
        a test sends about it (an app_mention) then name a message conversations.replies can find."""
        with self._state:
            ts = self._next_ts()
            message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts,
                                       "team": self.team_id}
            if thread_ts is not None:
                root = self.messages.get((channel, thread_ts), {})
                message.update(thread_ts=thread_ts, parent_user_id=root.get("user", ""))
            self.messages[(channel, ts)] = message
        return ts

    def thread(self, channel: str, root: str) -> list[dict[str, Any]]:
        """The replies in ``root``'s thread (the root itself left out), oldest first."""
        with self._state:
            found = [dict(m) for (c, ts), m in self.messages.items()
                     if c == channel and m.get("thread_ts") == root and ts != root]
        return sorted(found, key=lambda m: float(m["ts"]))

    def clear(self) -> None:
        """Forget requests, faults, errors, API calls and responses; configuration and messages stay."""
        super().clear()
        with self._state:
            self.calls.clear()
            self.responses.clear()
            self.ephemerals.clear()

    # routing

    def route(self, rec: Recorded) -> Route | None:
        if rec.method in ("GET", "POST") and rec.path.startswith("/api/") and len(rec.path) > len("/api/"):
            return self._api
        if rec.method == "POST" and rec.path.startswith("/response/") and len(rec.path) > len("/response/"):
            return self._response
        if rec.method == "POST" and rec.path.startswith("/upload/v1/"):
            return self._upload
        return None

    def error_response(self, rec: Recorded, fault: Status) -> Response:
        headers = dict(fault.headers or {})
        if fault.code == 429:
            headers.setdefault("Retry-After", "1")
        if rec.path.startswith("/response/"):
            body = fault.body if fault.body is not None else ("rate_limited" if fault.code == 429 else "internal_error")
            return Response(fault.code, body, "text/plain; charset=utf-8", headers)
        if fault.body is not None:
            return Response(fault.code, fault.body, "application/json; charset=utf-8", headers)
        error = "ratelimited" if fault.code == 429 else "fatal_error" if fault.code >= 500 else "invalid_request"
        return _json_response(_fail(error), fault.code, headers)

    # request plumbing

    @staticmethod
    def _args(rec: Recorded) -> dict[str, Any]:
        """Query string, then the form or JSON body on top; JSON-string fields decoded like Slack does."""
        args: dict[str, Any] = dict(rec.query)
        content_type = rec.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json" and isinstance(rec.json, dict):
            args.update(rec.json)
        elif rec.body and content_type in ("application/x-www-form-urlencoded", ""):
            args.update(parse_qsl(rec.body.decode("utf-8", "replace"), keep_blank_values=True))
        for name in _JSON_FIELDS:
            value = args.get(name)
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[name] = json.loads(value)
        return args

    @staticmethod
    def _token(rec: Recorded, args: dict[str, Any], is_form: bool) -> str | None:
        auth = rec.headers.get("authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip():
            return auth[7:].strip()
        token = args.get("token") if is_form else None
        return token if isinstance(token, str) and token else None

    def _auth_error(self, kind: str, token: str | None) -> _Result | None:
        if kind == "client":
            return None
        if token is None:
            return _fail("not_authed")
        if kind == "app":
            if token in self.tokens:
                return _fail("not_allowed_token_type")
            return None if token in self.app_tokens else _fail("invalid_auth")
        if token in self.app_tokens:
            return _fail("not_allowed_token_type")
        return None if token in self.tokens else _fail("invalid_auth")

    def _api(self, rec: Recorded, fault: Fault | None) -> Response:
        method = rec.path[len("/api/") :].strip("/")
        args = self._args(rec)
        is_form = rec.method == "POST" and "json" not in rec.headers.get("content-type", "")
        token = self._token(rec, args, is_form)
        args.pop("token", None)
        with self._state:
            entry = self._methods.get(method)
            if entry is None:
                result = _fail("unknown_method", req_method=method)
            else:
                kind, handler = entry
                failure = self.method_errors.get(method)
                result = self._auth_error(kind, token) or (dict(failure) if failure else handler(args, token, rec))
            self.calls.append(SlackCall(method, args, token, rec.time, result))
        headers = {"x-slack-req-id": uuid.uuid4().hex}
        if entry is not None and entry[0] == "bot" and token in self.tokens:
            # Like Slack, every answer to a bot token lists the token's scopes (bolt reads them from auth.test).
            headers["x-oauth-scopes"] = self.bot_scopes
        if isinstance(fault, Malformed):
            # The call went through (it is in self.calls, messages are stored) but the answer is cut off.
            body = json.dumps(result)
            return Response(200, body[: max(len(body) // 2, 1)], "application/json; charset=utf-8", headers)
        return _json_response(result, headers=headers)

    def _next_ts(self) -> str:
        micros = _FIRST_TS + 100 * next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _team_of(self, token: str | None) -> str:
        return self.token_teams.get(token or "", self.team_id)

    def _content_error(self, args: dict[str, Any], *, require_content: bool = True) -> _Result | None:
        """What chat.* say about the text/blocks of a message, or None when Slack would take it."""
        text, blocks = args.get("text"), args.get("blocks")
        if isinstance(blocks, str):
            return _fail("invalid_blocks_format")  # not JSON: Slack gives up before any other check
        has_blocks = isinstance(blocks, list) and bool(blocks)
        if require_content and not text and not has_blocks and not args.get("attachments"):
            return _fail("no_text")
        if isinstance(text, str) and len(text) > MESSAGE_MAX_TEXT:
            return _fail("msg_too_long")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                return _fail(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        return None

    def _channel_error(self, channel: Any) -> _Result | None:
        if not isinstance(channel, str) or not channel:
            return _fail("channel_not_found")
        if channel in self.channel_errors:
            return _fail(self.channel_errors[channel])
        if channel.startswith("D") and channel not in self.ims.values():
            return _fail("channel_not_found")  # a DM the bot never opened (conversations.open) is not its to use
        return None

    # API methods (called with self._state held)

    def _auth_test(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        team_id = self._team_of(token)
        return {
            "ok": True,
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team_name if team_id == self.team_id else f"Workspace {team_id}",
            "user": self.users[self.bot_user_id]["name"] if self.bot_user_id in self.users else "bot",
            "team_id": team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        channel = args.get("channel")
        error = self._channel_error(channel) or self._content_error(args)
        if error:
            return error
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self._team_of(token),
            "text": args.get("text") or "",
            "ts": ts,
        }
        for name in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(name):
                message[name] = args[name]
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _post_ephemeral(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        """Shown to ``user`` alone, in the channel or (``thread_ts``) in a thread; Slack keeps no copy to read back,
        the stand-in keeps one in ``ephemerals``."""
        error = self._channel_error(args.get("channel"))
        if error:
            return error
        if not args.get("user"):
            return _fail("user_not_found")
        error = self._content_error(args)
        if error:
            return error
        ts = self._next_ts()
        thread = args.get("thread_ts")
        # "Ephemeral messages in threads are only shown if there is already an active thread" (Slack's docs)
        shown = thread is None or any(c == args["channel"] and m.get("thread_ts") == thread and t != thread
                                      for (c, t), m in self.messages.items())
        self.ephemerals.append({"channel": args["channel"], "user": args["user"], "text": args.get("text") or "",
                                "blocks": args.get("blocks") or [], "thread_ts": thread, "ts": ts, "shown": shown})
        return {"ok": True, "message_ts": ts}

    def _update(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        channel, ts = args.get("channel"), args.get("ts")
        error = self._channel_error(channel)
        if error:
            return error
        message = self.messages.get((channel, ts))
        if message is None:
            return _fail("message_not_found")
        error = self._content_error(args)
        if error:
            return error
        for name in ("text", "blocks", "attachments", "metadata"):
            if name in args:
                message[name] = args[name]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": message.get("text", ""), "message": dict(message)}

    def _permalink(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        channel, ts = args.get("channel"), args.get("message_ts")
        if not channel:
            return _fail("channel_not_found")
        message = self.messages.get((channel, ts))
        if message is None:
            return _fail("message_not_found")
        link = f"https://{self.domain}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != ts:
            link += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _store_view(self, view: dict[str, Any], token: str | None, view_id: str | None = None) -> dict[str, Any]:
        view_id = view_id or f"V{next(self._view_ids):08d}"
        stored = {
            "id": view_id,
            "team_id": self._team_of(token),
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self._team_of(token),
            "bot_id": self.bot_id,
        }
        self.views[view_id] = stored
        return stored

    def _view_problem(self, args: dict[str, Any], *, needs_trigger: bool) -> _Result | None:
        missing = [name for name in (("trigger_id",) if needs_trigger else ()) + ("view",) if not args.get(name)]
        if missing:
            return _invalid_arguments([f"missing required field: {name} [json-pointer:/]" for name in missing])
        errors = view_errors(args["view"])
        return _invalid_arguments(errors) if errors else None

    def _views_open(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        problem = self._view_problem(args, needs_trigger=True)
        return problem or {"ok": True, "view": dict(self._store_view(args["view"], token))}

    _views_push = _views_open  # a pushed view is stored and answered the same way

    def _views_update(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        problem = self._view_problem(args, needs_trigger=False)
        if problem:
            return problem
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((v["id"] for v in self.views.values() if v["external_id"] == args["external_id"]), None)
        if not view_id or view_id not in self.views:
            return _fail("not_found")
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            return _fail("hash_conflict")
        return {"ok": True, "view": dict(self._store_view(args["view"], token, view_id))}

    def _users_info(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        user = self.users.get(str(args.get("user", "")))
        return {"ok": True, "user": dict(user)} if user else _fail("user_not_found")

    def _conversations_info(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        channel = self.channels.get(str(args.get("channel", "")))
        return {"ok": True, "channel": dict(channel)} if channel else _fail("channel_not_found")

    def _history_scope_error(self, channel: Any) -> _Result | None:
        """Reading a channel needs channels:history (groups:history for a private one), else missing_scope."""
        private = bool((self.channels.get(str(channel)) or {}).get("is_private"))
        needed = "groups:history" if private else "channels:history"
        if needed in self.bot_scopes.split(","):
            return None
        return _fail("missing_scope", needed=needed, provided=self.bot_scopes)

    def _conversations_history(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        """Top-level messages, newest first; metadata only with include_all_metadata, like Slack."""
        channel = args.get("channel")
        error = self._history_scope_error(channel) or self._channel_error(channel)
        if error:
            return error
        found = [m for (c, _), m in self.messages.items() if c == channel and m.get("thread_ts") in (None, m["ts"])]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return self._page(found, args)

    def _conversations_replies(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        """A thread: its parent first, then replies oldest first. ``ts`` may also be "a message in the thread"
        (Slack's docs): then that reply, carrying ``thread_ts`` (its root), comes back."""
        channel, ts = args.get("channel"), str(args.get("ts") or "")
        error = self._history_scope_error(channel) or self._channel_error(channel)
        if error:
            return error
        if (channel, ts) not in self.messages:
            return _fail("thread_not_found")
        thread = [m for (c, _), m in self.messages.items() if c == channel and ts in (m["ts"], m.get("thread_ts"))]
        thread.sort(key=lambda m: float(m["ts"]))
        return self._page(thread, args)

    def _conversations_open(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        """The bot's DM with one person: the same D… ID every time. Group DMs (several users) are not modelled."""
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            return _fail("users_list_not_supplied")
        if len(users) > 1:
            return _invalid_arguments(["the Slack stand-in opens one-person DMs only [json-pointer:/users]"])
        user = users[0]
        if not _USER_ID.match(user):
            return _fail("user_not_found")
        known = self.users.get(user)
        if user == self.bot_user_id or (known is not None and known["is_bot"]):
            return _fail("cannot_dm_bot")
        if known is not None and known["deleted"]:
            return _fail("user_disabled")
        already_open = user in self.ims
        if not already_open:
            self.ims[user] = f"D{next(self._im_ids):08d}"
        im = {"id": self.ims[user], "created": 1_690_000_000, "is_im": True, "is_org_shared": False, "user": user,
              "is_user_deleted": False, "priority": 0}
        result: _Result = {"ok": True, "channel": im if str(args.get("return_im", "")).lower() in {"1", "true"}
                           else {"id": im["id"]}}
        if already_open:
            result.update(no_op=True, already_open=True)
        return result

    @staticmethod
    def _page(messages: list[dict[str, Any]], args: dict[str, Any]) -> _Result:
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in messages[start : start + limit]]
        more = start + limit < len(messages)
        return {"ok": True, "messages": [dict(m) for m in page], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _client_credentials(self, args: dict[str, Any], rec: Recorded) -> tuple[str | None, str | None]:
        """slack_sdk sends HTTP Basic auth; plain form fields are accepted too, as Slack does."""
        auth = rec.headers.get("authorization", "")
        if auth.startswith("Basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                client_id, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
                return client_id, secret
        return args.get("client_id"), args.get("client_secret")

    def _oauth_v2_access(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        client_id, secret = self._client_credentials(args, rec)
        if client_id != self.client_id:
            return _fail("invalid_client_id")
        if secret != self.client_secret:
            return _fail("bad_client_secret")
        code = str(args.get("code") or "")
        if code in self._used_codes:
            return _fail("code_already_used")
        if code not in self.oauth_codes:
            return _fail("invalid_code")
        self._used_codes.add(code)
        team_id = self.oauth_codes[code]
        bot_token = f"xoxb-installed-{team_id}-{len(self._used_codes)}"
        self.tokens.add(bot_token)
        self.token_teams[bot_token] = team_id
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": self.installer_id},
            "scope": self.bot_scopes,
            "token_type": "bot",
            "access_token": bot_token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id, "name": self.team_name if team_id == self.team_id else f"Workspace {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _connections_open(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        return {"ok": True, "url": self.socket_url}

    # response_url

    # file uploads: files.getUploadURLExternal, the bytes to its upload_url, files.completeUploadExternal
    # (recorded answers: tests/fixtures/slack/files_*.json)

    def _get_upload_url(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        filename, length = args.get("filename"), str(args.get("length", ""))
        if not isinstance(filename, str) or not filename or not length.isdigit():
            return _invalid_arguments(["missing required field: " + ("filename" if not filename else "length")])
        file_id = f"F{next(self._file_ids):010d}"
        self.uploads[file_id] = {"filename": filename, "length": int(length)}
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _upload(self, rec: Recorded, fault: Fault | None) -> Response:
        """The upload URL takes the raw bytes (or a multipart form) and answers "OK - <length>" in plain text."""
        file_id = rec.path[len("/upload/v1/") :].strip("/")
        with self._state:
            upload = self.uploads.get(file_id)
            if upload is None:
                return Response(404, "not found", "text/plain; charset=utf-8")
            upload["content"] = rec.body
        return Response(200, f"OK - {len(rec.body)}", "text/plain; charset=utf-8")

    def _complete_upload(self, args: dict[str, Any], token: str | None, rec: Recorded) -> _Result:
        files, channel = args.get("files"), args.get("channel_id")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return _invalid_arguments(["missing required field: files"])
        error = self._channel_error(channel) if channel is not None else None
        if error:
            return error
        shared = []
        for item in files:
            upload = self.uploads.get(item["id"])
            if upload is None or "content" not in upload:
                return _fail("file_not_found")
            if len(upload["content"]) != upload["length"]:
                return _fail("file_upload_size_mismatch")
            ts = self._next_ts()
            name = upload["filename"]
            record = {
                "id": item["id"], "created": int(rec.time), "timestamp": int(rec.time), "name": name,
                "title": item.get("title") or name, "mimetype": "text/plain", "filetype": "text",
                "pretty_type": "Plain Text", "user": self.bot_user_id, "user_team": self._team_of(token),
                "editable": True, "size": upload["length"], "mode": "snippet", "is_external": False,
                "external_type": "", "is_public": True, "public_url_shared": False, "display_as_bot": False,
                "username": "",
                "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{item['id']}/{name}",
                "url_private_download": f"https://files.slack.com/files-pri/{self.team_id}-{item['id']}/download/{name}",
                "permalink": f"https://{self.domain}.slack.com/files/{self.bot_user_id}/{item['id']}/{name}",
                "shares": {"public": {channel: [{"ts": ts, "channel_name": channel, "team_id": self.team_id,
                                                 "share_user_id": self.bot_user_id}]}} if channel else {},
                "channels": [channel] if channel else [], "groups": [], "ims": [], "has_more_shares": False,
                "file_access": "visible",
            }
            self.files.append({**record, "content": upload["content"], "initial_comment": args.get("initial_comment")})
            shared.append(record)
        return {"ok": True, "files": shared}

    def _response(self, rec: Recorded, fault: Fault | None) -> Response:
        """Slack answers response_url posts in plain text: "ok", or the error name with HTTP 4xx."""
        response_id = rec.path[len("/response/") :].strip("/")
        body = rec.json
        if not isinstance(body, dict):
            return Response(400, "invalid_payload")
        deleting = body.get("delete_original") in (True, "true")
        error = self._content_error(body, require_content=not deleting)
        if error:
            return Response(400, error["error"])
        with self._state:
            self.responses.append({"id": response_id, **body})
        if isinstance(fault, Malformed):
            return Response(200, "<html><body>Bad Gateway</body></html>", "text/html; charset=utf-8")
        return Response(200, "ok")


# --- Socket Mode ----------------------------------------------------------------------------------------


class SocketModeStandIn(Served):
    """Slack's Socket Mode websocket: greets with "hello", pushes envelopes, collects the client's acks.

    An aiohttp server with its own event loop in a daemon thread, so tests can drive it from sync code
    while the client under test runs in another loop. Envelopes go to the newest open connection.
    """

    def __init__(self, *, app_id: str = "A0TEST") -> None:
        self.app_id = app_id
        self.sent: list[dict[str, Any]] = []  # every message pushed to a client, hello included
        self.received: list[Any] = []  # every text message a client sent (parsed JSON when possible)
        self.acks: dict[str, dict[str, Any]] = {}  # envelope id -> the client's acknowledgement
        self.connects = 0  # websocket connections accepted so far
        self._cond = threading.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0

    # lifecycle

    def start(self) -> SocketModeStandIn:
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, daemon=True, name="SocketModeStandIn")
        self._thread.start()
        self._loop = loop
        try:
            asyncio.run_coroutine_threadsafe(self._startup(), loop).result(timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        loop.close()

    @property
    def url(self) -> str:
        """A Socket Mode URL shaped like Slack's (wss://.../link/?ticket=...&app_id=...), but plain ws://."""
        if self._loop is None:
            raise self.not_running()
        return f"ws://127.0.0.1:{self._port}/link/?ticket=stand-in&app_id={self.app_id}"

    @property
    def connections(self) -> int:
        """Websocket connections open right now."""
        with self._cond:
            return len(self._sockets)

    # pushing

    def send(self, message: dict[str, Any], *, timeout: float = 5.0) -> None:
        """Push one raw JSON message to the newest connection, waiting up to `timeout` for a client."""
        if self._loop is None:
            raise RuntimeError("SocketModeStandIn is not running")
        with self._cond:
            if not self._cond.wait_for(lambda: self._sockets, timeout):
                raise TimeoutError(f"no Socket Mode client connected within {timeout}s")
            ws = self._sockets[-1]
            self.sent.append(message)
        asyncio.run_coroutine_threadsafe(ws.send_json(message), self._loop).result(timeout)

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        accepts_response_payload: bool | None = None,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Push a request envelope ("slash_commands", "events_api", "interactive"); returns its envelope_id.

        accepts_response_payload defaults like Slack's: true for slash commands and for view submissions /
        block suggestions, false otherwise.
        """
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")
            )
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self.send(envelope, timeout=timeout)
        return envelope_id

    def send_disconnect(self, reason: str = "refresh_requested", *, timeout: float = 5.0) -> None:
        """Ask the client to reconnect, as Slack does every few hours (it calls apps.connections.open again)."""
        self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-stand-in"}}, timeout=timeout)

    # waiting (sync for tests whose client runs elsewhere; *_async when it runs on the caller's loop)

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's acknowledgement of this envelope ({"envelope_id", "payload"?}); TimeoutError if none."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout}s")
            return self.acks[envelope_id]

    async def wait_ack_async(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """wait_ack without blocking the running event loop (the client under test may live on it)."""
        return await asyncio.to_thread(self.wait_ack, envelope_id, timeout)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until `count` connections were accepted in total and one is open."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.connects >= count and self._sockets, timeout):
                raise TimeoutError(f"{self.connects} Socket Mode connection(s) after {timeout}s, wanted {count}")

    async def wait_connected_async(self, count: int = 1, timeout: float = 5.0) -> None:
        await asyncio.to_thread(self.wait_connected, count, timeout)

    # server internals (on the stand-in's loop)

    async def _startup(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._websocket)
        app.router.add_get("/link", self._websocket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        with self._cond:
            sockets = list(self._sockets)
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), timeout=2)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        # autoping answers the client's "sdk-ping-pong:<time>" pings with matching pongs, as Slack does.
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._cond:
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "applink-stand-in", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
            self.sent.append(hello)
        await ws.send_json(hello)  # before registering, so no envelope can overtake the hello
        with self._cond:
            self._sockets.append(ws)
            self.connects += 1
            self._cond.notify_all()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data: Any = json.loads(msg.data)
                except ValueError:
                    data = msg.data
                with self._cond:
                    self.received.append(data)
                    if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                        self.acks[data["envelope_id"]] = data
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._sockets.remove(ws)
                self._cond.notify_all()
        return ws
