"""The benchmark's LLM stand-in in its own process answers the real openai client as the threaded stand-in does,
gives the benchmark's chosen scores, and counts what it answered."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest

from bench.llm_process import LLMProcess
from tests.support.unreachable import closed_port

PAPERS = "\n\n".join(
    f"ArXiv ID: 2503.1740{i}\nTitle: Paper {i} on sparse transformers\nAuthors: A. Author\nAbstract: We prune "
    "a mixture of experts." for i in range(3)
)


@pytest.mark.slow
def test_chat_completions_come_back_after_the_latency_with_the_chosen_scores_and_are_counted() -> None:
    with LLMProcess(closed_port(), 0.3, {"2503.17400": (8, 7), "2503.17401": (2, 3)}) as llm:
        client = openai.AsyncOpenAI(api_key="bench-key", base_url=llm.base_url, max_retries=0)

        async def ask() -> tuple[list[str], float]:
            started = time.monotonic()
            answers = await asyncio.gather(*(client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "system", "content": "Score these."},
                                               {"role": "user", "content": PAPERS}]) for _ in range(4)))
            took = time.monotonic() - started
            await client.close()
            return [a.choices[0].message.content or "" for a in answers], took

        contents, took = asyncio.run(ask())
        tally = llm.tally()
    lines = [json.loads(line) for line in contents[0].splitlines()]
    assert [(j["ARXIVID"], j["RELEVANCE"], j["NOVELTY"]) for j in lines[:2]] == [("2503.17400", 8, 7),
                                                                                ("2503.17401", 2, 3)]
    assert lines[2]["ARXIVID"] == "2503.17402"  # not chosen: the stand-in's own keyword judgement
    assert 0.3 <= took < 3  # four at once, each after the latency, not one after the other
    assert tally["scoring_requests"] == 4 and tally["most_in_flight"] == 4
    assert tally["prompt_tokens"] > 0 and tally["completion_tokens"] > 0
