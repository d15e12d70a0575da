"""A stand-in for Discord's REST API v10: enough for a bot that posts digests and answers interactions.

It validates message payloads against Discord's documented limits (embeds, content, components) and
answers violations the way Discord does: HTTP 400 ``{"code": 50035, "message": "Invalid Form Body",
"errors": {...}}``. Rate limits look like Discord's too (``ratelimit_next``), including the ``Via``
header that discord.py checks before it trusts a 429 as Discord's rather than Cloudflare's.

Point discord.py at it with ``with standin.patch_discord_py(): ...`` (swaps ``discord.http.Route.BASE``,
which both the bot HTTP client and the interaction/webhook adapter build their URLs from).

Faults are consumed by any routed request, login's ``GET /users/@me`` included: queue them after login.

Threads started from a message (``POST /channels/{channel}/messages/{message}/threads``) share the message's
ID, refuse a second start with code 160004, and need Create Public Threads (``deny_threads``); sending in one
needs Send Messages in Threads (``deny_thread_messages``).

The bottom of the module drives the other direction without a gateway: builders for the dispatch bodies
Discord pushes (INTERACTION_CREATE of every kind, MESSAGE_CREATE, MESSAGE_REACTION_ADD/REMOVE), ``gateway_dispatch`` to
feed them to a client exactly as its websocket would, ``settle`` to wait for the handlers they start,
and ``logged_in`` for a REST-only login. ``tests/adapters/discord/test_driving.py`` shows each in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import email.policy
import itertools
import json
import math
import re
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.http import Fault, Malformed, Recorded, Response, Route, StandIn, Status

if TYPE_CHECKING:
    import discord

__all__ = [
    "APP_ID",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "DISCORD_EPOCH_MS",
    "GUILD_ID",
    "MANAGE_GUILD",
    "USER_ID",
    "DiscordStandIn",
    "RateLimit",
    "channel_payload",
    "command_interaction",
    "component_interaction",
    "embed_size",
    "form_errors",
    "gateway_dispatch",
    "interaction_payload",
    "logged_in",
    "member_payload",
    "message_create",
    "modal_submit_interaction",
    "reaction_event",
    "settle",
    "snowflake",
    "snowflake_time",
    "user_payload",
]

DISCORD_EPOCH_MS = 1420070400000
APP_ID = 1350000000000000001  # modern applications share their id with their bot user
BOT_USER_ID = APP_ID
GUILD_ID = 1350000000000000100
CHANNEL_ID = 1350000000000000200

API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15
HAS_THREAD = 1 << 5  # message flag: "this message has an associated thread, with the same id as the message"
THREAD_TYPES = (10, 11, 12)  # announcement, public and private threads
THREAD_NAME_MAX = 100
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"

# Discord's documented limits (characters are code points, i.e. Python's len()).
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
ACTION_ROWS_MAX = 5
ROW_COMPONENTS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
MODAL_TITLE_MAX = 45

_ids = itertools.count()
_ids_lock = threading.Lock()


def snowflake(at: float | None = None) -> int:
    """A Discord-style id: milliseconds since 2015 in the high bits, so ids sort by creation time."""
    ms = int((time.time() if at is None else at) * 1000) - DISCORD_EPOCH_MS
    with _ids_lock:
        increment = next(_ids) & 0xFFF
    return (ms << 22) | (1 << 17) | increment


def snowflake_time(value: int | str) -> float:
    """Unix time (seconds) a snowflake was made at."""
    return ((int(value) >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass(frozen=True)
class RateLimit(Status):
    """A 429 with an explicit ``retry_after`` (seconds, float) and scope; ``Status(429)`` uses defaults."""

    code: int = 429
    retry_after: float = 0.1
    scope: str = "user"  # "user", "shared" or "global"


# --- errors in Discord's shape ------------------------------------------------------------------------


class _FormErrors:
    """Collects violations into Discord's nested ``errors`` object (``{"embeds": {"0": {"title": ...}}}``)."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, (str, list)) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def required_text(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if not isinstance(value, str) or not value.strip():
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        else:
            self.max_length(path, value, limit)

    def __bool__(self) -> bool:
        return bool(self.tree)


def embed_size(embed: dict[str, Any]) -> int:
    """Characters counted towards the 6000 total: title, description, field names/values, footer, author."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _check_url(errors: _FormErrors, path: tuple[str | int, ...], url: Any) -> None:
    if url is not None and not (isinstance(url, str) and re.match(r"^(https?|attachment)://\S+$", url)):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _check_embeds(errors: _FormErrors, embeds: Any) -> None:
    if not isinstance(embeds, list):
        errors.add(("embeds",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return
    if len(embeds) > EMBEDS_MAX:
        errors.max_length(("embeds",), embeds, EMBEDS_MAX)
        return
    total = 0
    for i, embed in enumerate(embeds):
        at: tuple[str | int, ...] = ("embeds", i)
        if not isinstance(embed, dict):
            errors.add(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        errors.max_length((*at, "title"), embed.get("title"), EMBED_TITLE_MAX)
        errors.max_length((*at, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX)
        _check_url(errors, (*at, "url"), embed.get("url"))
        color = embed.get("color")
        if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
            errors.add((*at, "color"), "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.")
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.max_length((*at, "fields"), fields, EMBED_FIELDS_MAX)
        for j, field in enumerate(fields):
            errors.required_text((*at, "fields", j, "name"), field.get("name"), EMBED_FIELD_NAME_MAX)
            errors.required_text((*at, "fields", j, "value"), field.get("value"), EMBED_FIELD_VALUE_MAX)
        if "footer" in embed:
            errors.required_text((*at, "footer", "text"), (embed["footer"] or {}).get("text"), EMBED_FOOTER_MAX)
        if "author" in embed:
            author = embed["author"] or {}
            errors.required_text((*at, "author", "name"), author.get("name"), EMBED_AUTHOR_MAX)
            _check_url(errors, (*at, "author", "url"), author.get("url"))
        total += embed_size(embed)
    if total > EMBED_TOTAL_MAX:
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")


def _check_components(errors: _FormErrors, components: Any, flags: int) -> None:
    if not isinstance(components, list):
        errors.add(("components",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return
    v2 = bool(flags & IS_COMPONENTS_V2)
    if not v2 and len(components) > ACTION_ROWS_MAX:
        errors.max_length(("components",), components, ACTION_ROWS_MAX)
    seen: set[str] = set()

    def visit(component: dict[str, Any], at: tuple[str | int, ...]) -> None:
        kind = component.get("type")
        custom_id = component.get("custom_id")
        if custom_id is not None:
            errors.max_length((*at, "custom_id"), custom_id, CUSTOM_ID_MAX)
            if custom_id in seen:
                errors.add(
                    (*at, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(custom_id)
        if kind == 1:  # action row
            children = component.get("components") or []
            if not children:
                errors.add((*at, "components"), "BASE_TYPE_REQUIRED", "This field is required")
            errors.max_length((*at, "components"), children, ROW_COMPONENTS_MAX)
            if any(c.get("type") in (3, 5, 6, 7, 8) for c in children) and len(children) > 1:
                errors.add(
                    (*at, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
        elif kind == 2:  # button
            errors.max_length((*at, "label"), component.get("label"), BUTTON_LABEL_MAX)
            if component.get("style") == 5:
                _check_url(errors, (*at, "url"), component.get("url") or "")
            elif component.get("style") != 6 and custom_id is None:
                errors.add((*at, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
        for k, child in enumerate(component.get("components") or []):
            visit(child, (*at, "components", k))

    for i, row in enumerate(components):
        if not v2 and row.get("type") != 1:
            errors.add(("components", i, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')
        visit(row, ("components", i))


def multipart_form(content_type: str, body: bytes) -> tuple[Any, dict[str, tuple[str, str, bytes]]] | None:
    """A ``multipart/form-data`` body as Discord reads one ("Uploading Files"): its ``payload_json`` (the
    message's JSON) and its ``files[n]`` as name → (filename, content type, bytes); None for another body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    parsed = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    payload: Any = None
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            payload = json.loads(data)
        elif isinstance(name, str) and re.fullmatch(r"files\[\d+\]", name):
            files[name] = (part.get_filename() or "", part.get_content_type(), data)
    return payload, files


def _request_json(rec: Recorded) -> dict[str, Any]:
    """The JSON body, or a multipart body's ``payload_json``."""
    form = multipart_form(rec.headers.get("content-type", ""), rec.body)
    body = form[0] if form is not None else rec.json
    return body if isinstance(body, dict) else {}


def _message_body(rec: Recorded) -> dict[str, Any]:
    """A message's JSON body, checked as Discord checks it; its 400 for a malformed one."""
    body = _request_json(rec)
    if errors := _check_message(body):
        raise Answered(_invalid_form(errors))
    return body


def _check_message(body: dict[str, Any]) -> _FormErrors:
    errors = _FormErrors()
    content = body.get("content")
    if content is not None:
        errors.max_length(("content",), content, CONTENT_MAX)
    if body.get("embeds") is not None:
        _check_embeds(errors, body["embeds"])
    if body.get("components") is not None:
        _check_components(errors, body["components"], int(body.get("flags") or 0))
    return errors


def form_errors(message: dict[str, Any]) -> dict[str, Any]:
    """Discord's ``errors`` object for a message payload (``{}`` when Discord would accept it), no server needed."""
    return _check_message(message).tree


def _is_empty(message: dict[str, Any]) -> bool:
    return not (
        (message.get("content") or "").strip()
        or message.get("embeds")
        or message.get("components")
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("poll")
    )


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload), "application/json", dict(headers or {}))


def _discord_error(status: int, message: str, code: int, errors: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json(status, body)


def _invalid_form(errors: _FormErrors) -> Response:
    return _discord_error(400, "Invalid Form Body", 50035, errors.tree)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


# --- the server ---------------------------------------------------------------------------------------


Handler = Callable[..., Response]


class Answered(Exception):
    """Raised by a handler's helper to answer the request at once (a 404 for what the route names)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response
_ROUTES: list[tuple[str, str, str, bool]] = []  # (method, path pattern, handler's name, needs a bot token)


def serves(method: str, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Serve ``method path`` with the decorated DiscordStandIn method (path groups become its arguments)."""

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, path, handler.__name__, auth))
        return handler

    return register


class DiscordStandIn(StandIn):
    """Discord REST v10 under ``/api/v10``: messages, channels, interactions, webhooks, commands, members.

    State is inspected through ``messages(channel_id)``, ``direct_messages(user_id)``, ``interaction_responses``,
    ``followups`` and ``commands``; everything it answers is also in ``requests`` like every stand-in.
    """

    def __init__(self) -> None:
        super().__init__()
        self.application_id: int = APP_ID
        self.bot_user: dict[str, Any] = {
            "id": str(BOT_USER_ID),
            "username": "arxiv-digest",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "mfa_enabled": False,
            "verified": True,
            "flags": 0,
            "public_flags": 0,
            "email": None,
        }
        self.token: str | None = None  # None: any non-empty bot token is accepted
        self.auto_channels: bool = True  # unknown channel ids are text channels in GUILD_ID (else 404)
        self.enforce_interaction_deadline: bool = False  # True: callbacks > 3 s after the id's time get 10062
        self.ratelimit_limit: int = 5  # X-RateLimit-Limit on normal answers; Remaining stays limit - 1
        self.default_retry_after: float = 0.1  # retry_after for a bare Status(429)
        # enforce_nonce: a message with a nonce the same author used in the channel this recently is not
        # created again; Discord answers with the first one ("checked for uniqueness in the past few minutes").
        self.nonce_window: float = 300.0
        self._data_lock = threading.Lock()
        self._channels: dict[int, dict[str, Any]] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self._messages: dict[int, list[dict[str, Any]]] = {}
        self._interaction_responses: list[dict[str, Any]] = []
        self._originals: dict[str, dict[str, Any]] = {}  # interaction token -> original response message
        self._followups: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []  # files sent with messages: {"message_id", "filename", "content"}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], str] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> id of the bot's DM channel with them
        self._dms_closed: set[int] = set()  # users who accept no DMs from the bot (see close_dms)
        self._no_threads: set[int] = set()  # channels where the bot lacks Create Public Threads
        self._no_thread_messages: set[int] = set()  # channels where it lacks Send Messages in Threads
        self._compiled = [(method, re.compile(API_PREFIX + path + "/?$"), getattr(self, name), auth)
                          for method, path, name, auth in _ROUTES]

    # configuration

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be for discord.py to talk to this stand-in."""
        return self.url + API_PREFIX

    @contextlib.contextmanager
    def patch_discord_py(self) -> Iterator[None]:
        """Route discord.py's REST calls (bot client and interaction webhooks alike) here while active."""
        from discord.http import Route as DiscordRoute

        saved = DiscordRoute.BASE
        DiscordRoute.BASE = self.api_base
        try:
            yield
        finally:
            DiscordRoute.BASE = saved

    def add_channel(
        self, channel_id: int, name: str = "arxiv", *, guild_id: int = GUILD_ID, type: int = 0
    ) -> dict[str, Any]:
        channel = channel_payload(channel_id, guild_id=guild_id, name=name) | {
            "type": type, "position": len(self._channels),
        }
        with self._data_lock:
            self._channels[channel_id] = channel
        return copy.deepcopy(channel)

    def add_member(
        self,
        user_id: int,
        *,
        guild_id: int = GUILD_ID,
        username: str = "someone",
        roles: tuple[int, ...] = (),
        nick: str | None = None,
    ) -> dict[str, Any]:
        member = member_payload(user_id, roles=roles, username=username) | {"nick": nick}
        with self._data_lock:
            self._members[(guild_id, user_id)] = member
        return copy.deepcopy(member)

    def close_dms(self, user_id: int) -> None:
        """This user accepts no DMs from the bot (DMs from server members turned off, or the bot blocked): the DM
        channel still opens, but sending to it answers 403 ``{"code": 50007, "message": "Cannot send messages to
        this user"}``, as Discord does."""
        with self._data_lock:
            self._dms_closed.add(int(user_id))

    def deny_threads(self, channel_id: int) -> None:
        """The bot lacks Create Public Threads in this channel: starting a thread answers 403 50013."""
        with self._data_lock:
            self._no_threads.add(int(channel_id))

    def deny_thread_messages(self, channel_id: int) -> None:
        """The bot lacks Send Messages in Threads in this channel: sending in its threads answers 403 50013."""
        with self._data_lock:
            self._no_thread_messages.add(int(channel_id))

    def post_message(
        self, channel_id: int, content: str, *, author_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A message someone else wrote (USER_ID by default), stored as Discord would; the message object."""
        message = self._new_message(int(channel_id), {"content": content})
        message["author"] = user_payload(USER_ID if author_id is None else author_id)
        message.update(fields)
        with self._data_lock:
            self._messages.setdefault(int(channel_id), []).append(message)
        return copy.deepcopy(message)

    def receive(self, message: dict[str, Any]) -> None:
        """Keep a message the gateway delivers (a MESSAGE_CREATE body) in its channel, as Discord has it."""
        stored = {k: v for k, v in message.items() if k not in ("guild_id", "member", "channel_type")}
        with self._data_lock:
            self._messages.setdefault(int(message["channel_id"]), []).append(copy.deepcopy(stored))

    def thread(self, message_id: int | str) -> dict[str, Any] | None:
        """The thread started from a message (it has the message's ID), or None."""
        with self._data_lock:
            channel = self._channels.get(int(message_id))
            return copy.deepcopy(channel) if channel is not None and channel["type"] in THREAD_TYPES else None

    def ratelimit_next(self, n: int = 1, retry_after: float = 0.1, *, scope: str = "user") -> None:
        """Answer the next ``n`` routed requests with Discord's 429 (discord.py sleeps and retries)."""
        self.add_fault(*[RateLimit(retry_after=retry_after, scope=scope) for _ in range(n)])

    # recorded state

    def messages(self, channel_id: int | str) -> list[dict[str, Any]]:
        """Messages currently in a channel (as last edited; deleted ones gone), oldest first."""
        with self._data_lock:
            return copy.deepcopy(self._messages.get(int(channel_id), []))

    def direct_messages(self, user_id: int | str) -> list[dict[str, Any]]:
        """Messages in the bot's DM channel with a user (empty if it was never opened), oldest first."""
        with self._data_lock:
            channel_id = self._dm_channels.get(int(user_id))
            return copy.deepcopy(self._messages.get(channel_id, [])) if channel_id is not None else []

    def dm_channel(self, user_id: int | str) -> dict[str, Any] | None:
        """The bot's DM channel with a user as Discord describes it (type 1), or None if it was never opened."""
        with self._data_lock:
            channel_id = self._dm_channels.get(int(user_id))
            return copy.deepcopy(self._channels[channel_id]) if channel_id is not None else None

    @property
    def interaction_responses(self) -> list[dict[str, Any]]:
        """Accepted interaction callbacks: ``{"interaction_id", "token", "type", "data", "message_id"}``."""
        with self._data_lock:
            return copy.deepcopy(self._interaction_responses)

    @property
    def followups(self) -> list[dict[str, Any]]:
        """Webhook writes after a callback: ``{"token", "kind": "original"|"create"|"edit", "message"}``."""
        with self._data_lock:
            return copy.deepcopy(self._followups)

    def original(self, token: str) -> dict[str, Any] | None:
        """The interaction's original response message as it stands now (None if there is none)."""
        with self._data_lock:
            return copy.deepcopy(self._originals.get(token))

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands last synced globally (None) or to a guild."""
        with self._data_lock:
            return copy.deepcopy(self._commands.get(guild_id, []))

    def clear(self) -> None:
        super().clear()
        with self._data_lock:
            self._messages.clear()
            self._interaction_responses.clear()
            self._originals.clear()
            self._followups.clear()
            self.uploads.clear()

    # routing

    def route(self, rec: Recorded) -> Route | None:
        for method, pattern, handler, needs_auth in self._compiled:
            if rec.method == method and (match := pattern.match(rec.path)):
                return partial(self._answer, handler, needs_auth, match.groupdict())
        return None

    def _answer(
        self, handler: Handler, needs_auth: bool, params: dict[str, str], rec: Recorded, fault: Fault | None
    ) -> Response:
        if needs_auth and not self._authorized(rec):
            resp = _discord_error(401, "401: Unauthorized", 0)
        elif isinstance(fault, Malformed):
            resp = Response(200, '{"id": "1", "content": ', "application/json")
        else:
            try:
                resp = handler(rec, **params)
            except Answered as answered:
                resp = answered.response
        resp.headers = {**self._ratelimit_headers(rec), **resp.headers}
        return resp

    def _authorized(self, rec: Recorded) -> bool:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bot ") or not auth[4:].strip():
            return False
        return self.token is None or auth[4:] == self.token

    def _bucket(self, rec: Recorded) -> str:
        template = re.sub(r"\d{15,}", "{id}", rec.path.split("/messages/")[0])
        return f"{zlib.crc32(f'{rec.method} {template}'.encode()):08x}{zlib.adler32(template.encode()):08x}"

    def _ratelimit_headers(self, rec: Recorded) -> dict[str, str]:
        reset_after = 1.0
        return {
            "X-RateLimit-Limit": str(self.ratelimit_limit),
            "X-RateLimit-Remaining": str(max(self.ratelimit_limit - 1, 1)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self._bucket(rec),
            "Via": "1.1 google",
        }

    def error_response(self, rec: Recorded, fault: Status) -> Response:
        if fault.code == 429:
            return self._too_many(rec, fault)
        if fault.body is not None:
            resp = Response(fault.code, fault.body, "application/json")
        else:
            message, code = {
                400: ("400: Bad Request", 0),
                401: ("401: Unauthorized", 0),
                403: ("Missing Permissions", 50013),
                404: ("404: Not Found", 0),
                405: ("405: Method Not Allowed", 0),
                500: ("500: Internal Server Error", 0),
                502: ("502: Bad Gateway", 0),
                503: ("503: Service Unavailable", 0),
            }.get(fault.code, (f"{fault.code}: stand-in error", 0))
            resp = _discord_error(fault.code, message, code)
        resp.headers = {**self._ratelimit_headers(rec), **(fault.headers or {})}
        return resp

    def _too_many(self, rec: Recorded, fault: Status) -> Response:
        if isinstance(fault, RateLimit):
            retry_after, scope = fault.retry_after, fault.scope
        else:
            header = (fault.headers or {}).get("Retry-After")
            retry_after, scope = (float(header) if header else self.default_retry_after), "user"
        is_global = scope == "global"
        headers = {
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.ratelimit_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": self._bucket(rec),
                }
            )
        headers.update(fault.headers or {})
        body = fault.body or json.dumps(
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        )
        return Response(429, body, "application/json", headers)

    # helpers

    def _channel(self, channel_id: int) -> dict[str, Any] | None:
        with self._data_lock:
            channel = self._channels.get(channel_id)
        if channel is None and self.auto_channels:
            channel = self.add_channel(channel_id, f"channel-{str(channel_id)[-4:]}")
        return channel

    def _new_message(self, channel_id: int, body: dict[str, Any], *, webhook: bool = False) -> dict[str, Any]:
        message_id = snowflake()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": 0 if not webhook else 20,
            "author": copy.deepcopy(self.bot_user),
            "content": body.get("content") or "",
            "timestamp": _iso(snowflake_time(message_id)),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [{**e, "type": e.get("type", "rich")} for e in body.get("embeds") or []],
            "components": copy.deepcopy(body.get("components") or []),
            "pinned": False,
            "flags": int(body.get("flags") or 0),
            "reactions": [],
        }
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        return message

    def _attach(self, message: dict[str, Any], rec: Recorded) -> None:
        """A multipart request's ``files[n]`` as the message's attachments (kept in ``uploads``)."""
        form = multipart_form(rec.headers.get("content-type", ""), rec.body)
        for _, (filename, content_type, data) in sorted((form[1] if form else {}).items()):
            attachment_id = str(snowflake())
            url = f"https://cdn.discordapp.com/attachments/{message['channel_id']}/{attachment_id}/{filename}"
            message["attachments"].append({
                "id": attachment_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url,
                "content_type": content_type,
            })
            self.uploads.append({"message_id": message["id"], "filename": filename, "content": data})

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "components", "flags"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        if "embeds" in body:
            message["embeds"] = [{**e, "type": e.get("type", "rich")} for e in body["embeds"] or []]
        message["edited_timestamp"] = _iso(time.time())

    def _find(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel_id, []) if m["id"] == str(message_id)), None)

    def _message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        """The message a route names (the caller holds _data_lock); Discord's 404 when there is none."""
        message = self._find(int(channel_id), int(message_id))
        if message is None:
            raise Answered(_discord_error(404, "Unknown Message", 10008))
        return message

    # handlers: session

    @serves("GET", r"/gateway", auth=False)
    def _gateway(self, rec: Recorded) -> Response:
        return _json(200, {"url": "wss://gateway.discord.gg"})

    @serves("GET", r"/gateway/bot")
    def _gateway_bot(self, rec: Recorded) -> Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json(200, {"url": "wss://gateway.discord.gg", "shards": 1, "session_start_limit": limit})

    @serves("GET", r"/users/@me")
    def _me(self, rec: Recorded) -> Response:
        return _json(200, self.bot_user)

    @serves("GET", r"/oauth2/applications/@me")
    def _application(self, rec: Recorded) -> Response:
        owner = {"id": "1350000000000000900", "username": "owner", "discriminator": "0", "avatar": None}
        return _json(
            200,
            {
                "id": str(self.application_id),
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot": self.bot_user,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": owner,
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
            },
        )

    # handlers: channels and messages

    @serves("POST", r"/users/@me/channels")
    def _open_dm(self, rec: Recorded) -> Response:
        """``POST /users/@me/channels {"recipient_id"}``: the DM channel with that user, the same one every time."""
        recipient = (rec.json if isinstance(rec.json, dict) else {}).get("recipient_id")
        if not re.fullmatch(r"\d{1,20}", str(recipient)):
            errors = _FormErrors()
            errors.add(("recipient_id",), "NUMBER_TYPE_COERCE", f"Value \"{recipient}\" is not snowflake.")
            return _invalid_form(errors)
        user_id = int(recipient)
        with self._data_lock:
            channel_id = self._dm_channels.get(user_id)
            if channel_id is None:
                member = next((m for (_, uid), m in self._members.items() if uid == user_id), None)
                user = copy.deepcopy(member["user"]) if member else user_payload(user_id)
                channel_id = snowflake()
                self._dm_channels[user_id] = channel_id
                self._channels[channel_id] = {
                    "id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0, "recipients": [user],
                }
            return _json(200, self._channels[channel_id])

    @serves("GET", r"/channels/(?P<channel_id>\d+)")
    def _get_channel(self, rec: Recorded, channel_id: str) -> Response:
        channel = self._channel(int(channel_id))
        if channel is None:
            return _discord_error(404, "Unknown Channel", 10003)
        return _json(200, channel)

    def _is_message(self, channel_id: int) -> bool:
        """Whether an ID names a message, which is not a channel unless a thread was started from it."""
        with self._data_lock:
            return channel_id not in self._channels and any(
                m["id"] == str(channel_id) for messages in self._messages.values() for m in messages)

    @serves("POST", r"/channels/(?P<channel_id>\d+)/messages")
    def _create_message(self, rec: Recorded, channel_id: str) -> Response:
        if self._is_message(int(channel_id)):
            return _discord_error(404, "Unknown Channel", 10003)
        channel = self._channel(int(channel_id))
        if channel is None:
            return _discord_error(404, "Unknown Channel", 10003)
        if channel["type"] in THREAD_TYPES:
            if int(channel["parent_id"]) in self._no_thread_messages:
                return _discord_error(403, "Missing Permissions", 50013)
            with self._data_lock:
                channel["message_count"] = channel.get("message_count", 0) + 1
                channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self._dms_closed:
            return _discord_error(403, "Cannot send messages to this user", 50007)
        body = _message_body(rec)
        if _is_empty(body):
            return _discord_error(400, "Cannot send an empty message", 50006)
        message = self._new_message(int(channel_id), body)
        with self._data_lock:
            if body.get("enforce_nonce") and body.get("nonce") is not None:
                since = snowflake_time(message["id"]) - self.nonce_window
                for earlier in self._messages.get(int(channel_id), []):
                    if (earlier.get("nonce") == body["nonce"] and earlier["author"]["id"] == message["author"]["id"]
                            and snowflake_time(earlier["id"]) >= since):
                        return _json(200, earlier)
            self._messages.setdefault(int(channel_id), []).append(message)
            return _json(200, message)

    @serves("POST", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/threads")
    def _start_thread(self, rec: Recorded, channel_id: str, message_id: str) -> Response:
        """Start Thread from Message: a public thread with the message's ID (the shape of the docs' Example Thread
        Channel), once per message; the message gains HAS_THREAD and its ``thread``."""
        body = _request_json(rec)
        errors = _FormErrors()
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= THREAD_NAME_MAX:
            errors.add(("name",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {THREAD_NAME_MAX} in length.")
        duration = body.get("auto_archive_duration")
        if duration is not None and duration not in ARCHIVE_DURATIONS:
            errors.add(("auto_archive_duration",), "BASE_TYPE_CHOICES",
                       f"Value must be one of {set(ARCHIVE_DURATIONS)}.")
        if errors:
            return _invalid_form(errors)
        parent = self._channel(int(channel_id))
        if parent is None:
            return _discord_error(404, "Unknown Channel", 10003)
        with self._data_lock:
            message = self._message(channel_id, message_id)
            if int(channel_id) in self._no_threads:
                return _discord_error(403, "Missing Permissions", 50013)
            if int(message_id) in self._channels:
                return _discord_error(400, "A thread has already been created for this message", 160004)
            thread = json.loads((FIXTURES / "thread_channel_example.json").read_text(encoding="utf-8")) | {
                "id": message_id, "guild_id": parent.get("guild_id", str(GUILD_ID)), "parent_id": channel_id,
                "owner_id": self.bot_user["id"], "name": name, "last_message_id": None, "message_count": 0,
                "member_count": 1, "rate_limit_per_user": int(body.get("rate_limit_per_user") or 0),
                "total_message_sent": 0, "flags": 0,
            }
            thread["thread_metadata"] |= {"auto_archive_duration": duration or 1440,
                                          "archive_timestamp": _iso(time.time())}
            self._channels[int(message_id)] = thread
            message["flags"] = int(message.get("flags") or 0) | HAS_THREAD
            message["thread"] = copy.deepcopy(thread)
            return _json(201, thread)

    @serves("GET", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)")
    def _get_message(self, rec: Recorded, channel_id: str, message_id: str) -> Response:
        with self._data_lock:
            message = self._message(channel_id, message_id)
            return _json(200, message)

    @serves("PATCH", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)")
    def _edit_message(self, rec: Recorded, channel_id: str, message_id: str) -> Response:
        body = _message_body(rec)
        with self._data_lock:
            message = self._message(channel_id, message_id)
            edited = copy.deepcopy(message)
            self._apply_edit(edited, body)
            if _is_empty(edited):
                return _discord_error(400, "Cannot send an empty message", 50006)
            message.update(edited)
            return _json(200, message)

    @serves("DELETE", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)")
    def _delete_message(self, rec: Recorded, channel_id: str, message_id: str) -> Response:
        with self._data_lock:
            message = self._message(channel_id, message_id)
            self._messages[int(channel_id)].remove(message)
        return Response(204)

    @serves("PUT", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/reactions/(?P<emoji>[^/]+)/@me")
    def _add_reaction(self, rec: Recorded, channel_id: str, message_id: str, emoji: str) -> Response:
        with self._data_lock:
            message = self._message(channel_id, message_id)
            name, _, emoji_id = emoji.partition(":")
            reaction = next((r for r in message["reactions"] if r["emoji"]["name"] == name), None)
            if reaction is None:
                message["reactions"].append({"count": 1, "me": True, "emoji": {"id": emoji_id or None, "name": name}})
            elif not reaction["me"]:
                reaction["count"] += 1
                reaction["me"] = True
        return Response(204)

    # handlers: interactions and their webhooks

    @serves("POST", r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback", auth=False)
    def _callback(self, rec: Recorded, interaction_id: str, token: str) -> Response:
        body = _request_json(rec)
        kind = body.get("type")
        data = body.get("data")
        if kind not in (1, 4, 5, 6, 7, 8, 9, 10, 12):
            errors = _FormErrors()
            errors.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.")
            return _invalid_form(errors)
        if self.enforce_interaction_deadline and time.time() - snowflake_time(interaction_id) > 3.0:
            return _discord_error(404, "Unknown interaction", 10062)
        if kind in (4, 7) and isinstance(data, dict):
            if errors := _check_message(data):
                return _invalid_form(errors)
            if kind == 4 and _is_empty(data):
                return _discord_error(400, "Cannot send an empty message", 50006)
        if kind == 9 and (errors := _check_modal(data)):
            return _invalid_form(errors)
        with self._data_lock:
            if any(r["interaction_id"] == interaction_id for r in self._interaction_responses):
                return _discord_error(400, "Interaction has already been acknowledged.", 40060)
            message = None
            if kind in (4, 5):
                message = self._new_message(CHANNEL_ID, data or {}, webhook=True)
                self._attach(message, rec)
                if kind == 5:
                    message["flags"] |= LOADING
                self._originals[token] = message
            self._interaction_responses.append(
                {
                    "interaction_id": interaction_id,
                    "token": token,
                    "type": kind,
                    "data": copy.deepcopy(data),
                    "message_id": message["id"] if message else None,
                }
            )
            if rec.query.get("with_response") not in ("1", "true", "True"):
                return Response(204)
            flags = int((data or {}).get("flags") or 0)
            answer: dict[str, Any] = {
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                }
            }
            if message is not None:
                answer["interaction"]["response_message_id"] = message["id"]
                answer["resource"] = {"type": kind, "message": message}
            elif kind != 6:
                answer["resource"] = {"type": kind}
            return _json(200, answer)

    def _check_responded(self, token: str) -> None:
        """A webhook exists once its interaction was answered (the caller holds _data_lock); else Discord's 404."""
        if not any(r["token"] == token for r in self._interaction_responses):
            raise Answered(_discord_error(404, "Unknown Webhook", 10015))

    @serves("GET", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/@original", auth=False)
    def _get_original(self, rec: Recorded, app_id: str, token: str) -> Response:
        with self._data_lock:
            message = self._originals.get(token)
            if message is None:
                return _discord_error(404, "Unknown Message", 10008)
            return _json(200, message)

    @serves("PATCH", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/@original", auth=False)
    def _edit_original(self, rec: Recorded, app_id: str, token: str) -> Response:
        body = _message_body(rec)
        with self._data_lock:
            self._check_responded(token)
            message = self._originals.get(token) or self._new_message(CHANNEL_ID, {}, webhook=True)
            self._apply_edit(message, body)
            message["flags"] &= ~LOADING
            self._originals[token] = message
            self._followups.append({"token": token, "kind": "original", "message": copy.deepcopy(message)})
            return _json(200, message)

    @serves("POST", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)", auth=False)
    def _create_followup(self, rec: Recorded, app_id: str, token: str) -> Response:
        body = _message_body(rec)
        if _is_empty(body):
            return _discord_error(400, "Cannot send an empty message", 50006)
        with self._data_lock:
            self._check_responded(token)
            message = self._new_message(CHANNEL_ID, body, webhook=True)
            self._attach(message, rec)
            self._followups.append({"token": token, "kind": "create", "message": copy.deepcopy(message)})
        if rec.query.get("wait") in ("1", "true", "True"):
            return _json(200, message)
        return Response(204)

    @serves("PATCH", r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/(?P<message_id>\d+)", auth=False)
    def _edit_followup(self, rec: Recorded, app_id: str, token: str, message_id: str) -> Response:
        body = _message_body(rec)
        with self._data_lock:
            sent = [f["message"] for f in self._followups if f["token"] == token and f["message"]["id"] == message_id]
            if not sent:
                return _discord_error(404, "Unknown Message", 10008)
            message = copy.deepcopy(sent[-1])
            self._apply_edit(message, body)
            self._followups.append({"token": token, "kind": "edit", "message": copy.deepcopy(message)})
            return _json(200, message)

    # handlers: commands and members

    @serves("GET", r"/applications/(?P<app_id>\d+)/commands")
    @serves("GET", r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands")
    def _get_commands(self, rec: Recorded, app_id: str, guild_id: str | None = None) -> Response:
        return _json(200, self.commands(int(guild_id) if guild_id else None))

    @serves("PUT", r"/applications/(?P<app_id>\d+)/commands")
    @serves("PUT", r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands")
    def _put_commands(self, rec: Recorded, app_id: str, guild_id: str | None = None) -> Response:
        body = rec.json
        if not isinstance(body, list):
            errors = _FormErrors()
            errors.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
            return _invalid_form(errors)
        errors = _FormErrors()
        for i, command in enumerate(body):
            _check_command(errors, (i,), command)
        if errors:
            return _invalid_form(errors)
        gid = int(guild_id) if guild_id else None
        synced = []
        with self._data_lock:
            for command in body:
                key = (gid, command["name"], int(command.get("type", 1)))
                command_id = self._command_ids.setdefault(key, str(snowflake()))
                echoed = {
                    "id": command_id,
                    "application_id": app_id,
                    "version": str(snowflake()),
                    "type": 1,
                    "description": "",
                    "options": [],
                    "default_member_permissions": None,
                    "nsfw": False,
                    **command,
                }
                if echoed["default_member_permissions"] is not None:  # sent as int or str, answered as str
                    echoed["default_member_permissions"] = str(int(echoed["default_member_permissions"]))
                if gid is not None:
                    echoed["guild_id"] = str(gid)
                synced.append(echoed)
            self._commands[gid] = synced
            return _json(200, synced)

    @serves("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)")
    def _get_member(self, rec: Recorded, guild_id: str, user_id: str) -> Response:
        with self._data_lock:
            member = self._members.get((int(guild_id), int(user_id)))
            if member is None:
                return _discord_error(404, "Unknown Member", 10007)
            return _json(200, member)


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def _check_command(
    errors: _FormErrors, at: tuple[str | int, ...], command: dict[str, Any], *, option: bool = False
) -> None:
    """Names, descriptions and option counts of a slash command and, recursively, its options."""
    name = command.get("name")
    if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
        errors.add((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if option or int(command.get("type", 1)) == 1:  # context menus (user 2, message 3) have no description
        errors.required_text((*at, "description"), command.get("description"), 100)
    options = command.get("options") or []
    errors.max_length((*at, "options"), options, 25)
    for j, child in enumerate(options):
        _check_command(errors, (*at, "options", j), child, option=True)
        errors.max_length((*at, "options", j, "choices"), child.get("choices"), 25)


def _check_modal(data: Any) -> _FormErrors:
    errors = _FormErrors()
    if not isinstance(data, dict):
        errors.add(("data",), "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    errors.required_text(("data", "title"), data.get("title"), MODAL_TITLE_MAX)
    errors.required_text(("data", "custom_id"), data.get("custom_id"), CUSTOM_ID_MAX)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    return errors


# --- gateway payloads (what Discord pushes over the websocket; feed them to client._connection.parsers) --


USER_ID = 1350000000000000500  # a human in GUILD_ID
MANAGE_GUILD = 1 << 5
_OPTION_TYPES: dict[type, int] = {str: 3, int: 4, bool: 5, float: 10}


def user_payload(user_id: int = USER_ID, username: str = "someone") -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": username.title(),
        "avatar": None,
        "public_flags": 0,
    }


def member_payload(
    user_id: int = USER_ID, *, permissions: int | None = None, roles: tuple[int, ...] = (), username: str = "someone"
) -> dict[str, Any]:
    """A guild member as interactions carry it: ``permissions`` is the member's computed total in the channel."""
    member: dict[str, Any] = {
        "user": user_payload(user_id, username),
        "nick": None,
        "avatar": None,
        "roles": [str(r) for r in roles],
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if permissions is not None:
        member["permissions"] = str(permissions)
    return member


def channel_payload(channel_id: int = CHANNEL_ID, *, guild_id: int = GUILD_ID, name: str = "arxiv") -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def interaction_payload(
    kind: int,
    data: dict[str, Any],
    *,
    user_id: int = USER_ID,
    permissions: int = 0,
    guild_id: int | None = GUILD_ID,
    channel_id: int = CHANNEL_ID,
    message: dict[str, Any] | None = None,
    token: str | None = None,
    application_id: int = APP_ID,
) -> dict[str, Any]:
    """An INTERACTION_CREATE dispatch body (``d``) of type ``kind`` (2 command, 3 component, 5 modal submit).

    The id is a fresh snowflake, so it also passes ``enforce_interaction_deadline`` for three seconds.
    """
    interaction_id = snowflake()
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": kind,
        "data": data,
        "token": token or f"itoken-{interaction_id}",
        "version": 1,
        "channel_id": str(channel_id),
        "locale": "en-US",
        "app_permissions": str((1 << 53) - 1),
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["channel"] = channel_payload(channel_id, guild_id=guild_id)
        payload["member"] = member_payload(user_id, permissions=permissions)
        payload["authorizing_integration_owners"] = {"0": str(guild_id)}
        payload["context"] = 0
    else:
        payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user_payload(user_id)], "flags": 0}
        payload["user"] = user_payload(user_id)
        payload["authorizing_integration_owners"] = {"1": str(user_id)}
        payload["context"] = 1
    if message is not None:
        payload["message"] = message
    return payload


def command_interaction(
    name: str,
    *subcommands: str,
    options: dict[str, str | int | bool | float] | None = None,
    command_id: int | None = None,
    command_guild_id: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """A slash command (type 2): ``command_interaction("arxiv", "threshold", options={"relevance": 7})``.

    One subcommand name nests as a SUB_COMMAND (option type 1); two as SUB_COMMAND_GROUP (2) → SUB_COMMAND.
    ``command_guild_id`` marks a guild-registered command (the tree then looks in its guild commands).
    """
    if len(subcommands) > 2:
        raise ValueError("Discord nests at most a group and a subcommand")
    leaf = [{"type": _OPTION_TYPES[type(v)], "name": k, "value": v} for k, v in (options or {}).items()]
    for depth, sub in enumerate(reversed(subcommands)):
        leaf = [{"type": 1 if depth == 0 else 2, "name": sub, "options": leaf}]
    data: dict[str, Any] = {"id": str(command_id or snowflake()), "name": name, "type": 1, "options": leaf}
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    return interaction_payload(2, data, **kwargs)


def component_interaction(
    custom_id: str, message: dict[str, Any], *, component_type: int = 2, **kwargs: Any
) -> dict[str, Any]:
    """A button press (type 3) on ``message`` (a message object, e.g. one from ``DiscordStandIn.messages``)."""
    data = {"custom_id": custom_id, "component_type": component_type}
    return interaction_payload(3, data, message=message, channel_id=int(message["channel_id"]), **kwargs)


def modal_submit_interaction(custom_id: str, values: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    """A modal submission (type 5): one action row per text input, as Discord answers classic modals."""
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    return interaction_payload(5, {"custom_id": custom_id, "components": rows}, **kwargs)


def reaction_event(
    message_id: int | str,
    emoji: str = "👍",
    *,
    user_id: int = USER_ID,
    channel_id: int = CHANNEL_ID,
    guild_id: int | None = GUILD_ID,
    message_author_id: int = BOT_USER_ID,
    add: bool = True,
) -> dict[str, Any]:
    """A MESSAGE_REACTION_ADD (or, with ``add=False``, _REMOVE) dispatch body; remove carries no member."""
    payload: dict[str, Any] = {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "emoji": {"id": None, "name": emoji},
        "burst": False,
        "type": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        if add:
            payload["member"] = member_payload(user_id)
    if add:
        payload["message_author_id"] = str(message_author_id)
        payload["burst_colors"] = []
    return payload


def message_create(
    content: str,
    *,
    user_id: int = USER_ID,
    channel_id: int = CHANNEL_ID,
    guild_id: int | None = GUILD_ID,
    mentions: tuple[int, ...] = (),
    reply_to: dict[str, Any] | None = None,
    channel_type: int = 0,
    bot: bool = False,
) -> dict[str, Any]:
    """A MESSAGE_CREATE dispatch body: the docs' Example Message with this message's IDs and text, plus the
    Message Create extra fields (guild_id, member, mentions with their member, channel_type). ``reply_to`` (a
    message object) makes it a reply: type 19, a message_reference of type 0 (DEFAULT) and referenced_message.
    ``channel_type`` 11 with ``channel_id`` a thread's ID is a message inside that thread."""
    message: dict[str, Any] = json.loads((FIXTURES / "message_example.json").read_text(encoding="utf-8"))
    message_id = snowflake()
    message.update(
        id=str(message_id), channel_id=str(channel_id), content=content, reactions=[],
        timestamp=_iso(snowflake_time(message_id)), author=user_payload(user_id) | ({"bot": True} if bot else {}),
        mentions=[user_payload(m, "arxiv-digest" if m == BOT_USER_ID else f"user-{m}")
                  | ({"member": {k: v for k, v in member_payload(m).items() if k != "user"}} if guild_id else {})
                  for m in mentions],
        channel_type=channel_type,
    )
    if guild_id is not None:
        message["guild_id"] = str(guild_id)
        message["member"] = {k: v for k, v in member_payload(user_id).items() if k != "user"}
    if reply_to is not None:
        message["type"] = 19  # REPLY
        message["message_reference"] = {"type": 0, "message_id": reply_to["id"], "channel_id": reply_to["channel_id"]}
        if guild_id is not None:
            message["message_reference"]["guild_id"] = str(guild_id)
        message["referenced_message"] = reply_to
    return message


# --- driving discord.py without a gateway --------------------------------------------------------------


def gateway_dispatch(client: discord.Client, event: str, payload: dict[str, Any]) -> None:
    """Hand a dispatch body to the client exactly as its gateway would (``DiscordWebSocket`` calls these parsers).

    ``event`` is the gateway event name, e.g. ``"INTERACTION_CREATE"`` or ``"MESSAGE_REACTION_ADD"``.
    """
    client._connection.parsers[event](payload)


_DISPATCHED_TASKS = ("CommandTree-invoker", "discord.py: ", "discord-ui-")


async def settle(timeout: float = 30.0) -> None:
    """Wait for what a dispatch started: command invocations, event handlers, view/modal/dynamic item callbacks.

    Matched by discord.py's task names, so view timeout timers (unnamed, possibly minutes long) are not awaited.
    """
    current = asyncio.current_task()
    deadline = time.monotonic() + timeout
    while True:
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_name().startswith(_DISPATCHED_TASKS)
        ]
        if not pending:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"dispatched tasks still running: {[t.get_name() for t in pending]}")
        await asyncio.wait(pending, timeout=left)


@contextlib.asynccontextmanager
async def logged_in(client: discord.Client, token: str = "test-token") -> AsyncIterator[discord.Client]:
    """``client.login`` (REST only: /users/@me, /oauth2/applications/@me, then setup_hook) and always close."""
    try:
        await client.login(token)
        yield client
    finally:
        await client.close()
