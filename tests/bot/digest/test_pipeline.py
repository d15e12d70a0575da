"""The daily job end to end: feed → LLM → storage → files, on in-memory fakes of arXiv and the LLM; what a run
makes of the LLM's HTTP errors and of the Batch API, on the stand-ins."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.arxiv_rss import RSSFetcher
from adapters.files import write_digest
from adapters.llm import OpenAIChat
from bot.digest.pipeline import Fetcher, RunResult, run_digest
from bot.domain.errors import BudgetError, DigestError
from bot.domain.settings import Settings
from bot.scoring.llm_scorer import ChatModel
from storage.store import Store
from tests.conftest import DAY, default_profile, sample_papers
from tests.support import Reply, Status, make_paper
from tests.support.fakes import FakeArxiv, FakeChat


def run(settings: Settings, fetcher: Fetcher, chat: Callable[[], ChatModel], out: Path | None = None,
        date: dt.date | None = None) -> RunResult:
    store = Store.open(settings.database_url)
    try:
        profile = default_profile(store, settings)
        deliver = [lambda d: write_digest(d, out)] if out else []
        chat_factory = chat if settings.has_llm else None
        return asyncio.run(run_digest(settings, store, profile, fetcher, chat_factory=chat_factory, date=date,
                                      deliver=deliver))
    finally:
        store.close()


@pytest.fixture
def run_on_fakes(fake_arxiv: FakeArxiv, fake_llm: FakeChat) -> Callable[..., RunResult]:
    """``run_on_fakes(settings, out=None, date=None)``: the pipeline on the fake feed and LLM."""
    return lambda settings, out=None, date=None: run(settings, fake_arxiv, lambda: fake_llm, out, date)


def run_on_stand_ins(settings: Settings, out: Path | None = None) -> RunResult:
    """The pipeline on the RSS and OpenAI clients, for what the LLM's HTTP edge makes of a run."""
    fetcher = RSSFetcher(settings.feed_url, keep_types=settings.announce_types, base_delay=0.01, retries=1)
    return run(settings, fetcher, lambda: OpenAIChat.from_settings(settings), out)


def on_topic_ids(day: list[dict]) -> set[str]:
    return {p["arxiv_id"] for p in day if "mixture of experts" in p["title"].lower()}


def test_a_day_is_fetched_scored_ranked_and_written(run_on_fakes, fake_arxiv, fake_llm, core_settings, tmp_path):
    day = sample_papers(30)
    replaced = make_paper("2502.00001", announce_type="replace", title="Sparse mixture of experts, revised")
    fake_arxiv.set_day(DAY, [*day, replaced])
    result = run_on_fakes(core_settings(batch_size=10), out=tmp_path / "out")
    digest = result.digest
    assert result.status == "done" and digest is not None
    assert digest.date == DAY and digest.total_arxiv == 30 and digest.scanned == 30
    assert {r.paper.arxiv_id for r in digest.ranked} <= on_topic_ids(day)
    assert all(r.judgment.relevance >= 7 and r.judgment.novelty >= 6 for r in digest.ranked)
    assert "2502.00001" not in {pid for ids in fake_llm.paper_ids_per_request for pid in ids}
    assert digest.usage.requests == 3 + digest.tldr_usage.requests  # the scoring batches and the TL;DR pass
    assert digest.cost_usd is not None and digest.cost_usd > 0
    data = json.loads((tmp_path / "out/2025-03/2025-03-06-output.json").read_text())
    assert [p["arxiv_id"] for p in data["papers"]] == [r.paper.arxiv_id for r in digest.ranked]
    assert (tmp_path / "out/2025-03/2025-03-06-output.md").exists()


def test_running_the_same_day_twice_sends_nothing_to_the_llm(run_on_fakes, fake_arxiv, fake_llm, core_settings):
    fake_arxiv.set_day(DAY, sample_papers(20))
    settings = core_settings()
    first = run_on_fakes(settings)
    sent = len(fake_llm.requests)
    second = run_on_fakes(settings)
    assert len(fake_llm.requests) == sent
    assert [r.paper.arxiv_id for r in second.digest.ranked] == [r.paper.arxiv_id for r in first.digest.ranked]
    assert second.digest.usage == first.digest.usage  # the day's spend, not this run's zero
    assert "already stored" in second.message


def test_an_empty_feed_is_a_normal_outcome_with_a_clear_message(
    run_on_fakes, fake_arxiv, fake_llm, core_settings, tmp_path,
):
    fake_arxiv.set_day(dt.date(2025, 3, 8), [])
    result = run_on_fakes(core_settings(), out=tmp_path / "out")
    assert result.status == "empty" and result.digest is None
    assert "no new papers" in result.message and "weekends" in result.message
    assert not (tmp_path / "out").exists() and fake_llm.requests == []


def test_a_stored_day_is_served_from_the_database_and_another_day_is_refused(run_on_fakes, fake_arxiv, core_settings):
    fake_arxiv.set_day(DAY, sample_papers(6))
    settings = core_settings()
    run_on_fakes(settings)
    fake_arxiv.set_day(DAY + dt.timedelta(days=1), sample_papers(4, start=100))
    fetches = fake_arxiv.feed_reads
    again = run_on_fakes(settings, date=DAY)
    assert again.digest.date == DAY and fake_arxiv.feed_reads == fetches  # no fetch for a stored day
    with pytest.raises(DigestError, match="only holds the newest day"):
        run_on_fakes(settings, date=dt.date(2025, 1, 2))


def test_budget_stop_yields_a_partial_digest_and_the_next_run_scores_only_the_rest(
    run_on_fakes, fake_arxiv, fake_llm, core_settings,
):
    fake_arxiv.set_day(DAY, sample_papers(40))
    partial = run_on_fakes(core_settings(batch_size=5, concurrency=1, max_cost_usd=0.0008))
    assert partial.status == "partial"
    unscored = {p.arxiv_id for p, _ in partial.digest.unscored}
    assert unscored and partial.digest.scanned + len(unscored) == 40
    assert any("DIGEST_MAX_COST_USD" in note for note in partial.digest.notes)
    fake_llm.clear()
    full = run_on_fakes(core_settings(batch_size=5, concurrency=1))
    assert full.status == "done" and full.digest.scanned == 40
    assert {pid for ids in fake_llm.paper_ids_per_request for pid in ids} == unscored


def test_a_paper_the_llm_never_scores_is_listed_as_unscored(arxiv, llm, make_settings, tmp_path):
    arxiv.set_day(DAY, sample_papers(3))
    for _ in range(10):
        llm.add_fault(Reply("no idea"))
    result = run_on_stand_ins(make_settings(batch_size=3, concurrency=1), out=tmp_path / "out")
    assert result.status == "partial" and len(result.digest.unscored) == 3
    markdown = (tmp_path / "out/2025-03/2025-03-06-output.md").read_text()
    assert "## Papers without a score" in markdown and "2503.10001" in markdown


def test_a_budget_that_cannot_be_priced_is_refused_before_any_request(
    run_on_fakes, fake_arxiv, fake_llm, core_settings,
):
    fake_arxiv.set_day(DAY, sample_papers(3))
    with pytest.raises(BudgetError, match="DIGEST_PRICES"):
        run_on_fakes(core_settings(model="my-own-model", max_cost_usd=1.0))
    assert fake_llm.requests == []


def test_unknown_model_price_shows_cost_unknown(run_on_fakes, fake_arxiv, core_settings, tmp_path):
    fake_arxiv.set_day(DAY, sample_papers(3))
    result = run_on_fakes(core_settings(model="my-own-model"), out=tmp_path / "out")
    assert result.digest.cost_usd is None
    assert "cost unknown" in (tmp_path / "out/2025-03/2025-03-06-output.md").read_text()


def test_without_a_key_the_local_scorer_ranks_and_says_approximate(
    run_on_fakes, fake_arxiv, fake_llm, core_settings, tmp_path,
):
    fake_arxiv.set_day(DAY, sample_papers(30))
    result = run_on_fakes(core_settings(openai_api_key=None), out=tmp_path / "out")
    assert result.digest.approximate and result.digest.model == "local-tfidf"
    assert fake_llm.requests == []
    assert result.digest.ranked, "the local scorer should find the on-topic papers"
    assert {r.paper.arxiv_id for r in result.digest.ranked} <= on_topic_ids(sample_papers(30))
    assert "Approximate scores" in (tmp_path / "out/2025-03/2025-03-06-output.md").read_text()


def test_changed_criteria_are_scored_afresh_and_undo_reuses_the_old_scores(
    run_on_fakes, fake_arxiv, fake_llm, core_settings,
):
    fake_arxiv.set_day(DAY, sample_papers(5))
    settings = core_settings()
    run_on_fakes(settings)
    store = Store.open(settings.database_url)
    profile = default_profile(store, settings)
    store.set_criteria(profile.id, "1. Mixture of experts\n2. Quantization")
    store.close()
    fake_llm.requests.clear()
    run_on_fakes(settings)
    assert len(fake_llm.requests) == 1
    store = Store.open(settings.database_url)
    store.undo_criteria(profile.id)
    store.close()
    fake_llm.requests.clear()
    run_on_fakes(settings)
    assert fake_llm.requests == []


def test_thresholds_come_from_the_profile(run_on_fakes, fake_arxiv, core_settings):
    fake_arxiv.set_day(DAY, sample_papers(12))
    strict = run_on_fakes(core_settings(min_relevance=10, min_novelty=1))
    assert all(r.judgment.relevance == 10 for r in strict.digest.ranked)


def test_a_refused_api_key_stops_the_run_with_what_to_do(arxiv, llm, make_settings, tmp_path):
    arxiv.set_day(DAY, sample_papers(30))
    llm.add_fault(Status(401))
    with pytest.raises(DigestError, match="OPENAI_API_KEY"):
        run_on_stand_ins(make_settings(batch_size=10, concurrency=1), out=tmp_path / "out")
    assert len(llm.completions) == 1  # the other batches were never sent
    assert not (tmp_path / "out").exists()


def test_an_unreachable_llm_endpoint_stops_the_run(arxiv, make_settings):
    arxiv.set_day(DAY, sample_papers(3))
    with pytest.raises(DigestError, match="OPENAI_BASE_URL"):
        run_on_stand_ins(make_settings(openai_base_url="http://127.0.0.1:9/v1", llm_max_retries=0))


def run_batched(settings: Settings) -> tuple[RunResult, Store]:
    from bot.bootstrap import batch_factory

    store = Store.open(settings.database_url)
    profile = default_profile(store, settings)
    fetcher = RSSFetcher(settings.feed_url, keep_types=settings.announce_types, base_delay=0.01, retries=1)
    result = asyncio.run(run_digest(settings, store, profile, fetcher,
                                    chat_factory=lambda: OpenAIChat.from_settings(settings),
                                    batch_factory=batch_factory(settings)))
    return result, store


def test_batch_mode_scores_the_day_through_one_batch_at_half_the_live_price(arxiv, llm, make_settings):
    arxiv.set_day(DAY, sample_papers(20))
    live = run_on_stand_ins(make_settings(database_url=make_settings().database_url.replace("digest.db", "live.db")))
    llm.clear()
    settings = make_settings(use_batch_api=True, batch_poll_seconds=0.01, batch_size=10)
    result, store = run_batched(settings)
    # The posted papers' TL;DRs are asked live: a few cents, and the digest does not wait a day for them.
    assert llm.paper_ids_per_request == [] and len(llm.batches) == 1
    assert [r.paper.arxiv_id for r in result.digest.ranked] == [r.paper.arxiv_id for r in live.digest.ranked]
    scoring_cost = result.digest.cost_usd - result.digest.tldr_cost_usd
    assert scoring_cost == pytest.approx((live.digest.cost_usd - live.digest.tldr_cost_usd) / 2, rel=0.05)
    run_row = store.get_run(default_profile(store, settings).id, DAY)
    assert run_row.llm_batch_id == ""  # done with the batch: nothing to resume
    assert run_row.requests == 2 + len(llm.tldr_completions)
    store.close()


def test_papers_a_batch_could_not_score_are_scored_live(arxiv, llm, make_settings):
    from tests.support import BatchPlan, Malformed

    arxiv.set_day(DAY, sample_papers(20))
    llm.batch_plan = BatchPlan(line_faults={1: Malformed()})
    result, store = run_batched(make_settings(use_batch_api=True, batch_poll_seconds=0.01, batch_size=10))
    store.close()
    assert result.status == "done" and result.digest.scanned == 20
    assert sorted(pid for ids in llm.paper_ids_per_request for pid in ids) == [
        p["arxiv_id"] for p in sample_papers(20)[10:]
    ]  # only the malformed line's ten papers went to the live API


def test_a_past_day_the_feed_no_longer_holds_is_rebuilt_from_the_arxiv_api(fake_arxiv, fake_llm, core_settings):
    from bot.domain.calendar import ArxivCalendar

    wednesday = DAY - dt.timedelta(days=1)
    window_start = ArxivCalendar().submission_window(wednesday)[0]
    fake_arxiv.add_papers([dict(p, published=f"{window_start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")
                      for p in sample_papers(9, start=500)])
    fake_arxiv.set_day(DAY, sample_papers(3))
    settings = core_settings()
    store = Store.open(settings.database_url)
    try:
        profile = default_profile(store, settings)
        past = (fake_arxiv, settings.calendar, settings.announce_types)
        result = asyncio.run(run_digest(settings, store, profile, fake_arxiv, date=wednesday, past=past,
                                        chat_factory=lambda: fake_llm))
        assert result.digest is not None and result.digest.date == wednesday and result.digest.total_arxiv == 9
        assert store.load_announcement("cs.AI+cs.LG", wednesday) is not None  # kept for next time
        with pytest.raises(DigestError, match="no announcement dated Sat 2025-03-01"):
            asyncio.run(run_digest(settings, store, profile, fake_arxiv, date=dt.date(2025, 3, 1), past=past))
    finally:
        store.close()
