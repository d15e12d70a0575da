"""Questions from strangers, fuzzed: any text by mention in any thread or none, replying to any message, and any
arguments to /arxiv ask. Nothing escapes, the generic failure path is never taken, no reply carries an exception's
text, pings nobody, or grows with its input."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.chat.commands import CommandCore, parse
from bot.domain.platform import Reply
from storage.store import Store
from tests.bot.asking.texts import moe_paper
from tests.bot.chat.test_commands_fuzz import FUZZ, ODD, Errors, check, errors, who, word
from tests.conftest import DAY, sample_papers
from tests.support.chat import MemoryPoster
from tests.support.fakes import FakeArxiv, FakeChat, FakeFullText, PlainMarkup, copy_of, fake_core, fake_settings
from tests.support.fakes import scratch_folder as folder_for_databases

__all__ = ["errors"]  # the fixture, shared with the commands' fuzz tests
PINGS = re.compile(r"@(everyone|here|channel)|<[!@#]", re.IGNORECASE)
MESSAGES = ["m1", "m2", "m3", "m4", "", "m999", "\x00", "1700000000.000100", "x" * 300]


@pytest.fixture(scope="module")
def core(migrated_database: Path) -> Iterator[CommandCore]:
    """A channel with a posted digest whose papers are readable, limits high enough for every example."""
    arxiv = FakeArxiv()
    arxiv.set_day(DAY, sample_papers(6))
    full_text = FakeFullText()
    for paper in sample_papers(6):
        full_text.texts[paper["arxiv_id"]] = moe_paper(paper["arxiv_id"], injected=True)
    with folder_for_databases() as folder:
        settings = fake_settings(copy_of(migrated_database, folder / "digest.db"), ask_per_hour=100_000,
                                 ask_channel_per_hour=100_000)
        store = Store.open(settings.database_url)
        core = fake_core(settings, store, arxiv, FakeChat(), full_text)
        core.service.register(MemoryPoster())
        for text in ("subscribe", "run"):
            asyncio.run(core.execute(who(admin=True), parse(text), PlainMarkup()))
        yield core
        core.close()
        store.close()


def no_ping(reply: Reply) -> None:
    assert PINGS.search(reply.text) is None, reply.text[:300]


question = st.lists(st.one_of(word, st.sampled_from(["1", "2", "#3", "2503.10003", "arXiv:2503.10006v2", "GPUs",
                                                    "dataset", "Table", "<!channel>", "@everyone"])), max_size=8)


@pytest.mark.slow
@FUZZ
@given(words=question, thread=st.one_of(st.none(), st.sampled_from(MESSAGES)),
       replied_to=st.one_of(st.none(), st.sampled_from(MESSAGES)))
@example(words=["1", "how", "many", "GPUs?"], thread="m1", replied_to=None)
@example(words=["<!channel>", "@everyone", "GPUs"], thread=None, replied_to="m2")
def test_mentions_with_any_text_in_any_thread(core: CommandCore, errors: Errors, words: list[str],
                                              thread: str | None, replied_to: str | None) -> None:
    errors.records.clear()
    text = " ".join(words)
    reply = asyncio.run(core.ask_mention(who(admin=False), text, thread=thread, replied_to=replied_to,
                                         markup=PlainMarkup()))
    check(reply, words, errors.records)
    no_ping(reply)
    assert reply.thread in {thread, replied_to, None} or reply.thread in {"m2", "m3", "m4", "m5", "m6", "m7"}


@pytest.mark.slow
@FUZZ
@given(arguments=st.lists(st.one_of(word, st.sampled_from([*ODD, "1", "2503.10003", "GPUs", "Table"])), max_size=8))
@example(arguments=["1", "@everyone", "GPUs?"])
def test_ask_with_any_arguments(core: CommandCore, errors: Errors, arguments: list[str]) -> None:
    errors.records.clear()
    reply = asyncio.run(core.execute(who(admin=False), parse(" ".join(["ask", *arguments])), PlainMarkup()))
    check(reply, arguments, errors.records)
    no_ping(reply)
