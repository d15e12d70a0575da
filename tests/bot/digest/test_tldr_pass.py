"""The TL;DR pass in a day's run: only the posted papers, in the profile's language (their criteria comments
translated in the same pass), stored and reused, its usage in the day's totals and on a line of its own;
extractive and free with the local scorer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.digest.pipeline import RunResult, run_digest, with_tldrs
from bot.domain.models import Judgment, RankedPaper, Tldr
from bot.domain.settings import Settings
from bot.scoring.tldr import extractive
from storage.store import Store
from tests.conftest import DAY, as_paper, default_profile, sample_papers
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
    assert 0 < digest.tldr_cost_usd < 0.3 * digest.cost_usd  # German: the criteria comments come translated too


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


def test_a_german_channel_gets_its_comments_translated_in_the_tldr_pass_and_the_scores_stay_english(
    day_run, fake_llm, core_settings,
):
    settings = core_settings(batch_size=10)
    english = day_run(settings).digest
    assert all('"COMMENT"' not in s for s in fake_llm.systems)  # English: the pass is as it was, no extra tokens
    assert all("Comment:" not in user for user in fake_llm.tldr_requests)
    fake_llm.clear()
    german = day_run(settings, language="de").digest
    assert fake_llm.paper_ids_per_request == []  # the scores came from the cache: the scoring prompt is untouched
    assert len(fake_llm.tldr_requests) == 1
    comments = {r.paper.arxiv_id: r.judgment.comment for r in english.ranked}
    assert all(comments.values())
    assert {r.paper.arxiv_id: r.judgment.comment for r in german.ranked} == {
        pid: f"[German] {text}" for pid, text in comments.items()}
    assert [r.judgment.relevance for r in german.ranked] == [r.judgment.relevance for r in english.ranked]
    store = Store.open(settings.database_url)
    try:
        run = store.get_run(1, german.date)
        assert run is not None
        judgments = store.get_judgments(comments, run.criteria_key, german.model)
    finally:
        store.close()
    assert {pid: j.comment for pid, j in judgments.items()} == comments  # the stored judgment stays English


def test_a_second_german_run_and_the_archive_show_the_stored_translations_and_ask_nothing(
    day_run, fake_llm, core_settings,
):
    from bot.digest.archive import stored_digests

    settings = core_settings(batch_size=10)
    first = day_run(settings, language="de").digest
    fake_llm.clear()
    again = day_run(settings, language="de").digest
    assert fake_llm.requests == []
    shown = [(r.paper.arxiv_id, r.judgment.comment) for r in first.ranked]
    assert [(r.paper.arxiv_id, r.judgment.comment) for r in again.ranked] == shown
    assert all(comment.startswith("[German] ") for _, comment in shown)
    store = Store.open(settings.database_url)
    try:
        [past] = stored_digests(store, store.profile_by_id(1))
    finally:
        store.close()
    assert [(r.paper.arxiv_id, r.judgment.comment) for r in past.ranked if r.tldr] == shown


def test_a_translation_made_for_other_criteria_is_not_shown_the_english_comment_is():
    [paper] = sample_papers(1)
    item = RankedPaper(as_paper(paper), Judgment(paper["arxiv_id"], 8, 7, "Matches topic 2."), 1)
    [shown] = with_tldrs([item], {paper["arxiv_id"]: Tldr("Sie zeigen X.", "Passt zu Thema 1.", "Matches topic 1.")})
    assert (shown.tldr, shown.judgment.comment) == ("Sie zeigen X.", "Matches topic 2.")
