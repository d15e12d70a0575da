"""OpenAIChat (the official openai client) against the OpenAI stand-in over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from adapters.llm import OpenAIChat
from bot.domain.errors import LLMError
from bot.domain.models import Completion
from tests.support import Delay, OpenAIStandIn, Reply, Status, make_paper

T = TypeVar("T")

PAPER = make_paper("2503.03213", "Sparse mixture of experts with quantization", "We prune transformer models.")
SYSTEM = "You rank arXiv papers for a research team. Answer one JSON line per paper."
USER = f"## Papers\n\nArXiv ID: {PAPER['arxiv_id']}\nTitle: {PAPER['title']}\nAbstract: {PAPER['abstract']}"


def run_chat(llm: OpenAIStandIn, use: Callable[[OpenAIChat], Awaitable[T]], **options: Any) -> T:
    options = {"api_key": "test-key", "model": "gpt-4o-mini", **options}
    options.setdefault("timeout", 5.0)
    options.setdefault("max_retries", 2)
    return llm.run_client(OpenAIChat, use, **options)


def complete(
    llm: OpenAIStandIn, system: str = SYSTEM, user: str = USER, response_format: Any = None, **options: Any
) -> Completion:
    return run_chat(llm, lambda chat: chat.complete(system, user, response_format), **options)


def test_complete_returns_text_and_usage(llm: OpenAIStandIn) -> None:
    completion = complete(llm)

    line = json.loads(completion.text)
    assert line["ARXIVID"] == "2503.03213"
    assert (line["RELEVANCE"], line["NOVELTY"]) == llm.expected(PAPER)
    usage = completion.usage
    assert usage.prompt_tokens == (len(SYSTEM) + len(USER)) // 4
    assert usage.completion_tokens == max(1, len(completion.text) // 4)
    assert usage.cached_tokens == 0
    assert usage.requests == 1
    assert len(llm.completions) == 1


def test_request_carries_model_messages_and_temperature_zero(llm: OpenAIStandIn) -> None:
    complete(llm, model="gpt-4.1-mini")

    (request,) = llm.completions
    assert request.json["model"] == "gpt-4.1-mini"
    assert request.json["messages"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    assert request.json["temperature"] == 0
    assert "response_format" not in request.json
    assert request.headers["Authorization"] == "Bearer test-key"
    assert request.paper_ids == ["2503.03213"]


def test_second_identical_long_request_reports_cached_tokens(llm: OpenAIStandIn) -> None:
    long_system = SYSTEM + " Criteria: " + "mixture of experts, quantization, pruning. " * 120  # > 1024 tokens

    async def twice(chat: OpenAIChat) -> tuple[Completion, Completion]:
        return await chat.complete(long_system, USER), await chat.complete(long_system, USER)

    first, second = run_chat(llm, twice)

    assert first.usage.prompt_tokens >= 1024
    assert first.usage.cached_tokens == 0
    assert 0 < second.usage.cached_tokens <= second.usage.prompt_tokens
    assert second.usage.prompt_tokens == first.usage.prompt_tokens
    assert second.usage.requests == 1


def test_response_format_is_forwarded(llm: OpenAIStandIn) -> None:
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "scores",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"papers": {"type": "array", "items": {"type": "object"}}},
                "required": ["papers"],
                "additionalProperties": False,
            },
        },
    }

    completion = complete(llm, response_format=schema)

    (request,) = llm.completions
    assert request.json["response_format"] == schema
    assert [p["ARXIVID"] for p in json.loads(completion.text)["papers"]] == ["2503.03213"]


def test_429_with_retry_after_is_waited_for_then_one_completion(llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(429, headers={"Retry-After": "1"}))

    started = time.monotonic()
    completion = complete(llm)
    elapsed = time.monotonic() - started

    assert json.loads(completion.text)["ARXIVID"] == "2503.03213"
    assert completion.usage.requests == 1
    first, second = llm.completions
    assert (first.status, second.status) == (429, 200)
    assert elapsed >= 0.95
    assert second.time - first.time >= 0.95


def test_500_then_success(llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(500))

    completion = complete(llm)

    assert json.loads(completion.text)["ARXIVID"] == "2503.03213"
    assert completion.usage.requests == 1
    assert [r.status for r in llm.completions] == [500, 200]


def test_timeout_then_success(llm: OpenAIStandIn) -> None:
    llm.add_fault(Delay(1.5))

    started = time.monotonic()
    completion = complete(llm, timeout=1, max_retries=2)
    elapsed = time.monotonic() - started

    assert json.loads(completion.text)["ARXIVID"] == "2503.03213"
    assert len(llm.completions) == 2
    assert isinstance(llm.completions[0].fault, Delay)
    assert 1.0 <= elapsed < 3.0  # waited out the timeout, did not wait for the stalled answer


@pytest.mark.slow
def test_a_500_then_a_timeout_are_both_retried(llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(500), Delay(3.0))

    completion = complete(llm, timeout=1.0, max_retries=2)

    assert json.loads(completion.text)["ARXIVID"] == "2503.03213"
    assert llm.completions[0].status == 500 and len(llm.completions) == 3


def test_timeout_with_no_retries_left_raises_llm_error(llm: OpenAIStandIn) -> None:
    llm.add_fault(Delay(0.5))

    with pytest.raises(LLMError, match="did not answer in time"):
        complete(llm, timeout=0.15, max_retries=0)

    assert len(llm.completions) == 1


def test_persistent_500_raises_llm_error_with_the_status(llm: OpenAIStandIn) -> None:
    # retry-after-ms only shortens the client's backoff between the two attempts.
    llm.add_fault(*[Status(500, headers={"retry-after-ms": "10"})] * 2)

    with pytest.raises(LLMError) as caught:
        complete(llm, max_retries=1)

    assert "HTTP 500" in str(caught.value)
    assert "server had an error" in str(caught.value)
    assert len(llm.completions) == 2


def test_400_is_not_retried_and_raises_llm_error(llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(400))

    with pytest.raises(LLMError, match="HTTP 400"):
        complete(llm)

    assert len(llm.completions) == 1


def test_401_raises_llm_error_mentioning_openai_api_key(llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(401))

    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        complete(llm)

    assert len(llm.completions) == 1  # a refused key is not retried


def test_unreachable_endpoint_raises_llm_error() -> None:
    with OpenAIStandIn() as gone:
        base_url = gone.base_url
    # The stand-in is stopped: its port now refuses connections.

    async def main() -> Completion:
        chat = OpenAIChat(api_key="test-key", model="gpt-4o-mini", base_url=base_url, max_retries=0)
        try:
            return await chat.complete(SYSTEM, USER)
        finally:
            await chat.aclose()

    with pytest.raises(LLMError, match="cannot reach the LLM endpoint"):
        asyncio.run(main())


def test_empty_reply_gives_empty_text(llm: OpenAIStandIn) -> None:
    llm.add_fault(Reply(""))

    completion = complete(llm)

    assert completion.text == ""
    assert completion.usage.requests == 1
