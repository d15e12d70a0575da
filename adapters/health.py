"""``GET /healthz`` for load balancers and process managers: the bot's own view of its health.

Anyone can ask, so the answer without a token is the status and the scheduler's state only; the details
(channels, next and last run, database error) need ``DIGEST_HEALTH_TOKEN``, sent as
``Authorization: Bearer <token>`` or ``?token=<token>``.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import SecretStr

from bot.chat.commands import CommandCore
from bot.domain.errors import DigestError

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
PUBLIC_FIELDS = ("status", "scheduler")


def token_matches(request: web.Request, token: SecretStr | None) -> bool:
    """Whether the request carries the health token (never true when none is configured)."""
    if token is None or not token.get_secret_value():
        return False
    header = request.headers.get("Authorization", "")
    offered = header[len("Bearer "):] if header.startswith("Bearer ") else request.query.get("token", "")
    return hmac.compare_digest(offered.encode(), token.get_secret_value().encode())


def health_handler(core: CommandCore) -> Callable[[web.Request], Awaitable[web.Response]]:
    token = core.settings.health_token

    async def healthz(request: web.Request) -> web.Response:
        report = await core.service.health()
        status = 200 if report["status"] == "ok" else 503
        if not token_matches(request, token):
            report = {key: report[key] for key in PUBLIC_FIELDS if key in report}
        return web.json_response(report, status=status, headers={"Cache-Control": "no-store"})

    return healthz


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on host:port: the runner to clean up when done, and the port (the real one for port 0)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:  # in use, or not ours to bind: the operator's to fix, in one line
        await runner.cleanup()
        reason = ("another process listens there" if exc.errno == errno.EADDRINUSE
                  else os.strerror(exc.errno) if exc.errno else type(exc).__name__)
        raise DigestError(f"Cannot listen on {host}:{port}: {reason}. Set PORT to a free port, or stop the "
                          "process that holds it.") from None
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # a started site has one


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
        self._runner, self.port = await listen(app, self.host, self.port)
        log.info("Health check on %s:%s%s", self.host, self.port, HEALTH_PATH)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
