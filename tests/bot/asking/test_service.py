"""AskService: the full text once per paper and version, passages, the LLM's answer, and a record of each ask."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest

from bot.asking.service import NO_LLM, NO_SOURCE, Answer, AskService, Question
from bot.domain.errors import FullTextError, LLMError
from bot.domain.models import Completion, Usage
from bot.domain.pricing import PRICES, cost_of
from bot.domain.statuses import AskOutcome
from tests.bot.asking.texts import moe_paper
from tests.support.fakes import FakeChat, FakeFullText

PAPER = "2503.10003"
NOW = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


def question(text: str = "How many GPUs does each run use?", **fields: object) -> Question:
    values: dict[str, object] = {"platform": "chat", "workspace": "T1", "channel": "C1", "user": "U1",
                                 "arxiv_id": PAPER, "text": text, "thread": "m2", "conversation": {"m2"}}
    return Question(**(values | fields))  # type: ignore[arg-type]


def ask(service: AskService, q: Question | None = None) -> Answer:
    return asyncio.run(service.ask(q or question(), now=NOW))


def test_an_answer_names_its_sections_and_is_recorded_with_tokens_and_cost(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, fake_llm: FakeChat,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    service = make_service()
    said = ask(service)
    assert said.outcome is AskOutcome.ANSWERED and said.public and said.cited
    assert "64 A100 GPUs" in said.text and said.sources == ("§4.2 Experiments",) and said.text_source == "html"
    assert said.usage.prompt_tokens > 0 and said.cost_usd == cost_of(said.usage, PRICES["gpt-4o-mini"])
    [stored] = service.store.thread_asks("chat", "C1", ["m2"])
    assert (stored.question, stored.answer, stored.sections, stored.outcome) == (
        "How many GPUs does each run use?", said.text, ("§4.2 Experiments",), AskOutcome.ANSWERED)
    assert stored.usage.prompt_tokens == said.usage.prompt_tokens and stored.cost_usd == said.cost_usd
    assert len(fake_llm.requests) == 1 and "<<<PASSAGE" in fake_llm.requests[0]


def test_the_text_is_read_once_then_kept_per_version(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER, version=2)
    service = make_service()
    ask(service)
    ask(service, question("What perplexity at 4 bits?"))
    assert fake_full_text.reads == [PAPER]
    kept = service.store.full_text(PAPER)
    assert kept == moe_paper(PAPER, version=2)


def test_a_text_kept_over_a_week_is_read_again_for_a_newer_version(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER, version=1)
    service = make_service()
    ask(service)
    fake_full_text.texts[PAPER] = moe_paper(PAPER, version=2)
    asyncio.run(service.ask(question(), now=NOW + dt.timedelta(days=6)))
    assert fake_full_text.reads == [PAPER]  # within the week: the kept text
    asyncio.run(service.ask(question(), now=NOW + dt.timedelta(days=8)))
    assert fake_full_text.reads == [PAPER, PAPER] and service.store.full_text(PAPER) == moe_paper(PAPER, version=2)
    fake_full_text.error = FullTextError("arXiv did not answer (503); try again in a few minutes.")
    late = asyncio.run(service.ask(question(), now=NOW + dt.timedelta(days=30)))
    assert late.outcome is AskOutcome.ANSWERED  # arXiv is down: the kept text still answers


def test_two_people_asking_about_a_new_paper_at_once_read_it_once(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    fake_full_text.delay = 0.05
    service = make_service()

    async def both() -> list[Answer]:
        return await asyncio.gather(service.ask(question(user="U1"), now=NOW),
                                    service.ask(question(user="U2"), now=NOW))

    answers = asyncio.run(both())
    assert [a.outcome for a in answers] == [AskOutcome.ANSWERED] * 2 and fake_full_text.reads == [PAPER]


def test_a_paper_without_html_or_pdf_says_so_and_asks_no_llm(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, fake_llm: FakeChat,
) -> None:
    fake_full_text.texts[PAPER] = None
    service = make_service()
    said = ask(service)
    assert said.outcome is AskOutcome.NO_TEXT and said.public
    assert "neither an HTML rendering nor a PDF" in said.text and PAPER in said.text
    assert fake_llm.requests == [] and service.store.full_text(PAPER) is None
    assert [a.outcome for a in service.store.thread_asks("chat", "C1", ["m2"])] == [AskOutcome.NO_TEXT]


def test_an_unreachable_arxiv_gives_its_message_privately(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    fake_full_text.error = FullTextError("arXiv did not answer (503); try again in a few minutes.")
    said = ask(make_service())
    assert not said.public and said.outcome is AskOutcome.FAILED
    assert said.text == "arXiv did not answer (503); try again in a few minutes."


def test_without_an_llm_key_or_a_text_source_questions_say_what_is_missing(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    no_key = make_service(openai_api_key=None)
    assert ask(no_key) == Answer(NO_LLM, None, public=False)
    assert fake_full_text.reads == [] and no_key.store.ask_times("chat", NOW - dt.timedelta(hours=1)) == []
    no_source = make_service(source=None)
    assert ask(no_source) == Answer(NO_SOURCE, None, public=False)
    assert no_source.store.ask_times("chat", NOW - dt.timedelta(hours=1)) == []  # nothing counts against a limit


def test_a_question_the_text_does_not_cover_costs_nothing(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, fake_llm: FakeChat,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    said = ask(make_service(), question("Who won the football world cup in 1954?"))
    assert said.outcome is AskOutcome.NOT_COVERED and said.public and said.cost_usd == 0.0
    assert "does not seem to cover it" in said.text and fake_llm.requests == []


class FailingChat(FakeChat):
    def __init__(self, error: BaseException | None = None, reply: str = "") -> None:
        super().__init__()
        self.error, self.reply = error, reply

    async def complete(self, system: str, user: str, response_format: object = None,
                       max_tokens: int | None = None) -> Completion:
        if self.error is not None:
            raise self.error
        return Completion(self.reply, Usage(900, 0, 3, 1))


@pytest.mark.parametrize(("chat", "expected"), [
    (FailingChat(LLMError("The LLM refused the request (429 rate limit); try again in a minute.")),
     "The LLM refused the request (429 rate limit); try again in a minute."),
    (FailingChat(reply="SOURCES: 1"), "The LLM's reply held no answer; try asking again."),
])
def test_an_llm_failure_or_an_empty_reply_is_said_privately(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, chat: FakeChat, expected: str,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    service = make_service()
    service.chat_factory = lambda: chat
    said = ask(service)
    assert said.text == expected and not said.public and said.outcome is AskOutcome.FAILED
    [stored] = service.store.thread_asks("chat", "C1", ["m2"])
    assert stored.outcome is AskOutcome.FAILED and stored.answer == ""


def test_a_follow_up_carries_the_threads_earlier_questions_about_the_same_paper(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, fake_llm: FakeChat,
) -> None:
    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    fake_full_text.texts["2503.10006"] = moe_paper("2503.10006")
    service = make_service()
    ask(service, question("How many GPUs does each run use?"))
    ask(service, question("Which dataset?", arxiv_id="2503.10006"))  # another paper, same thread
    ask(service, question("What perplexity at 4 bits?", thread="m9", conversation={"m9"}))  # another thread
    ask(service, question("And at 8 bits?"))
    last = fake_llm.requests[-1]
    assert "Q: How many GPUs does each run use?" in last and "A: According to the paper" in last
    assert "Which dataset?" not in last and "4 bits?" not in last.split("<<<END HISTORY")[0]


def test_closing_the_service_closes_its_full_text_source(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText,
) -> None:
    asyncio.run(make_service().aclose())
    assert fake_full_text.closed
    asyncio.run(make_service(source=None).aclose())  # nothing to close


def test_each_question_logs_one_line_without_its_text(
    make_service: Callable[..., AskService], fake_full_text: FakeFullText, caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    fake_full_text.texts[PAPER] = moe_paper(PAPER)
    with caplog.at_level(logging.INFO, logger="bot.asking.service"):
        said = ask(make_service(), question("How many GPUs? my secret project Zebra-7"))
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "ask"]
    assert record.outcome == "answered" and record.arxiv_id == PAPER  # type: ignore[attr-defined]
    assert record.cost_usd == said.cost_usd and "Zebra-7" not in record.getMessage()  # type: ignore[attr-defined]
    assert record.getMessage().startswith(f"ask chat:C1 {PAPER} answered: ")
