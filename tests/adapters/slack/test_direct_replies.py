"""Replies meant for one person (``Reply.direct``) go to their DM with the bot, through the real bolt app.

A core that answers ``stats`` (fast) and ``run`` (slow: acknowledged
first) by DM stands in; everything else, and every Web API call, is real (the Slack stand-in answers them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.config import BOT_SCOPES, SlackSettings
from bot.bootstrap import build_service
from bot.chat.commands import DIRECT_SENT
from tests.adapters.slack.harness import ADMIN, CHANNEL, MEMBER, SlackHarness, serve_http, text_of, until
from tests.support.chat import DirectCore
from tests.support.slack_api import SlackStandIn

Scenario = Callable[[Callable[[SlackHarness], Awaitable[None]]], None]


@pytest.fixture
def scenario(make_settings: Callable[..., Any], slack: SlackStandIn) -> Iterator[Scenario]:
    """Run ``test(harness)`` against the Slack app (HTTP mode) with a DirectCore."""

    def run(test: Callable[[SlackHarness], Awaitable[None]]) -> None:
        serve_http(make_settings(), slack, test, lambda settings, store: DirectCore(build_service(settings, store)))
        assert not slack.errors, slack.errors

    yield run


async def responses(slack: SlackStandIn, count: int) -> list[dict[str, Any]]:
    """The first ``count`` response_url answers, once they are all there."""
    await until(lambda: len(slack.responses) >= count)
    await asyncio.sleep(0.05)  # anything more would arrive right behind them
    return list(slack.responses)


# --- delivered -----------------------------------------------------------------------------------------


def test_a_direct_reply_arrives_in_the_callers_dm_and_the_command_is_confirmed_privately(scenario, slack):
    async def test(h: SlackHarness) -> None:
        confirmation = await h.say("stats", MEMBER)
        assert confirmation["response_type"] == "ephemeral" and confirmation["text"] == DIRECT_SENT
        [dm] = slack.direct_messages(MEMBER)
        assert "*Your reading list*\nOnly for you: three papers" in text_of(dm)  # mrkdwn, as in every reply
        assert [b["type"] for b in dm["blocks"]] == ["section"] and dm["blocks"][0]["text"]["type"] == "mrkdwn"
        [opened] = slack.calls_to("conversations.open")
        assert opened.args["users"] == MEMBER and opened.response["channel"]["id"].startswith("D")
        # Nothing in the channel: no message, no public answer, no other ephemeral.
        assert slack.posted(CHANNEL) == [] and slack.calls_to("chat.postEphemeral") == []
        assert len(await responses(slack, 1)) == 1
        await h.say("stats", MEMBER)  # the same DM channel again
        assert len(slack.direct_messages(MEMBER)) == 2
        assert len({c.args["channel"] for c in slack.posted()}) == 1
        assert slack.direct_messages(ADMIN) == []

    scenario(test)


def test_a_slow_command_is_acknowledged_first_then_its_direct_reply_is_sent(scenario, slack):
    async def test(h: SlackHarness) -> None:
        response = await h.command("run", MEMBER)
        assert response.status_code == 200 and "Working on it" in response.text
        [confirmation] = await responses(slack, 1)
        assert confirmation["response_type"] == "ephemeral" and DIRECT_SENT in text_of(confirmation)
        [dm] = slack.direct_messages(MEMBER)
        assert "three papers you starred" in text_of(dm) and slack.posted(CHANNEL) == []

    scenario(test)


def test_a_long_direct_reply_is_split_into_sections_like_every_other_reply(scenario, slack):
    async def test(h: SlackHarness) -> None:
        lines = [f"{i}. A paper title that is long enough to fill a line of the list ({i})" for i in range(120)]
        assert isinstance(h.core, DirectCore)
        h.core.text = "\n".join(lines)  # about 9,000 characters: more than three sections hold
        await h.say("stats", MEMBER)
        [dm] = slack.direct_messages(MEMBER)
        sections = [b["text"]["text"] for b in dm["blocks"]]
        assert len(sections) >= 3 and all(len(s) <= 3000 for s in sections)
        assert "\n".join(sections).count("A paper title") == 120  # cut at line breaks, nothing lost
        assert len(dm["text"]) <= 3000  # the notification text is cut, the blocks are not

    scenario(test)


# --- refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("refuse", "caller", "fix"),
    [
        (lambda slack: slack.fail_method("conversations.open", needed="im:write"), MEMBER,
         "Ask a workspace admin to reinstall the app (it needs the im:write scope)"),
        (lambda slack: slack.add_user("UHELPER", bot=True), "UHELPER",
         "Slack does not let apps send direct messages to bot users"),
        (lambda slack: None, "someone", "Slack did not find your account"),  # not a Slack user ID: user_not_found
    ],
    ids=["missing_scope", "cannot_dm_bot", "user_not_found"],
)
def test_a_refused_dm_is_explained_and_the_reply_shown_privately_instead(scenario, slack, refuse, caller, fix):
    async def test(h: SlackHarness) -> None:
        refuse(slack)
        await h.command("stats", caller)
        note, shown = await responses(slack, 2)
        assert note["response_type"] == shown["response_type"] == "ephemeral"
        assert text_of(note).startswith("I could not send you a direct message: ") and fix in text_of(note)
        assert "Here it is instead" in text_of(note)
        assert "*Your reading list*\nOnly for you: three papers" in text_of(shown)
        assert slack.calls_to("chat.postMessage") == [] and slack.direct_messages(caller) == []

    scenario(test)


def test_the_app_asks_for_the_scope_that_opens_dms():
    assert "im:write" in BOT_SCOPES and "im:write" in SlackSettings(_env_file=None).scopes


# --- the stand-in's DMs ----------------------------------------------------------------------------------


def test_the_standin_opens_one_stable_dm_per_user_and_posts_only_to_opened_ones(slack):
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    first = client.conversations_open(users=MEMBER)
    again = client.conversations_open(users=MEMBER, return_im=True)
    assert first["channel"] == {"id": slack.ims[MEMBER]} and "already_open" not in first.data
    assert again["already_open"] and again["channel"]["id"] == first["channel"]["id"]
    assert again["channel"]["is_im"] and again["channel"]["user"] == MEMBER
    assert client.conversations_open(users=ADMIN)["channel"]["id"] != first["channel"]["id"]
    client.chat_postMessage(channel=first["channel"]["id"], text="hello")
    assert [m["text"] for m in slack.direct_messages(MEMBER)] == ["hello"]
    with pytest.raises(SlackApiError) as never_opened:
        client.chat_postMessage(channel="D99999999", text="hello")
    assert never_opened.value.response["error"] == "channel_not_found"


@pytest.mark.parametrize(
    ("users", "error"),
    [("", "users_list_not_supplied"), ("nobody", "user_not_found"), ("UBOT", "cannot_dm_bot"),
     (f"{MEMBER},{ADMIN}", "invalid_arguments")],
)
def test_the_standin_refuses_dms_slack_would_refuse(slack, users, error):
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-test", base_url=slack.base_url).conversations_open(users=users)
    assert refused.value.response["error"] == error and slack.ims == {}


def test_a_failing_method_answers_like_slack_until_cleared(slack):
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    slack.fail_method("conversations.open", needed="im:write")
    with pytest.raises(SlackApiError) as refused:
        client.conversations_open(users=MEMBER)
    assert refused.value.response.data == {
        "ok": False, "error": "missing_scope", "needed": "im:write", "provided": slack.bot_scopes,
    }
    assert client.auth_test()["ok"]  # other methods are unaffected
    slack.method_errors.clear()
    assert client.conversations_open(users=MEMBER)["ok"]
