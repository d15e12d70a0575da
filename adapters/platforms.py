"""Which chat platforms the environment configures, as runnable pieces for the bot process."""

from __future__ import annotations

from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from bot.commands import CommandCore
from bot.errors import DigestError
from bot.runner import Platform


def configured_platforms(core: CommandCore) -> list[Platform]:
    platforms: list[Platform] = []
    slack = SlackSettings()
    if problems := slack.problems():
        raise DigestError(" ".join(problems))
    if slack.mode is not None:
        platforms.append(SlackRunner(core, slack))
    return platforms
