"""An AskService on the fakes (FakeChat, FakeFullText) and a fresh copy of the migrated database per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.asking.service import AskService
from storage.store import Store
from tests.support.fakes import FakeChat, FakeFullText, fake_settings


@pytest.fixture
def make_service(fresh_database: Callable[[], str], fake_llm: FakeChat,
                 fake_full_text: FakeFullText) -> Iterator[Callable[..., AskService]]:
    """``make_service(**settings)``: the asking service on the fakes; ``source=None`` leaves full text unset up."""
    stores: list[Store] = []

    def build(*, source: Any = fake_full_text, **overrides: Any) -> AskService:
        settings = fake_settings(fresh_database(), **overrides)
        stores.append(store := Store.open(settings.database_url))
        return AskService(settings, store, (lambda: fake_llm) if settings.has_llm else None, source)

    yield build
    for store in stores:
        store.close()
