"""Criteria text a team writes: its rules, its versions, and the edits the LLM proposes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.errors import CriteriaError


@dataclass(frozen=True)
class CriteriaVersion:
    """One text a profile's criteria have had; the newest not undone is in force."""

    version: int
    text: str
    author: str  # who set it; "" or "default" for the deployment's default
    reverted: bool  # undone: kept for the history, no longer in force
    created_at: dt.datetime


@dataclass(frozen=True)
class Suggestion:
    """Criteria edits the LLM proposed from a channel's likes and dislikes (``/arxiv suggest``)."""

    text: str
    applied_version: int | None  # the criteria version it became, once applied


@dataclass(frozen=True)
class CriteriaDraft:
    """Criteria an admin wrote (or a suggestion they chose) waiting to be previewed, applied or discarded."""

    text: str
    author: str  # who wrote it, as set_criteria records it
    suggestion: int | None  # the suggestion it comes from, marked applied when it is


def validate_criteria(text: str, max_chars: int) -> str:
    """The cleaned text, or a CriteriaError that states the limit."""
    cleaned = text.strip()
    if not cleaned:
        raise CriteriaError("The criteria are empty. Write the topics you care about, one per line or paragraph.")
    if len(cleaned) > max_chars:
        raise CriteriaError(
            f"The criteria are {len(cleaned)} characters long; the limit is {max_chars} "
            "(DIGEST_MAX_CRITERIA_CHARS). Shorten them: every character is sent with every request."
        )
    return cleaned
