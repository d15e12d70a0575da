"""``GET /healthz`` on its own port (Socket Mode or Discord deployments): 200 while the database
answers, 503 when it does not, with what the scheduler reports."""

from __future__ import annotations

import asyncio

import httpx

from adapters.health import HealthServer
from bot.app import build_core
from storage.db import make_engine
from storage.store import Store


def test_health_server_reports_ok_then_503_when_the_database_is_gone(make_settings):
    settings = make_settings()
    store = Store.open(settings.database_url)
    core = build_core(settings, store)
    core.service.health_sources.append(lambda: {"scheduler": "running", "next_run": "2025-03-06T08:00:00+00:00"})

    async def main() -> tuple[httpx.Response, httpx.Response]:
        server = HealthServer(core, 0, host="127.0.0.1")
        await server.start()
        try:
            async with httpx.AsyncClient() as http:
                ok = await http.get(f"http://127.0.0.1:{server.port}/healthz")
                store.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
                down = await http.get(f"http://127.0.0.1:{server.port}/healthz")
            return ok, down
        finally:
            await server.stop()

    ok, down = asyncio.run(main())
    assert ok.status_code == 200
    assert ok.json() == {"status": "ok", "platforms": [], "scheduler": "running",
                         "next_run": "2025-03-06T08:00:00+00:00"}
    assert down.status_code == 503 and down.json()["status"] == "error"
    assert down.json()["database"] == "unreachable: OperationalError"
