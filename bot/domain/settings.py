"""Runtime settings: every default is an environment variable (or a line in ``.env``).

The variable names are a contract with operators and tests, who point them at stand-ins.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.authors import parse_followed
from bot.domain.calendar import ARXIV_HOLIDAYS, ArxivCalendar, parse_holidays
from bot.domain.feedback import DEFAULT_REACTIONS, parse_reaction_map
from bot.domain.schedule import DEFAULT_SCHEDULE, parse_schedule
from bot.domain.taxonomy import validate_categories

DEFAULT_DATABASE_URL = "sqlite:///arxiv_digest.db"
# Any number of runs and commands queue for these; PostgreSQL's default max_connections (100) fits several processes.
DEFAULT_DB_POOL_SIZE = 5  # 3 threads for runs, 2 for commands: more threads only fight the event loop for the GIL
DEFAULT_DB_MAX_OVERFLOW = 10


def _split_list(value: object) -> object:
    """Accept ``cs.LG,cs.AI``, ``cs.LG cs.AI`` or a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in text.replace(",", " ").split() if part]
    return value


def _plain(name: str) -> AliasChoices:
    """An env name without the ``DIGEST_`` prefix (OPENAI_API_KEY, DATABASE_URL, …)."""
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DIGEST_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        populate_by_name=True,
    )

    categories: Annotated[list[str], NoDecode] = Field(default=["cs.LG", "cs.AI"])
    announce_types: Annotated[list[str], NoDecode] = Field(default=["new", "cross"])
    model: str = "gpt-4o-mini"
    min_relevance: int = Field(default=7, ge=1, le=10)
    min_novelty: int = Field(default=6, ge=1, le=10)
    top_n: int | None = Field(default=None, ge=1, description="cap on papers in a digest")
    batch_size: int = Field(default=50, ge=1, le=200, description="papers per LLM request")
    concurrency: int = Field(default=8, ge=1, le=64, description="LLM requests in flight per run")
    llm_in_flight: int = Field(
        default=32, ge=1, le=1024, description="LLM requests in flight across the process (every run and question)"
    )
    runs_at_once: int = Field(
        default=64, ge=1, le=10_000,
        description="channel runs reading and scoring their day at once (bounds memory; the LLM has its own limit)",
    )
    channels_at_once: int = Field(
        default=50, ge=1, le=10_000,
        description="channels posting their digests at once (each channel is paced; scoring is not held by it)",
    )
    max_cost_usd: float | None = Field(default=None, gt=0)
    llm_timeout: float = Field(default=60.0, gt=0, description="seconds per LLM request")
    llm_max_retries: int = Field(default=4, ge=0, description="retries on 429/5xx/timeouts")
    structured_output: bool = Field(default=False, description="ask for a json_schema reply")
    prices: dict[str, tuple[float, float, float]] = Field(
        default_factory=dict, description="extra USD prices per 1M tokens: {model: [input, cached, output]}"
    )
    max_criteria_chars: int = Field(default=8000, ge=100)
    fetch_retries: int = Field(default=4, ge=0)
    fetch_timeout: float = Field(default=30.0, gt=0)
    retry_base_delay: float = Field(default=2.0, ge=0, description="first backoff step in seconds")
    arxiv_api_delay: float = Field(default=3.0, ge=0, description="seconds between arXiv API calls")
    profile: str = Field(default="default", description="profile used by the CLI")
    # Authors the CLI's profile follows: "Kaiming He; Przemysław Biecek" (names hold spaces, so no space split).
    follow: Annotated[list[str], NoDecode] = Field(default=[], description="authors whose papers always post")
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="chat user IDs allowed to change any channel's settings"
    )
    reactions: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: parse_reaction_map(DEFAULT_REACTIONS), description="emoji → feedback kind"
    )
    schedule: str = Field(default=DEFAULT_SCHEDULE, description="default daily post time: 'HH:MM Area/City'")
    scheduler: bool = Field(default=True, description="post on schedule; false for extra HTTP-mode replicas")
    health_token: SecretStr | None = Field(
        default=None, description="unlocks /healthz's details (channels, runs): Bearer header or ?token="
    )
    arxiv_holidays: Annotated[list[dt.date], NoDecode] = Field(
        default_factory=list, description="extra evenings (ET dates) without an arXiv announcement"
    )
    feed_retry_minutes: float = Field(default=30.0, gt=0, description="wait before re-reading a late feed")
    feed_deadline_hours: float = Field(
        default=6.0, ge=0, description="after the scheduled time, give up waiting for a late feed and say so"
    )
    catchup_days: int = Field(default=5, ge=0, description="missed announcement days to post after downtime")
    misfire_grace_hours: float = Field(default=12.0, gt=0, description="a job missed by less still runs")
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, description="time a running digest gets on SIGTERM")
    holiday_message: str = Field(
        default="No arXiv digest today: arXiv makes no announcement on {evening:%A, %B %-d} (holiday). "
        "The next digest comes with the next announcement.",
        description="posted on arXiv holidays; empty to stay silent",
    )
    use_batch_api: bool = Field(default=False, description="score through the OpenAI Batch API (50% cheaper, ≤ 24 h)")
    batch_poll_seconds: float = Field(default=60.0, gt=0)
    batch_max_wait_hours: float = Field(default=24.0, gt=0)
    prefilter: bool = Field(default=True, description="send only papers the learned prefilter keeps to the LLM")
    prefilter_recall: float = Field(
        default=0.95, gt=0.5, le=1.0, description="share of the LLM's selections the prefilter cutoff keeps"
    )
    prefilter_sample: float = Field(
        default=0.05, ge=0, le=1, description="share of papers below the cutoff still scored, to measure recall"
    )
    prefilter_min_labels: int = Field(
        default=100, ge=1, description="scored papers of the current criteria before the prefilter starts"
    )
    feedback_weight: float = Field(
        default=2.0, ge=0, le=5, description="most points reactions add to or take from a paper's R+N (2–20)"
    )
    monthly_budget_usd: float | None = Field(
        default=None, gt=0, description="most USD the LLM may cost a month (UTC), digests and questions together"
    )
    ask_per_hour: int = Field(default=10, ge=0, description="questions one person may ask the papers an hour; 0: none")
    ask_channel_per_hour: int = Field(default=30, ge=0, description="questions a channel may ask the papers an hour")
    feedback_examples: int = Field(
        default=5, ge=0, le=20, description="liked and disliked titles shown to the LLM (each); 0 for none"
    )
    # Many processes: the clock enqueues channel runs on a job queue in PostgreSQL, `arxiv-digest worker`s run them.
    runs: Literal["inline", "queue"] = Field(
        default="inline", description="inline: this process runs the digests; queue: workers take them (PostgreSQL)"
    )
    worker_concurrency: int = Field(
        default=32, ge=1, le=1024,
        description="channel runs one worker takes at once (its run and posting slots bound them too)",
    )
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0, description="how often a worker says it is alive")
    worker_stalled_seconds: float = Field(
        default=30.0, gt=0, description="a worker silent this long is dead: its runs go to another worker"
    )

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_plain("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_plain("OPENAI_BASE_URL"))
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias=_plain("DATABASE_URL"))
    db_pool_size: int = Field(
        default=DEFAULT_DB_POOL_SIZE, ge=1, le=200,
        description="database connections kept open, and threads doing the bot's database work (one each)",
    )
    db_max_overflow: int = Field(
        default=DEFAULT_DB_MAX_OVERFLOW, ge=0, le=200,
        description="extra connections opened when work outside those threads needs one (training, look-ups)",
    )
    arxiv_rss_url: str = Field(default="https://rss.arxiv.org/rss/", validation_alias=_plain("ARXIV_RSS_URL"))
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query", validation_alias=_plain("ARXIV_API_URL")
    )
    # A paper's full text, for questions about it: arXiv's HTML rendering, else its PDF (+ "<arXiv ID>").
    arxiv_html_url: str = Field(default="https://arxiv.org/html/", validation_alias=_plain("ARXIV_HTML_URL"))
    arxiv_pdf_url: str = Field(default="https://arxiv.org/pdf/", validation_alias=_plain("ARXIV_PDF_URL"))

    _split_lists = field_validator("categories", "announce_types", "admins", mode="before")(
        lambda cls, v: _split_list(v)
    )

    @field_validator("follow", mode="before")
    @classmethod
    def _followed_names(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [name.strip() for name in value.replace(";", ",").split(",") if name.strip()]
        return _split_list(value)

    @field_validator("follow")
    @classmethod
    def _valid_names(cls, value: list[str]) -> list[str]:
        return [parse_followed(name).shown for name in value]  # an ambiguous name says so at startup

    @field_validator("arxiv_holidays", mode="before")
    @classmethod
    def _holidays(cls, value: object) -> object:
        return sorted(parse_holidays(value)) if isinstance(value, str) else value

    @field_validator("holiday_message")
    @classmethod
    def _holiday_template(cls, value: str) -> str:
        try:
            value.format(evening=dt.date(2025, 12, 25), date=dt.date(2025, 12, 26))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"may use only {{evening}} and {{date}} placeholders ({exc})") from exc
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        return validate_categories(value)

    @field_validator("reactions", mode="before")
    @classmethod
    def _reaction_map(cls, value: object) -> object:
        return parse_reaction_map(value) if isinstance(value, (str, dict)) else value

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        time, zone = parse_schedule(value)
        return f"{time:%H:%M} {zone}"

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_json(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @property
    def feed_url(self) -> str:
        """The RSS URL for our categories: ``ARXIV_RSS_URL`` + ``cs.LG+cs.AI``."""
        return self.feed_url_for(self.categories)

    def feed_url_for(self, categories: list[str] | tuple[str, ...]) -> str:
        base = self.arxiv_rss_url if self.arxiv_rss_url.endswith("/") else self.arxiv_rss_url + "/"
        return base + "+".join(categories)

    @property
    def calendar(self) -> ArxivCalendar:
        return ArxivCalendar(holidays=ARXIV_HOLIDAYS | frozenset(self.arxiv_holidays))

    @property
    def has_llm(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path}"
