"""The asking service through the real openai client (adapters/llm.py) against the OpenAI stand-in: the request
as the API receives it, the usage it reports, and an API that refuses."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from adapters.llm import OpenAIChat
from bot.asking.service import AskService, Question
from bot.domain.pricing import PRICES, cost_of
from bot.domain.statuses import AskOutcome
from storage.store import Store
from tests.bot.asking.texts import INJECTION, moe_paper
from tests.support.fakes import FakeFullText
from tests.support.http import Status
from tests.support.openai_server import OpenAIStandIn

PAPER = "2503.10003"
NOW = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


def asking(make_settings: Callable[..., Any], full_text: FakeFullText) -> AskService:
    settings = make_settings(llm_max_retries=0)
    store = Store.open(settings.database_url)
    return AskService(settings, store, lambda: OpenAIChat.from_settings(settings), full_text)


def question(text: str) -> Question:
    return Question("chat", "T1", "C1", "U1", PAPER, text, thread="m2", conversation={"m2"})


def test_an_answer_through_the_openai_client_with_the_usage_the_api_reports(
    make_settings: Callable[..., Any], llm: OpenAIStandIn,
) -> None:
    full_text = FakeFullText()
    full_text.texts[PAPER] = moe_paper(PAPER, injected=True)
    service = asking(make_settings, full_text)
    try:
        said = asyncio.run(service.ask(question("How many GPUs does each run use?"), now=NOW))
    finally:
        service.store.close()
    assert said.outcome is AskOutcome.ANSWERED and "64 A100 GPUs" in said.text
    [request] = llm.completions
    system, user = (m["content"] for m in request.json["messages"])
    assert system.startswith("You answer questions about one research paper") and INJECTION[:30] not in system
    assert "Question: How many GPUs does each run use?" in user and "<<<PASSAGE" in user
    assert said.usage.prompt_tokens == (len(system) + len(user)) // 4 and said.usage.requests == 1
    assert said.cost_usd == cost_of(said.usage, PRICES["gpt-4o-mini"])


def test_an_api_that_refuses_gives_a_private_answer_that_says_what_to_do(
    make_settings: Callable[..., Any], llm: OpenAIStandIn,
) -> None:
    full_text = FakeFullText()
    full_text.texts[PAPER] = moe_paper(PAPER)
    llm.add_fault(Status(500))
    service = asking(make_settings, full_text)
    try:
        said = asyncio.run(service.ask(question("How many GPUs does each run use?"), now=NOW))
        [stored] = service.store.thread_asks("chat", "C1", ["m2"])
    finally:
        service.store.close()
    assert not said.public and said.outcome is AskOutcome.FAILED and said.text
    assert "Traceback" not in said.text and stored.outcome is AskOutcome.FAILED
