"""Every command's argument path, fuzzed: random, Unicode, huge, empty and whitespace arguments through the core,
as typed text (parse) and as option words (the Discord adapter's Invocation), by an admin and by a member.

Whatever arrives: nothing escapes, the generic failure path is never taken (it would mean an argument reached
code that could not handle it), no reply carries an exception's text, a traceback or a class name, and no
reply grows with its input. Hypothesis runs derandomized, so every run tries the same examples.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.chat.commands import COMMANDS, MAX_COMMAND_CHARS, CommandCore, Invocation, parse
from bot.domain.platform import Caller, Reply
from storage.store import Store
from tests.conftest import DAY, sample_papers
from tests.support.chat import MemoryPoster
from tests.support.fakes import FakeArxiv, FakeChat, PlainMarkup, copy_of, fake_core, fake_settings, scratch_folder

EXAMPLES = 300
REPLY_LIMIT = 6_000  # help and the criteria are the longest replies, and neither depends on the arguments
ECHO_LIMIT = 120  # a longer argument is never repeated whole
LEAKS = re.compile(
    r"Traceback|File \"|line \d+, in|Sorry, that failed|invalid literal|object at 0x|sqlite|SQL|psycopg|"
    r"\b\w*(Error|Exception)\b(?!s)|OverflowError|KeyError|IndexError|StopIteration|NoneType|<bot\.|<storage\."
)

# Characters and words that broke or could break argument handling: digits int() refuses or reads oddly,
# invisible and direction-changing characters, NUL, a lone surrogate (JSON can carry one), markup.
ODD = [
    "²", "³", "٣", "①", "Ⅻ", "𝟗", "\u00a0", "\u2003", "\u200b", "\u202e", "\ufeff", "\x00", "\x1b[2J", "\ud800",
    "🙂", "👍🏽", "ﬁ", "İ", "ß", "\n", "\t", "\r\n", "`", "```", "*", "_", "~", "<!channel>", "@everyone", "<@U1>",
    "'", '"', "\\", "%s", "{}", "{0}", "../../etc/passwd", "NaN", "inf", "-1", "0", "00", "1e9", "0x10", "+3",
    "3.0", "1_000", "99999999999999999999", "9" * 400, "on", "off", "reset", "apply", "edit", "cs.LG", "cs.lg",
    "cs.LG,cs.CL", "math.GT/0309136", "2503.10003", "arXiv:2503.10003v2", "https://arxiv.org/abs/2503.10003",
    "09:00", "25:61", "9:00", "Europe/Berlin", "Europe/../UTC", "Mars/Olympus", "UTC", "+05:30",
]
word = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Nd", "No", "Zs", "Cf", "Mn"]), min_size=1, max_size=8),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "9", " ", "²", "cs.X ", "\u200b"]),
              st.integers(min_value=50, max_value=3_000)),
)
names = st.one_of(st.sampled_from(sorted(COMMANDS)), st.sampled_from(["", "  ", "HELP", "Criteria Edit", "²"]),
                  st.text(max_size=12))


def who(*, admin: bool) -> Caller:
    async def is_admin() -> bool:
        return admin

    return Caller("chat", "T1", "C1", "U1" if admin else "U2", is_admin, "workspace admins")


@pytest.fixture(scope="module")
def core(migrated_database: Path) -> Iterator[CommandCore]:
    """One subscribed channel with a posted digest, on the fakes; shared by every example."""
    arxiv = FakeArxiv()
    arxiv.set_day(DAY, sample_papers(6))
    with scratch_folder() as folder:
        settings = fake_settings(copy_of(migrated_database, folder / "digest.db"))
        store = Store.open(settings.database_url)
        core = fake_core(settings, store, arxiv, FakeChat())
        core.service.register(MemoryPoster())
        for text in ("subscribe", "run"):
            asyncio.run(core.execute(who(admin=True), parse(text), PlainMarkup()))
        yield core
        core.close()
        store.close()


def check(reply: Any, arguments: list[str], errors: list[logging.LogRecord]) -> None:
    assert isinstance(reply, Reply)
    text = reply.text or ""
    assert not errors, [r.getMessage()[:300] for r in errors]
    leak = LEAKS.search(text)
    assert leak is None, f"{leak[0]!r} in {text[:500]!r}"
    assert len(text) <= REPLY_LIMIT, len(text)
    text.encode("utf-8")  # no lone surrogate: no platform would take the reply
    assert "\x00" not in text
    for argument in arguments:
        if len(argument) > ECHO_LIMIT:
            assert argument not in text, "a long argument came back whole"


def keep_subscribed(core: CommandCore) -> None:
    """An example may unsubscribe the channel; the next one should still reach the subscribed paths."""
    sub = core.store.get_subscription("chat", "C1")
    if sub is None or not sub.active:
        asyncio.run(core.execute(who(admin=True), parse("subscribe"), PlainMarkup()))


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(name=names, arguments=st.lists(word, max_size=6), admin=st.booleans())
@example(name="categories", arguments=["cs.X" * 40], admin=True)  # once echoed whole in "unknown category"
def test_typed_commands_with_any_arguments(core: CommandCore, errors: Errors, name: str, arguments: list[str],
                                           admin: bool) -> None:
    errors.records.clear()
    text = " ".join([name, *arguments])
    reply = asyncio.run(core.execute(who(admin=admin), parse(text), PlainMarkup()))
    check(reply, arguments, errors.records)
    keep_subscribed(core)


@FUZZ
@given(name=st.sampled_from(sorted(COMMANDS)), arguments=st.lists(word, max_size=6), admin=st.booleans())
@example(name="categories", arguments=["cs.X" * 40], admin=True)
def test_option_words_with_any_content(core: CommandCore, errors: Errors, name: str, arguments: list[str],
                                       admin: bool) -> None:
    """The Discord adapter builds Invocations from option values itself: words may hold anything but spaces."""
    errors.records.clear()
    words = tuple(w for a in arguments for w in a.split())
    reply = asyncio.run(core.execute(who(admin=admin), Invocation(name, words), PlainMarkup()))
    check(reply, list(words), errors.records)
    keep_subscribed(core)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("arguments", ["", "   ", "\u00a0\u2003\u200b", "²", "9" * 30, "x" * (MAX_COMMAND_CHARS * 40)])
def test_every_command_with_the_classic_odd_arguments(core: CommandCore, errors: Errors, name: str,
                                                      arguments: str) -> None:
    errors.records.clear()
    reply = asyncio.run(core.execute(who(admin=True), parse(f"{name} {arguments}"), PlainMarkup()))
    check(reply, [arguments], errors.records)
    keep_subscribed(core)


BUTTON_VALUES = ["2503.10003", "2503.10003v2", "2601.99999", "\ud800", "2503.10003\x00", "junk id"]


@settings(FUZZ, max_examples=150)
@given(value=st.one_of(word, st.sampled_from(BUTTON_VALUES)), up=st.booleans())
def test_button_values_with_any_content(core: CommandCore, errors: Errors, value: str, up: bool) -> None:
    """Buttons carry the arXiv ID in their value, which a crafted request can set to anything."""
    errors.records.clear()
    for reply in (asyncio.run(core.abstract(value, who(admin=False))),
                  asyncio.run(core.vote(who(admin=False), value, "positive" if up else "negative"))):
        check(reply, [value], errors.records)
