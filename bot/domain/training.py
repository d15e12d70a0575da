"""What the prefilter learns from and what it did: the LLM's past judgments as labels, the trained models, and
the decision about each paper of a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.statuses import Route


@dataclass(frozen=True)
class ScoredPaper:
    """A paper the LLM judged for one of the profile's runs."""

    arxiv_id: str
    title: str
    abstract: str
    day: dt.date
    relevance: int
    novelty: int
    criteria_key: str
    criteria_version: int
    categories: tuple[str, ...] = ()  # the primary first, as the feed listed them


@dataclass(frozen=True)
class LearnedModel:
    """A profile's prefilter version; ``cutoff`` None means cold start: every paper goes to the LLM."""

    version: int
    criteria_version: int  # the criteria in force when it was trained
    labels: int
    positives: int
    reactions: int
    cutoff: float | None
    metrics: Mapping[str, object]
    weights: bytes  # numpy .npz, no pickle
    train_seconds: float


@dataclass(frozen=True)
class Decision:
    """What learning did to one paper of a profile's day: the prefilter's score and route, and the feedback
    adjustment of its rank with the words that explain it."""

    date: dt.date
    arxiv_id: str
    route: Route = Route.LLM
    model_version: int = 0  # 0: no prefilter model (cold start or turned off)
    prefilter_score: float | None = None
    llm_rank: int | None = None  # its place by the LLM's scores alone (posted papers only)
    rank: int | None = None  # its place after the feedback adjustment
    adjustment: float = 0.0
    explanation: str = ""
