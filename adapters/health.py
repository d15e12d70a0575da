"""``GET /healthz`` for load balancers and process managers: the bot's own view of its health."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.commands import CommandCore

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


def health_handler(core: CommandCore):  # type: ignore[no-untyped-def]
    async def healthz(_request: web.Request) -> web.Response:
        report = core.service.health()
        return web.json_response(report, status=200 if report["status"] == "ok" else 503)

    return healthz


class HealthServer:
    """Serves only /healthz on $PORT, for deployments without Slack's HTTP mode (Socket Mode, Discord)."""

    name = "health"

    def __init__(self, core: CommandCore, port: int, *, host: str = "0.0.0.0") -> None:
        self.core = core
        self.port = port
        self.host = host
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(HEALTH_PATH, health_handler(self.core))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the real one for port 0
        log.info("Health check on %s:%s%s", self.host, self.port, HEALTH_PATH)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
