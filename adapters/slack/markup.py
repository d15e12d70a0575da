"""Slack mrkdwn for the command core's replies."""

from __future__ import annotations

from adapters.markdown import BACKTICK_LOOKALIKE, Markdown
from adapters.slack.blocks import escape, link, literal


class SlackMarkup(Markdown):
    def block(self, text: str) -> str:
        return f"```{escape(text).replace('```', BACKTICK_LOOKALIKE * 3)}```"

    def link(self, url: str, text: str) -> str:
        return link(url, text)

    def escape(self, text: str) -> str:
        return literal(text)
