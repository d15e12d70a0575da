"""The command core on in-memory fakes of arXiv and the LLM, with a fresh copy of one migrated database a test
(the fixtures for those: tests/bot/conftest.py).

Tests about the HTTP edge (the look-up lane waiting on a slow arXiv API) build their core on the stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import DAY, sample_papers
from tests.support.fakes import FakeArxiv


@pytest.fixture
def core(make_core: Callable[..., Any], fake_arxiv: FakeArxiv) -> Any:
    """A core whose feed announces 12 papers on DAY (every third one relevant)."""
    fake_arxiv.set_day(DAY, sample_papers(12))
    return make_core()
