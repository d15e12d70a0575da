"""The Discord REST stand-in behaves like Discord, as seen through discord.py's real HTTP layer and raw HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import discord
import httpx
import pytest

from tests.support.discord_api import (
    APP_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    DiscordStandIn,
    RateLimit,
    logged_in,
    snowflake,
    snowflake_time,
)
from tests.support.http import Malformed, Status

BOT = {"Authorization": "Bot test-token"}


@pytest.fixture
def http(discord_api: DiscordStandIn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=discord_api.api_base, headers=BOT, timeout=5) as client:
        yield client


def buttons_view(n_rows: int = 1, per_row: int = 2) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row in range(n_rows):
        for i in range(per_row):
            view.add_item(discord.ui.Button(label=f"B{row}{i}", custom_id=f"arxiv:test:{row}:{i}", row=row))
    return view


def send(embeds: list[discord.Embed], view: discord.ui.View | None = None, content: str | None = None) -> Any:
    """Post one message through discord.Client / PartialMessageable, like the bot will."""

    async def main() -> discord.Message:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            channel = client.get_partial_messageable(CHANNEL_ID)
            if view is None:
                return await channel.send(content, embeds=embeds)
            return await channel.send(content, embeds=embeds, view=view)

    return asyncio.run(main())


# --- through discord.py -------------------------------------------------------------------------------


def test_message_with_embed_and_buttons_is_recorded(discord_api: DiscordStandIn) -> None:
    embed = discord.Embed(title="Paper", url="https://arxiv.org/abs/2503.01234", description="**R 9 · N 7**")
    embed.add_field(name="Authors", value="A. Person, B. Person")
    message = send([embed], buttons_view())

    [stored] = discord_api.messages(CHANNEL_ID)
    assert message.id == int(stored["id"]) and message.channel.id == CHANNEL_ID
    assert message.author.id == BOT_USER_ID and message.author.bot
    assert message.embeds[0].title == "Paper" and message.embeds[0].fields[0].value == "A. Person, B. Person"
    assert stored["embeds"][0]["type"] == "rich"
    assert [b["custom_id"] for b in stored["components"][0]["components"]] == ["arxiv:test:0:0", "arxiv:test:0:1"]
    assert abs(snowflake_time(stored["id"]) - time.time()) < 5
    assert message.created_at.timestamp() == pytest.approx(snowflake_time(stored["id"]), abs=0.001)


def test_429_is_retried_by_discord_py_and_the_message_recorded_once(discord_api: DiscordStandIn) -> None:
    async def main() -> float:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            discord_api.ratelimit_next(1, retry_after=0.2)  # after login, which would consume it otherwise
            started = time.monotonic()
            await client.get_partial_messageable(CHANNEL_ID).send(embed=discord.Embed(title="once"))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    posts = discord_api.requests_to(f"/channels/{CHANNEL_ID}/messages")
    assert [r.status for r in posts] == [429, 200]
    assert elapsed >= 0.2  # discord.py slept retry_after from the body
    assert [m["embeds"][0]["title"] for m in discord_api.messages(CHANNEL_ID)] == ["once"]


def test_global_429_is_retried_too(discord_api: DiscordStandIn) -> None:
    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            discord_api.add_fault(RateLimit(retry_after=0.05, scope="global"))
            await client.get_partial_messageable(CHANNEL_ID).send("hello")

    asyncio.run(main())
    assert len(discord_api.messages(CHANNEL_ID)) == 1


def test_embed_over_limits_raises_http_exception_50035(discord_api: DiscordStandIn) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        send([discord.Embed(title="x" * 257)])
    assert caught.value.status == 400 and caught.value.code == 50035
    assert "embeds.0.title" in caught.value.text
    assert discord_api.messages(CHANNEL_ID) == []


def test_status_faults_map_to_discord_py_exceptions(discord_api: DiscordStandIn) -> None:
    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            discord_api.add_fault(Status(403))
            with pytest.raises(discord.Forbidden) as caught:
                await client.get_partial_messageable(CHANNEL_ID).send("hi")
            assert caught.value.code == 50013

    asyncio.run(main())


def test_edit_message_through_discord_py(discord_api: DiscordStandIn) -> None:
    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            message = await client.get_partial_messageable(CHANNEL_ID).send("draft", view=buttons_view())
            edited = await message.edit(content="final", embed=discord.Embed(description="done"), view=None)
            assert edited.content == "final"

    asyncio.run(main())
    [stored] = discord_api.messages(CHANNEL_ID)
    assert stored["content"] == "final" and stored["components"] == [] and stored["edited_timestamp"]


def test_login_fetches_user_and_application(discord_api: DiscordStandIn) -> None:
    async def main() -> tuple[int | None, int | None]:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            return (client.user.id if client.user else None), client.application_id

    assert asyncio.run(main()) == (BOT_USER_ID, APP_ID)
    assert [r.path for r in discord_api.requests] == ["/api/v10/users/@me", "/api/v10/oauth2/applications/@me"]


def test_bad_token_is_a_login_failure(discord_api: DiscordStandIn) -> None:
    discord_api.token = "right"

    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default()), token="wrong"):
            pass

    with pytest.raises(discord.LoginFailure):
        asyncio.run(main())


def test_fetch_channel_and_member(discord_api: DiscordStandIn) -> None:
    discord_api.add_channel(CHANNEL_ID, "arxiv-digest")
    discord_api.add_member(42, username="alice", roles=(7,))

    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            channel = await client.fetch_channel(CHANNEL_ID)
            assert isinstance(channel, discord.TextChannel) and channel.name == "arxiv-digest"
            assert channel.guild.id == GUILD_ID
            member = await channel.guild.fetch_member(42)
            assert (member.id, member.name, member._roles.tolist()) == (42, "alice", [7])
            with pytest.raises(discord.NotFound):
                await channel.guild.fetch_member(43)

    asyncio.run(main())


# --- raw HTTP: shapes and limits ----------------------------------------------------------------------


def test_normal_answers_carry_ratelimit_headers(http: httpx.Client) -> None:
    r = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "hi"})
    assert r.status_code == 200
    assert int(r.headers["X-RateLimit-Limit"]) > int(r.headers["X-RateLimit-Remaining"]) > 0
    assert float(r.headers["X-RateLimit-Reset"]) > time.time()
    assert float(r.headers["X-RateLimit-Reset-After"]) > 0
    same_bucket = http.post(f"/channels/{CHANNEL_ID + 1}/messages", json={"content": "hi"})
    assert r.headers["X-RateLimit-Bucket"] == same_bucket.headers["X-RateLimit-Bucket"]
    assert http.get("/users/@me").headers["X-RateLimit-Bucket"] != r.headers["X-RateLimit-Bucket"]


def test_429_shape(discord_api: DiscordStandIn, http: httpx.Client) -> None:
    discord_api.ratelimit_next(retry_after=1.5)
    discord_api.add_fault(Status(429))
    r = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "hi"})
    assert r.status_code == 429
    assert r.json() == {"message": "You are being rate limited.", "retry_after": 1.5, "global": False}
    assert r.headers["Retry-After"] == "2"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.headers["X-RateLimit-Reset-After"] == "1.500"
    assert r.headers["X-RateLimit-Scope"] == "user"
    assert r.headers["Via"]  # discord.py treats a 429 without Via as a Cloudflare ban and gives up
    for name in ("X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Bucket"):
        assert name in r.headers
    bare = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "hi"})
    assert bare.status_code == 429 and bare.json()["retry_after"] == discord_api.default_retry_after
    assert http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "hi"}).status_code == 200


def field(name: str = "n", value: str = "v") -> dict[str, str]:
    return {"name": name, "value": value}


TOO_BIG: dict[str, tuple[dict[str, Any], str]] = {
    "content": ({"content": "x" * 2001}, "content"),
    "title": ({"embeds": [{"title": "x" * 257}]}, "embeds.0.title"),
    "description": ({"embeds": [{"description": "x" * 4097}]}, "embeds.0.description"),
    "fields": ({"embeds": [{"fields": [field()] * 26}]}, "embeds.0.fields"),
    "field name": ({"embeds": [{"fields": [field(name="x" * 257)]}]}, "embeds.0.fields.0.name"),
    "field value": ({"embeds": [{"fields": [field(value="x" * 1025)]}]}, "embeds.0.fields.0.value"),
    "empty field value": ({"embeds": [{"fields": [field(value="")]}]}, "embeds.0.fields.0.value"),
    "footer": ({"embeds": [{"footer": {"text": "x" * 2049}}]}, "embeds.0.footer.text"),
    "author": ({"embeds": [{"author": {"name": "x" * 257}}]}, "embeds.0.author.name"),
    "total": ({"embeds": [{"description": "x" * 4000}, {"description": "x" * 2001}]}, "embeds"),
    "embed count": ({"embeds": [{"title": "t"}] * 11}, "embeds"),
    "url": ({"embeds": [{"title": "t", "url": "arxiv.org/abs/1"}]}, "embeds.0.url"),
    "rows": ({"components": [{"type": 1, "components": [{"type": 2, "style": 5, "url": "https://a.b"}]}] * 6}, ""),
    "buttons": (
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": str(i)} for i in range(6)]}]},
        "components.0.components",
    ),
    "label": (
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "a", "label": "x" * 81}]}]},
        "components.0.components.0.label",
    ),
    "custom_id": (
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x" * 101}]}]},
        "components.0.components.0.custom_id",
    ),
    "duplicate custom_id": (
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "a"}] * 2}]},
        "components.0.components.1.custom_id",
    ),
}


def _error_at(errors: dict[str, Any], path: str) -> list[dict[str, str]]:
    node = errors
    for key in filter(None, path.split(".")):
        node = node[key]
    return node["_errors"]


@pytest.mark.parametrize("case", list(TOO_BIG))
def test_limits_are_rejected_like_discord(http: httpx.Client, discord_api: DiscordStandIn, case: str) -> None:
    body, path = TOO_BIG[case]
    r = http.post(f"/channels/{CHANNEL_ID}/messages", json=body)
    assert r.status_code == 400
    error = r.json()
    assert error["code"] == 50035 and error["message"] == "Invalid Form Body"
    path = path or "components"
    assert _error_at(error["errors"], path)[0]["code"]
    assert discord_api.messages(CHANNEL_ID) == []


def test_limits_are_inclusive(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    rows = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 1, "label": "x" * 80, "custom_id": f"{r}{i}".rjust(100, "c")} for i in range(5)
            ],
        }
        for r in range(5)
    ]
    body = {
        "content": "x" * 2000,
        "embeds": [
            {"title": "x" * 256, "description": "x" * 4096, "fields": [field("x" * 256, "x" * 1024)]},
            {"footer": {"text": "x" * 368}},
        ],  # 256 + 4096 + 256 + 1024 + 368 == 6000
        "components": rows,
    }
    assert http.post(f"/channels/{CHANNEL_ID}/messages", json=body).status_code == 200
    assert len(discord_api.messages(CHANNEL_ID)) == 1


def test_empty_message_is_refused(http: httpx.Client) -> None:
    r = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "  "})
    assert (r.status_code, r.json()["code"]) == (400, 50006)


def test_edit_unknown_message_and_validation(http: httpx.Client) -> None:
    created = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "a"}).json()
    r = http.patch(f"/channels/{CHANNEL_ID}/messages/{created['id']}", json={"embeds": [{"title": "x" * 300}]})
    assert r.status_code == 400
    r = http.patch(f"/channels/{CHANNEL_ID}/messages/{int(created['id']) + 1}", json={"content": "b"})
    assert (r.status_code, r.json()["code"]) == (404, 10008)
    r = http.patch(f"/channels/{CHANNEL_ID}/messages/{created['id']}", json={"content": "b"})
    assert r.json()["content"] == "b" and r.json()["id"] == created["id"]
    assert http.get(f"/channels/{CHANNEL_ID}/messages/{created['id']}").json()["content"] == "b"


def test_auth_required_on_bot_routes_only(discord_api: DiscordStandIn) -> None:
    with httpx.Client(base_url=discord_api.api_base, timeout=5) as anonymous:
        r = anonymous.get("/users/@me")
        assert (r.status_code, r.json()) == (401, {"message": "401: Unauthorized", "code": 0})
        assert anonymous.get("/gateway").json()["url"].startswith("wss://")
        r = anonymous.post(f"/interactions/{snowflake()}/tok/callback", json={"type": 6})
        assert r.status_code == 204


def test_gateway_bot_and_unknown_things(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    assert http.get("/gateway/bot").json()["shards"] == 1
    assert http.get(f"/guilds/{GUILD_ID}/members/1").json()["code"] == 10007
    discord_api.auto_channels = False
    r = http.get(f"/channels/{CHANNEL_ID}")
    assert (r.status_code, r.json()["code"]) == (404, 10003)
    assert http.get("/nope").status_code == 404


def test_interaction_callbacks_are_recorded_once(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    iid = snowflake()
    body = {"type": 4, "data": {"content": "hi", "flags": 64}}
    first = http.post(f"/interactions/{iid}/tok/callback", params={"with_response": "1"}, json=body)
    assert first.status_code == 200
    answer = first.json()
    assert answer["interaction"]["id"] == str(iid) and answer["interaction"]["response_message_ephemeral"]
    assert answer["resource"]["message"]["content"] == "hi"
    second = http.post(f"/interactions/{iid}/tok/callback", json={"type": 6})
    assert (second.status_code, second.json()["code"]) == (400, 40060)
    [recorded] = discord_api.interaction_responses
    assert recorded == {
        "interaction_id": str(iid),
        "token": "tok",
        "type": 4,
        "data": {"content": "hi", "flags": 64},
        "message_id": answer["resource"]["message"]["id"],
    }
    too_long = http.post(f"/interactions/{snowflake()}/t2/callback", json={"type": 4, "data": {"content": "x" * 2001}})
    assert too_long.json()["code"] == 50035


def test_followups_need_a_callback_first(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    r = http.post(f"/webhooks/{APP_ID}/late/", params={"wait": "1"}, json={"content": "x"})
    assert (r.status_code, r.json()["code"]) == (404, 10015)
    assert http.patch(f"/webhooks/{APP_ID}/late/messages/@original", json={"content": "x"}).status_code == 404
    http.post(f"/interactions/{snowflake()}/tok/callback", json={"type": 5})
    edited = http.patch(f"/webhooks/{APP_ID}/tok/messages/@original", json={"content": "done"}).json()
    assert edited["content"] == "done" and not edited["flags"] & (1 << 7)  # no longer "thinking"
    sent = http.post(f"/webhooks/{APP_ID}/tok", params={"wait": "1"}, json={"content": "more"}).json()
    again = http.patch(f"/webhooks/{APP_ID}/tok/messages/{sent['id']}", json={"content": "more!"}).json()
    assert again["content"] == "more!"
    assert [f["kind"] for f in discord_api.followups] == ["original", "create", "edit"]


def test_interaction_deadline(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    discord_api.enforce_interaction_deadline = True
    old = snowflake(time.time() - 4)
    r = http.post(f"/interactions/{old}/tok/callback", json={"type": 6})
    assert (r.status_code, r.json()["code"]) == (404, 10062)
    assert http.post(f"/interactions/{snowflake()}/tok/callback", json={"type": 6}).status_code == 204


def test_modal_callback_is_validated(http: httpx.Client) -> None:
    modal = {"custom_id": "m", "title": "x" * 46, "components": []}
    r = http.post(f"/interactions/{snowflake()}/tok/callback", json={"type": 9, "data": modal})
    errors = r.json()["errors"]["data"]
    assert set(errors) == {"title", "components"}


def test_command_sync_echoes_with_stable_ids(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    commands = [{"name": "arxiv", "description": "digest", "type": 1, "options": []}]
    first = http.put(f"/applications/{APP_ID}/commands", json=commands).json()
    second = http.put(f"/applications/{APP_ID}/commands", json=commands).json()
    assert first[0]["id"] == second[0]["id"] and first[0]["application_id"] == str(APP_ID)
    guild = http.put(f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", json=commands).json()
    assert guild[0]["guild_id"] == str(GUILD_ID) and guild[0]["id"] != first[0]["id"]
    assert http.get(f"/applications/{APP_ID}/commands").json() == second
    bad = http.put(f"/applications/{APP_ID}/commands", json=[{"name": "Bad Name", "description": ""}])
    assert set(bad.json()["errors"]["0"]) == {"name", "description"}


def test_malformed_and_server_errors(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    discord_api.add_fault(Malformed(), Status(500))
    with pytest.raises(ValueError):
        http.get("/users/@me").json()
    r = http.get("/users/@me")
    assert (r.status_code, r.json()) == (500, {"message": "500: Internal Server Error", "code": 0})


def test_reaction_by_the_bot(http: httpx.Client, discord_api: DiscordStandIn) -> None:
    message = http.post(f"/channels/{CHANNEL_ID}/messages", json={"content": "vote"}).json()
    assert http.put(f"/channels/{CHANNEL_ID}/messages/{message['id']}/reactions/👍/@me").status_code == 204
    [stored] = discord_api.messages(CHANNEL_ID)
    assert stored["reactions"] == [{"count": 1, "me": True, "emoji": {"id": None, "name": "👍"}}]
