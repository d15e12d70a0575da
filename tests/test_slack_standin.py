"""The Slack stand-in behaves like Slack as seen through the real slack_sdk / bolt clients, and fast."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.support.http import Malformed
from tests.support.slack_api import SlackStandIn, SocketModeStandIn, block_errors, view_errors
from tests.support.waiting import until

# --- Block Kit builders ---------------------------------------------------------------------------------


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(text: str = "Open", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": "open", **extra}


def modal(title: str = "Digest settings", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title), "blocks": blocks if blocks is not None else [section("hi")]}


def text_input(**element: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "topics",
        "label": plain("Topics"),
        "element": {"type": "plain_text_input", "action_id": "value", **element},
    }


DIVIDER = {"type": "divider"}

# slack_sdk's own noise: it builds aiohttp.BasicAuth for OAuth, and warns about blocks without a top-level text.
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning"),
]

# --- fixtures and helpers -------------------------------------------------------------------------------


@pytest.fixture
def socket_mode(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    with SocketModeStandIn() as server:
        slack.socket_url = server.url
        yield server


def client(slack: SlackStandIn, token: str | None = "xoxb-test", **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.base_url, **kwargs)


def call(slack: SlackStandIn, method: str, token: str | None = "xoxb-test", **kwargs: Any) -> dict[str, Any]:
    """Run one slack_sdk AsyncWebClient method; returns the response data, or the error data if it raised."""

    async def go() -> dict[str, Any]:
        try:
            response = await getattr(client(slack, token), method)(**kwargs)
        except SlackApiError as exc:
            return dict(exc.response.data)
        return dict(response.data)

    return asyncio.run(go())


def post_form(url: str, fields: dict[str, str]) -> dict[str, Any]:
    """A hand-made form post, the way curl or an old client would call the Web API."""
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as resp:
        return json.loads(resp.read())


# --- the Block Kit validator ----------------------------------------------------------------------------


def test_blocks_exactly_at_slacks_limits_are_accepted() -> None:
    at_limits = [
        {"type": "header", "text": plain("h" * 150)},
        section("s" * 3000, block_id="b" * 255, accessory=button("x" * 75, value="v" * 2000)),
        {"type": "section", "fields": [mrkdwn("f" * 2000)] * 10},
        {"type": "context", "elements": [mrkdwn("c")] * 10},
        {"type": "actions", "elements": [button(action_id="a" * 255)] * 25},
    ]
    assert block_errors(at_limits + [DIVIDER] * (50 - len(at_limits))) == []
    assert view_errors(modal("t" * 24, [DIVIDER] * 100)) == []
    assert view_errors(modal(blocks=[text_input(max_length=3000, initial_value="i" * 3000)])) == []


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([DIVIDER] * 51, "must be less than 51 items [json-pointer:/blocks]"),
        ([section("s" * 3001)], "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
        (
            [{"type": "section", "fields": [mrkdwn("f")] * 11}],
            "must be less than 11 items [json-pointer:/blocks/0/fields]",
        ),
        (
            [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            [{"type": "header", "text": plain("h" * 151)}],
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        ([{"type": "header", "text": mrkdwn("*h*")}], "must be a plain_text text object [json-pointer:/blocks/0/text]"),
        (
            [{"type": "context", "elements": [mrkdwn("c")] * 11}],
            "must be less than 11 items [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "actions", "elements": [button()] * 26}],
            "must be less than 26 items [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "actions", "elements": [button("b" * 76)]}],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [section("s", accessory=button(value="v" * 2001))],
            "must be less than 2001 characters [json-pointer:/blocks/0/accessory/value]",
        ),
        (
            [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        ([section("s", block_id="b" * 256)], "must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
        ([{"type": "sectoin"}], "unsupported type: sectoin [json-pointer:/blocks/0/type]"),
        ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    ],
    ids=[
        "51-blocks",
        "section-text",
        "11-fields",
        "long-field",
        "header-text",
        "header-mrkdwn",
        "11-context-elements",
        "26-actions",
        "button-text",
        "button-value",
        "action-id",
        "block-id",
        "unknown-type",
        "empty-text",
    ],
)
def test_block_kit_limit_violations_are_reported_with_json_pointers(blocks: list[Any], error: str) -> None:
    assert error in block_errors(blocks)


@pytest.mark.parametrize(
    ("view", "error"),
    [
        (modal("t" * 25), "must be less than 25 characters [json-pointer:/view/title/text]"),
        (modal(blocks=[DIVIDER] * 101), "must be less than 101 items [json-pointer:/view/blocks]"),
        (
            modal(blocks=[text_input(max_length=10, initial_value="i" * 11)]),
            "must be less than 11 characters [json-pointer:/view/blocks/0/element/initial_value]",
        ),
        (
            modal(blocks=[text_input(max_length=3001)]),
            "must be less than 3001 [json-pointer:/view/blocks/0/element/max_length]",
        ),
        ({"type": "modal", "blocks": []}, "missing required field: title [json-pointer:/view]"),
    ],
    ids=["title", "101-blocks", "initial-value-over-max-length", "max-length-over-3000", "no-title"],
)
def test_view_limit_violations_are_reported_with_json_pointers(view: dict[str, Any], error: str) -> None:
    assert error in view_errors(view)


# --- Web API basics -------------------------------------------------------------------------------------


def test_auth_test_identifies_the_bot_and_workspace(slack: SlackStandIn) -> None:
    data = call(slack, "auth_test")
    assert data["ok"] is True
    assert (data["team_id"], data["user_id"], data["bot_id"]) == ("T0TEST", "UBOT", "BBOT")
    assert data["url"] == "https://example.slack.com/"
    assert data["team"] == "Test Workspace"


def test_missing_token_is_not_authed_and_unknown_token_is_invalid_auth(slack: SlackStandIn) -> None:
    assert call(slack, "auth_test", token=None) == {"ok": False, "error": "not_authed"}
    assert call(slack, "auth_test", token="xoxb-nope") == {"ok": False, "error": "invalid_auth"}
    assert call(slack, "auth_test", token="xapp-test")["error"] == "not_allowed_token_type"
    assert [c.token for c in slack.calls_to("auth.test")] == [None, "xoxb-nope", "xapp-test"]
    assert all(r.status == 200 for r in slack.requests)  # Slack reports API errors with HTTP 200


def test_unknown_methods_are_refused(slack: SlackStandIn) -> None:
    assert call(slack, "api_call", api_method="chat.scheduleMessage")["error"] == "unknown_method"


def test_slack_sdk_request_shapes_are_understood(slack: SlackStandIn) -> None:
    """JSON for chat.*/views.*, GET + query for the info methods, bare POST for auth.test, Basic auth for OAuth."""
    slack.add_user("U0ALICE")
    slack.oauth_codes["code-1"] = "T0OTHER"
    call(slack, "chat_postMessage", channel="C1", text="hi")
    call(slack, "users_info", user="U0ALICE")
    call(slack, "auth_test")
    call(
        slack,
        "oauth_v2_access",
        token=None,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        code="code-1",
    )
    post, users, auth, oauth = slack.requests
    assert (post.method, post.headers["content-type"], post.json["channel"]) == (
        "POST",
        "application/json;charset=utf-8",
        "C1",
    )
    assert (users.method, users.query, users.body) == ("GET", {"user": "U0ALICE"}, b"")
    assert (auth.method, auth.query, auth.body) == ("POST", {}, b"")
    assert oauth.headers["content-type"] == "application/x-www-form-urlencoded"
    assert oauth.headers["authorization"].startswith("Basic ")
    assert b"code=code-1" in oauth.body and b"client_secret" not in oauth.body
    assert [c.ok for c in slack.calls] == [True] * 4


def test_form_posts_may_carry_the_token_and_json_string_blocks(slack: SlackStandIn) -> None:
    blocks = [section("*Today's papers*")]
    url = slack.base_url + "chat.postMessage"
    data = post_form(url, {"token": "xoxb-test", "channel": "C1", "blocks": json.dumps(blocks)})
    assert data["ok"] is True
    assert data["message"]["blocks"] == blocks
    assert slack.posted()[0].token == "xoxb-test"
    assert "token" not in slack.posted()[0].args
    assert (
        post_form(url, {"token": "xoxb-test", "channel": "C1", "blocks": "[{oops"})["error"] == "invalid_blocks_format"
    )
    assert post_form(url, {"channel": "C1", "text": "hi"})["error"] == "not_authed"


# --- messages -------------------------------------------------------------------------------------------


def test_post_message_answers_like_slack_and_is_recorded_in_order(slack: SlackStandIn) -> None:
    first = call(slack, "chat_postMessage", channel="C1", text="Digest for 2025-03-06", blocks=[section("papers")])
    reply = call(slack, "chat_postMessage", channel="C1", text="details", thread_ts=first["ts"])
    other = call(slack, "chat_postMessage", channel="C2", text="elsewhere")

    assert first["ts"] == "1700000000.000100"
    assert float(first["ts"]) < float(reply["ts"]) < float(other["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["user"] == "UBOT"
    assert first["message"]["blocks"] == [section("papers")]
    assert reply["message"]["thread_ts"] == first["ts"]
    assert [c.args["text"] for c in slack.posted()] == ["Digest for 2025-03-06", "details", "elsewhere"]
    assert [c.args["text"] for c in slack.posted("C1")] == ["Digest for 2025-03-06", "details"]
    assert slack.messages[("C2", other["ts"])]["text"] == "elsewhere"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C1"}, "no_text"),
        ({"channel": "", "text": "hi"}, "channel_not_found"),
        ({"channel": "C1", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C1", "text": "hi", "blocks": [section("s" * 3001)]}, "invalid_blocks"),
        ({"channel": "C1", "text": "hi", "blocks": [DIVIDER] * 51}, "invalid_blocks"),
    ],
    ids=["no-text", "no-channel", "text-over-40000", "long-section", "51-blocks"],
)
def test_refused_messages_are_not_posted(slack: SlackStandIn, kwargs: dict[str, Any], error: str) -> None:
    assert call(slack, "chat_postMessage", **kwargs)["error"] == error
    assert slack.posted() == []
    assert slack.messages == {}
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_invalid_blocks_answer_lists_the_reasons_like_slack(slack: SlackStandIn) -> None:
    data = call(
        slack, "chat_postMessage", channel="C1", text="hi", blocks=[{"type": "header", "text": plain("h" * 151)}]
    )
    assert data["errors"] == ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"]
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_failed_channels_answer_their_error(slack: SlackStandIn) -> None:
    slack.fail_channel("C0ARCHIVED", "is_archived")
    slack.fail_channel("C0PRIVATE")
    assert call(slack, "chat_postMessage", channel="C0ARCHIVED", text="hi")["error"] == "is_archived"
    assert call(slack, "chat_postMessage", channel="C0PRIVATE", text="hi")["error"] == "not_in_channel"
    assert slack.posted() == []


def test_ephemeral_update_and_permalink(slack: SlackStandIn) -> None:
    eph = call(slack, "chat_postEphemeral", channel="C1", user="U0ALICE", text="only you can see this")
    assert eph["ok"] is True and eph["message_ts"]
    assert call(slack, "chat_postEphemeral", channel="C1", user="", text="hi")["error"] == "user_not_found"

    parent = call(slack, "chat_postMessage", channel="C1", text="Digest")
    reply = call(slack, "chat_postMessage", channel="C1", text="more", thread_ts=parent["ts"])
    updated = call(slack, "chat_update", channel="C1", ts=parent["ts"], text="Digest (edited)", blocks=[section("new")])
    assert (updated["ok"], updated["ts"], updated["text"]) == (True, parent["ts"], "Digest (edited)")
    assert slack.messages[("C1", parent["ts"])]["blocks"] == [section("new")]
    assert call(slack, "chat_update", channel="C1", ts="1.2", text="x")["error"] == "message_not_found"
    assert call(slack, "chat_update", channel="C1", ts=parent["ts"], text="x" * 40_001)["error"] == "msg_too_long"

    link = call(slack, "chat_getPermalink", channel="C1", message_ts=parent["ts"])["permalink"]
    assert link == "https://example.slack.com/archives/C1/p1700000000000200"
    thread_link = call(slack, "chat_getPermalink", channel="C1", message_ts=reply["ts"])["permalink"]
    assert thread_link.endswith(f"?thread_ts={parent['ts']}&cid=C1")
    assert call(slack, "chat_getPermalink", channel="C1", message_ts="1.2")["error"] == "message_not_found"
    assert len(slack.posted()) == 2  # ephemerals and updates are not posts


# --- views, users, channels -----------------------------------------------------------------------------


def test_views_open_push_and_update(slack: SlackStandIn) -> None:
    opened = call(slack, "views_open", trigger_id="1.2.abc", view=modal(blocks=[text_input()]))
    view = opened["view"]
    assert opened["ok"] is True and view["id"].startswith("V")
    assert view["title"] == plain("Digest settings")
    assert view["state"] == {"values": {}}

    pushed = call(slack, "views_push", trigger_id="1.2.abc", view=modal("Step 2"))
    assert pushed["view"]["id"] != view["id"]

    updated = call(slack, "views_update", view_id=view["id"], hash=view["hash"], view=modal("Saved"))
    assert (updated["view"]["id"], updated["view"]["title"]["text"]) == (view["id"], "Saved")
    assert call(slack, "views_update", view_id=view["id"], hash="stale", view=modal())["error"] == "hash_conflict"
    assert call(slack, "views_update", view_id="V404", view=modal())["error"] == "not_found"


def test_invalid_views_are_refused_with_invalid_arguments_like_slack(slack: SlackStandIn) -> None:
    data = call(slack, "views_open", trigger_id="1.2.abc", view=modal("This title is far too long"))
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert call(slack, "views_open", trigger_id="", view=modal())["error"] == "invalid_arguments"
    assert slack.views == {}


def test_users_info_reports_roles(slack: SlackStandIn) -> None:
    slack.add_user("U0ADMIN", admin=True, name="ada")
    slack.add_user("U0OWNER", primary_owner=True)
    slack.add_user("U0PLAIN")
    admin = call(slack, "users_info", user="U0ADMIN")["user"]
    assert (admin["id"], admin["name"], admin["team_id"]) == ("U0ADMIN", "ada", "T0TEST")
    assert (admin["is_admin"], admin["is_owner"], admin["is_primary_owner"]) == (True, False, False)
    owner = call(slack, "users_info", user="U0OWNER")["user"]
    assert (owner["is_admin"], owner["is_owner"], owner["is_primary_owner"]) == (True, True, True)
    assert call(slack, "users_info", user="U0PLAIN")["user"]["is_admin"] is False
    assert call(slack, "users_info", user="UBOT")["user"]["is_bot"] is True
    assert call(slack, "users_info", user="U0GHOST") == {"ok": False, "error": "user_not_found"}


def test_conversations_info_reports_the_creator(slack: SlackStandIn) -> None:
    slack.add_channel("C0DIGEST", creator="U0ALICE", name="arxiv-digest")
    channel = call(slack, "conversations_info", channel="C0DIGEST")["channel"]
    assert (channel["id"], channel["name"], channel["creator"], channel["is_channel"]) == (
        "C0DIGEST",
        "arxiv-digest",
        "U0ALICE",
        True,
    )
    assert call(slack, "conversations_info", channel="C0NOPE")["error"] == "channel_not_found"


# --- OAuth and Socket Mode token ------------------------------------------------------------------------


def test_oauth_v2_access_installs_a_bot_token_that_then_works(slack: SlackStandIn) -> None:
    slack.oauth_codes["good-code"] = "T0OTHER"
    creds = {"client_id": slack.client_id, "client_secret": slack.client_secret}
    install = call(slack, "oauth_v2_access", token=None, code="good-code", **creds)
    assert install["ok"] is True
    assert install["token_type"] == "bot"
    assert install["access_token"].startswith("xoxb-installed-")
    assert install["team"] == {"id": "T0OTHER", "name": "Workspace T0OTHER"}
    assert install["enterprise"] is None and install["is_enterprise_install"] is False
    assert install["authed_user"] == {"id": "UINSTALLER"}
    assert (install["bot_user_id"], install["app_id"]) == ("UBOT", "A0TEST")

    identity = call(slack, "auth_test", token=install["access_token"])
    assert (identity["ok"], identity["team_id"]) == (True, "T0OTHER")

    assert call(slack, "oauth_v2_access", token=None, code="good-code", **creds)["error"] == "code_already_used"
    assert call(slack, "oauth_v2_access", token=None, code="made-up", **creds)["error"] == "invalid_code"
    wrong = {**creds, "client_secret": "nope"}
    assert call(slack, "oauth_v2_access", token=None, code="x", **wrong)["error"] == "bad_client_secret"


def test_oauth_v2_access_accepts_client_credentials_as_form_fields(slack: SlackStandIn) -> None:
    slack.oauth_codes["form-code"] = "T0TEST"
    fields = {"client_id": slack.client_id, "client_secret": slack.client_secret, "code": "form-code"}
    assert post_form(slack.base_url + "oauth.v2.access", fields)["ok"] is True


def test_apps_connections_open_needs_an_app_level_token(slack: SlackStandIn) -> None:
    slack.socket_url = "ws://127.0.0.1:1/link/?ticket=t"

    async def open_with(token: str) -> str:
        try:
            return (await client(slack, None).apps_connections_open(app_token=token))["url"]
        except SlackApiError as exc:
            return exc.response["error"]

    assert asyncio.run(open_with("xapp-test")) == "ws://127.0.0.1:1/link/?ticket=t"
    assert asyncio.run(open_with("xoxb-test")) == "not_allowed_token_type"
    assert asyncio.run(open_with("xapp-other")) == "invalid_auth"
    assert slack.requests[0].headers["authorization"] == "Bearer xapp-test"


# --- faults ---------------------------------------------------------------------------------------------


def test_rate_limited_calls_fail_like_slack_without_a_retry_handler(slack: SlackStandIn) -> None:
    slack.ratelimit_next(retry_after=7)

    async def go() -> SlackApiError:
        with pytest.raises(SlackApiError) as info:
            await client(slack).chat_postMessage(channel="C1", text="hi")
        return info.value

    error = asyncio.run(go())
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"
    assert slack.posted() == [] and slack.calls == []
    assert [r.status for r in slack.requests] == [429]


def test_rate_limited_post_is_retried_by_slack_sdk_and_posted_once(slack: SlackStandIn) -> None:
    slack.ratelimit_next(retry_after=0)
    retrying = client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    response = asyncio.run(retrying.chat_postMessage(channel="C1", text="Digest"))

    assert response["ok"] is True
    assert [r.status for r in slack.requests_to("/chat.postMessage")] == [429, 200]
    assert len(slack.posted()) == 1


def test_malformed_answer_is_an_error_for_the_client_although_the_message_was_posted(slack: SlackStandIn) -> None:
    slack.add_fault(Malformed())
    with pytest.raises(SlackApiError, match="non-JSON"):
        asyncio.run(client(slack).chat_postMessage(channel="C1", text="Digest"))
    assert len(slack.posted()) == 1  # the dangerous case for retries: Slack did post it


def test_clear_forgets_calls_and_responses_but_keeps_configuration(slack: SlackStandIn) -> None:
    slack.add_user("U0ALICE")
    call(slack, "chat_postMessage", channel="C1", text="hi")
    slack.responses.append({"id": "R1", "text": "x"})
    slack.clear()
    assert (slack.calls, slack.responses, slack.requests) == ([], [], [])
    assert "U0ALICE" in slack.users and len(slack.messages) == 1


# --- response_url ---------------------------------------------------------------------------------------


def test_response_url_records_the_response_and_answers_ok_in_plain_text(slack: SlackStandIn) -> None:
    url = slack.response_url("cmd-1")
    assert url == f"{slack.url}/response/cmd-1"
    assert slack.response_url() != slack.response_url()

    async def go() -> list[tuple[int, str]]:
        hook = AsyncWebhookClient(url)
        ok = await hook.send(text="Digest coming up", response_type="ephemeral")
        empty = await hook.send(response_type="in_channel")
        deleted = await hook.send(delete_original=True)
        return [(r.status_code, r.body) for r in (ok, empty, deleted)]

    assert asyncio.run(go()) == [(200, "ok"), (400, "no_text"), (200, "ok")]
    assert slack.responses == [
        {"id": "cmd-1", "text": "Digest coming up", "response_type": "ephemeral"},
        {"id": "cmd-1", "delete_original": True},
    ]


def test_response_url_refuses_invalid_blocks(slack: SlackStandIn) -> None:
    async def go() -> tuple[int, str]:
        r = await AsyncWebhookClient(slack.response_url()).send(text="x", blocks=[DIVIDER] * 51)
        return r.status_code, r.body

    assert asyncio.run(go()) == (400, "invalid_blocks")
    assert slack.responses == []


# --- Socket Mode ----------------------------------------------------------------------------------------


def test_socket_mode_greets_with_hello_and_answers_pings(socket_mode: SocketModeStandIn) -> None:
    async def go() -> tuple[dict[str, Any], bytes]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_mode.url, autoping=False) as ws:
            hello = await ws.receive_json(timeout=5)
            await ws.ping(b"sdk-ping-pong:123.4")
            pong = await ws.receive(timeout=5)
            assert pong.type == aiohttp.WSMsgType.PONG
            return hello, pong.data

    hello, pong = asyncio.run(go())
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A0TEST"}
    assert pong == b"sdk-ping-pong:123.4"


def test_send_envelope_without_a_client_times_out(socket_mode: SocketModeStandIn) -> None:
    with pytest.raises(TimeoutError):
        socket_mode.send_envelope("events_api", {"type": "event_callback"}, timeout=0.05)


def slash_command(slack: SlackStandIn, text: str = "today") -> dict[str, Any]:
    """A slash command payload as Socket Mode delivers it (the form fields of an HTTP-mode command)."""
    return {
        "token": "verification-token",
        "team_id": "T0TEST",
        "team_domain": "example",
        "channel_id": "C0DIGEST",
        "channel_name": "arxiv-digest",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "command": "/arxiv",
        "text": text,
        "api_app_id": "A0TEST",
        "is_enterprise_install": "false",
        "response_url": slack.response_url("cmd-1"),
        "trigger_id": "1.2.trigger",
    }


def test_slack_sdk_socket_mode_client_receives_a_slash_command_and_acks(
    slack: SlackStandIn, socket_mode: SocketModeStandIn
) -> None:
    received: list[SocketModeRequest] = []

    async def go() -> dict[str, Any]:
        sm_client = SocketModeClient(app_token="xapp-test", web_client=AsyncWebClient(base_url=slack.base_url))

        async def on_request(c: SocketModeClient, req: SocketModeRequest) -> None:
            received.append(req)
            await c.send_socket_mode_response(SocketModeResponse(req.envelope_id, {"text": "On it"}))

        sm_client.socket_mode_request_listeners.append(on_request)
        try:
            await sm_client.connect()
            envelope_id = socket_mode.send_envelope("slash_commands", slash_command(slack))
            return await socket_mode.wait_ack_async(envelope_id)
        finally:
            await sm_client.close()

    ack = asyncio.run(go())
    assert ack == {"envelope_id": received[0].envelope_id, "payload": {"text": "On it"}}
    assert (received[0].type, received[0].accepts_response_payload) == ("slash_commands", True)
    assert received[0].payload["command"] == "/arxiv"
    assert [c.token for c in slack.calls_to("apps.connections.open")] == ["xapp-test"]


def test_disconnect_makes_the_client_reconnect_through_apps_connections_open(
    slack: SlackStandIn, socket_mode: SocketModeStandIn
) -> None:
    async def go() -> dict[str, Any]:
        sm_client = SocketModeClient(app_token="xapp-test", web_client=AsyncWebClient(base_url=slack.base_url))

        async def on_request(c: SocketModeClient, req: SocketModeRequest) -> None:
            await c.send_socket_mode_response(SocketModeResponse(req.envelope_id))

        sm_client.socket_mode_request_listeners.append(on_request)
        try:
            await sm_client.connect()
            await socket_mode.wait_connected_async(1)
            socket_mode.send_disconnect()
            await socket_mode.wait_connected_async(2)
            await until(lambda: socket_mode.connections == 1)
            envelope_id = socket_mode.send_envelope("events_api", {"type": "event_callback", "event": {}})
            return await socket_mode.wait_ack_async(envelope_id)
        finally:
            await sm_client.close()

    assert set(asyncio.run(go())) == {"envelope_id"}
    assert len(slack.calls_to("apps.connections.open")) == 2
    assert socket_mode.connects == 2


def test_bolt_app_over_socket_mode_acks_responds_and_posts(slack: SlackStandIn, socket_mode: SocketModeStandIn) -> None:
    async def go() -> dict[str, Any]:
        app = AsyncApp(client=client(slack), signing_secret="unused-in-socket-mode")

        @app.command("/arxiv")
        async def digest(ack: Any, respond: Any, say: Any, command: dict[str, Any]) -> None:
            await ack("Working on it")
            await respond(f"Digest for {command['text']} coming up")
            await say(text="Today's digest", blocks=[{"type": "header", "text": plain("Today's digest")}])

        handler = AsyncSocketModeHandler(app, "xapp-test")
        try:
            await handler.connect_async()
            envelope_id = socket_mode.send_envelope("slash_commands", slash_command(slack))
            ack = await socket_mode.wait_ack_async(envelope_id)
            await until(lambda: bool(slack.posted()) and bool(slack.responses))
            return ack
        finally:
            await handler.close_async()

    ack = asyncio.run(go())
    assert ack["payload"] == {"text": "Working on it"}
    assert slack.responses == [{"id": "cmd-1", "text": "Digest for today coming up"}]
    (post,) = slack.posted("C0DIGEST")
    assert post.args["text"] == "Today's digest"
    assert slack.calls_to("auth.test")  # bolt authorized the request through the stand-in
