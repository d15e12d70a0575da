"""The long-running bot process: every configured chat platform in one asyncio loop until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.app import build_core
from bot.commands import CommandCore
from bot.daily import DailyRuns
from bot.errors import DigestError
from bot.scheduler import DigestScheduler
from bot.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)


class Platform(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


PlatformFactory = Callable[[CommandCore], Sequence[Platform]]


async def serve(settings: Settings, platforms_for: PlatformFactory, *, stop: asyncio.Event | None = None) -> None:
    """Start the platforms, run until ``stop`` is set (SIGTERM/SIGINT set it), then shut them down."""
    store = Store.open(settings.database_url)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    started: list[Platform] = []
    scheduler: DigestScheduler | None = None
    core: CommandCore | None = None
    try:
        core = build_core(settings, store)
        platforms = list(platforms_for(core))
        if not platforms:
            raise DigestError("No chat platform is configured; README.md says how to set one up.")
        for platform in platforms:
            await platform.start()
            started.append(platform)
        if settings.scheduler:
            scheduler = DigestScheduler(DailyRuns(core.service, settings.calendar))
            core.service.health_sources.append(scheduler.health)
            await scheduler.start()
        log.info("arxiv-digest is running on %s%s", ", ".join(p.name for p in started),
                 "" if scheduler else " (DIGEST_SCHEDULER=false: commands only, no scheduled digests)")
        await stop.wait()
        log.info("Shutting down")
    finally:
        # First, while the platforms can still post what is being finished: scheduled digests and /arxiv run
        # get the same grace, at the same time.
        grace = settings.shutdown_grace_seconds
        await asyncio.gather(*([scheduler.stop(grace)] if scheduler is not None else []),
                             *([core.service.stop(grace)] if core is not None else []))
        for platform in reversed(started):
            try:
                await platform.stop()
            except Exception:  # one platform's failure must not keep the others open
                log.exception("Stopping %s failed", platform.name)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        store.close()
