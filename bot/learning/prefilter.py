"""The prefilter: a free local model that predicts which papers the LLM would select, so only those
(and a small random sample of the rest) are sent to it.

Features are TF-IDF words of the title (counted three times) and abstract, plus the paper's similarity
to each topic of the criteria; a class-balanced logistic regression learns from the LLM's past judgments
and the channel's reactions. On the shared arXiv data (12 days, train on the days before, test on the
next) the topic similarities took the share of papers needed for 95% recall from 32% to 29% when the
features were chosen; ``bench/prefilter_replay.py`` measures the model as it is.

The cutoff is chosen on held-back recent days by a model that did not see them: the score that keeps
the target share of their positives. The model that is deployed is then trained on every label; a
logistic regression with the same regularization keeps the scale of its scores, and the random sample
below the cutoff measures the recall that is really obtained.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.scoring.local_scorer import parse_topics

TITLE_REPEAT = 3
TOPIC_WEIGHT = 3.0  # scale of the topic-similarity features next to the unit-length TF-IDF vector
C = 10.0
MIN_DF = 3
HELD_BACK_DAYS = 5  # at most; fewer when the history is short
MIN_HELD_BACK_POSITIVES = 20  # fewer than this on held-back days: no honest cutoff, so no prefilter yet
MIN_LABELS = 300  # cold start: fewer labelled papers of the current criteria → everything to the LLM
SAFETY = 0.0


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


def document(title: str, abstract: str) -> str:
    return f"{title}. " * TITLE_REPEAT + abstract


@dataclass
class PrefilterModel:
    """Everything needed to score papers, stored as arrays (no pickle: the database holds it)."""

    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray  # one weight per vocabulary word, then one per criteria topic
    intercept: float
    topics: list[str]

    def _vectorizer(self) -> Any:
        vectorizer = _vectorizer(min_df=1)
        vectorizer.vocabulary_ = {word: i for i, word in enumerate(self.vocabulary)}
        vectorizer.idf_ = self.idf  # a fitted vectorizer's state: its words and their weights
        return vectorizer

    def scores(self, docs: Sequence[str]) -> np.ndarray:
        """Decision values (log-odds): higher means more likely selected."""
        if not docs:
            return np.zeros(0)
        vectorizer = self._vectorizer()
        words = vectorizer.transform(docs)
        features = _with_topics(words, vectorizer.transform(self.topics) if self.topics else None)
        return np.asarray(features @ self.coef + self.intercept).ravel()

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, vocabulary=np.array(self.vocabulary, dtype=str), idf=self.idf, coef=self.coef,
            intercept=np.array([self.intercept]), topics=np.array(self.topics, dtype=str),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PrefilterModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                vocabulary=[str(w) for w in arrays["vocabulary"]], idf=arrays["idf"], coef=arrays["coef"],
                intercept=float(arrays["intercept"][0]), topics=[str(t) for t in arrays["topics"]],
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


def _with_topics(words: Any, topic_vectors: Any) -> Any:
    from scipy.sparse import csr_matrix, hstack

    if topic_vectors is None:
        return words
    similarity = np.asarray((words @ topic_vectors.T).todense())
    return hstack([words, csr_matrix(TOPIC_WEIGHT * similarity)]).tocsr()


def topic_texts(criteria: str) -> list[str]:
    topics, negatives = parse_topics(criteria)
    return [topic.text for topic in topics] + negatives


def _regression(features: Any, labels: np.ndarray, weights: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(features, labels, sample_weight=weights)


def standardize(scores: np.ndarray) -> np.ndarray:
    """A day's scores relative to that day's median and spread: models trained on different amounts of
    data score on different scales, and a cutoff chosen with one must carry over to another. Median
    and quartiles follow the many unselected papers, not the few selected ones."""
    if len(scores) < 2:
        return scores - (scores.mean() if len(scores) else 0.0)
    low, median, high = np.percentile(scores, [25, 50, 75])
    spread = float(high - low)
    return (scores - median) / (spread if spread > 1e-9 else 1.0)


def cutoff_for(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The highest score that keeps at least ``recall`` of the positives at or above it."""
    positives = np.sort(scores[labels == 1])
    missable = int(np.floor((1 - recall) * len(positives) + 1e-9))
    return float(positives[missable])


def share_at_recall(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The share of papers that must be sent so that ``recall`` of the positives are."""
    return float(np.mean(scores >= cutoff_for(scores, labels, recall)))


def train(
    examples: Sequence[Example], criteria: str, *, recall: float = 0.95, min_labels: int = MIN_LABELS
) -> Training:
    """Train on every label, and choose the cutoff on the most recent judged days: each is scored by a
    model trained on all the other days (one cheap regression each; the words are counted once)."""
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
    features = _with_topics(words, vectorizer.transform(topics) if topics else None)
    weights = np.array([e.weight for e in examples])
    final = _regression(features, labels, weights)
    result.model = PrefilterModel(
        vocabulary=list(vectorizer.get_feature_names_out()), idf=vectorizer.idf_, coef=final.coef_.ravel(),
        intercept=float(final.intercept_[0]), topics=topics,
    )
    # Days whose papers were all judged (a day holding only positives, such as imported selections, says
    # nothing about how many papers a cutoff lets through).
    judged = [e for e in current if e.complete]
    judged_days = sorted({e.day for e in judged if not e.label})
    held = _held_back_days(judged, judged_days)
    if len(current) < min_labels:
        result.metrics["reason"] = (f"{len(current)} labelled papers of these criteria; the prefilter starts at "
                                    f"{min_labels}")
    elif held is None:
        result.metrics["reason"] = (f"fewer than {MIN_HELD_BACK_POSITIVES} selected papers on recent days to "
                                    "choose a cutoff from")
    else:
        days = np.array([e.day.toordinal() for e in examples])
        usable = np.array([e.current and e.complete for e in examples])
        pooled_scores, pooled_labels = [], []
        for day in held:
            on_day = days == day.toordinal()
            others = ~on_day
            if len(set(labels[others].tolist())) < 2:
                continue
            probe = _regression(features[others], labels[others], weights[others])
            tested = on_day & usable
            pooled_scores.append(standardize(probe.decision_function(features[tested])))
            pooled_labels.append(labels[tested])
        scores, held_labels = np.concatenate(pooled_scores), np.concatenate(pooled_labels)
        result.cutoff = cutoff_for(scores, held_labels, min(recall + SAFETY, 1.0))
        result.metrics.update(_held_back_metrics(scores, held_labels, result.cutoff, held))
    result.seconds = time.perf_counter() - started
    return result


def _held_back_days(current: Sequence[Example], days: Sequence[dt.date]) -> list[dt.date] | None:
    """The most recent judged days (at most HELD_BACK_DAYS, at most half of them) holding enough positives."""
    held: list[dt.date] = []
    found = 0
    for day in reversed(days):
        if len(held) >= max(HELD_BACK_DAYS, 1) or len(held) >= len(days) // 2:
            break
        held.insert(0, day)
        found += sum(e.label for e in current if e.day == day)
    return held if found >= MIN_HELD_BACK_POSITIVES else None


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
