"""Reading an app_mention event and finding a message's thread root, with the real Web API client on the stand-in."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.app import make_client
from adapters.slack.config import SlackSettings
from adapters.slack.threads import Mention, question_text, read_mention, thread_root
from tests.adapters.slack.harness import CHANNEL, MEMBER
from tests.support.slack_api import SlackStandIn

FIXTURES = Path(__file__).parents[2] / "fixtures" / "slack"


def sample_event() -> dict[str, Any]:
    """The app_mention of python-slack-sdk's recorded Socket Mode envelope (bot U111, member U222)."""
    envelope = json.loads((FIXTURES / "app_mention_envelope.json").read_text(encoding="utf-8"))
    return copy.deepcopy(envelope["payload"]["event"])


def test_a_recorded_mention_reads_as_a_question_without_the_bots_mention() -> None:
    event = sample_event() | {"text": "<@U111> which dataset do they use?"}
    mention = read_mention(event, "U111")
    assert mention == Mention("C111", "U222", "1610241741.000200", None, "which dataset do they use?")
    threaded = read_mention(event | {"thread_ts": "1610241700.000100", "parent_user_id": "U111"}, "U111")
    assert isinstance(threaded, Mention) and threaded.thread == "1610241700.000100"


def test_only_the_bots_own_mention_is_removed_and_an_unknown_bot_id_removes_the_leading_one() -> None:
    assert question_text("<@U111|arxiv> does <@U333> agree? <@U111>", "U111") == "does <@U333> agree?"
    assert question_text("  <@U111>   3   what is new?", None) == "3 what is new?"
    assert question_text("ask <@U111> later", None) == "ask <@U111> later"
    assert question_text("<@U111>", "U111") == ""


def test_slacks_markup_reaches_the_core_as_it_was_typed() -> None:
    typed = ("<@U111> is <http://arxiv.org/abs/2503.10003|arxiv.org/abs/2503.10003> like <https://x.org|this one>? "
             "<!here> <#C123|papers> a &lt;b&gt; &amp;amp;")
    assert question_text(typed, "U111") == ("is http://arxiv.org/abs/2503.10003 like this one? @here #papers a <b> "
                                            "&amp;")
    assert question_text("<@U111> <https://arxiv.org/abs/2503.10003v2>", "U111") == \
        "https://arxiv.org/abs/2503.10003v2"
    assert question_text("<!subteam^S1|@readers> <!channel>", None) == "@readers @channel"


def test_bot_messages_edits_and_other_subtypes_are_not_questions() -> None:
    event = sample_event()
    assert read_mention(event | {"bot_id": "B1"}, "U111") == "written by a bot"
    assert read_mention(event | {"edited": {"user": "U222", "ts": "1.2"}}, "U111") == \
        "an edit or a message of another kind"
    assert read_mention(event | {"subtype": "message_changed"}, "U111") == "an edit or a message of another kind"
    assert isinstance(read_mention(event | {"subtype": "thread_broadcast"}, "U111"), Mention)
    for broken in ({"channel": None}, {"user": 7}, {"ts": ""}, {"text": ["x"]}):
        assert read_mention(event | broken, "U111") == "no channel, user, ts or text"


def test_a_replys_thread_root_is_its_parent_and_a_top_level_message_is_its_own(slack: SlackStandIn) -> None:
    root = slack.add_message(CHANNEL, MEMBER, "the day's summary")
    reply = slack.add_message(CHANNEL, MEMBER, "a paper", thread_ts=root)
    client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")

    async def roots() -> list[str | None]:
        return [await thread_root(client, CHANNEL, ts) for ts in (reply, root, "1.000000")]

    assert asyncio.run(roots()) == [root, root, None]  # a ts Slack does not know: thread_not_found, logged
    assert slack.thread(CHANNEL, root)[0]["parent_user_id"] == MEMBER


def test_without_the_history_scope_the_root_is_unknown_and_the_log_says_what_to_add(
    slack: SlackStandIn, caplog: Any
) -> None:
    root = slack.add_message(CHANNEL, MEMBER, "the day's summary")
    slack.bot_scopes = "commands,chat:write"
    client = make_client(SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url), "xoxb-test")
    assert asyncio.run(thread_root(client, CHANNEL, root)) is None
    assert "missing_scope" in caplog.text and "channels:history" in caplog.text


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.lists(st.text(max_size=5)),
                    st.dictionaries(st.text(max_size=5), st.text(max_size=5)))


@given(fields=st.dictionaries(st.sampled_from(["type", "user", "text", "ts", "channel", "thread_ts", "subtype",
                                               "bot_id", "edited", "bot_profile", "event_ts"]), _VALUES))
def test_any_event_reads_as_a_mention_or_a_reason_and_never_raises(fields: dict[str, Any]) -> None:
    read = read_mention(sample_event() | fields, "U111")
    assert isinstance(read, str | Mention)
    if isinstance(read, Mention):
        assert read.channel and read.user and read.ts and "<@U111>" not in read.text and "\n" not in read.text


@given(text=st.text(alphabet=st.sampled_from(list("<>@|!#&;ltgampU1 \nx:/.")), max_size=80))
def test_any_text_reads_back_without_the_bots_mention_on_one_line(text: str) -> None:
    shown = question_text(text, "U1")
    assert "<@U1>" not in shown and "<@U1|" not in shown and "\n" not in shown and shown == shown.strip()
