"""``GET /healthz`` on its own port (Socket Mode or Discord deployments): 200 while the database
answers, 503 when it does not. Anyone gets the status and the scheduler's state; the details (channels,
runs, the database error) need DIGEST_HEALTH_TOKEN as a Bearer header or ``?token=``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from adapters.health import HealthServer
from bot.bootstrap import build_core
from storage.db import make_engine
from storage.store import Store

TOKEN = "health-7f3a"
SCHEDULER = {"scheduler": "running", "channels": 1, "next_run": "2025-03-06T08:00:00+00:00",
             "running": 0, "last_run": {"channel": "slack:C0SECRET", "date": "2025-03-05", "status": "posted"}}


def _ask(make_settings: Any, requests: list[tuple[str, dict[str, str]]], **overrides: Any) -> list[httpx.Response]:
    """Start the health server, send each (query, headers) request, then again with the database gone."""
    settings = make_settings(**overrides)
    store = Store.open(settings.database_url)
    core = build_core(settings, store)
    core.service.health_sources.append(lambda: dict(SCHEDULER))

    async def main() -> list[httpx.Response]:
        server = HealthServer(core, 0, host="127.0.0.1")
        await server.start()
        try:
            async with httpx.AsyncClient() as http:
                url = f"http://127.0.0.1:{server.port}/healthz"
                answers = [await http.get(url + query, headers=headers) for query, headers in requests]
                store.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
                answers += [await http.get(url + query, headers=headers) for query, headers in requests]
            return answers
        finally:
            await server.stop()

    try:
        return asyncio.run(main())
    finally:
        store.close()


def test_anyone_gets_the_status_and_scheduler_state_but_no_channels(make_settings):
    asks = [("", {}), ("?token=wrong", {}), ("", {"Authorization": "Bearer wrong"}), ("", {"Authorization": TOKEN})]
    answers = _ask(make_settings, asks, health_token=TOKEN)
    for ok in answers[:4]:
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "scheduler": "running"}
        assert ok.headers["Cache-Control"] == "no-store"
    for down in answers[4:]:
        assert down.status_code == 503 and down.json() == {"status": "error", "scheduler": "running"}
        assert "C0SECRET" not in down.text and "OperationalError" not in down.text


def test_the_health_token_shows_the_details_as_bearer_header_or_query(make_settings):
    asks = [("", {"Authorization": f"Bearer {TOKEN}"}), (f"?token={TOKEN}", {})]
    answers = _ask(make_settings, asks, health_token=TOKEN)
    for ok in answers[:2]:
        assert ok.status_code == 200
        assert ok.json() == {"status": "ok", "platforms": [], **SCHEDULER}
    for down in answers[2:]:
        assert down.status_code == 503 and down.json()["status"] == "error"
        assert down.json()["database"] == "unreachable: OperationalError"
        assert down.json()["last_run"]["channel"] == "slack:C0SECRET"


def test_without_a_configured_token_nobody_gets_the_details(make_settings):
    answers = _ask(make_settings, [("?token=", {}), ("", {"Authorization": "Bearer"})])
    assert [a.json() for a in answers] == [{"status": "ok", "scheduler": "running"}] * 2 + [
        {"status": "error", "scheduler": "running"}] * 2
