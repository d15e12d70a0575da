"""Running the Discord bot inside the bot process, on the same asyncio loop as the other platforms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import KW_ONLY, dataclass, field

import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.app import DiscordBot
from adapters.discord.config import DiscordSettings
from adapters.network import describe
from adapters.reconnect import NETWORK_ERRORS, RECONNECT, Backoff, OneLineErrors, Unavailable, retrying
from bot.chat.commands import CommandCore
from bot.domain.errors import DigestError

log = logging.getLogger(__name__)
STOP_TIMEOUT = 5.0  # seconds for each step of stop(); a stuck close must not hold the process
# Gateway failures that a new connection cannot mend: the token or the intents were refused.
FOR_GOOD = (discord.PrivilegedIntentsRequired, discord.LoginFailure)
TOKEN_FIX = "copy the bot token again (Developer Portal → Bot → Reset Token), set DISCORD_TOKEN to it and start again."
# discord.py backs off between gateway reconnects itself (capped) but logs each with a whole traceback.
logging.getLogger("discord.client").addFilter(OneLineErrors(
    (*NETWORK_ERRORS, discord.HTTPException, discord.GatewayNotFound, discord.ConnectionClosed)
))
# The bot has no voice: two warnings at every start that voice libraries are missing would only alarm.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class TokenRefused(DigestError):
    """Discord refused DISCORD_TOKEN: starting again with the same one cannot work."""


@dataclass(eq=False, repr=False)  # identity semantics; its repr would print the settings
class DiscordRunner:
    """Logs in (REST: checks the token, syncs /arxiv), then keeps the gateway connection in a background task.

    ``connect=False`` stops after the login: for tests, where no gateway is reachable.
    """

    name = "Discord"

    core: CommandCore
    settings: DiscordSettings
    _: KW_ONLY
    connect: bool = True
    backoff: Backoff = RECONNECT
    bot: DiscordBot | None = field(default=None, init=False)
    _gateway: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        """Log in (retrying while Discord is unreachable), then keep the gateway connection in the background.

        A refused token raises TokenRefused at once. Cancellable; stop() closes whatever had started.
        """
        if self.settings.token is None:
            raise DigestError("Discord needs DISCORD_TOKEN (the bot token from the Developer Portal).")
        where = f"Discord: cannot reach Discord's API at {self.settings.api_url or discord.http.Route.BASE}"
        await retrying(self._login, where, log, self.backoff)
        assert self.bot is not None
        if self.settings.gateway_url is not None:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        if self.connect:
            self._gateway = asyncio.create_task(self._stay_connected(self.bot), name="discord-gateway")
        log.info("Discord: logged in as %s", self.bot.user)

    async def _login(self) -> None:
        """One login with a fresh client (a failed login leaves discord.py's HTTP session half set up)."""
        assert self.settings.token is not None
        if self.bot is not None:
            await self._close(self.bot)
        self.bot = bot = DiscordBot(self.core, self.settings)
        try:
            await bot.login(self.settings.token.get_secret_value())
        except discord.LoginFailure:
            await self._close(bot)
            raise TokenRefused(f"DISCORD_TOKEN was refused by Discord (401): {TOKEN_FIX}") from None
        except discord.HTTPException as exc:
            await self._close(bot)
            if exc.status >= 500 or exc.status == 429:
                raise Unavailable(f"Discord answered HTTP {exc.status}") from None
            raise DigestError(
                f"Discord refused to register the /arxiv commands ({exc.status} {exc.text}). Invite the bot with the "
                "applications.commands scope (see README), and check DISCORD_GUILD_ID if it is set."
            ) from None
        except NETWORK_ERRORS:
            await self._close(bot)
            raise

    @staticmethod
    async def _close(bot: DiscordBot) -> None:
        try:
            await asyncio.wait_for(bot.close(), STOP_TIMEOUT)
        except NETWORK_ERRORS as exc:  # asyncio.TimeoutError is TimeoutError
            log.warning("Discord: closing the client did not finish (%s)", describe(exc))

    async def _stay_connected(self, bot: DiscordBot) -> None:
        """discord.py reconnects on its own once a session exists; before the first one succeeds, its retry
        fails on the missing session (an AttributeError), so the connection is started again here, backing off."""
        delays = self.backoff.delays()
        while not bot.is_closed():
            began = asyncio.get_running_loop().time()
            try:
                await bot.connect(reconnect=True)  # returns when the client is closed
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.bot is not bot:  # stop() closed it
                    return
                if bot.is_closed() or isinstance(exc, FOR_GOOD):  # a refused gateway (e.g. intents) stays refused
                    log.error("Discord: the gateway connection ended for good (%s: %s); commands and digests stop "
                              "on Discord until the bot is restarted", type(exc).__name__, describe(exc))
                    return
                if asyncio.get_running_loop().time() - began > self.backoff.cap:
                    delays = self.backoff.delays()  # it was connected for a while: start the backoff over
                cause = exc.__context__ if isinstance(exc, AttributeError) and exc.__context__ else exc
                delay = next(delays)
                log.warning("Discord: cannot connect to the gateway (%s); trying again in %g s", describe(cause), delay)
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        bot, self.bot = self.bot, None
        if bot is not None:
            await self._close(bot)
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            with contextlib.suppress(TimeoutError):  # wait_for cancels a task that does not end in time
                await asyncio.wait_for(gateway, STOP_TIMEOUT)
