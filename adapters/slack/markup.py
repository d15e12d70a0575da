"""Slack mrkdwn for the command core's replies."""

from __future__ import annotations

from adapters.slack.blocks import escape, link, literal


class SlackMarkup:
    def bold(self, text: str) -> str:
        return f"*{text}*"

    def code(self, text: str) -> str:
        return f"`{text.replace('`', 'ˋ')}`"

    def command(self, text: str) -> str:
        return self.code(f"/arxiv {text}")

    def block(self, text: str) -> str:
        return f"```{escape(text).replace('```', 'ˋˋˋ')}```"

    def link(self, url: str, text: str) -> str:
        return link(url, text)

    def mention(self, user: str) -> str:
        return f"<@{user}>"

    def escape(self, text: str) -> str:
        return literal(text)
