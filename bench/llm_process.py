"""The OpenAI stand-in answered by aiohttp in a process of its own, for benchmarks with hundreds of requests in flight.

tests/support/openai_server.py answers on a thread per connection in the caller's process. With a hundred
channels asking at once (800 requests in flight) those threads took the benchmark's process, its Slack stand-in
and its ack timings down with them, and the stand-in, not the bot, set the pace. Here the same stand-in decides
every answer (its routes, its judging, its usage figures), but the waiting is ``asyncio.sleep`` on one event
loop, in a process of its own. It counts what it answered (scoring and TL;DR requests, tokens, the most chat
requests in flight) and tells the counts at ``GET /_bench/tally``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiohttp import web

from tests.support.http import Headers, Recorded
from tests.support.openai_server import OpenAIStandIn, is_tldr_request

TALLY_PATH = "/_bench/tally"
_VERSION = re.compile(r"v\d+$")


class _Chosen(OpenAIStandIn):
    """The stand-in, giving the benchmark's chosen scores without first running its keyword judge (15 ms a
    request on a busy machine: with hundreds in flight the judging, not the bot, set the pace)."""

    def _scores(self, arxiv_id: str, title: str, abstract: str) -> tuple[int, int, str]:
        forced = self.overrides.get(arxiv_id) or self.overrides.get(_VERSION.sub("", arxiv_id))
        if forced is None:
            return super()._scores(arxiv_id, title, abstract)
        relevance, novelty = forced
        return relevance, novelty, "Matches: a paper the benchmark chose as relevant" if relevance >= 5 else ""


def _tally_chat(tally: Counter[str], rec: Recorded, status: int, body: bytes) -> None:
    answer = json.loads(body) if status == 200 else {}
    usage = answer.get("usage") or {}
    messages = rec.json.get("messages", []) if isinstance(rec.json, dict) else []
    system = "".join(m.get("content", "") for m in messages
                     if isinstance(m, dict) and m.get("role") in ("system", "developer")
                     and isinstance(m.get("content"), str))
    tally[f"{'tldr' if is_tldr_request(system) else 'scoring'}_requests"] += 1
    tally["prompt_tokens"] += int(usage.get("prompt_tokens", 0))
    tally["completion_tokens"] += int(usage.get("completion_tokens", 0))
    tally["cached_tokens"] += int((usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0))
    if status != 200:
        tally["refused"] += 1


def application(latency: float, overrides: Mapping[str, tuple[int, int]]) -> web.Application:
    standin = _Chosen()  # never started: only its routes and answers are used
    standin.overrides.update(overrides)
    tally: Counter[str] = Counter()
    flight = {"now": 0, "most": 0}

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path == TALLY_PATH:
            return web.json_response({**tally, "most_in_flight": flight["most"]})
        body = await request.read()
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        rec = Recorded(request.method, request.path, dict(parse_qsl(request.query_string)), Headers(request.headers),
                       body, parsed, time.time())
        handler = standin.route(rec)
        if handler is None:
            return web.Response(status=404, text=f"no stand-in route for {request.method} {request.path}\n")
        chat = rec.path.rstrip("/").endswith("/chat/completions")
        if chat:
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])
        try:
            await asyncio.sleep(latency)
            resp = handler(rec, None)
        finally:
            if chat:
                flight["now"] -= 1
        data = resp.body.encode() if isinstance(resp.body, str) else resp.body
        if chat:
            _tally_chat(tally, rec, resp.status, data)
        return web.Response(status=resp.status, body=data, headers={**resp.headers, "Content-Type": resp.content_type})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def _serve(port: int, latency: float, overrides: dict[str, tuple[int, int]]) -> None:
    web.run_app(application(latency, overrides), host="127.0.0.1", port=port, print=None, backlog=4096,
                handle_signals=True)


class LLMProcess:
    """The stand-in in a child process on ``port`` (the caller picks a free one)."""

    def __init__(self, port: int, latency: float, overrides: Mapping[str, tuple[int, int]]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port, latency, dict(overrides)), name="llm-stand-in", daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def __enter__(self) -> LLMProcess:
        self.process.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + TALLY_PATH, timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.process.kill()
        raise SystemExit("The LLM stand-in's process did not start listening within 60 s.")

    def tally(self) -> dict[str, int]:
        return dict(httpx.get(self.url + TALLY_PATH, timeout=30).json())

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
