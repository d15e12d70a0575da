"""The inline markdown Slack and Discord write alike; each platform's Markup subclasses it for what differs."""

from __future__ import annotations

BACKTICK_LOOKALIKE = "ˋ"  # a modifier letter that looks like a backtick but never opens or closes code


class Markdown:
    """Bold, inline code, ``/arxiv`` commands and mentions (a platform's block, link and escape are its own)."""

    def bold(self, text: str) -> str:
        return f"*{text}*"

    def code(self, text: str) -> str:
        return f"`{text.replace('`', BACKTICK_LOOKALIKE)}`"

    def command(self, text: str) -> str:
        return self.code(f"/arxiv {text}")

    def mention(self, user: str) -> str:
        return f"<@{user}>"
