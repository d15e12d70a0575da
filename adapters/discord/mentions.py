"""Questions to the bot on Discord: a member's message that names the bot, read into what the core needs.

No privileged intent: Discord sends the text of a message "in which the app is mentioned" without the Message
Content intent (its gateway docs, "Message Content Intent"). A reply to the bot's own message also lists the bot
among its mentions (the reply ping) without naming it in the text; that is someone answering a paper message,
not a question, so only a message that writes the mention (``<@id>``) is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

# The empty text of a message that does name the bot: Discord withheld it (no intent, an odd client) or it was
# only an attachment. Said once per such message, with what would fix it.
NO_TEXT = ("I got your message without its text, so there is no question to answer. Write the question in the "
           "same message as the mention, e.g. “@arxiv-digest which dataset do they use?”. If every question "
           "arrives empty, the bot needs the Message Content intent: Developer Portal → your app → Bot → "
           "Privileged Gateway Intents.")


@dataclass(frozen=True)
class Question:
    """Where a question was asked and what it says."""

    guild: int
    channel: int  # the channel the digest was posted in (a thread's parent)
    thread: int | None  # the thread it was written in
    replied_to: int | None  # the message it replies to, in the same channel
    text: str  # without the bot's mention


def names_bot(message: discord.Message, bot: int) -> bool:
    """Whether ``message`` mentions the bot in its text (not only by replying to one of its messages)."""
    return any(user.id == bot for user in message.mentions) and bot in message.raw_mentions


def without_mention(text: str, bot: int) -> str:
    """The text without the bot's mention (``<@id>`` or the older ``<@!id>``), on one line."""
    return " ".join(re.sub(rf"<@!?{bot}>", " ", text).split())


def replied_to(message: discord.Message) -> int | None:
    """The message this one replies to, when it is a reply (not a forward) in the same channel."""
    reference = message.reference
    if reference is None or reference.type is not discord.MessageReferenceType.reply or reference.message_id is None:
        return None
    return reference.message_id if reference.channel_id == message.channel.id else None
