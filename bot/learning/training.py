"""Learning from what the bot already has: the LLM's past judgments and the channel's reactions.

Before scoring, :func:`route` lets the profile's prefilter decide which of the day's papers the LLM
sees; after the run, :func:`retrain` trains the next model version. Both leave a row per paper in the
database, so ``/arxiv stats`` can say what the prefilter saved and the recall it really kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.domain.models import Paper, Profile
from bot.domain.settings import Settings
from bot.domain.statuses import FeedbackKind, Route
from bot.domain.training import Decision
from bot.learning import prefilter
from bot.learning.prefilter import Example, PrefilterModel, Training
from bot.scoring import prompt
from storage.store import Store

log = logging.getLogger(__name__)


class Fit(Protocol):
    def __call__(self, examples: Sequence[Example], criteria: str, *, recall: float, min_labels: int) -> Training: ...


OLD_CRITERIA_WEIGHT = 0.3  # labels judged under other criteria still teach the vocabulary, less loudly
REACTION_WEIGHT = 3.0  # a person's 👍/👎 says more than the LLM's guess about what the channel wants
MAX_SAMPLE_WEIGHT = 20.0
MIN_SAMPLE = 2  # papers below the cutoff scored each day, however small the sample share


@dataclass
class Routing:
    """Which new papers go to the LLM today, and why."""

    send: list[Paper]
    skipped: list[Paper] = field(default_factory=list)
    sampled: int = 0
    model_version: int = 0
    note: str = ""  # one line for the digest; empty when the prefilter did not skip anything


def categories_of(paper: Paper) -> tuple[str, ...]:
    """The paper's categories, its primary one first (the API names it apart; the feed lists it first)."""
    primary = paper.primary_category
    if primary and primary in paper.categories:
        return (primary, *(c for c in paper.categories if c != primary))
    return paper.categories


def examples(store: Store, profile: Profile) -> tuple[list[Example], int]:
    """The profile's labels: each LLM judgment (selected = above the profile's thresholds) and each
    reaction; returns them and the number of reactions among them."""
    base_key = prompt.criteria_key(profile.criteria)
    sample_weights = store.sample_weights(profile.id)
    found: list[Example] = []
    for scored in store.scored_papers(profile.id):
        current = scored.criteria_version == profile.criteria_version or scored.criteria_key == base_key
        stands_for = sample_weights.get(scored.arxiv_id, 1.0)
        weight = min(stands_for, MAX_SAMPLE_WEIGHT)
        found.append(
            Example(
                scored.arxiv_id, scored.title, scored.abstract,
                label=int(scored.relevance >= profile.min_relevance and scored.novelty >= profile.min_novelty),
                day=scored.day, weight=weight * (1.0 if current else OLD_CRITERIA_WEIGHT), current=current,
                categories=scored.categories, stands_for=stands_for,
            )
        )
    reactions = store.reactions(profile.id)
    for reaction in reactions:
        found.append(
            Example(
                reaction.arxiv_id, reaction.title, reaction.abstract, label=int(reaction.kind == FeedbackKind.POSITIVE),
                day=reaction.at.date(), weight=REACTION_WEIGHT, complete=False,
            )
        )
    return found, len(reactions)


def retrain(store: Store, settings: Settings, profile: Profile, *, fit: Fit = prefilter.train) -> tuple[int, Training]:
    """Train and store the profile's next model version (cold ones too: they record why). ``fit``: where the
    model is fitted (the bot process fits in a child process, see bot.learning.fitting)."""
    labelled, reactions = examples(store, profile)
    training = fit(
        labelled, profile.criteria, recall=settings.prefilter_recall, min_labels=settings.prefilter_min_labels
    )
    previous = store.latest_model(profile.id)
    version = store.save_model(
        profile.id, criteria_version=profile.criteria_version, labels=training.labels,
        positives=training.positives, reactions=reactions, cutoff=training.cutoff, metrics=training.metrics,
        weights=training.model.to_bytes() if training.model is not None else b"", train_seconds=training.seconds,
    )
    # A line a run would be a thousand lines a morning: the ones where the prefilter starts or stops sending
    # papers past the LLM are INFO, the others DEBUG.
    turned = previous is None or (previous.cutoff is None) != (training.cutoff is None)
    log.log(
        logging.INFO if turned else logging.DEBUG,
        "prefilter %s v%d: %d labels (%d selected, %d reactions), %s, %.2f s", profile.name, version,
        training.labels, training.positives, reactions,
        f"cutoff {training.cutoff:.2f}" if training.cutoff is not None else training.metrics.get("reason", "cold"),
        training.seconds,
    )
    return version, training


def active_model(store: Store, profile: Profile) -> tuple[int, PrefilterModel, float] | None:
    """The newest model, when it has a cutoff and was trained for the criteria in force."""
    row = store.latest_model(profile.id)
    if row is None or row.cutoff is None or not row.weights or row.criteria_version != profile.criteria_version:
        return None
    return row.version, PrefilterModel.from_bytes(row.weights), row.cutoff


def recall_bound(store: Store, profile: Profile) -> float | None:
    """The recall the newest model's cutoff promises (a conformal bound on held-back selections), if it has one."""
    row = store.latest_model(profile.id)
    if row is None or row.cutoff is None:
        return None
    bound = row.metrics.get("recall_bound")
    return float(bound) if isinstance(bound, int | float) else None


def route(
    store: Store, settings: Settings, profile: Profile, date: dt.date, papers: Sequence[Paper], todo: Sequence[Paper],
    *, followed: Collection[str] = (),
) -> Routing:
    """Decide for each paper of ``todo`` (the day's papers without a judgment) whether the LLM sees it.
    A re-run of the day keeps the routes it had; the sample is the same for the same day. Papers in ``followed``
    (by followed authors) always go to the LLM, routed FOLLOWED, outside the sample and the recall figures."""
    if not todo:
        return Routing(send=[])
    known = store.decisions(profile.id, date)
    fresh = [p for p in todo if p.arxiv_id not in known]
    active = active_model(store, profile) if settings.prefilter else None
    decided: list[Decision] = []
    if active is None:
        decided = [Decision(date, p.arxiv_id) for p in fresh]
    elif fresh:
        version, model, cutoff = active
        # Standardized against the whole day, so the cutoff means the same on a re-run with fewer new papers.
        scores = prefilter.standardize(model.scores(
            [prefilter.document(p.title, p.abstract) for p in papers], [categories_of(p) for p in papers]
        ))
        by_id = {p.arxiv_id: float(s) for p, s in zip(papers, scores, strict=True)}
        below = [p for p in fresh if by_id[p.arxiv_id] < cutoff and p.arxiv_id not in followed]
        size = min(len(below), max(MIN_SAMPLE, math.ceil(settings.prefilter_sample * len(below))))
        sample = {p.arxiv_id for p in random.Random(f"{profile.id}:{date}").sample(below, size)}
        for paper in fresh:
            score = by_id[paper.arxiv_id]
            kind = (
                Route.FOLLOWED if paper.arxiv_id in followed else Route.ABOVE if score >= cutoff
                else Route.SAMPLE if paper.arxiv_id in sample else Route.SKIPPED
            )
            decided.append(Decision(date, paper.arxiv_id, kind, model_version=version, prefilter_score=score))
    routes = {**{k: v.route for k, v in known.items()}, **{d.arxiv_id: d.route for d in decided}}
    store.save_decisions(profile.id, date, decided)
    # A paper skipped on an earlier attempt whose author was followed since is scored too.
    send = [p for p in todo if routes.get(p.arxiv_id) != Route.SKIPPED or p.arxiv_id in followed]
    skipped = [p for p in todo if routes.get(p.arxiv_id) == Route.SKIPPED and p.arxiv_id not in followed]
    sampled = sum(1 for p in todo if routes.get(p.arxiv_id) == Route.SAMPLE)
    version = active[0] if active else max((r.model_version for r in known.values()), default=0)
    note = ""
    if skipped:
        note = (f"The prefilter (model v{version}) kept {len(send) - sampled} of {len(todo)} papers for the LLM and "
                f"skipped {len(skipped)}; {sampled} of the skipped ones were scored anyway to measure its recall.")
        bound = recall_bound(store, profile)
        if bound is not None:
            note += f" Its cutoff keeps an estimated {bound:.0%} or more of the LLM's selections."
    return Routing(send=send, skipped=skipped, sampled=sampled, model_version=version, note=note)


@dataclass(frozen=True)
class PrefilterReport:
    """The prefilter over a period, for ``/arxiv stats``."""

    papers: int
    sent: int
    skipped: int  # not scored (the sample below the cutoff is not counted here)
    sampled: int
    selected_above: int
    selected_in_sample: int
    estimated_recall: float | None
    model_version: int
    status: str  # "active (cutoff …)" or the reason it is not
    recall_bound: float | None = None  # what the active cutoff promises, from held-back selections


def report(store: Store, profile: Profile, since: dt.date) -> PrefilterReport:
    routed = store.decisions_since(profile.id, since)  # every decision has a route (a Route)
    selected_above = selected_in_sample = 0
    below = sampled = 0
    for day in sorted({d.date for d in routed}):
        run = store.get_run(profile.id, day)
        on_day = [d for d in routed if d.date == day]
        if run is None:
            continue
        judged = store.get_judgments((d.arxiv_id for d in on_day), run.criteria_key, run.model)

        def selected(arxiv_id: str, judged: dict = judged) -> bool:
            j = judged.get(arxiv_id)
            return j is not None and j.relevance >= profile.min_relevance and j.novelty >= profile.min_novelty

        selected_above += sum(selected(d.arxiv_id) for d in on_day if d.route == Route.ABOVE)
        selected_in_sample += sum(selected(d.arxiv_id) for d in on_day if d.route == Route.SAMPLE)
        below += sum(1 for d in on_day if d.route in {Route.SAMPLE, Route.SKIPPED})
        sampled += sum(1 for d in on_day if d.route == Route.SAMPLE)
    missed = selected_in_sample * below / sampled if sampled else 0.0
    recall = selected_above / (selected_above + missed) if selected_above + missed > 0 and sampled else None
    row = store.latest_model(profile.id)
    if row is None:
        status = "not trained yet (it trains after the first scored day)"
    elif row.cutoff is None:
        status = f"learning: {row.metrics.get('reason', 'too few labels')}"
    elif row.criteria_version != profile.criteria_version:
        status = "learning the new criteria: everything goes to the LLM until the next model"
    else:
        status = f"active, trained on {row.labels:,} papers ({row.positives:,} selected, {row.reactions} reactions)"
    skipped = sum(1 for d in routed if d.route == Route.SKIPPED)
    return PrefilterReport(
        papers=len(routed), sent=len(routed) - skipped, skipped=skipped, sampled=sampled,
        selected_above=selected_above, selected_in_sample=selected_in_sample, estimated_recall=recall,
        model_version=row.version if row else 0, status=status,
        recall_bound=recall_bound(store, profile) if row is not None and "active" in status else None,
    )
