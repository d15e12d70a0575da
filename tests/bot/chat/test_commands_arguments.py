"""Command arguments people really type: superscript and other non-ASCII digits, numbers past any range,
arguments thousands of characters long; and the generic failure path, which never shows an exception's text."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.chat.commands import COMMANDS, MAX_COMMAND_CHARS, CommandCore, Invocation, parse, whole_number
from bot.domain.errors import describe
from bot.domain.platform import Caller, Reply
from tests.conftest import DAY, sample_papers
from tests.support.fakes import FakeArxiv, PlainMarkup

REFERENCE = re.compile(r"reference ([0-9a-f]{8})")


def person(user: str = "U1", *, admin: bool = True, channel: str = "C1") -> Caller:
    async def is_admin() -> bool:
        return admin

    return Caller("chat", "T1", channel, user, is_admin, "workspace admins")


@pytest.fixture
def core(make_core: Callable[..., CommandCore], fake_arxiv: FakeArxiv) -> Iterator[CommandCore]:
    fake_arxiv.set_day(DAY, sample_papers(6))
    core = make_core()
    asyncio.run(core.execute(person(), parse("subscribe"), PlainMarkup()))
    yield core
    core.close()


def say(core: CommandCore, text: str, who: Caller | None = None) -> Reply:
    return asyncio.run(core.execute(who or person(), parse(text), PlainMarkup()))


@pytest.mark.parametrize("text", ["abstract ²", "abstract ³", "abstract ٣", "abstract ①"])
def test_a_rank_in_other_digits_is_answered_as_a_mistake(core: CommandCore, text: str) -> None:
    reply = say(core, text)
    assert "is not an arXiv ID" in reply.text and "expected e.g. 2503.03213" in reply.text
    assert "invalid literal" not in reply.text and "Sorry" not in reply.text


@pytest.mark.parametrize("number", ["²", "99999999999999999999", "0", "-1", "+3", "3.0", "1_000", "٣"])
def test_suggest_apply_takes_only_a_plain_number(core: CommandCore, number: str) -> None:
    reply = say(core, f"suggest apply {number}")
    assert "Give the number `/arxiv suggest` showed, in digits 0–9" in reply.text, reply.text
    assert "Sorry" not in reply.text and "int" not in reply.text


def test_suggest_apply_of_a_number_never_made_says_there_is_none(core: CommandCore) -> None:
    assert "There is no suggestion 999999" in say(core, "suggest apply 999999").text


def test_thresholds_in_other_digits_are_refused_with_the_expected_form(core: CommandCore) -> None:
    for text in ("threshold ٨ ٦", "threshold ⁸ 6", "threshold 8 6 5", "threshold 0800000000 6"):
        assert "Give two whole numbers from 1 to 10" in say(core, text).text, text
    assert "relevance ≥ 8 and novelty ≥ 6" in say(core, "threshold 8 6").text


def test_whole_number_reads_ascii_digits_in_range_only() -> None:
    assert whole_number("7", low=1, high=10) == 7
    assert whole_number("007", low=1, high=10) == 7
    for text in ("", " 7", "7 ", "²", "٧", "11", "0", "7\n", "1" * 5000):
        assert whole_number(text, low=1, high=10) is None, text


def test_an_unexpected_failure_gives_a_reference_never_the_exceptions_text(
    core: CommandCore, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("(sqlite3.IntegrityError) UNIQUE constraint failed: paper.arxiv_id [SQL: INSERT …]")

    core.store.channel_stats = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        reply = say(core, "stats")
    assert "Sorry, that failed on the bot's side" in reply.text and "Try again in a minute" in reply.text
    for leak in ("sqlite3", "UNIQUE", "RuntimeError", "SQL", "Traceback"):
        assert leak not in reply.text
    match = REFERENCE.search(reply.text)
    assert match is not None
    [record] = [r for r in caplog.records if match[1] in r.getMessage()]
    assert "/arxiv stats" in record.getMessage() and "UNIQUE constraint failed" in record.getMessage()


def test_the_logged_failure_is_bounded_even_for_a_huge_message() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("x" * 100_000)
        deep(n - 1)

    try:
        try:
            deep(200)
        except ValueError as exc:
            raise RuntimeError("y" * 100_000) from exc
    except RuntimeError as exc:
        text = describe(exc)
    assert len(text) < 6_000
    assert "RuntimeError: yyy" in text and "caused by:" in text and "ValueError: xxx" in text
    assert "(100,000 characters)" in text


def test_an_abstract_button_failure_is_answered_the_same_way(core: CommandCore) -> None:
    def broken(arxiv_id: str) -> Any:
        raise OSError("disk I/O error at /var/lib/digest.db")

    core.store.get_paper = broken  # type: ignore[method-assign]
    reply = asyncio.run(core.abstract("2503.10001"))
    assert REFERENCE.search(reply.text) and "/var/lib" not in reply.text and "OSError" not in reply.text


# --- sizes ---------------------------------------------------------------------------------------------------


def test_a_huge_categories_argument_is_refused_at_once(core: CommandCore) -> None:
    huge = " ".join(f"cs.X{i}" for i in range(7_000))  # ~45,000 characters of unknown categories
    started = time.perf_counter()
    invocation = parse(f"categories {huge}")
    reply = asyncio.run(core.execute(person(), invocation, PlainMarkup()))
    took = time.perf_counter() - started
    assert took < 0.05, f"{took:.3f} s"
    assert invocation.args == () and invocation.oversize > 40_000
    assert f"That is too long for `/arxiv categories`: {invocation.oversize:,} characters" in reply.text
    assert "at most 500" in reply.text and "Nothing was changed" in reply.text
    assert len(reply.text) < 400
    assert "cs.LG cs.AI" in say(core, "categories").text  # unchanged


def test_every_commands_limit_holds_under_the_parse_cap_too(core: CommandCore) -> None:
    """An argument just over a command's own limit (but short of MAX_COMMAND_CHARS) is refused the same way."""
    for name, spec in COMMANDS.items():
        assert spec.max_chars < MAX_COMMAND_CHARS
        over = "a" * (spec.max_chars + 1)
        reply = asyncio.run(core.execute(person(), Invocation(name, (over,)), PlainMarkup()))
        assert f"That is too long for `/arxiv {name}`" in reply.text, name


def test_a_categories_argument_within_the_limit_is_answered_quickly(core: CommandCore) -> None:
    """The longest accepted argument, all unknown words (each gets a "did you mean"), is still quick."""
    words = " ".join(["cs.Zz"] * 80)[: COMMANDS["categories"].max_chars]
    started = time.perf_counter()
    reply = say(core, f"categories {words}")
    assert time.perf_counter() - started < 0.5
    assert "unknown arXiv categor" in reply.text


def test_a_huge_unknown_command_is_echoed_short(core: CommandCore) -> None:
    reply = say(core, "x" * 900)
    assert reply.text.startswith("Unknown command `xxx") and len(reply.text.split("\n")[0]) < 80


def test_a_vote_button_with_a_crafted_value_counts_nothing(core: CommandCore) -> None:
    for value in ("junk id", "\ud800", "x\x00y", ""):
        reply = asyncio.run(core.vote(person("U2", admin=False), value, "positive"))
        assert reply.text == "That button does not name an arXiv paper, so nothing was counted.", value
    assert core.store.feedback_for("chat", "C1") == []


def test_lone_surrogates_and_control_characters_never_reach_a_reply_or_the_database(core: CommandCore) -> None:
    for text in ("search \ud800 experts", "abstract \ud800", "schedule 09:00 Europe/\x00Berlin", "categories \x00"):
        reply = say(core, text)
        reply.text.encode("utf-8")
        assert "\x00" not in reply.text and "Sorry" not in reply.text, text


def test_a_long_word_in_categories_is_refused_without_echoing_it(core: CommandCore) -> None:
    word = "cs." + "Q" * 200
    reply = say(core, f"categories cs.LG {word}")
    assert word not in reply.text and "arXiv category names are short" in reply.text
    assert "cs.LG cs.AI" in say(core, "categories").text  # unchanged
