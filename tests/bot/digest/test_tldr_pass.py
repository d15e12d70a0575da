"""The TL;DR pass in a day's run: only the posted papers, in the profile's language, stored and reused, its
usage in the day's totals and on a line of its own; extractive and free with the local scorer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.digest.pipeline import RunResult, run_digest
from bot.domain.settings import Settings
from bot.scoring.tldr import extractive
from storage.store import Store
from tests.conftest import DAY, default_profile, sample_papers
from tests.support.fakes import FakeArxiv, FakeChat
from tests.support.openai_server import tldr_of


@pytest.fixture
def day_run(fake_arxiv: FakeArxiv, fake_llm: FakeChat) -> Callable[..., RunResult]:
    fake_arxiv.set_day(DAY, sample_papers(30))

    def go(settings: Settings, language: str = "en") -> RunResult:
        store = Store.open(settings.database_url)
        try:
            profile = default_profile(store, settings)
            profile = store.update_profile(profile.id, language=language)
            factory = (lambda: fake_llm) if settings.has_llm else None
            return asyncio.run(run_digest(settings, store, profile, fake_arxiv, chat_factory=factory))
        finally:
            store.close()

    return go


def test_only_the_posted_papers_get_a_tldr_in_one_small_pass_counted_on_its_own_line(day_run, fake_llm, core_settings):
    digest = day_run(core_settings(batch_size=10), language="de").digest
    assert digest is not None and digest.ranked
    asked = [pid for user in fake_llm.tldr_requests for pid in user.split("ArXiv ID: ")[1:]]
    assert sorted(a.split()[0] for a in asked) == sorted(r.paper.arxiv_id for r in digest.ranked)
    assert all("in German" in s for s in fake_llm.systems if '"TLDR"' in s)
    assert [r.tldr for r in digest.ranked] == [tldr_of(r.paper.title, r.paper.abstract) for r in digest.ranked]
    assert digest.tldr_usage.requests == len(fake_llm.tldr_requests) == 1
    assert digest.usage.requests == 3 + 1  # the day's totals include the pass
    assert digest.tldr_cost_usd is not None and digest.cost_usd is not None
    assert 0 < digest.tldr_cost_usd < 0.2 * digest.cost_usd


def test_a_second_run_reuses_the_stored_tldrs_and_another_language_asks_again(day_run, fake_llm, core_settings):
    settings = core_settings(batch_size=10)
    first = day_run(settings, language="ja").digest
    fake_llm.clear()
    again = day_run(settings, language="ja").digest
    assert fake_llm.tldr_requests == [] and again.tldr_usage.requests == 0
    assert [r.tldr for r in again.ranked] == [r.tldr for r in first.ranked]
    day_run(settings, language="zh")
    assert len(fake_llm.tldr_requests) == 1 and "in Chinese" in fake_llm.systems[-1]


def test_the_local_scorer_writes_the_abstracts_first_sentence_for_free(day_run, fake_llm, core_settings):
    digest = day_run(core_settings(openai_api_key=None)).digest
    assert digest is not None and digest.ranked and fake_llm.requests == []
    assert [r.tldr for r in digest.ranked] == [extractive(r.paper) for r in digest.ranked]
    assert digest.tldr_usage.requests == 0 and digest.tldr_cost_usd == 0.0


def test_a_spent_budget_leaves_the_tldrs_extractive(day_run, fake_llm, core_settings):
    digest = day_run(core_settings(batch_size=10, max_cost_usd=0.0000001)).digest
    assert fake_llm.tldr_requests == []
    assert all(r.tldr == extractive(r.paper) for r in digest.ranked)


def test_the_archive_shows_the_tldrs_the_day_was_posted_with(day_run, core_settings):
    from bot.digest.archive import stored_digests

    settings = core_settings(batch_size=10)
    digest = day_run(settings, language="de").digest
    store = Store.open(settings.database_url)
    try:
        [past] = stored_digests(store, store.profile_by_id(1))
    finally:
        store.close()
    shown = {r.paper.arxiv_id: r.tldr for r in past.ranked if r.tldr}
    assert shown == {r.paper.arxiv_id: r.tldr for r in digest.ranked}
