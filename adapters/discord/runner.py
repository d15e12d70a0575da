"""Running the Discord bot inside the bot process, on the same asyncio loop as the other platforms."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from adapters.discord.app import DiscordBot
from adapters.discord.config import DiscordSettings
from bot.commands import CommandCore
from bot.errors import DigestError

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0


class DiscordRunner:
    """Logs in (REST: checks the token, syncs /arxiv), then keeps the gateway connection in a background task.

    ``connect=False`` stops after the login: for tests, where no gateway is reachable.
    """

    name = "Discord"

    def __init__(self, core: CommandCore, settings: DiscordSettings, *, connect: bool = True) -> None:
        self.core = core
        self.settings = settings
        self.connect = connect
        self.bot: DiscordBot | None = None
        self._gateway: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.settings.token is None:
            raise DigestError("Discord needs DISCORD_TOKEN (the bot token from the Developer Portal).")
        self.bot = DiscordBot(self.core, self.settings)
        try:
            await self.bot.login(self.settings.token.get_secret_value())
        except discord.LoginFailure as exc:
            await self.bot.close()
            raise DigestError(
                "Discord refused DISCORD_TOKEN: copy the bot token again (Developer Portal → Bot → Reset Token)."
            ) from exc
        except discord.HTTPException as exc:
            await self.bot.close()
            raise DigestError(
                f"Discord refused to register the /arxiv commands ({exc.status} {exc.text}). Invite the bot with the "
                "applications.commands scope (see README), and check DISCORD_GUILD_ID if it is set."
            ) from exc
        if self.connect:
            self._gateway = asyncio.create_task(self._stay_connected(self.bot), name="discord-gateway")
        log.info("Discord: logged in as %s", self.bot.user)

    @staticmethod
    async def _stay_connected(bot: DiscordBot) -> None:
        try:
            await bot.connect(reconnect=True)  # returns when the client is closed; reconnects on its own
        except asyncio.CancelledError:
            raise
        except Exception:  # a refused gateway (e.g. intents) must not go unnoticed, nor stop the other platforms
            log.exception("Discord: the gateway connection ended for good; commands and digests stop on Discord")

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._gateway is not None:
            with contextlib.suppress(TimeoutError):  # wait_for cancels a task that does not end in time
                await asyncio.wait_for(self._gateway, STOP_TIMEOUT)
            self._gateway = None
        self.bot = None
