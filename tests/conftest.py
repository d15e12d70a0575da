"""Shared fixtures: stand-ins for arXiv and the OpenAI API on 127.0.0.1, settings pointing at them."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from bot.digest.profiles import default_profile  # noqa: F401  (re-exported for tests)
from bot.domain.models import Paper
from bot.domain.settings import Settings
from storage.store import Store
from tests.support import ArxivStandIn, OpenAIStandIn, make_paper
from tests.support.discord_api import DiscordStandIn
from tests.support.http import Served
from tests.support.slack_api import SlackStandIn

DAY = dt.date(2025, 3, 6)

# No per-example deadline for any property test: on a loaded 2-core CI machine one example of a Slack event
# fuzz took over hypothesis's default 200 ms. Speed is measured in bench/, never asserted in tests.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer key, database or .env leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("DIGEST_", "OPENAI_", "ARXIV_", "SLACK_", "DISCORD_")) or name in {"DATABASE_URL", "PORT"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _serving(stand_in: type[Served], name: str) -> Any:
    """A fixture that runs ``stand_in`` for one test."""

    def serve() -> Iterator[Served]:
        with stand_in() as server:
            yield server

    serve.__doc__ = f"A running {stand_in.__name__}."
    return pytest.fixture(serve, name=name)


arxiv = _serving(ArxivStandIn, "arxiv")  # arXiv's RSS feeds and export API
llm = _serving(OpenAIStandIn, "llm")  # the OpenAI API
slack = _serving(SlackStandIn, "slack")  # Slack's Web API


@pytest.fixture
def discord_api() -> Iterator[DiscordStandIn]:
    """Discord's REST API, with discord.py's requests routed to it (its base URL is restored afterwards)."""
    with DiscordStandIn() as server, server.patch_discord_py():
        yield server


@pytest.fixture
def make_settings(tmp_path: Path, arxiv: ArxivStandIn, llm: OpenAIStandIn) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "openai_api_key": "test-key",
            "openai_base_url": llm.base_url,
            "database_url": f"sqlite:///{tmp_path / 'digest.db'}",
            "arxiv_rss_url": arxiv.rss_url,
            "arxiv_api_url": arxiv.api_url,
            "arxiv_html_url": arxiv.html_url,  # papers' full text, for questions: never the real arxiv.org
            "arxiv_pdf_url": arxiv.pdf_url,
            "retry_base_delay": 0.01,
            "arxiv_api_delay": 0.0,
            "llm_timeout": 5.0,
            "llm_max_retries": 2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def sample_papers(n: int, *, start: int = 1, relevant_every: int = 3) -> list[dict[str, Any]]:
    """Papers the stand-in LLM judges predictably: every ``relevant_every``-th is about MoE quantization."""
    papers = []
    for i in range(start, start + n):
        on_topic = i % relevant_every == 0
        papers.append(
            make_paper(
                f"2503.{10000 + i:05d}",
                title=f"Sparse mixture of experts with quantization, part {i}"
                if on_topic
                else f"A survey of topic {i}",
                abstract=(
                    "We propose a novel mixture of experts method with pruning and low-rank compression "
                    "of transformers."
                    if on_topic
                    else "We collect a dataset for an application domain and report results."
                ),
                authors=[f"Author {i}", "Second Author"],
                categories=["cs.LG"],
                announce_type="new",
            )
        )
    return papers



def as_paper(data: dict[str, Any]) -> Paper:
    return Paper.from_dict(data)
