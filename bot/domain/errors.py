"""Errors the core reports to people: each message says what happened and what to do next."""

from __future__ import annotations

import logging
import secrets
import traceback


class DigestError(RuntimeError):
    """A failure with a message fit for the terminal or a chat reply."""


class FeedError(DigestError):
    """The arXiv feed could not be read (after retries)."""


class FullTextError(DigestError):
    """A paper's full text could not be read from arXiv (busy, down, or an answer that is no paper)."""


class LLMError(DigestError):
    """An LLM request failed for good (after the client's own retries)."""


class LLMUnusableError(LLMError):
    """No request can succeed (wrong key, unreachable endpoint, unknown model): stop the run at once."""


class BudgetError(DigestError):
    """A budget is set that cannot be enforced (no price for the model)."""


class CriteriaError(DigestError):
    """Criteria text refused (empty or over the limit)."""


class NotFoundError(DigestError):
    """An arXiv ID that arXiv does not know."""


class PostError(DigestError):
    """A chat platform refused a message (the bot is not in the channel, the channel is archived, …)."""


class StorageError(DigestError):
    """The database cannot be used as it is (migrated by a newer arxiv-digest, half-made by a dev build, …)."""


# --- the generic failure path -------------------------------------------------------------------------------
# An unexpected exception's text is for the operator, never for the person who asked: it can carry SQL, file
# paths, URLs or their own input back at them, and says nothing about what to do. They get a reference that
# finds the log entry; the entry is bounded (a 40,000-character argument in a message must not flood the log).

FAILED = (
    "Sorry, that failed on the bot's side (reference {reference}). Try again in a minute; if it keeps failing, "
    "give this reference to whoever runs the bot."
)
_MESSAGE_LIMIT = 300  # characters of each exception's own message in the log
_FRAME_LIMIT = 12  # innermost traceback frames kept
_CHAIN_LIMIT = 3  # causes and contexts followed


def report_failure(log: logging.Logger, what: str, error: BaseException) -> str:
    """Log ``error`` under a fresh short reference and return the text to show the person instead of it."""
    reference = secrets.token_hex(4)
    log.error("%s failed [ref %s]: %s", what, reference, describe(error))
    return FAILED.format(reference=reference)


def describe(error: BaseException) -> str:
    """The exception, its causes and innermost frames, each piece clipped: enough to debug, bounded in size."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_LIMIT:
        seen.add(id(current))
        if parts:
            parts.append("caused by:")
        frames = traceback.format_tb(current.__traceback__)[-_FRAME_LIMIT:]
        parts.append(f"{type(current).__qualname__}: {_clip(str(current))}")
        parts.extend(line.rstrip("\n") for line in frames)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n".join(parts)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else f"{text[:_MESSAGE_LIMIT]}… ({len(text):,} characters)"
