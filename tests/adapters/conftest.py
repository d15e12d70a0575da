"""What the adapters' tests share: the command core as the composition root builds it, on a fresh database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.bootstrap import build_core
from bot.chat.commands import CommandCore
from storage.store import Store


@pytest.fixture
def core(make_settings: Callable[..., Any]) -> Iterator[CommandCore]:
    settings = make_settings()
    store = Store.open(settings.database_url)
    yield build_core(settings, store)
    store.close()
