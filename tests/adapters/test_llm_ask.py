"""Questions about a paper through OpenAIChat (the official openai client) against the OpenAI stand-in over real
HTTP: the ask prompt and the passages of a real paper (arXiv's HTML of 2501.11120v1, tests/fixtures/arxiv) out,
the answer read back; then the API's faults as the asking service meets them (a 429, a garbled reply, an
over-long one, no answer in time)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.latexml import parse_latexml
from adapters.llm import OpenAIChat
from bot.asking import answer
from bot.asking.passages import Passage, best_passages, passages
from bot.asking.service import Answer, AskService, Question
from bot.domain.models import Completion
from bot.domain.statuses import AskOutcome
from storage.store import Store
from tests.support import Delay, Malformed, OpenAIStandIn, Reply, Status
from tests.support.fakes import FakeFullText

PAPER = "2501.11120"
TEXT = parse_latexml((Path(__file__).parents[1] / "fixtures" / "arxiv" / "html" / "2501.11120v1.html").read_bytes(),
                     PAPER, version=1)
PASSAGES = passages(TEXT)
QUESTION = "What learning rate do they use for finetuning?"
ANSWER = "We use a learning rate of 2, and a batch size of 66"  # §C.4.2 of the paper
NOW = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


def picked(question: str) -> list[Passage]:
    return [match.passage for match in best_passages(PASSAGES, question)]


def complete(llm: OpenAIStandIn, user: str, **options: Any) -> Completion:
    options = {"api_key": "test-key", "model": "gpt-4o-mini", "timeout": 5.0, "max_retries": 2, **options}
    return llm.run_client(OpenAIChat, lambda chat: chat.complete(answer.system_prompt(), user), **options)


def ask(make_settings: Callable[..., Any], question: str = QUESTION, **settings: Any) -> Answer:
    """``question`` through the asking service, the real client and the stand-in; the paper's text from memory."""
    configured = make_settings(**{"llm_max_retries": 0, **settings})
    full_text = FakeFullText()
    full_text.texts[PAPER] = TEXT
    store = Store.open(configured.database_url)
    service = AskService(configured, store, lambda: OpenAIChat.from_settings(configured), full_text)
    try:
        return asyncio.run(service.ask(Question("chat", "T1", "C1", "U1", PAPER, question), now=NOW))
    finally:
        store.close()


def test_a_question_is_answered_from_a_passage_it_was_sent_and_cites_it(llm: OpenAIStandIn) -> None:
    sent = picked(QUESTION)
    user = answer.user_message(TEXT.title, PAPER, sent, QUESTION)

    completion = complete(llm, user)

    reading = answer.read_reply(completion.text, sent)
    [cited] = reading.sources
    assert reading.cited and ANSWER in reading.text and ANSWER in cited.text
    assert cited.source == "§C.4.2 Freeform Trigger Articulation Details"
    [request] = llm.completions
    assert [m["role"] for m in request.json["messages"]] == ["system", "user"]
    assert completion.usage.prompt_tokens == (len(answer.system_prompt()) + len(user)) // 4
    assert completion.usage.completion_tokens == len(completion.text) // 4 and completion.usage.requests == 1


def test_passages_that_do_not_answer_get_a_plain_no_and_no_sources(llm: OpenAIStandIn) -> None:
    sent = picked(QUESTION)  # about finetuning; the question is not
    user = answer.user_message(TEXT.title, PAPER, sent, "Which GPU cluster in Mongolia?")

    completion = complete(llm, user)

    assert completion.text == "The passages do not say.\nSOURCES: none"
    reading = answer.read_reply(completion.text, sent)
    assert reading.text == "The passages do not say." and not reading.cited


def test_a_429_is_waited_out_and_the_question_answered_once(make_settings: Callable[..., Any],
                                                            llm: OpenAIStandIn) -> None:
    llm.add_fault(Status(429, headers={"retry-after-ms": "400"}))  # the API says how long, in ms

    started = time.monotonic()
    said = ask(make_settings, llm_max_retries=2)

    assert said.outcome is AskOutcome.ANSWERED and ANSWER in said.text and said.cited
    assert said.sources == ("§C.4.2 Freeform Trigger Articulation Details",)
    assert [r.status for r in llm.completions] == [429, 200] and time.monotonic() - started >= 0.4
    assert said.usage.requests == 1  # the refused request is not counted as tokens spent


def test_a_garbled_reply_is_not_shown_as_an_answer(make_settings: Callable[..., Any], llm: OpenAIStandIn) -> None:
    llm.add_fault(Malformed())

    said = ask(make_settings)

    assert said.outcome is AskOutcome.FAILED and not said.public
    assert said.text == "The LLM's reply held no answer; try asking again."
    assert said.usage.completion_tokens > 0 and said.cost_usd  # the reply was paid for: it counts


def test_a_reply_citing_passages_never_sent_names_the_passages_sent(make_settings: Callable[..., Any],
                                                                    llm: OpenAIStandIn) -> None:
    llm.add_fault(Reply(f"{ANSWER}.\nSOURCES: 999, banana"))

    said = ask(make_settings)

    assert said.outcome is AskOutcome.ANSWERED and said.text == f"{ANSWER}." and not said.cited
    assert said.sources == tuple(dict.fromkeys(p.source for p in picked(QUESTION)))


def test_an_over_long_reply_is_cut_at_a_word_within_the_answer_cap(make_settings: Callable[..., Any],
                                                                 llm: OpenAIStandIn) -> None:
    number = picked(QUESTION)[0].number
    rambling = " ".join(f"{ANSWER}, as run {i} shows." for i in range(200))
    llm.add_fault(Reply(f"{rambling}\nSOURCES: {number}"))

    said = ask(make_settings)

    # The API stops the reply at the token cap (its SOURCES line with it): the answer names the passages sent.
    assert said.outcome is AskOutcome.ANSWERED and not said.cited
    assert len(said.text) <= answer.MAX_ANSWER_CHARS < len(rambling) and said.text.endswith("…")
    assert rambling.startswith(said.text[:-1]) and said.text[-2] != " "
    assert said.usage.completion_tokens == answer.MAX_ANSWER_TOKENS  # paid up to the cap, not for the rambling


def test_an_llm_that_does_not_answer_in_time_fails_privately(make_settings: Callable[..., Any],
                                                             llm: OpenAIStandIn) -> None:
    llm.add_fault(Delay(1.5))

    said = ask(make_settings, llm_timeout=0.5)

    assert said.outcome is AskOutcome.FAILED and not said.public and "did not answer in time" in said.text
    assert "Traceback" not in said.text and len(llm.completions) == 1


def test_a_question_pays_for_a_capped_reply_the_api_cuts(llm: OpenAIStandIn, make_settings: Callable[..., Any]):
    said = ask(make_settings)
    assert said.outcome == AskOutcome.ANSWERED
    [request] = llm.completions
    assert request.json["max_completion_tokens"] == answer.MAX_ANSWER_TOKENS
