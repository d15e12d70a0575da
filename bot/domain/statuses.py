"""Every status and kind the bot stores or reports, as StrEnums: a member equals its string, so the rows already
stored, the log lines and the messages keep their words."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where one profile's announcement day stands (the run table's ``status``)."""

    STARTED = "started"  # being scored, or cut off while it was
    DONE = "done"  # scored and ranked; its messages are not all out yet
    PARTIAL = "partial"  # as done, with papers left without a score
    FAILED = "failed"  # scoring stopped (a refused key, an unusable model): tried again later
    POSTED = "posted"  # every message is in the channel
    EMPTY = "empty"  # no papers that day (the short line went out if the channel wants it)
    LATE = "late"  # the feed did not carry the day by the deadline (said once); still owed
    SKIPPED = "skipped"  # older than DIGEST_CATCHUP_DAYS when caught up, or the API lists no papers


# A run in one of these states needs nothing more; any other state is finished by the next attempt.
FINAL_RUNS = frozenset({RunStatus.POSTED, RunStatus.EMPTY, RunStatus.SKIPPED})
# Runs cut off before their messages were all out (a restart, a crash): scored or being scored.
UNFINISHED_RUNS = frozenset({RunStatus.STARTED, RunStatus.DONE, RunStatus.PARTIAL})


class PostKind(StrEnum):
    """A posted message's part of a day, besides the papers (whose part is their arXiv ID) and the summary's
    continuations ("summary.2", see :func:`bot.digest.service.summary_part`)."""

    SUMMARY = "summary"
    EMPTY = "empty"  # the line of a day without papers
    LATE = "late"  # the line saying the feed has not published the day yet
    HOLIDAY = "holiday"  # the line on an arXiv holiday (DIGEST_HOLIDAY_MESSAGE)


class DeliveryStatus(StrEnum):
    """What one run did in one channel."""

    POSTED = "posted"
    ALREADY = "already"  # every message was in the channel already
    EMPTY = "empty"
    BUSY = "busy"  # another process works on the day
    INTERRUPTED = "interrupted"  # a restart cut a requested run off
    STOPPING = "stopping"  # asked for while the bot shuts down
    QUEUED = "queued"  # /arxiv run with DIGEST_RUNS=queue: a worker runs it


class DayStatus(StrEnum):
    """A scheduled day's outcome when no delivery ran (else the delivery's status is the day's)."""

    WAITING = "waiting"  # the feed does not carry the day yet; before the deadline
    LATE = "late"
    HOLIDAY = "holiday"
    SKIPPED = "skipped"
    FAILED = "failed"  # arXiv or the LLM was unreachable: tried again later


class FeedbackKind(StrEnum):
    """What a reaction says about a paper."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    LATER = "later"  # saved to read, no judgment


class Route(StrEnum):
    """Where the prefilter sent a paper of the day."""

    LLM = "llm"  # no model in force: every paper goes to the LLM
    ABOVE = "above"  # above the model's cutoff
    SAMPLE = "sample"  # below it, scored anyway to measure the prefilter's recall
    SKIPPED = "skipped"  # below it, not scored
    FOLLOWED = "followed"  # by a followed author: scored whatever the model says, left out of its recall figures


class TextSource(StrEnum):
    """Where a paper's full text was read from (the paper_text table's ``source``)."""

    HTML = "html"  # arXiv's HTML rendering (LaTeXML): sections, paragraphs, captions, tables
    PDF = "pdf"  # the PDF's extracted text, when arXiv has no HTML for the paper


class AskOutcome(StrEnum):
    """How a question about a paper ended (the ask table's ``outcome``)."""

    ANSWERED = "answered"  # the LLM answered from the passages sent
    NOT_COVERED = "not_covered"  # no passage of the text matched the question: said so, no LLM call
    NO_TEXT = "no_text"  # arXiv has neither HTML nor a PDF of the paper
    FAILED = "failed"  # arXiv or the LLM could not be used; the person was told why
