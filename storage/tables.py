"""SQLModel tables. SQLite by default, PostgreSQL in production (same schema)."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Value = TypeVar("Value", bound="DataclassInstance")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_value(kind: type[Value], row: SQLModel, /, **converted: Any) -> Value:
    """The domain value ``kind`` (a dataclass) of a row: each of its fields from the column of that name, unless
    given in ``converted`` (an enum from its stored string, a tuple from a JSON list)."""
    return kind(**{f.name: getattr(row, f.name) for f in fields(kind) if f.name not in converted}, **converted)


class PaperRow(SQLModel, table=True):
    __tablename__ = "paper"

    arxiv_id: str = Field(primary_key=True, max_length=32)
    title: str
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    abstract: str
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # One per author ("" when none), as the RSS feed gives them; NULL when unknown (the arXiv API gives none,
    # papers stored before 0005): a later save without any keeps the ones already stored.
    affiliations: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    updated_at: dt.datetime = Field(default_factory=_now)


class FeedDayRow(SQLModel, table=True):
    """A fetched announcement day of one feed (category set), kept even when it was empty."""

    __tablename__ = "feed_day"

    feed: str = Field(primary_key=True, max_length=200)  # sorted categories joined by "+"
    date: dt.date = Field(primary_key=True)
    total_in_feed: int = 0
    source: str = ""
    fetched_at: dt.datetime = Field(default_factory=_now)


class AnnouncementRow(SQLModel, table=True):
    """Which paper a feed announced on a day, in feed order."""

    __tablename__ = "announcement"
    __table_args__ = (UniqueConstraint("feed", "date", "arxiv_id"),)

    id: int | None = Field(default=None, primary_key=True)
    feed: str = Field(index=True, max_length=200)
    date: dt.date = Field(index=True)
    arxiv_id: str = Field(foreign_key="paper.arxiv_id", max_length=32)
    announce_type: str = Field(max_length=20)
    position: int = 0


class ProfileRow(SQLModel, table=True):
    """A team's settings: the CLI's default profile now, one per subscribed channel later."""

    __tablename__ = "profile"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_relevance: int = 7
    min_novelty: int = 6
    top_n: int | None = None
    language: str = Field(default="en", max_length=40)  # BCP 47 tag of the TL;DRs (bot/domain/languages.py)
    created_at: dt.datetime = Field(default_factory=_now)


class _OfProfile(SQLModel):
    """A row of one profile's: its own id, then the profile's (the columns every such table starts with)."""

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profile.id", index=True)


class CriteriaVersionRow(_OfProfile, table=True):
    """Every criteria text a profile has had; the newest is in force, undo steps back."""

    __tablename__ = "criteria_version"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    version: int
    text: str
    author: str = ""
    reverted: bool = False  # undone: kept for the history, no longer in force
    created_at: dt.datetime = Field(default_factory=_now)


class _ByModel(SQLModel):
    """What a model wrote about one paper: its own id, the paper's and the model's (stored once per model)."""

    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=32)
    model: str = Field(max_length=100)


class ScoreRow(_ByModel, table=True):
    """One judgment per (paper, prompt version, model): a re-run asks the LLM nothing."""

    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("arxiv_id", "criteria_key", "model"),)

    criteria_key: str = Field(max_length=64)
    relevance: int
    novelty: int
    comment: str = ""
    approximate: bool = False
    created_at: dt.datetime = Field(default_factory=_now)


class TldrRow(_ByModel, table=True):
    """One paper's one-sentence summary per (language, model): written once, reused by every channel and re-run."""

    __tablename__ = "tldr"
    __table_args__ = (UniqueConstraint("arxiv_id", "language", "model"),)

    language: str = Field(max_length=40)
    text: str
    comment: str | None = None  # the criteria comment in this language (not for English), see Tldr
    comment_source: str | None = None  # the English comment it translates
    created_at: dt.datetime = Field(default_factory=_now)


class RunRow(_OfProfile, table=True):
    """One profile's digest for one announcement day: counts, usage, cost and status."""

    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("profile_id", "date"),)

    date: dt.date
    status: str = Field(default="started", max_length=20)  # a bot.domain.statuses.RunStatus
    model: str = ""
    criteria_key: str = ""
    total_arxiv: int = 0
    scanned: int = 0
    relevant: int = 0
    unscored: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cost_usd: float | None = None
    message: str = ""
    started_at: dt.datetime = Field(default_factory=_now)
    finished_at: dt.datetime | None = None
    # Which process works on the run now ("host:pid"), its last sign of life, and how many times a
    # run was started: a restarted process finishes a run a crashed one left "started".
    owner: str = Field(default="", max_length=100)
    heartbeat_at: dt.datetime | None = None
    attempts: int = 0
    llm_batch_id: str = Field(default="", max_length=100)  # OpenAI Batch API job in progress (DIGEST_USE_BATCH_API)
    # The profile's criteria version the run scored with (criteria_key also covers the feedback examples
    # in the prompt, which change daily): learning weighs labels of other versions down.
    criteria_version: int = 0
    prompt_examples: str = ""  # the liked/disliked titles in its prompt, fixed at the day's first attempt
    # The profile's thresholds when the run started, which its ranking used (NULL: a run older than 0006).
    min_relevance: int | None = None
    min_novelty: int | None = None


class SubscriptionRow(SQLModel, table=True):
    """A chat channel that receives a digest: its own profile, schedule and empty-day preference."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("platform", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)  # slack | discord
    workspace: str = Field(default="", max_length=64)  # Slack team ID, Discord guild ID
    channel: str = Field(max_length=64)
    profile_id: int = Field(foreign_key="profile.id", index=True)
    active: bool = True
    created_by: str = Field(default="", max_length=64)
    schedule_time: str = Field(default="", max_length=5)  # HH:MM; "" = the deployment's DIGEST_SCHEDULE
    timezone: str = Field(default="", max_length=64)  # IANA name; "" = the deployment's default
    post_empty_days: bool = False  # one short line on days without papers
    learn_from_feedback: bool = True  # reactions adjust the ranking and the prompt's examples
    feedback_since: dt.datetime | None = None  # /arxiv feedback reset: older reactions are kept but not used
    weekly_day: int | None = None  # the weekly roundup's ISO weekday (1 = Monday); None = no roundup
    weekly_time: str = Field(default="", max_length=5)  # HH:MM in the channel's zone; "" = 16:00
    created_at: dt.datetime = Field(default_factory=_now)


class PostRow(SQLModel, table=True):
    """Which chat message carries which part of which day's digest: reactions map through it, and a
    re-run posts only the parts that have no row yet."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("platform", "channel", "date", "part"),
        UniqueConstraint("platform", "channel", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=64)
    date: dt.date = Field(index=True)
    part: str = Field(max_length=64)  # a bot.domain.statuses.PostKind, "summary.2"… or an arXiv ID
    arxiv_id: str | None = Field(default=None, max_length=32)  # set on paper messages only
    rank: int | None = None
    message_id: str = Field(max_length=64)  # Slack ts, Discord snowflake
    created_at: dt.datetime = Field(default_factory=_now)


class WeeklyPostRow(SQLModel, table=True):
    """A channel's weekly roundup of one ISO week (its Monday): claimed by the process that posts it, then the
    message it became. The unique key makes restarts and a second scheduler post it once."""

    __tablename__ = "weekly_post"
    __table_args__ = (UniqueConstraint("platform", "channel", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    week: dt.date  # the Monday of the ISO week
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=64)
    claim: str = Field(default="", max_length=32)  # the posting attempt's token
    claimed_at: dt.datetime = Field(default_factory=_now)
    message_id: str = Field(default="", max_length=64)  # "" until posted


class FeedbackRow(SQLModel, table=True):
    """One person's signal on one paper in one channel, from a reaction or a button."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("platform", "channel", "user", "arxiv_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=64, index=True)
    user: str = Field(max_length=64)
    arxiv_id: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=20)  # a bot.domain.statuses.FeedbackKind
    emoji: str = Field(max_length=64)
    source: str = Field(default="reaction", max_length=20)  # reaction | button
    created_at: dt.datetime = Field(default_factory=_now)


class SeenEventRow(SQLModel, table=True):
    """Platform event IDs already handled: Slack re-delivers events it thinks we missed."""

    __tablename__ = "seen_event"

    event_id: str = Field(primary_key=True, max_length=128)
    seen_at: dt.datetime = Field(default_factory=_now, index=True)


class LearnedModelRow(_OfProfile, table=True):
    """A profile's prefilter, trained on the LLM's past judgments and the channel's reactions; versioned,
    the newest is in force. ``cutoff`` None means cold start: every paper goes to the LLM."""

    __tablename__ = "learned_model"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    version: int
    criteria_version: int = 0  # the criteria in force when it was trained
    labels: int = 0
    positives: int = 0
    reactions: int = 0
    cutoff: float | None = None
    metrics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    weights: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))  # numpy .npz, no pickle
    train_seconds: float = 0.0
    trained_at: dt.datetime = Field(default_factory=_now)


class DecisionRow(_OfProfile, table=True):
    """What learning did to one paper of a profile's day: the prefilter's score and route, and the
    feedback adjustment of its rank with the words that explain it."""

    __tablename__ = "paper_decision"
    __table_args__ = (UniqueConstraint("profile_id", "date", "arxiv_id"),)

    date: dt.date = Field(index=True)
    arxiv_id: str = Field(max_length=32)
    model_version: int = 0  # 0: no prefilter model (cold start or turned off)
    prefilter_score: float | None = None
    route: str = Field(default="llm", max_length=10)  # a bot.domain.statuses.Route
    llm_rank: int | None = None  # its place by the LLM's scores alone (posted papers only)
    rank: int | None = None  # its place after the feedback adjustment
    adjustment: float = 0.0
    explanation: str = ""


class SuggestionRow(_OfProfile, table=True):
    """Criteria edits the LLM proposed from a channel's likes and dislikes (/arxiv suggest)."""

    __tablename__ = "criteria_suggestion"

    text: str
    rationale: str = ""
    requested_by: str = Field(default="", max_length=64)
    applied_version: int | None = None  # the criteria version it became, once applied
    created_at: dt.datetime = Field(default_factory=_now)


class CriteriaDraftRow(_OfProfile, table=True):
    """A profile's pending criteria change: one at most, previewed before it is applied or discarded."""

    __tablename__ = "criteria_draft"
    __table_args__ = (UniqueConstraint("profile_id"),)

    text: str
    author: str = ""
    suggestion: int | None = None
    created_at: dt.datetime = Field(default_factory=_now)


class FollowedAuthorRow(_OfProfile, table=True):
    """An author a profile follows (/arxiv follow): their papers are always in its digest, listed first."""

    __tablename__ = "followed_author"
    __table_args__ = (UniqueConstraint("profile_id", "key"),)

    key: str = Field(max_length=200)  # the folded name (bot.domain.authors.FollowedName.key): one row per person
    name: str = Field(max_length=200)  # as it was typed, TeX decoded: what the digest shows
    added_by: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=_now)


class PaperTextRow(SQLModel, table=True):
    """A paper's full text, per version, as arXiv rendered it (HTML, else the PDF): read once, asked many times."""

    __tablename__ = "paper_text"

    # Without its version; no foreign key to paper: a question may name a paper no digest stored.
    arxiv_id: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True)  # 0 when the source did not say
    source: str = Field(max_length=10)  # a bot.domain.statuses.TextSource
    title: str = ""
    pages: int | None = None
    # Each block as [section, text, label] (bot.domain.fulltext.TextBlock).
    blocks: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fetched_at: dt.datetime = Field(default_factory=_now)


class AskRow(SQLModel, table=True):
    """A question asked about a paper and its answer: the rate limits count these, follow-ups read them back."""

    __tablename__ = "ask"
    __table_args__ = (
        Index("ix_ask_person", "platform", "workspace", "user", "created_at"),
        Index("ix_ask_channel", "platform", "channel", "created_at"),
        Index("ix_ask_thread", "platform", "channel", "thread", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    workspace: str = Field(default="", max_length=64)
    channel: str = Field(max_length=64)
    thread: str = Field(default="", max_length=64)  # the message whose thread the answer went in; "" for none
    user: str = Field(max_length=64)
    arxiv_id: str = Field(max_length=32)
    question: str
    answer: str = ""
    sections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    outcome: str = Field(max_length=20)  # a bot.domain.statuses.AskOutcome
    created_at: dt.datetime = Field(default_factory=_now, index=True)  # the month's spend sums by it
