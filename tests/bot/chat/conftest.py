"""The command core on in-memory fakes of arXiv and the LLM, with a fresh copy of one migrated database a test
(the fixtures for those: tests/bot/conftest.py).

Tests about the HTTP edge (the look-up lane waiting on a slow arXiv API) build their core on the stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.chat.commands import CommandCore
from storage.store import Store
from tests.conftest import DAY, sample_papers
from tests.support.chat import MemoryPoster
from tests.support.fakes import FakeArxiv, FakeChat, fake_core, fake_settings


@pytest.fixture
def make_core(
    fresh_database: Callable[[], str], fake_arxiv: FakeArxiv, fake_llm: FakeChat
) -> Iterator[Callable[..., Any]]:
    """``make_core(**settings)``: a core on the fakes, posting to a MemoryPoster (``core.poster``)."""
    stores: list[Store] = []

    def build(**overrides: Any) -> CommandCore:
        settings = fake_settings(fresh_database(), **overrides)
        stores.append(store := Store.open(settings.database_url))
        core = fake_core(settings, store, fake_arxiv, fake_llm)
        core.poster = MemoryPoster()  # type: ignore[attr-defined]  # the tests read what was posted
        core.service.register(core.poster)  # type: ignore[attr-defined]
        return core

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def core(make_core: Callable[..., Any], fake_arxiv: FakeArxiv) -> Any:
    """A core whose feed announces 12 papers on DAY (every third one relevant)."""
    fake_arxiv.set_day(DAY, sample_papers(12))
    return make_core()
