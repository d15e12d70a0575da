"""Which chat platforms the environment configures, as runnable pieces for the bot process.

bot/bootstrap.py hands them to the process (``chat_platforms``); the platforms' names and settings stay
here, among the adapters, so that nothing in bot/ names one.
"""

from __future__ import annotations

import os

from adapters.discord.config import DiscordSettings
from adapters.discord.runner import DiscordRunner
from adapters.health import HealthServer
from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from bot.chat.commands import CommandCore
from bot.domain.errors import DigestError
from bot.domain.platform import Platform

NO_PLATFORM = (
    "No chat platform is configured. For Slack set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or "
    "SLACK_SIGNING_SECRET (HTTP mode); for Discord set DISCORD_TOKEN. README.md walks through both."
)


def configured_platforms(core: CommandCore) -> list[Platform]:
    platforms: list[Platform] = []
    slack, discord = SlackSettings(), DiscordSettings()
    if problems := slack.problems() + discord.problems():
        raise DigestError(" ".join(problems))
    if slack.mode is not None:
        platforms.append(SlackRunner(core, slack))
    if discord.enabled:
        platforms.append(DiscordRunner(core, discord))
    if not platforms:
        raise DigestError(NO_PLATFORM)
    if slack.mode != "http" and os.environ.get("PORT"):  # Slack's HTTP server has /healthz already
        platforms.append(HealthServer(core, int(os.environ["PORT"])))
    return platforms
