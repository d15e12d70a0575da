"""The prefilter: a free local model that predicts which papers the LLM would select, so only those
(and a small random sample of the rest) are sent to it.

Features are TF-IDF words of the title (counted three times) and abstract, the paper's similarity to each
topic of the criteria, and its categories (the one it was filed under, and those it is listed in: a paper
cross-listed from another field is judged differently); a class-balanced logistic regression learns from
the LLM's past judgments and the channel's reactions. To its log-odds is added a fixed share of a prior that
needs no labels: the paper's closest criteria topic minus its closest "irrelevant" description (as the local
scorer reads the criteria). A few hundred labels cannot learn what the criteria's words already say; on the
twelve shared days the prior lifts the pooled AUC from 0.887 to 0.901 and keeps more of the selections for
fewer papers sent. ``bench/prefilter_replay.py`` measures the model.

The cutoff is chosen on every judged day so far, each scored by a model that did not see it (days pooled
into at most FOLDS groups), as a split-conformal bound: the k-th lowest held-back selection's score, which a
new selection reaches with probability at least the recall asked for. It needs 19 selections on two judged
days for 95%, so the prefilter starts on the second or third day rather than after 300 labels. The model
that is deployed is then trained on every label; the random sample below the cutoff measures the recall
that is really obtained, and each sampled paper stands for the skipped papers of its day.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.scoring.local_scorer import NEGATIVE_WEIGHT, parse_topics

TITLE_REPEAT = 3
TOPIC_WEIGHT = 1.0  # scale of the topic-similarity features next to the unit-length TF-IDF vector
CATEGORY_WEIGHT = 0.5  # the primary category; each listed category weighs half of it
C = 10.0
MIN_DF = 3
FOLDS = 5  # the judged days are pooled into at most this many groups, each scored by a model that did not see it
MIN_LABELS = 100  # cold start: fewer labelled papers of the current criteria → everything to the LLM
# The criteria prior's weight: its spread is scaled to this share of the log-odds' spread on the training papers.
# 0.2–0.3 did best on the shared days; beyond 0.5 it drowns what the labels teach.
PRIOR_WEIGHT = 0.25


@dataclass(frozen=True)
class Example:
    """One labelled paper: the LLM selected it (or a person liked it) or not, as of ``day``."""

    arxiv_id: str
    title: str
    abstract: str
    label: int
    day: dt.date
    weight: float = 1.0
    current: bool = True  # labelled under the criteria in force (older criteria's labels weigh less)
    complete: bool = True  # one of a day's judged papers, not an extra (a reaction, an imported selection)
    categories: tuple[str, ...] = ()  # arXiv categories, the primary one first; () when unknown
    # How many of its day's papers it stands for: a paper scored as the random sample below the cutoff stands
    # for the skipped ones too (1 / the sample's rate), so a prefiltered day still weighs its papers right.
    stands_for: float = 1.0


def document(title: str, abstract: str) -> str:
    return f"{title}. " * TITLE_REPEAT + abstract


@dataclass
class PrefilterModel:
    """Everything needed to score papers, stored as arrays (no pickle: the database holds it)."""

    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray  # one weight per vocabulary word, then one per criteria topic, then one per category feature
    intercept: float
    topics: list[str]
    categories: list[str] = field(default_factory=list)  # "primary=cs.LG", "listed=cs.CV": the category features
    negatives: int = 0  # how many of ``topics`` (the last ones) are the criteria's "irrelevant" descriptions
    prior: float = 0.0  # the criteria prior's coefficient (0: models stored before it score without one)

    def _vectorizer(self) -> Any:
        vectorizer = _vectorizer(min_df=1)
        vectorizer.vocabulary_ = {word: i for i, word in enumerate(self.vocabulary)}
        vectorizer.idf_ = self.idf  # a fitted vectorizer's state: its words and their weights
        return vectorizer

    def scores(self, docs: Sequence[str], categories: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Decision values (log-odds): higher means more likely selected. ``categories``: each paper's, the
        primary first (papers without them score on their words alone)."""
        if not docs:
            return np.zeros(0)
        vectorizer = self._vectorizer()
        words = vectorizer.transform(docs)
        similarity = _similarity(words, vectorizer.transform(self.topics) if self.topics else None)
        features = _with_topics(words, similarity)
        if self.categories:
            features = _with_categories(features, categories or [() for _ in docs], self.categories)
        logits = np.asarray(features @ self.coef + self.intercept).ravel()
        return logits + self.prior * criteria_prior(similarity, self.negatives) if self.prior else logits

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, vocabulary=np.array(self.vocabulary, dtype=str), idf=self.idf, coef=self.coef,
            intercept=np.array([self.intercept]), topics=np.array(self.topics, dtype=str),
            categories=np.array(self.categories, dtype=str), negatives=np.array([self.negatives]),
            prior=np.array([self.prior]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PrefilterModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                vocabulary=[str(w) for w in arrays["vocabulary"]], idf=arrays["idf"], coef=arrays["coef"],
                intercept=float(arrays["intercept"][0]), topics=[str(t) for t in arrays["topics"]],
                # Models stored before category features have none.
                categories=[str(c) for c in arrays["categories"]] if "categories" in arrays.files else [],
                # Models stored before the criteria prior score without one.
                negatives=int(arrays["negatives"][0]) if "negatives" in arrays.files else 0,
                prior=float(arrays["prior"][0]) if "prior" in arrays.files else 0.0,
            )


@dataclass
class Training:
    """A trained prefilter and how it was judged. ``cutoff`` None: not enough labels to trust one."""

    model: PrefilterModel | None
    cutoff: float | None
    labels: int
    positives: int
    metrics: dict[str, float | int | str] = field(default_factory=dict)
    seconds: float = 0.0


def _vectorizer(min_df: int) -> Any:
    # Imported here: scikit-learn takes a second to import and most commands never need it.
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=min_df, dtype=np.float64)


def _similarity(words: Any, topic_vectors: Any) -> np.ndarray | None:
    """Each paper's cosine similarity to each criteria topic (rows: papers); None without topics."""
    return None if topic_vectors is None else np.asarray((words @ topic_vectors.T).todense())


def _with_topics(words: Any, similarity: np.ndarray | None) -> Any:
    from scipy.sparse import csr_matrix, hstack

    if similarity is None:
        return words
    return hstack([words, csr_matrix(TOPIC_WEIGHT * similarity)]).tocsr()


def criteria_prior(similarity: np.ndarray | None, negatives: int) -> np.ndarray:
    """What the criteria alone say of each paper, no label needed: its similarity to the closest topic minus
    NEGATIVE_WEIGHT times that to the closest "irrelevant" description (the last ``negatives`` columns)."""
    if similarity is None or not similarity.shape[1]:
        return np.zeros(0 if similarity is None else similarity.shape[0])
    topics = similarity.shape[1] - negatives
    closest = similarity[:, :topics].max(axis=1) if topics > 0 else np.zeros(similarity.shape[0])
    return closest - NEGATIVE_WEIGHT * similarity[:, topics:].max(axis=1) if negatives else closest


def prior_coefficient(logits: np.ndarray, prior: np.ndarray, weight: float | None = None) -> float:
    """The prior's coefficient: its interquartile spread made ``weight`` times that of the log-odds, so it
    weighs the same against a model trained on few labels (small log-odds) as on many."""
    weight = PRIOR_WEIGHT if weight is None else weight
    if not len(prior) or weight <= 0:
        return 0.0
    spread = np.subtract(*np.percentile(prior, [75, 25]))
    return float(weight * np.subtract(*np.percentile(logits, [75, 25])) / spread) if spread > 1e-9 else 0.0


def category_features(categories: Sequence[str]) -> dict[str, float]:
    """A paper's category features: what it was filed under (primary) and where it is also listed. A paper
    cross-listed to the team's categories from another field is judged differently from one filed there."""
    found = {f"listed={c}": CATEGORY_WEIGHT / 2 for c in categories}
    if categories:
        found[f"primary={categories[0]}"] = CATEGORY_WEIGHT
    return found


def category_names(categories: Sequence[Sequence[str]]) -> list[str]:
    return sorted({name for listed in categories for name in category_features(listed)})


def _with_categories(features: Any, categories: Sequence[Sequence[str]], names: Sequence[str]) -> Any:
    from scipy.sparse import csr_matrix, hstack

    index = {name: i for i, name in enumerate(names)}
    rows, cols, values = [], [], []
    for row, listed in enumerate(categories):
        for name, value in category_features(listed).items():
            if name in index:  # a category no training paper had carries no weight
                rows.append(row)
                cols.append(index[name])
                values.append(value)
    block = csr_matrix((values, (rows, cols)), shape=(len(categories), len(names)))
    return hstack([features, block]).tocsr()


def topic_texts(criteria: str) -> list[str]:
    """The criteria's topics, then its "irrelevant" descriptions (``negative_count`` says how many)."""
    topics, negatives = parse_topics(criteria)
    return [topic.text for topic in topics] + negatives


def negative_count(criteria: str) -> int:
    return len(parse_topics(criteria)[1])


def _regression(features: Any, labels: np.ndarray, weights: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear: a tenth of lbfgs's time on these few thousand sparse features, with the same ranking.
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000).fit(
        features, labels, sample_weight=weights
    )


def _weighted_percentiles(scores: np.ndarray, weights: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    order = np.argsort(scores, kind="stable")
    cumulative = np.cumsum(weights[order]) - weights[order] / 2
    return np.interp(np.asarray(quantiles) * weights.sum(), cumulative, scores[order])


def standardize(scores: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """A day's scores relative to that day's median and spread: models trained on different amounts of
    data score on different scales, and a cutoff chosen with one must carry over to another. Median
    and quartiles follow the many unselected papers, not the few selected ones. ``weights``: how many of
    the day's papers each stands for, when only some were judged (the prefilter skipped the others)."""
    if len(scores) < 2:
        return scores - (scores.mean() if len(scores) else 0.0)
    if weights is None:
        low, median, high = np.percentile(scores, [25, 50, 75])
    else:
        low, median, high = _weighted_percentiles(scores, weights, [0.25, 0.5, 0.75])
    spread = float(high - low)
    return (scores - median) / (spread if spread > 1e-9 else 1.0)


def cutoff_for(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The highest score that keeps at least ``recall`` of the positives at or above it (knowing the labels)."""
    positives = np.sort(scores[labels == 1])
    missable = int(np.floor((1 - recall) * len(positives) + 1e-9))
    return float(positives[missable])


def share_at_recall(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The share of papers that must be sent so that ``recall`` of the positives are."""
    return float(np.mean(scores >= cutoff_for(scores, labels, recall)))


def needed_positives(recall: float) -> int:
    """The fewest held-back selections from which a conformal cutoff can promise ``recall``."""
    return max(1, int(np.ceil(1 / (1 - recall) - 1e-9)) - 1) if recall < 1 else 0


def conformal_cutoff(
    positive_scores: np.ndarray, recall: float, weights: np.ndarray | None = None
) -> tuple[float, float] | None:
    """A cutoff that a new selection reaches with probability at least ``recall``, and that bound.

    Split conformal: with n held-back selections scored by models that did not see them, the k-th lowest
    score, k = ⌊(1 − recall)(n + 1)⌋, is reached by a new selection (exchangeable with them) with probability at
    least 1 − k/(n + 1) ≥ recall. None when n is too small for any k ≥ 1 (19 selections for 95%): no honest cutoff.
    ``weights``: how many selections each stands for (a sampled one stands for the skipped ones like it); the
    cutoff is then the highest score below which at most (1 − recall)(W + 1) − 1 of the W selections lie.
    """
    scores = np.asarray(positive_scores, dtype=float)
    mass = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(scores, kind="stable")
    scores, mass = scores[order], mass[order]
    total = float(mass.sum())
    allowed = (1 - recall) * (total + 1) - 1 + 1e-9  # selections that may lie below the cutoff
    below = np.cumsum(mass) - mass  # selections strictly before each one in the order
    fits = np.flatnonzero(below <= allowed)
    if allowed < 0 or not len(fits):
        return None
    i = int(fits[-1])
    return float(scores[i]), 1 - (float(below[i]) + 1) / (total + 1)


def train(
    examples: Sequence[Example], criteria: str, *, recall: float = 0.95, min_labels: int = MIN_LABELS
) -> Training:
    """Train on every label, and choose the cutoff on every judged day so far: the days are pooled into at
    most FOLDS groups, each scored by a model trained on all the other labels (the words are counted once)."""
    started = time.perf_counter()
    current = [e for e in examples if e.current]
    labels = np.array([e.label for e in examples])
    result = Training(None, None, labels=len(current), positives=sum(e.label for e in current))
    if len(set(labels.tolist())) < 2:
        result.metrics["reason"] = "the labels hold only one kind of paper yet"
        result.seconds = time.perf_counter() - started
        return result
    docs = [document(e.title, e.abstract) for e in examples]
    vectorizer = _vectorizer(MIN_DF if len(docs) >= 1000 else 1)
    words = vectorizer.fit_transform(docs)
    topics = topic_texts(criteria)
    negatives = negative_count(criteria) if topics else 0
    listed = [e.categories for e in examples]
    names = category_names(listed)
    similarity = _similarity(words, vectorizer.transform(topics) if topics else None)
    prior = criteria_prior(similarity, negatives)
    features = _with_topics(words, similarity)
    if names:
        features = _with_categories(features, listed, names)
    weights = np.array([e.weight for e in examples])
    final = _regression(features, labels, weights)
    result.model = PrefilterModel(
        vocabulary=list(vectorizer.get_feature_names_out()), idf=vectorizer.idf_, coef=final.coef_.ravel(),
        intercept=float(final.intercept_[0]), topics=topics, categories=names, negatives=negatives,
        prior=prior_coefficient(final.decision_function(features), prior),
    )
    # Days whose papers were all judged (a day holding only positives, such as imported selections, says
    # nothing about how many papers a cutoff lets through).
    judged = [e for e in current if e.complete]
    judged_days = sorted({e.day for e in judged if not e.label})
    needed = needed_positives(recall)
    held_positives = sum(e.label for e in judged if e.day in set(judged_days))
    if len(current) < min_labels:
        result.metrics["reason"] = (f"{len(current)} labelled papers of these criteria; the prefilter starts at "
                                    f"{min_labels}")
    elif len(judged_days) < 2 or held_positives < needed:
        result.metrics["reason"] = (f"{held_positives} selected papers on {len(judged_days)} judged days; a cutoff "
                                    f"that keeps {recall:.0%} of them needs {needed} on at least two days")
    else:
        scores, held_labels, stands = _held_back_scores(examples, features, prior, labels, weights, judged_days)
        found = conformal_cutoff(scores[held_labels == 1], recall, stands[held_labels == 1])
        if found is None:  # fewer positives scored than counted (a fold without both kinds to train on)
            result.metrics["reason"] = f"too few selected papers could be held back for {recall:.0%} recall"
        else:
            result.cutoff, bound = found
            result.metrics.update(_held_back_metrics(scores, held_labels, result.cutoff, judged_days))
            result.metrics["recall_bound"] = round(bound, 4)
    result.seconds = time.perf_counter() - started
    return result


def _held_back_scores(
    examples: Sequence[Example], features: Any, prior: np.ndarray, labels: np.ndarray, weights: np.ndarray,
    days: Sequence[dt.date],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each judged day's papers scored by a model trained without that day's group of days (its criteria prior
    weighed as the deployed model's is), standardized per day; with their labels and how many papers each
    stands for."""
    ordinals = np.array([e.day.toordinal() for e in examples])
    usable = np.array([e.current and e.complete for e in examples])
    stands = np.array([e.stands_for for e in examples])
    folds = min(FOLDS, len(days))
    pooled_scores, pooled_labels, pooled_stands = [], [], []
    for fold in range(folds):
        held = np.isin(ordinals, [d.toordinal() for d in days[fold::folds]])
        others = ~held
        if len(set(labels[others].tolist())) < 2:
            continue
        probe = _regression(features[others], labels[others], weights[others])
        weight = prior_coefficient(probe.decision_function(features[others]), prior[others]) if len(prior) else 0.0
        for day in days[fold::folds]:
            tested = (ordinals == day.toordinal()) & usable
            found = probe.decision_function(features[tested])
            if weight:
                found = found + weight * prior[tested]
            pooled_scores.append(standardize(found, stands[tested]))
            pooled_labels.append(labels[tested])
            pooled_stands.append(stands[tested])
    if not pooled_scores:
        return np.zeros(0), np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(pooled_scores), np.concatenate(pooled_labels), np.concatenate(pooled_stands)


def _held_back_metrics(scores: np.ndarray, labels: np.ndarray, cutoff: float, held: Sequence[dt.date]) -> dict:
    from sklearn.metrics import roc_auc_score

    above = scores >= cutoff
    return {
        "held_back_days": len(held),
        "held_back_papers": len(labels),
        "held_back_positives": int(labels.sum()),
        "auc": round(float(roc_auc_score(labels, scores)), 4) if 0 < labels.sum() < len(labels) else float("nan"),
        "recall": round(float(above[labels == 1].mean()), 4),
        "share": round(float(above.mean()), 4),
        "share_90": round(share_at_recall(scores, labels, 0.90), 4),
        "share_95": round(share_at_recall(scores, labels, 0.95), 4),
    }
