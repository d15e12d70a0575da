"""The long-running bot process: every configured chat platform in one asyncio loop until SIGTERM/SIGINT.

A stop request is honoured in every state: while the database opens, while a platform is still trying to
reach its service, while connected, and while shutting down (a second signal skips the rest of the
grace). Starting a platform is cancelled when a stop arrives; each stopping step has a time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from bot.bootstrap import build_core, job_queue
from bot.chat.commands import CommandCore
from bot.digest.daily import DailyRuns
from bot.digest.queue import QueueingScheduler, RunQueue, requested_runs
from bot.digest.scheduler import DigestScheduler
from bot.domain.errors import DigestError
from bot.domain.platform import Platform
from bot.domain.settings import Settings
from storage.store import Store

if TYPE_CHECKING:
    from bot.bootstrap import JobQueue

log = logging.getLogger(__name__)
T = TypeVar("T")
SIGNALS = (signal.SIGTERM, signal.SIGINT)
PLATFORM_STOP_TIMEOUT = 5.0  # seconds one platform gets to disconnect before the process goes on without it


PlatformFactory = Callable[[CommandCore], Sequence[Platform]]


class Stopped(Exception):
    """A stop was asked for before the step being awaited finished."""


class StopRequests:
    """SIGTERM/SIGINT as events: the first asks for a clean stop, a second one for a quick one."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.hurry = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        for sig in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                self._loop.add_signal_handler(sig, self._received, sig)
                self._installed.append(sig)

    def remove(self) -> None:
        for sig in self._installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._loop.remove_signal_handler(sig)

    def _received(self, sig: signal.Signals) -> None:
        if not self.stop.is_set():
            log.info("%s received: stopping (send it again to stop without waiting for running digests)", sig.name)
            self.stop.set()
        elif not self.hurry.is_set():
            log.info("%s received again: stopping now", sig.name)
            self.hurry.set()


async def unless(step: Awaitable[T], event: asyncio.Event, *, cancel_timeout: float = PLATFORM_STOP_TIMEOUT) -> T:
    """``await step``, unless ``event`` is set first: then cancel the step and raise :class:`Stopped`."""
    task = asyncio.ensure_future(step)
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=cancel_timeout)  # not wait_for: a step that ignores cancel is left
    if task.cancelled() or not task.done():
        raise Stopped
    return task.result()


async def off_the_loop(work: Callable[[], T]) -> T:
    """Blocking start-up work (opening the database) in a daemon thread: signals are handled meanwhile and a
    stopped process does not wait for it to finish, as it would for a thread of the default executor."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]  # a T whenever error is None

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="arxiv-digest-start", daemon=True).start()
    return await future


async def open_store(settings: Settings, stop: asyncio.Event) -> Store:
    """The database, opened (and migrated) off the loop; a stop request while it waits ends the wait."""
    return await unless(off_the_loop(lambda: Store.open(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)), stop)


async def close_all(
    started: Sequence[Platform], core: CommandCore | None, queue: JobQueue | None, store: Store | None
) -> None:
    """Close what a process started, last first: the platforms, then (no platform asks any more) the core's
    look-ups and clients, the queue and the database."""
    for platform in reversed(started):
        await stop_platform(platform)
    if core is not None:
        await core.aclose()
    if queue is not None:
        await queue.close()
    if store is not None:
        store.close()


async def serve(settings: Settings, platforms_for: PlatformFactory, *, stop: asyncio.Event | None = None) -> None:
    """Start the platforms, run until ``stop`` is set (SIGTERM/SIGINT set it), then shut them down.

    Returns normally after a stop request, whatever state the platforms were in; a platform that cannot
    start for good (a refused token) raises its DigestError after the others were stopped.
    """
    stop = stop or asyncio.Event()
    requests = StopRequests(stop)
    requests.install()  # first: everything after this can wait on the network
    store: Store | None = None
    started: list[Platform] = []
    scheduler: DigestScheduler | None = None
    core: CommandCore | None = None
    queue: JobQueue | None = None
    try:
        if settings.runs == "queue":  # first: a DATABASE_URL that is not PostgreSQL is refused at once
            queue = job_queue(settings)
        store = await open_store(settings, stop)
        core = build_core(settings, store)
        platforms = list(platforms_for(core))
        if not platforms:
            raise DigestError("No chat platform is configured; README.md says how to set one up.")
        for platform in platforms:
            started.append(platform)  # before start(): a cancelled start is cleaned up by stop()
            await unless(platform.start(), stop)
        if queue is not None:  # DIGEST_RUNS=queue: this process enqueues, `arxiv-digest worker`s run
            await unless(queue.open(), stop)
            core.service.queue_requested = requested_runs(DailyRuns(core.service, settings.calendar), queue)
        if settings.scheduler:
            scheduler = _scheduler(DailyRuns(core.service, settings.calendar), queue)
            core.service.health_sources.append(scheduler.health)
            await unless(scheduler.start(), stop)
        log.info("arxiv-digest is running on %s%s", ", ".join(p.name for p in started),
                 "" if scheduler else " (DIGEST_SCHEDULER=false: commands only, no scheduled digests)")
        await stop.wait()
    except Stopped:
        pass
    finally:
        if stop.is_set():
            log.info("Shutting down")
        # First, while the platforms can still post what is being finished: scheduled digests and /arxiv run
        # get the same grace, at the same time.
        async def finishing(grace: float) -> None:  # a coroutine, so cancelling it reads as cancelled
            await asyncio.gather(*([scheduler.stop(grace)] if scheduler is not None else []),
                                 *([core.service.stop(grace)] if core is not None else []))

        try:
            await unless(finishing(settings.shutdown_grace_seconds), requests.hurry, cancel_timeout=1)
        except Stopped:  # asked twice: cancel the running digests now (the next start finishes them)
            await finishing(0)
        await close_all(started, core, queue, store)
        requests.remove()


def _scheduler(daily: DailyRuns, queue: RunQueue | None) -> DigestScheduler:
    """The clock: it runs each channel's digest itself, or with DIGEST_RUNS=queue enqueues it for a worker."""
    return DigestScheduler(daily) if queue is None else QueueingScheduler(daily, queue)


async def stop_platform(platform: Platform) -> None:
    """One platform's stop(), within PLATFORM_STOP_TIMEOUT; its failure must not keep the others open."""
    task = asyncio.ensure_future(platform.stop())
    try:
        done, _ = await asyncio.wait({task}, timeout=PLATFORM_STOP_TIMEOUT)
        if not done:
            log.warning("Stopping %s took over %g s; exiting without waiting for it", platform.name,
                        PLATFORM_STOP_TIMEOUT)
            task.cancel()
        elif task.exception() is not None:
            exc = task.exception()
            log.warning("Stopping %s failed (%s: %s)", platform.name, type(exc).__name__, exc)
    except asyncio.CancelledError:
        task.cancel()
        raise
