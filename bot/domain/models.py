"""Domain values shared by the pipeline, the adapters and storage (plain data, no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ID_RE = re.compile(r"(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$", re.IGNORECASE)


def normalize_arxiv_id(raw: str) -> str | None:
    """``arXiv:2503.03213v2`` / ``https://arxiv.org/abs/2503.03213`` → ``2503.03213``; None if not an ID."""
    text = raw.strip().rstrip("/")
    text = re.sub(r"^https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^oai:arXiv\.org:", "", text, flags=re.IGNORECASE).removesuffix(".pdf")
    match = _ID_RE.match(text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Paper:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...] = ()
    announce_type: str = "new"
    # One entry per author ("" when the feed gives none), as rss.arxiv.org lists them; () when unknown (the arXiv
    # API gives none). Kept apart from the names, stored with the paper. Not part of equality.
    affiliations: tuple[str, ...] = field(default=(), compare=False)
    # What the arXiv API says of the paper beyond the feed's fields (BibTeX uses them); "" when unknown. The
    # database does not keep them: a look-up from the API has them, a stored paper does not.
    primary_category: str = field(default="", compare=False)
    doi: str = field(default="", compare=False)
    journal_ref: str = field(default="", compare=False)

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Paper:
        """From a plain record (a JSON row, a fixture): lists become tuples, unknown keys are ignored."""
        return cls(
            arxiv_id=data["arxiv_id"],
            title=data["title"],
            authors=tuple(data.get("authors", ())),
            abstract=data["abstract"],
            categories=tuple(data.get("categories", ())),
            announce_type=data.get("announce_type", "new"),
            affiliations=tuple(data.get("affiliations", ())),
            primary_category=data.get("primary_category", ""),
            doi=data.get("doi", ""),
            journal_ref=data.get("journal_ref", ""),
        )


@dataclass(frozen=True)
class Announcement:
    """One day's listing as the feed announced it."""

    date: dt.date
    papers: tuple[Paper, ...]
    total_in_feed: int  # items before announce-type filtering and dedupe
    source: str

    @property
    def is_empty(self) -> bool:
        return not self.papers


@dataclass(frozen=True)
class Profile:
    """A team's view of arXiv: categories, thresholds and the criteria version in force."""

    id: int
    name: str
    categories: tuple[str, ...]
    top_n: int | None  # None: every paper that reaches both thresholds
    min_relevance: int
    min_novelty: int
    criteria: str
    criteria_version: int
    language: str = "en"  # BCP 47 tag of what the LLM writes for the team (TL;DRs); see bot/domain/languages.py


@dataclass(frozen=True)
class Judgment:
    """One paper's scores from a scorer (LLM or the local approximation)."""

    arxiv_id: str
    relevance: int
    novelty: int
    comment: str = ""
    approximate: bool = False

    @property
    def score(self) -> int:
        return self.relevance + self.novelty


@dataclass(frozen=True)
class Tldr:
    """A paper's TL;DR in one language and, in a channel not in English, its criteria comment translated, with
    the English comment it translates: channels sharing a language but not criteria get their own comments."""

    text: str
    comment: str | None = None  # None: none asked for (English) or none given (the English comment stands)
    comment_source: str | None = None

    def comment_for(self, english: str) -> str | None:
        """The translation of ``english``, when this is what was translated."""
        return self.comment if self.comment and self.comment_source == english else None


@dataclass
class Usage:
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.cached_tokens += other.cached_tokens
        self.completion_tokens += other.completion_tokens
        self.requests += other.requests

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class RankedPaper:
    paper: Paper
    judgment: Judgment
    rank: int
    adjustment: float = 0.0  # what the channel's feedback added to R+N (bounded, see bot/learning/preferences.py)
    explanation: str = ""  # why it ranks here, e.g. "matches topic 2: MoE; ↑ like 3 papers you liked"
    followed: tuple[str, ...] = ()  # the followed authors (as the channel typed them) who wrote it: listed first
    tldr: str = ""  # one plain-language sentence: what they did, what it shows ("" when none was written)

    @property
    def score(self) -> int:
        return self.judgment.score


@dataclass
class Digest:
    """Everything a renderer needs for one profile's day."""

    date: dt.date
    profile: str
    model: str
    approximate: bool
    total_arxiv: int  # papers announced in our categories (after filtering replacements)
    scanned: int  # papers that have a judgment
    ranked: list[RankedPaper]
    unscored: list[tuple[Paper, str]]  # paper and why it has no score
    usage: Usage
    cost_usd: float | None  # None: price unknown for this model
    prompt: str
    min_relevance: int
    min_novelty: int
    price: tuple[float, float, float] | None = None  # USD per 1M tokens: input, cached, output
    notes: list[str] = field(default_factory=list)
    prefiltered: int = 0  # papers the learned prefilter kept from the LLM
    # The TL;DR pass over the posted papers, already included in usage and cost_usd: the token table's own line.
    tldr_usage: Usage = field(default_factory=Usage)
    tldr_cost_usd: float | None = 0.0
    shared: int = 0  # scores a concurrent run of the same criteria made and paid for (not in usage)

    @property
    def relevant(self) -> int:
        return len(self.ranked)


@dataclass(frozen=True)
class Subscription:
    """A chat channel that receives the digest; its profile holds criteria, categories and thresholds."""

    id: int
    platform: str
    workspace: str
    channel: str
    profile_id: int
    active: bool
    created_by: str
    schedule_time: str  # HH:MM, "" = the deployment's default
    timezone: str  # IANA zone, "" = the deployment's default
    post_empty_days: bool
    learn_from_feedback: bool = True
    feedback_since: dt.datetime | None = None
    weekly_day: int | None = None  # the weekly roundup's ISO weekday; None = off
    weekly_time: str = ""  # HH:MM in the channel's zone, "" = 16:00


@dataclass(frozen=True)
class Completion:
    """One LLM answer: its text and what it cost in tokens."""

    text: str
    usage: Usage
