"""How well the prefilter would have done: a date-ordered replay of labelled days.

For each test day the prefilter is trained exactly as in production on the labels it would have by then
(``prefilter.train``): the papers earlier days sent to the LLM, each paper of the random sample below the
cutoff standing for the skipped papers of its day, plus the extra rows dated before it. It then routes the
day as ``learning.route`` does: papers whose standardized score
reaches the cutoff go to the LLM, plus a random sample of the rest. A day whose model has no cutoff yet
(cold start) sends everything. The replay reports, per day and pooled over the test days, the ranking
quality (AUC), the share of papers a cutoff would have to send for 90% and 95% recall if it were known in
advance (the oracle), and what the automatic cutoff really sent and recalled.

The LLM's cost is proportional to the papers sent: the prompt's static prefix is served from the
provider's cache and every paper costs about the same tokens. The share sent is therefore the cost per
paper relative to running without a prefilter.

Used by ``arxiv-digest eval`` and ``bench/prefilter_replay.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bot.domain.errors import DigestError
from bot.learning import prefilter
from bot.learning.prefilter import Example
from bot.learning.training import MAX_SAMPLE_WEIGHT, MIN_SAMPLE

ORACLE_RECALLS = (0.90, 0.95)
# The RSS feed's abstracts start with "arXiv:2502.09980v1 Announce Type: new  Abstract:" (as in
# bench/shared_data.py; bench is not part of the package).
_RSS_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*")
_FLAGS = ("selected", "selected_by_daizedong")


class EvaluationError(DigestError):
    """Labelled data that cannot be replayed (missing, empty, malformed, or too few judged days)."""


@dataclass(frozen=True)
class LabelledRow:
    """One paper with the LLM's verdict. ``complete``: one of a fully judged day's papers, so it may be
    tested on and used to choose the cutoff; other rows (extra selections) only train the model."""

    date: dt.date
    arxiv_id: str
    title: str
    abstract: str
    label: int
    complete: bool
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # the primary first


# --- loading -----------------------------------------------------------------------------------------


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file. Give a JSONL file with one paper per line.")
    found: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{path}, line {number}: not JSON ({exc.msg}).") from exc
            if not isinstance(row, dict):
                raise EvaluationError(f"{path}, line {number}: expected a JSON object, one paper per line.")
            missing = [k for k in ("arxiv_id", "title", "abstract") if not row.get(k)]
            if not (row.get("date") or row.get("commit_date")):
                missing.append("date")
            if missing:
                raise EvaluationError(f"{path}, line {number}: no {', '.join(missing)}.")
            found.append(row)
    if not found:
        raise EvaluationError(f"{path} holds no papers.")
    return found


def _date(row: dict[str, Any], path: Path) -> dt.date:
    value = str(row.get("date") or row.get("commit_date"))
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise EvaluationError(f"{path}: {row['arxiv_id']} has the date {value!r}; expected YYYY-MM-DD.") from exc


def _verdict(row: dict[str, Any], min_relevance: int, min_novelty: int) -> tuple[int | None, bool]:
    """(label or None to drop the row, whether the label came from an explicit flag)."""
    relevance, novelty = row.get("relevance"), row.get("novelty")
    meets = relevance is not None and relevance >= min_relevance and (novelty is None or novelty >= min_novelty)
    flag = next((row[k] for k in _FLAGS if row.get(k) is not None), None)
    if flag is not None:
        if not flag:
            return 0, True
        # Selected without a score (the seed's author matches) or with scores below these thresholds
        # (selected under other ones): not what the LLM selects at the thresholds being evaluated.
        if "relevance" in row and not meets:
            return None, True
        return 1, True
    if relevance is None:
        return None, False
    return int(meets), False


def load_jsonl(
    paths: Iterable[str | Path], min_relevance: int, min_novelty: int, *, extra: Iterable[str | Path] = ()
) -> list[LabelledRow]:
    """Labelled papers from JSONL files, one paper per line with date (or commit_date), arxiv_id, title,
    abstract and optionally authors.

    Labels: a row's ``selected`` (or ``selected_by_daizedong``) flag when it has one; otherwise its
    relevance and novelty against the thresholds (a row without novelty is judged on relevance), and a row
    whose relevance is null is dropped. A row flagged selected whose relevance is null or below the
    thresholds is dropped: it was selected for another reason (an author match) or under other thresholds.

    ``complete``: True for the rows of a day on which their file holds some negatives, else False (a
    file or day of selections only says nothing about how many papers a cutoff lets through).

    ``extra`` files hold only a digest's selections (such as the seed's published digests): their rows
    that reach the thresholds are extra positives (never complete), the others are dropped, because
    their papers were selected at the digest's own thresholds and the unselected ones are missing.

    Rows are merged by arXiv ID: a row with an explicit flag wins over a graded one, ``paths`` win over
    ``extra``, and otherwise the first file given wins.
    """
    merged: dict[str, tuple[int, LabelledRow]] = {}  # arXiv ID → (precedence, row); lower wins

    def add(row: LabelledRow, precedence: int) -> None:
        if row.arxiv_id not in merged or precedence < merged[row.arxiv_id][0]:
            merged[row.arxiv_id] = (precedence, row)

    for path in map(Path, paths):
        kept: list[tuple[LabelledRow, bool]] = []
        for raw in _read(path):
            label, flagged = _verdict(raw, min_relevance, min_novelty)
            if label is not None:
                kept.append((_row(raw, _date(raw, path), label, complete=False), flagged))
        judged_days = {row.date for row, _ in kept if not row.label}
        for row, flagged in kept:
            complete = row.date in judged_days
            add(replace(row, complete=complete), 0 if flagged else 1)
    for path in map(Path, extra):
        for raw in _read(path):
            label, _ = _verdict({k: v for k, v in raw.items() if k not in _FLAGS}, min_relevance, min_novelty)
            if label == 1:
                add(_row(raw, _date(raw, path), 1, complete=False), 2)
    return sorted((row for _, row in merged.values()), key=lambda r: (r.date, r.arxiv_id))


def _row(raw: dict[str, Any], date: dt.date, label: int, *, complete: bool) -> LabelledRow:
    return LabelledRow(
        date=date, arxiv_id=str(raw["arxiv_id"]), title=str(raw["title"]),
        abstract=_RSS_PREFIX.sub("", str(raw["abstract"])), label=label, complete=complete,
        authors=tuple(str(a) for a in raw.get("authors") or ()),
        categories=tuple(str(c) for c in raw.get("categories") or ()),
    )


# --- replay ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class DayResult:
    """One test day: the model trained on the days before it, and what production would have sent."""

    day: dt.date
    labels: np.ndarray  # the day's judged papers: 1 = the LLM selected it
    scores: np.ndarray | None  # standardized over the day; None when no model could be trained
    cold: bool  # no cutoff yet: everything went to the LLM
    reason: str  # why it was cold ("" when active)
    cutoff: float | None
    above: int
    sampled: int
    recalled: int  # selected papers among those sent
    train_labels: int
    train_seconds: float
    sent_ids: frozenset[str] = frozenset()  # the papers that went to the LLM
    sampled_ids: frozenset[str] = frozenset()  # those of them sent as the sample below the cutoff

    @property
    def papers(self) -> int:
        return len(self.labels)

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    @property
    def sent(self) -> int:
        return self.above + self.sampled

    @property
    def share(self) -> float:
        return self.sent / self.papers

    @property
    def recall(self) -> float:
        return self.recalled / self.positives if self.positives else 1.0

    @property
    def auc(self) -> float | None:
        return roc_auc(self.scores, self.labels) if self.scores is not None else None

    def oracle_share(self, recall: float) -> float | None:
        if self.scores is None or not self.positives:
            return None
        return prefilter.share_at_recall(self.scores, self.labels, recall)


@dataclass(frozen=True)
class Totals:
    """Papers sent and selections recalled over a set of days."""

    days: int
    papers: int
    positives: int
    sent: int
    recalled: int

    @property
    def share(self) -> float | None:
        """Share of papers sent to the LLM = the LLM cost per paper relative to no prefilter."""
        return self.sent / self.papers if self.papers else None

    @property
    def recall(self) -> float | None:
        return self.recalled / self.positives if self.positives else None

    @classmethod
    def of(cls, days: Sequence[DayResult]) -> Totals:
        return cls(
            days=len(days), papers=sum(d.papers for d in days), positives=sum(d.positives for d in days),
            sent=sum(d.sent for d in days), recalled=sum(d.recalled for d in days),
        )


@dataclass
class ReplayResult:
    days: list[DayResult]
    recall: float  # the recall the automatic cutoff aimed at
    sample: float
    overall: Totals = field(init=False)
    active: Totals = field(init=False)  # the days the prefilter had a cutoff

    def __post_init__(self) -> None:
        self.overall = Totals.of(self.days)
        self.active = Totals.of([d for d in self.days if not d.cold])

    def _pooled(self) -> tuple[np.ndarray, np.ndarray]:
        scored = [(d.scores, d.labels) for d in self.days if d.scores is not None]
        if not scored:
            return np.zeros(0), np.zeros(0, dtype=int)
        return np.concatenate([s for s, _ in scored]), np.concatenate([labels for _, labels in scored])

    @property
    def auc(self) -> float | None:
        """Over all test days' papers at once (standardized scores), as one cutoff would see them."""
        scores, labels = self._pooled()
        return roc_auc(scores, labels)

    def oracle_share(self, recall: float) -> float | None:
        """The share one cutoff on standardized scores, chosen knowing every test day's labels, sends."""
        scores, labels = self._pooled()
        return prefilter.share_at_recall(scores, labels, recall) if labels.sum() else None

    @property
    def cost_relative(self) -> float | None:
        """LLM cost per paper relative to sending everything, over all test days."""
        return self.overall.share


def roc_auc(scores: np.ndarray | None, labels: np.ndarray) -> float | None:
    """Area under the ROC curve; None when the scores are missing or the labels hold one kind."""
    if scores is None or not 0 < labels.sum() < len(labels):
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def replay_days(rows: Sequence[LabelledRow], *, first: bool = False) -> list[dt.date]:
    """Days whose complete rows hold both labels, after the first such day (it only trains) unless ``first``:
    then the first is replayed too, as a bot starting from an empty database sees it (everything to the LLM)."""
    kinds: dict[dt.date, set[int]] = {}
    for row in rows:
        if row.complete:
            kinds.setdefault(row.date, set()).add(row.label)
    both = sorted(day for day, found in kinds.items() if found == {0, 1})
    if len(both) < 2:
        raise EvaluationError(
            "the replay needs at least two days holding both selected and unselected papers "
            f"(found {len(both)}): it trains on the days before each test day."
        )
    return both if first else both[1:]


def replay(
    rows: Sequence[LabelledRow],
    criteria: str,
    *,
    recall: float = 0.95,
    sample: float = 0.05,
    min_labels: int = prefilter.MIN_LABELS,
    seed: int = 0,
    first: bool = False,
    progress: Callable[[DayResult], None] | None = None,
) -> ReplayResult:
    """Replay the days in date order: train on every row dated before a test day, route that day
    (``first``: the first judged day too, which nothing trains for)."""
    ordered = sorted(rows, key=lambda r: (r.date, r.arxiv_id))
    results: list[DayResult] = []
    stands: dict[str, float] = {}  # what the LLM judged so far: arXiv ID → how many papers it stands for
    test_days = replay_days(ordered, first=first)
    for day in test_days:
        history = [
            Example(r.arxiv_id, r.title, r.abstract, label=r.label, day=r.date, complete=r.complete,
                    categories=r.categories, stands_for=stands.get(r.arxiv_id, 1.0),
                    weight=min(stands.get(r.arxiv_id, 1.0), MAX_SAMPLE_WEIGHT))
            for r in ordered
            # Before the first test day every judged day counts whole (it trains the first model).
            if r.date < day and (r.arxiv_id in stands or not r.complete or r.date < test_days[0])
        ]
        judged = [r for r in ordered if r.date == day and r.complete]
        training = prefilter.train(history, criteria, recall=recall, min_labels=min_labels)
        result = _route(day, judged, training, sample, random.Random(f"{seed}:{day.isoformat()}"))
        below = result.papers - result.above
        stands.update({arxiv_id: 1.0 for arxiv_id in result.sent_ids})
        stands.update({arxiv_id: below / result.sampled for arxiv_id in result.sampled_ids})
        results.append(result)
        if progress is not None:
            progress(result)
    return ReplayResult(results, recall=recall, sample=sample)


def _route(
    day: dt.date, judged: Sequence[LabelledRow], training: prefilter.Training, sample: float, rng: random.Random
) -> DayResult:
    labels = np.array([r.label for r in judged], dtype=int)
    scores = None
    if training.model is not None:
        # Standardized against the whole day, as production does before comparing with the cutoff.
        docs = [prefilter.document(r.title, r.abstract) for r in judged]
        scores = prefilter.standardize(training.model.scores(docs, [r.categories for r in judged]))
    common = partial(DayResult, day=day, labels=labels, scores=scores, cutoff=training.cutoff,
                     train_labels=training.labels, train_seconds=training.seconds)
    if training.cutoff is None or scores is None:
        reason = str(training.metrics.get("reason", "no cutoff yet"))
        return common(cold=True, reason=reason, above=len(labels), sampled=0, recalled=int(labels.sum()),
                      sent_ids=frozenset(r.arxiv_id for r in judged))
    above = scores >= training.cutoff
    below = np.flatnonzero(~above).tolist()
    # The same sample size as learning.route: a share of the papers below the cutoff, at least MIN_SAMPLE.
    size = min(len(below), max(MIN_SAMPLE, math.ceil(sample * len(below))))
    sent = above.copy()
    sampled = rng.sample(below, size)
    sent[sampled] = True
    return common(cold=False, reason="", above=int(above.sum()), sampled=size, recalled=int(labels[sent].sum()),
                  sent_ids=frozenset(r.arxiv_id for r, s in zip(judged, sent, strict=True) if s),
                  sampled_ids=frozenset(judged[i].arxiv_id for i in sampled))
