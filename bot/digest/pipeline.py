"""The daily job: fetch → score → rank → deliver, for one profile and one announcement day.

Judgments are stored as each LLM reply arrives, so an interrupted run loses at most the batches in
flight and a repeated run asks the LLM nothing it has already answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.digest import sharing
from bot.digest.budget import run_budget
from bot.digest.sharing import SharedScoring
from bot.domain.authors import followed_in
from bot.domain.calendar import ArxivCalendar
from bot.domain.errors import BudgetError, DigestError
from bot.domain.feedback import Reaction
from bot.domain.languages import is_english
from bot.domain.models import Announcement, Digest, Judgment, Paper, Profile, RankedPaper, Tldr, Usage
from bot.domain.pricing import Price, price_for
from bot.domain.settings import Settings
from bot.domain.statuses import RunStatus
from bot.domain.taxonomy import feed_key
from bot.learning import preferences
from bot.learning import training as learning
from bot.scoring import local_scorer, prompt, tldr
from bot.scoring.batch_scoring import BatchModel, BatchOutcome, score_with_batch_api
from bot.scoring.llm_scorer import ChatModel, LLMScorer, ScoreOutcome
from bot.scoring.ranking import rank, with_followed
from storage.store import Store

log = logging.getLogger(__name__)


class Fetcher(Protocol):
    async def fetch(self) -> Announcement: ...


class Progress(Protocol):
    def start(self, total: int, description: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def stop(self) -> None: ...


class _NoProgress:
    def start(self, total: int, description: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def stop(self) -> None: ...


@dataclass
class RunResult:
    status: RunStatus  # done | partial | empty
    date: dt.date | None
    message: str
    digest: Digest | None = None
    outputs: list[object] = field(default_factory=list)
    retrain_due: bool = False  # fresh judgments the prefilter has not been trained on (run_digest's retrain=False)


def empty_day_message(feed: str, date: dt.date | None) -> str:
    day = f" dated {date:%a %Y-%m-%d}" if date else ""
    return (
        f"The arXiv feed for {feed} has no new papers{day}. arXiv announces Sunday to Thursday evenings "
        "(US Eastern); weekends and holidays have no announcement. Nothing to digest today."
    )


class PastDays(Protocol):
    """The arXiv API's view of a past announcement day (the RSS feed only holds the newest)."""

    async def announcement(
        self, categories: Sequence[str], mailing: dt.date, window: tuple[dt.datetime, dt.datetime], *,
        keep_types: Iterable[str],
    ) -> Announcement: ...


async def past_announcement(
    store: Store, api: PastDays, calendar: ArxivCalendar, categories: Sequence[str], day: dt.date, *,
    keep_types: Iterable[str],
) -> Announcement:
    """A past day rebuilt from the arXiv API (papers first submitted in its window), minus papers a
    later day of the feed already carries: an announcement that did not happen (an unlisted holiday)
    moves its papers to the next day, and they must not appear twice. Stored when not empty."""
    feed = feed_key(categories)
    fetched = await api.announcement(categories, day, calendar.submission_window(day), keep_types=keep_types)
    later = await store.aio(store.announced_later, feed, day)
    papers = tuple(p for p in fetched.papers if p.arxiv_id not in later)
    announcement = Announcement(day, papers, fetched.total_in_feed, fetched.source)
    if papers:
        await store.aio(store.save_announcement, feed, announcement)
    return announcement


async def get_announcement(
    store: Store, fetcher: Fetcher, categories: Sequence[str], date: dt.date | None, *,
    past: tuple[PastDays, ArxivCalendar, Iterable[str]] | None = None,
) -> Announcement:
    """The requested day from our database if we have it, else the feed's current announcement; a past
    day the feed no longer carries comes from the arXiv API when ``past`` (API, calendar, announce
    types) is given."""
    feed = feed_key(categories)
    if date is not None:
        stored = await store.aio(store.load_announcement, feed, date)
        if stored is not None:
            return stored
        if past is not None:
            api, calendar, keep_types = past
            if not calendar.is_mailing(date):
                raise DigestError(f"arXiv made no announcement dated {date:%a %Y-%m-%d} (weekend or holiday).")
            if date < calendar.latest_mailing(dt.datetime.now(dt.UTC)):
                # The feed holds the newest day only: an older one comes from the API, as the bot's catch-up.
                return await past_announcement(store, api, calendar, categories, date, keep_types=keep_types)
    announcement = await fetcher.fetch()
    await store.aio(store.save_announcement, feed, announcement)
    if date is None or announcement.date == date:
        return announcement
    if past is not None and date < announcement.date:  # the feed is ahead of our clock's calendar
        api, calendar, keep_types = past
        return await past_announcement(store, api, calendar, categories, date, keep_types=keep_types)
    raise DigestError(
        f"The arXiv feed now carries the announcement of {announcement.date}, and {date} is not in the "
        f"database. The RSS feed only holds the newest day; run without --date for "
        f"{announcement.date}, or pick a day that was fetched before."
    )


def resolve_model(settings: Settings) -> tuple[str, Price | None, bool]:
    """(model name, price, approximate). Without an API key the local scorer stands in, for free."""
    if not settings.has_llm:
        return local_scorer.MODEL_NAME, (0.0, 0.0, 0.0), True
    price = price_for(settings.model, settings.prices)
    budget = ("DIGEST_MAX_COST_USD" if settings.max_cost_usd is not None
              else "DIGEST_MONTHLY_BUDGET_USD" if settings.monthly_budget_usd is not None else None)
    if price is None and budget is not None:
        raise BudgetError(
            f"{budget} is set but no price is known for model {settings.model!r}, so the budget "
            f"cannot be enforced. Add one, e.g. DIGEST_PRICES='{{\"{settings.model}\": [0.15, 0.075, 0.6]}}' "
            f"(USD per 1M input, cached input and output tokens), or unset {budget}."
        )
    return settings.model, price, False


async def run_digest(
    settings: Settings,
    store: Store,
    profile: Profile,
    fetcher: Fetcher,
    *,
    chat_factory: Callable[[], ChatModel] | None = None,
    batch_factory: Callable[[], BatchModel] | None = None,
    date: dt.date | None = None,
    announcement: Announcement | None = None,
    past: tuple[PastDays, ArxivCalendar, Iterable[str]] | None = None,
    deliver: Sequence[Callable[[Digest], object]] = (),
    progress: Progress | None = None,
    shared: SharedScoring | None = None,
    retrain: bool = True,
) -> RunResult:
    """Score and rank one day. ``announcement`` is used as given (the bot fetched it already); else
    the day comes from the database or the feed. ``shared``: the scoring and TL;DRs concurrent runs share
    (default: this run's own). ``retrain`` False: the caller trains the prefilter once it has posted
    (``RunResult.retrain_due``)."""
    shared = shared or SharedScoring()
    model, price, approximate = resolve_model(settings)  # first: a budget that cannot be enforced stops the run
    if announcement is None:
        announcement = await get_announcement(store, fetcher, profile.categories, date, past=past)
    if announcement.is_empty:
        message = empty_day_message(feed_key(profile.categories), announcement.date)
        return RunResult(RunStatus.EMPTY, announcement.date, message)
    await preferences.load_off_the_loop()  # routing and ranking use it: its import stays off the loop
    day = await store.aio(_prepare, settings, store, profile, announcement, model, price, approximate)
    scored = await _route_and_score(
        settings, store, day, chat_factory=chat_factory, batch_factory=batch_factory,
        progress=progress or _NoProgress(), shared=shared,
    )
    digest = await store.aio(_assemble, settings, store, day, scored)
    digest = await _with_tldrs(settings, store, day, digest, chat_factory, shared)
    return await _finish(settings, store, day, scored, digest, deliver, retrain=retrain)


@dataclass
class _Day:
    """A run under way: the day's papers, the judgments known so far and the run's row."""

    profile: Profile
    scoring: Profile  # the profile as the LLM sees it (see _scoring_profile)
    date: dt.date
    papers: list[Paper]
    model: str
    price: Price | None
    approximate: bool
    reactions: list[Reaction]
    judgments: dict[str, Judgment]  # stored ones at first; the scoring step adds the fresh ones
    todo: list[Paper]  # papers without a stored judgment
    run_id: int
    followed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # arXiv ID → followed authors on it


@dataclass
class _Scored:
    """What routing and scoring leave for the digest."""

    send: list[Paper]  # papers sent to the scorer
    skipped: set[str]  # IDs the prefilter kept from the LLM
    failed: dict[str, str]  # arxiv_id → why it has no score
    notes: list[str]
    usage: Usage  # the day's totals, every attempt included
    cost_usd: float | None  # None: price unknown for this model
    shared: int = 0  # judgments a concurrent run of the same criteria made (and paid for)


def _prepare(
    settings: Settings, store: Store, profile: Profile, announcement: Announcement, model: str, price: Price | None,
    approximate: bool,
) -> _Day:
    """Look up what is already known about the day and open (or reopen) its run."""
    papers = list(announcement.papers)
    # The channel's reactions, read once: they shape the prompt's examples and the ranking.
    reactions = store.reactions(profile.id) if store.feedback_enabled(profile.id) else []
    scoring, examples = _scoring_profile(settings, store, profile, announcement.date, model, approximate, reactions)
    key = prompt.criteria_key(scoring.criteria)
    judgments = store.get_judgments((p.arxiv_id for p in papers), key, model)
    todo = [p for p in papers if p.arxiv_id not in judgments]
    run_id = store.start_run(
        profile.id, announcement.date, model=model, criteria_key=key, criteria_version=profile.criteria_version,
        prompt_examples=examples,
    )
    return _Day(profile, scoring, announcement.date, papers, model, price, approximate, reactions, judgments, todo,
                run_id, followed_papers(store, profile, papers))


def followed_papers(store: Store, profile: Profile, papers: Iterable[Paper]) -> dict[str, tuple[str, ...]]:
    """The papers by authors the profile follows: arXiv ID → the followed names on it."""
    followed = store.followed(profile.id)
    if not followed:
        return {}
    return {p.arxiv_id: names for p in papers if (names := followed_in(p.authors, followed))}


async def _route_and_score(
    settings: Settings, store: Store, day: _Day, *, chat_factory: Callable[[], ChatModel] | None,
    batch_factory: Callable[[], BatchModel] | None, progress: Progress, shared: SharedScoring,
) -> _Scored:
    """Let the prefilter pick what the LLM sees, score it and add the fresh judgments to ``day``. A
    scorer that cannot serve us at all fails the run."""
    # The local approximation costs nothing, so there is nothing for the prefilter to save.
    routing = (
        None if day.approximate
        else await store.aio(learning.route, store, settings, day.profile, day.date, day.papers, day.todo,
                             followed=day.followed.keys())
    )
    send = routing.send if routing is not None else day.todo
    skipped = {p.arxiv_id for p in routing.skipped} if routing is not None else set()

    outcome, from_others = ScoreOutcome(cost_usd=0.0), 0

    async def score(papers: Sequence[Paper]) -> ScoreOutcome:
        return await score_papers(
            settings, store, day.scoring, papers, model=day.model, price=day.price, approximate=day.approximate,
            chat_factory=chat_factory, batch_factory=batch_factory, progress=progress, run_id=day.run_id,
        )

    if send and (batch_factory is not None or day.approximate):  # a batch is the run's own; local scores are free
        outcome = await score(send)
    elif send:
        key = prompt.criteria_key(day.scoring.criteria)
        outcome, from_others = await sharing.score_once(shared.judgments, key, day.model, send, score)
    run = await store.aio(store.add_run_usage, day.run_id, Usage(), 0.0 if day.price is not None else None)
    if outcome.unusable is not None:
        # Nothing more can be scored (what was is stored): a digest of unscored papers helps nobody.
        await store.aio(
            store.finish_run, day.run_id, status=RunStatus.FAILED, total_arxiv=len(day.papers),
            scanned=len(day.judgments) + len(outcome.judgments), relevant=0, unscored=len(outcome.failed),
            message=str(outcome.unusable),
        )
        raise DigestError(f"Scoring stopped: {outcome.unusable}.")
    day.judgments.update(outcome.judgments)
    notes = _summarize(outcome.notes)
    notes.extend(
        f"{pid}: its abstract contains text addressed to the model; it was scored on its own so it "
        "cannot affect other papers." for pid in sorted(outcome.flagged)
    )
    if routing is not None and routing.note:
        notes.append(routing.note)
    return _Scored(
        send, skipped, outcome.failed, notes,
        usage=Usage(run.prompt_tokens, run.cached_tokens, run.completion_tokens, run.requests),
        cost_usd=run.cost_usd if day.price is not None else None, shared=from_others,
    )


def _assemble(settings: Settings, store: Store, day: _Day, scored: _Scored) -> Digest:
    """The ranked digest, with the papers that have no score and why."""
    profile = day.profile
    ranked = rank(
        day.papers, day.judgments, min_relevance=profile.min_relevance, min_novelty=profile.min_novelty,
        top_n=profile.top_n,
    )
    ranked = _with_feedback(settings, store, profile, day.date, ranked, day.reactions)
    ranked = with_followed(ranked, day.papers, day.judgments, day.followed)
    unscored = [
        (p, scored.failed.get(p.arxiv_id, "not scored"))
        for p in day.papers if p.arxiv_id not in day.judgments and p.arxiv_id not in scored.skipped
    ]
    return Digest(
        date=day.date,
        profile=profile.name,
        model=day.model,
        approximate=day.approximate,
        total_arxiv=len(day.papers),
        scanned=len(day.papers) - len(unscored) - len(scored.skipped),
        ranked=ranked,
        unscored=unscored,
        usage=scored.usage,
        cost_usd=scored.cost_usd,
        prompt=prompt.display_prompt(day.scoring.criteria),
        min_relevance=profile.min_relevance,
        min_novelty=profile.min_novelty,
        price=day.price,
        notes=scored.notes,
        prefiltered=len(scored.skipped),
        shared=scored.shared,
    )


async def _with_tldrs(
    settings: Settings, store: Store, day: _Day, digest: Digest, chat_factory: Callable[[], ChatModel] | None,
    shared: SharedScoring,
) -> Digest:
    """Each posted paper's TL;DR in the profile's language: stored ones reused, the others written in one small
    batched pass (extractive with the local scorer, or once the day's budget is spent). Its usage is added to
    the run's and the digest's totals and kept apart for the token table's own line."""
    if not digest.ranked:
        return digest
    language = day.profile.language
    stored = await store.aio(store.get_tldrs, [item.paper.arxiv_id for item in digest.ranked], language, day.model)
    todo = [item.paper for item in digest.ranked if item.paper.arxiv_id not in stored]
    # The scorer writes comments in English; another language gets them translated in the same requests.
    english = {} if is_english(language) else {item.paper.arxiv_id: item.judgment.comment for item in digest.ranked}
    left = await store.aio(run_budget, settings, store, day.run_id)  # the run's own budget and the month's
    over_budget = left is not None and left.usd <= 0
    chat = None if day.approximate or over_budget or chat_factory is None or not todo else chat_factory()

    async def write(papers: Sequence[Paper], written: Callable[[dict[str, Tldr]], None]) -> tldr.TldrOutcome:
        async def on_written(fresh: dict[str, Tldr]) -> None:
            await store.aio(store.save_tldrs, fresh, language, day.model)
            written(fresh)

        return await tldr.write_tldrs(
            chat, papers, language=language, price=day.price, concurrency=settings.concurrency,
            on_written=on_written,
            comments={paper.arxiv_id: english[paper.arxiv_id] for paper in papers if english.get(paper.arxiv_id)},
        )

    from_others: dict[str, Tldr] = {}
    try:
        if chat is None:  # extractive sentences cost nothing: nothing to share
            outcome = await write(todo, lambda _: None)
        else:
            outcome, from_others = await sharing.write_once(shared.tldrs, language, day.model, todo, write)
    finally:
        if chat is not None:
            await chat.aclose()
    if day.approximate:  # extractive: the archive shows what was posted
        await store.aio(store.save_tldrs, {pid: Tldr(text) for pid, text in outcome.tldrs.items()}, language,
                        day.model)
    if outcome.usage.requests:
        run = await store.aio(store.add_run_usage, day.run_id, outcome.usage,
                              outcome.cost_usd if day.price is not None else None)
        digest.usage = Usage(run.prompt_tokens, run.cached_tokens, run.completion_tokens, run.requests)
        digest.cost_usd = run.cost_usd if day.price is not None else None
    digest.tldr_usage, digest.tldr_cost_usd = outcome.usage, outcome.cost_usd
    fresh = {pid: Tldr(text, outcome.comments.get(pid), english.get(pid)) for pid, text in outcome.tldrs.items()}
    digest.ranked = with_tldrs(digest.ranked, {**stored, **fresh, **from_others})
    return digest


def with_tldrs(ranked: Sequence[RankedPaper], tldrs: Mapping[str, Tldr]) -> list[RankedPaper]:
    """The posted papers with their TL;DRs and, where one was translated from their very comment, the comment in
    the channel's language: every renderer shows it as it is. The stored judgments stay in English."""

    def posted(item: RankedPaper) -> RankedPaper:
        summary = tldrs.get(item.paper.arxiv_id)
        if summary is None:
            return dataclasses.replace(item, tldr="")
        comment = summary.comment_for(item.judgment.comment)
        judgment = item.judgment if comment is None else dataclasses.replace(item.judgment, comment=comment)
        return dataclasses.replace(item, tldr=summary.text, judgment=judgment)

    return [posted(item) for item in ranked]


async def _finish(
    settings: Settings, store: Store, day: _Day, scored: _Scored, digest: Digest,
    deliver: Sequence[Callable[[Digest], object]], *, retrain: bool,
) -> RunResult:
    """Close the run, hand the digest on and then (``retrain``) train the next prefilter on the fresh judgments."""
    status = RunStatus.PARTIAL if digest.unscored else RunStatus.DONE
    message = (
        f"{day.date}: {digest.total_arxiv} papers, {digest.scanned} scored, {digest.relevant} relevant"
        + (f", {digest.prefiltered} skipped by the prefilter" if digest.prefiltered else "")
        + (f", {len(digest.unscored)} without a score" if digest.unscored else "")
        + (f"; {len(scored.send)} sent for scoring" if scored.send else "; all scores were already stored")
    )
    await store.aio(
        store.finish_run, day.run_id,
        status=status,
        total_arxiv=digest.total_arxiv,
        scanned=digest.scanned,
        relevant=digest.relevant,
        unscored=len(digest.unscored),
        message=message,
    )
    outputs = [send(digest) for send in deliver]
    due = bool(scored.send) and not day.approximate
    if due and retrain:
        await _retrain(store, settings, day.profile)
    return RunResult(status, day.date, message, digest, outputs, retrain_due=due and not retrain)


async def score_papers(
    settings: Settings,
    store: Store,
    profile: Profile,
    papers: Sequence[Paper],
    *,
    model: str,
    price: Price | None,
    approximate: bool,
    chat_factory: Callable[[], ChatModel] | None,
    progress: Progress,
    run_id: int,
    batch_factory: Callable[[], BatchModel] | None = None,
) -> ScoreOutcome:
    """Judge papers that have no stored judgment yet. Each judgment and each reply's usage is stored
    as soon as it exists, so a process killed mid-run loses only the requests in flight."""
    key = prompt.criteria_key(profile.criteria)
    if approximate:
        fresh = local_scorer.score_locally(papers, profile.criteria)
        await store.aio(store.save_judgments, list(fresh.values()), key, model)
        return ScoreOutcome(judgments=fresh, cost_usd=0.0)
    if chat_factory is None:
        raise DigestError("An OPENAI_API_KEY is set but no LLM client was configured.")
    batched: BatchOutcome | None = None
    if batch_factory is not None:
        batched = await _score_by_batch(settings, store, profile, papers, batch_factory, model, price, run_id)
        if batched.pending or batched.unusable is not None or not batched.failed:
            return batched
        # What the batch could not score (a malformed line, an expired request) is scored live now.
        papers = [p for p in papers if p.arxiv_id in batched.failed]
    chat = chat_factory()
    # An attempt after a crash spends only what is left of the run's budget, and no run more than the month has.
    budget = await store.aio(run_budget, settings, store, run_id)

    async def record_usage(usage: Usage, cost: float | None) -> None:
        await store.aio(store.add_run_usage, run_id, usage, cost if price is not None else None)

    scorer = LLMScorer(
        chat,
        criteria=profile.criteria,
        batch_size=settings.batch_size,
        concurrency=settings.concurrency,
        price=price,
        max_cost_usd=budget.usd if budget is not None else None,
        budget_name=budget.name if budget is not None else "DIGEST_MAX_COST_USD",
        structured_output=settings.structured_output,
        on_judgments=lambda fresh: store.aio(store.save_judgments, fresh, key, model),
        on_progress=progress.advance,
        on_usage=record_usage,
    )
    progress.start(len(papers), f"Scoring {len(papers)} papers with {model}")
    try:
        live = await scorer.score(papers)
    finally:
        progress.stop()
        await chat.aclose()
    return live if batched is None else _merge(batched, live)


async def _score_by_batch(
    settings: Settings, store: Store, profile: Profile, papers: Sequence[Paper],
    batch_factory: Callable[[], BatchModel], model: str, price: Price | None, run_id: int,
) -> BatchOutcome:
    """DIGEST_USE_BATCH_API: one OpenAI batch for the day, its ID stored before waiting so a restarted
    process waits for the same batch instead of paying for a second one."""
    key = prompt.criteria_key(profile.criteria)
    client = batch_factory()
    try:
        outcome = await score_with_batch_api(
            client, papers, criteria=profile.criteria, batch_size=settings.batch_size, price=price,
            structured_output=settings.structured_output,
            batch_id=(await store.aio(store.get_run_by_id, run_id)).llm_batch_id or None,
            on_submitted=lambda batch_id: store.aio(store.set_batch_id, run_id, batch_id),
            on_judgments=lambda fresh: store.aio(store.save_judgments, fresh, key, model),
            poll_interval=settings.batch_poll_seconds, max_wait=settings.batch_max_wait_hours * 3600,
        )
    finally:
        await client.aclose()
    await store.aio(store.add_run_usage, run_id, outcome.usage, outcome.cost_usd if price is not None else None)
    if not outcome.pending:
        await store.aio(store.set_batch_id, run_id, "")
    return outcome


def _merge(batched: ScoreOutcome, live: ScoreOutcome) -> ScoreOutcome:
    cost = None if batched.cost_usd is None or live.cost_usd is None else batched.cost_usd + live.cost_usd
    usage = Usage()
    usage.add(batched.usage)
    usage.add(live.usage)
    return ScoreOutcome(
        judgments={**batched.judgments, **live.judgments}, failed=live.failed, flagged=batched.flagged | live.flagged,
        usage=usage, cost_usd=cost, budget_stop=live.budget_stop, unusable=live.unusable,
        notes=batched.notes + live.notes,
    )


def _scoring_profile(
    settings: Settings, store: Store, profile: Profile, date: dt.date, model: str, approximate: bool,
    reactions: Sequence[Reaction],
) -> tuple[Profile, str]:
    """The profile as the LLM sees it: the criteria plus a few titles the channel liked and disliked. The
    titles are fixed at the day's first attempt, so a re-run finds its stored scores."""
    run = store.get_run(profile.id, date)
    if run is not None and run.model == model and (
        run.criteria_version == profile.criteria_version or run.criteria_key == prompt.criteria_key(profile.criteria)
    ):
        examples = run.prompt_examples
    elif approximate:
        examples = ""
    else:
        examples = preferences.prompt_examples(reactions, settings.feedback_examples)
    return (dataclasses.replace(profile, criteria=profile.criteria + examples) if examples else profile), examples


def _with_feedback(
    settings: Settings, store: Store, profile: Profile, date: dt.date, ranked: list[RankedPaper],
    reactions: Sequence[Reaction],
) -> list[RankedPaper]:
    """The ranking with the channel's bounded feedback adjustment (none when feedback is off) and an
    explanation per paper; both are stored for ``/arxiv stats``."""
    adjusted = preferences.adjust(
        ranked, preferences.signals(reactions), profile.criteria, max_points=settings.feedback_weight
    )
    llm_rank = {item.paper.arxiv_id: item.rank for item in ranked}
    store.save_ranking_notes(
        profile.id, date,
        {i.paper.arxiv_id: (llm_rank[i.paper.arxiv_id], i.rank, i.adjustment, i.explanation) for i in adjusted},
    )
    return adjusted


async def _retrain(store: Store, settings: Settings, profile: Profile) -> None:
    """The next prefilter version, off the event loop; a failure costs the next run its prefilter, never
    this digest."""
    try:
        await asyncio.to_thread(learning.retrain, store, settings, profile)
    except Exception:
        log.exception("training the prefilter of %s failed; the next run sends every paper to the LLM", profile.name)


def _summarize(notes: list[str]) -> list[str]:
    """Collapse repeated parser notes ("ignored a judgment for …") into one line each kind."""
    ignored = [n for n in notes if n.startswith("ignored")]
    others = [n for n in notes if not n.startswith("ignored")]
    if ignored:
        others.append(f"The LLM's replies held {len(ignored)} judgment(s) that were ignored (IDs not asked "
                      "about or scores that were not numbers).")
    return list(dict.fromkeys(others))

