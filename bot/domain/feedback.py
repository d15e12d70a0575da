"""What an emoji means (the reaction map every platform shares, whether it names emoji (``+1``) or sends them),
and the signals people gave."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from bot.domain.statuses import FeedbackKind

KINDS = tuple(FeedbackKind)
DEFAULT_REACTIONS = "👍 ⭐ 🔥 = positive; 👎 = negative; 👀 = later"

# Some platforms report reactions by short name, others by the character. Both become the character.
_SHORTCODES = {
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "star": "⭐", "star2": "🌟",
    "fire": "🔥", "eyes": "👀", "heart": "❤", "tada": "🎉", "rocket": "🚀", "bookmark": "🔖",
    "white_check_mark": "✅", "heavy_check_mark": "✔", "x": "❌", "100": "💯", "clap": "👏",
    "raised_hands": "🙌", "heart_eyes": "😍", "thinking_face": "🤔", "memo": "📝", "books": "📚",
    "book": "📖", "brain": "🧠", "bulb": "💡", "sparkles": "✨", "question": "❓",
    "exploding_head": "🤯", "sleeping": "😴", "zzz": "💤", "no_entry_sign": "🚫", "pushpin": "📌",
}
# Skin tones (U+1F3FB–U+1F3FF) and the emoji presentation selector do not change the meaning.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def canonical(emoji: str) -> str:
    """``:+1::skin-tone-3:``, ``+1``, ``thumbsup``, ``👍🏽`` → ``👍``; unknown names stay ``:name:``."""
    text = emoji.strip()
    if text.startswith(":") or text.isascii():
        name = text.strip(":").split("::", 1)[0]
        return _SHORTCODES.get(name, f":{name}:")
    return _MODIFIERS.sub("", text)


def parse_reaction_map(value: str | dict[str, str]) -> dict[str, str]:
    """``"👍 ⭐ = positive; 👎 = negative"`` or a JSON object ``{emoji: kind}`` → ``{canonical emoji: kind}``."""
    if isinstance(value, str) and value.strip().startswith("{"):
        value = json.loads(value)
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        pairs = [(str(emoji), str(kind)) for emoji, kind in value.items()]
    else:
        for clause in value.split(";"):
            if not clause.strip():
                continue
            emojis, sep, kind = clause.rpartition("=")
            if not sep:
                raise ValueError(f"{clause.strip()!r} has no '= kind' (expected e.g. '👍 ⭐ = positive')")
            pairs += [(emoji, kind) for emoji in emojis.replace(",", " ").split()]
    mapping: dict[str, str] = {}
    for emoji, kind in pairs:
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError(f"{kind!r} is not a feedback kind; use one of {', '.join(KINDS)}")
        mapping[canonical(emoji)] = kind
    if not mapping:
        raise ValueError("the reaction map is empty")
    return mapping


@dataclass(frozen=True)
class Feedback:
    """One person's signal on one paper in a channel, as stored."""

    user: str
    arxiv_id: str
    kind: FeedbackKind
    emoji: str
    source: str  # reaction | button


@dataclass(frozen=True)
class Reaction:
    """One person's 👍 or 👎 on a paper, with the paper's text (for similarity) and the day it was given."""

    user: str
    arxiv_id: str
    title: str
    abstract: str
    kind: FeedbackKind  # positive or negative
    at: dt.datetime
