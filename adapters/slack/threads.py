"""Questions about a paper in Slack: the ``app_mention`` event read, and answers put in the right thread.

Slack posts a day's papers as replies in the thread of the day's summary, so "the paper's thread" is that
thread. A reply's own ``ts`` is not a thread to post in (chat.postMessage: "Avoid using a reply's ts value;
use its parent instead"), so a paper message named by the core is first turned into its thread's root with
conversations.replies, whose messages carry ``thread_ts`` (the root) for a reply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.http import clip

log = logging.getLogger(__name__)
# <@U123> or <@U123|name>: how a user mention is written in a message's text.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
# <target|label> or <target>: Slack's links, channels (#C…), special mentions (!here) and people (@U…).
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
# The subtypes of a message someone wrote; anything else (bot_message, message_changed…) is not a question.
_PLAIN_SUBTYPES = {None, "thread_broadcast"}


@dataclass(frozen=True)
class Mention:
    """A member's question to the bot, from an ``app_mention`` event."""

    channel: str
    user: str
    ts: str  # the mention message itself
    thread: str | None  # the thread it was written in (its root's ts), None at the channel's top level
    text: str  # without the bot's own mention


def read_mention(event: dict[str, Any], bot_user: str | None) -> Mention | str:
    """The mention in ``event``, or why it is not one to answer (a bot's message, an edit, fields missing)."""
    if event.get("bot_id") or event.get("bot_profile"):
        return "written by a bot"
    subtype = event.get("subtype")
    if not (subtype is None or (isinstance(subtype, str) and subtype in _PLAIN_SUBTYPES)) or event.get("edited"):
        return "an edit or a message of another kind"
    channel, user, ts, text = (event.get(key) for key in ("channel", "user", "ts", "text"))
    if not all(isinstance(value, str) and value for value in (channel, user, ts)) or not isinstance(text, str):
        return "no channel, user, ts or text"
    thread = event.get("thread_ts")
    assert isinstance(channel, str) and isinstance(user, str) and isinstance(ts, str)
    return Mention(channel, user, ts, thread if isinstance(thread, str) and thread else None,
                   question_text(text, bot_user))


def question_text(text: str, bot_user: str | None) -> str:
    """The message as its writer typed it, on one line, without the bot's own mention (other people's stay);
    without knowing the bot's ID, a mention at the very start is taken as the bot's (Slack sends app_mention
    only when it is named)."""
    if bot_user:
        text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user else m.group(0), text)
    else:
        text = re.sub(rf"^\s*{_MENTION.pattern}", "", text)
    return " ".join(plain(text).split())


def plain(text: str) -> str:
    """Slack's markup of a message read back as typed: a link Slack made of a typed address is that address
    with its scheme (so "arxiv.org/abs/2503.10003" reaches the core as a URL it reads), a named link its name,
    a channel its #name, a special mention its @word; &amp; &lt; &gt; unescaped last."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):  # <!here>, <!subteam^S1|@team>
            name = label or target[1:].split("^")[0]
            return name if name.startswith("@") else f"@{name}"
        if target.startswith("@"):
            return match.group(0)  # a person: kept as Slack writes it
        return target if not label or target.endswith(label) else label

    text = _LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def thread_root(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    """The ts of the thread ``ts`` belongs to: its parent's for a reply, its own for a top-level message; None
    when Slack does not say (the message is gone, a missing scope), which is logged."""
    try:
        response = await client.conversations_replies(channel=channel, ts=ts, limit=1)
    except SlackClientError as exc:
        error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else type(exc).__name__
        fix = " (add channels:history and groups:history, then reinstall)" if error == "missing_scope" else ""
        log.warning("Slack: could not find the thread of message %s in %s (%s)%s", clip(ts, 30), clip(channel, 30),
                    clip(error, 40), fix)
        return None
    messages = response.get("messages")
    first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    root = first.get("thread_ts") or first.get("ts")
    return root if isinstance(root, str) and root else None
