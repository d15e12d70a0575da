"""Scoring a day's papers through the OpenAI Batch API: half the price, results within 24 hours.

Same prompts and the same result contract (``ScoreOutcome``) as the live scorer in bot/scoring/llm_scorer.py. All
of a day's requests go into one batch: one request per chunk of ``batch_size`` papers, and papers whose
abstracts talk to the model alone in a request of their own. Each request's ``custom_id`` names its
chunk (criteria version, position, a hash of its IDs), so a restarted process that resumes the batch
by its ID knows which papers each reply may score.

The batch is submitted once and polled until it ends or ``max_wait`` passes; then it is left running
(never cancelled) and the next run resumes it. Papers that come back without a score are not sent
through another 24-hour batch: they are reported in ``failed`` so the caller can score them live.

The Batch API client itself lives in adapters/llm_batch.py; here it is only the ``BatchModel`` protocol.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain.errors import LLMError, LLMUnusableError
from bot.domain.models import Completion, Judgment, Paper
from bot.domain.pricing import Price, batch_cost_of
from bot.scoring import prompt
from bot.scoring.hooks import settle
from bot.scoring.llm_scorer import ScoreOutcome
from bot.scoring.replies import json_schema_response_format, parse_reply

# Statuses after which a batch changes no more ("validating", "in_progress", "finalizing" and
# "cancelling" are on the way there).
FINISHED = frozenset({"completed", "failed", "expired", "cancelled"})
CHUNK, SINGLE = "chunk", "paper"  # the kinds of request a custom_id names


@dataclass(frozen=True)
class BatchRequest:
    """One chat completion request of a batch."""

    custom_id: str
    system: str
    user: str
    response_format: dict[str, Any] | None = None


@dataclass(frozen=True)
class RequestCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class BatchState:
    """A batch as the endpoint reports it."""

    id: str
    status: str  # validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
    request_counts: RequestCounts = field(default_factory=RequestCounts)
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[str, ...] = ()  # why a failed batch failed (input validation, enqueued token limit, …)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class UnknownBatchError(LLMError):
    """The endpoint does not know this batch ID (another account or project, or a mistyped ID)."""


class BatchModel(Protocol):
    """What adapters/llm_batch.py's OpenAIBatch offers; errors are LLMError / LLMUnusableError."""

    model: str

    async def submit(self, requests: Sequence[BatchRequest]) -> str: ...

    async def poll(self, batch_id: str) -> BatchState: ...

    async def results(self, state: BatchState) -> dict[str, Completion | str]:
        """custom_id → the reply, or why that request has none (per-request errors, unfinished requests)."""
        ...

    async def cancel(self, batch_id: str) -> BatchState: ...

    async def aclose(self) -> None: ...


@dataclass
class BatchOutcome(ScoreOutcome):
    """A ScoreOutcome that also says what became of the batch."""

    batch_id: str | None = None  # the batch submitted or resumed (None: nothing was submitted)
    # The batch may still deliver (running when max_wait passed, or its results could not be read):
    # keep batch_id and pass it again next run. Its papers are in `failed` but must NOT be scored live.
    pending: bool = False


@dataclass
class _Plan:
    """The requests of a day's papers, and which papers each custom_id asked about."""

    key: str  # prefix of every custom_id: the criteria version
    requests: list[BatchRequest]
    papers: dict[str, list[Paper]]  # custom_id → papers of that request
    regular: list[Paper]  # papers in multi-paper chunks (not flagged)
    flagged: set[str]


def plan_requests(
    papers: Sequence[Paper], *, criteria: str, batch_size: int, structured_output: bool = False
) -> tuple[list[BatchRequest], dict[str, list[Paper]]]:
    """The batch's requests and, per custom_id, the papers it asks about (as score_with_batch_api builds them)."""
    plan = _plan(papers, criteria, batch_size, structured_output)
    return plan.requests, plan.papers


def _plan(papers: Sequence[Paper], criteria: str, batch_size: int, structured_output: bool) -> _Plan:
    system = prompt.system_prompt(criteria)
    response_format = json_schema_response_format() if structured_output else None
    key = prompt.criteria_key(criteria)[:12]
    flagged = [p for p in papers if prompt.looks_like_injection(p)]
    flagged_ids = {p.arxiv_id for p in flagged}
    regular = [p for p in papers if p.arxiv_id not in flagged_ids]
    size = max(1, batch_size)
    groups: list[tuple[str, list[Paper]]] = []
    for index in range(0, len(regular), size):
        chunk = regular[index : index + size]
        digest = hashlib.sha256("\n".join(p.arxiv_id for p in chunk).encode()).hexdigest()[:12]
        groups.append((f"{key}:{CHUNK}:{index // size}:{digest}", chunk))
    groups.extend((f"{key}:{SINGLE}:{p.arxiv_id}", [p]) for p in flagged)
    requests = [BatchRequest(cid, system, prompt.papers_message(chunk), response_format) for cid, chunk in groups]
    return _Plan(key, requests, dict(groups), regular, flagged_ids)


async def score_with_batch_api(
    client: BatchModel,
    papers: Sequence[Paper],
    *,
    criteria: str,
    batch_size: int,
    price: Price | None,
    structured_output: bool,
    batch_id: str | None,
    on_submitted: Callable[[str], Awaitable[None] | None],
    on_judgments: Callable[[list[Judgment]], Awaitable[None] | None],
    poll_interval: float,
    max_wait: float,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> BatchOutcome:
    """Score ``papers`` through one batch: submit it (or resume ``batch_id``), wait, read the replies.

    ``on_submitted(batch_id)`` runs right after submission, before any waiting, so the caller can store
    the ID; ``on_judgments`` gets each request's judgments as they are read. Cost is the Batch API's
    (half the live price for the same tokens).
    """
    unique = list({p.arxiv_id: p for p in papers}.values())
    plan = _plan(unique, criteria, batch_size, structured_output)
    outcome = BatchOutcome(cost_usd=0.0 if price is not None else None, flagged=plan.flagged, batch_id=batch_id)

    def fail_all(reason: str) -> BatchOutcome:
        for paper in unique:
            if paper.arxiv_id not in outcome.judgments:
                outcome.failed[paper.arxiv_id] = reason
        return outcome

    if not unique:
        return outcome
    if batch_id is None:
        try:
            batch_id = await client.submit(plan.requests)
        except LLMUnusableError as exc:
            outcome.unusable = exc
            return fail_all(f"not scored: {exc}")
        except LLMError as exc:
            outcome.notes.append(f"The OpenAI batch could not be submitted ({exc}); nothing was sent.")
            return fail_all(f"not scored: the OpenAI batch could not be submitted ({exc})")
        outcome.batch_id = batch_id
        await settle(on_submitted(batch_id))

    state = await _wait(client, batch_id, outcome, poll_interval=poll_interval, max_wait=max_wait, sleep=sleep)
    if isinstance(state, str):  # still running, unknown, or the endpoint stopped serving us
        return fail_all(state)

    if state.status == "failed":
        why = "; ".join(state.errors) or "no reason given"
        outcome.notes.append(f"The OpenAI batch {batch_id} failed: {why}. None of its papers were scored.")
        return fail_all(f"not scored: the OpenAI batch failed ({why})")

    try:
        replies = await client.results(state)
    except LLMUnusableError as exc:
        outcome.unusable, outcome.pending = exc, True
        return fail_all(f"not scored: {exc}")
    except LLMError as exc:
        outcome.pending = True
        outcome.notes.append(
            f"The results of OpenAI batch {batch_id} could not be read ({exc}); the next run tries again."
        )
        return fail_all(f"waiting for the results of OpenAI batch {batch_id}")

    for fresh in _read_replies(plan, replies, outcome):
        await settle(on_judgments(fresh))
    _explain_missing(plan, replies, state, outcome)
    if price is not None:
        outcome.cost_usd = batch_cost_of(outcome.usage, price)
    return outcome


async def _wait(
    client: BatchModel,
    batch_id: str,
    outcome: BatchOutcome,
    *,
    poll_interval: float,
    max_wait: float,
    sleep: Callable[[float], Awaitable[Any]],
) -> BatchState | str:
    """Poll until the batch has finished; if it has not, why its papers have no score (notes say more)."""
    loop = asyncio.get_running_loop()
    started, slept = loop.time(), 0.0
    state: BatchState | None = None
    trouble: LLMError | None = None
    while True:
        try:
            state, trouble = await client.poll(batch_id), None
        except UnknownBatchError as exc:
            outcome.notes.append(f"The OpenAI batch {batch_id} cannot be resumed: {exc}. Its papers were not scored.")
            return f"not scored: the OpenAI batch {batch_id} is unknown to the endpoint"
        except LLMUnusableError as exc:
            outcome.unusable, outcome.pending = exc, True
            return f"not scored: {exc}"
        except LLMError as exc:  # a passing failure: the batch itself runs on, ask again next time
            trouble = exc
        if state is not None and trouble is None and state.finished:
            return state
        elapsed = max(loop.time() - started, slept)
        if elapsed >= max_wait:
            break
        pause = min(poll_interval, max_wait - elapsed)
        await sleep(pause)
        slept += pause
    outcome.pending = True
    done = ""
    if state is not None and state.request_counts.total:
        counts = state.request_counts
        done = f", {counts.completed + counts.failed} of {counts.total} requests done"
    last = f"; the last status check failed: {trouble}" if trouble is not None else ""
    outcome.notes.append(
        f"The OpenAI batch {batch_id} is still running after {_duration(max_wait)}{done}{last}. It was left "
        "running; the next run picks up its results."
    )
    return f"waiting for OpenAI batch {batch_id}, still running (the next run picks up its results)"


def _read_replies(
    plan: _Plan,
    replies: dict[str, Completion | str],
    outcome: ScoreOutcome,
) -> list[list[Judgment]]:
    """Read the replies into ``outcome``; gives the fresh judgments of each reply, in order."""
    read: list[list[Judgment]] = []

    def take(reply: Completion, asked: Sequence[Paper]) -> None:
        found, notes = parse_reply(reply.text, (p.arxiv_id for p in asked))
        outcome.notes.extend(notes)
        fresh = [j for pid, j in found.items() if pid not in outcome.judgments]
        if fresh:
            outcome.judgments.update((j.arxiv_id, j) for j in fresh)
            read.append(fresh)

    strangers: list[Completion] = []
    foreign = 0
    for custom_id, reply in replies.items():
        if isinstance(reply, Completion):
            outcome.usage.add(reply.usage)  # every answered request is paid for
        if custom_id in plan.papers:
            if isinstance(reply, Completion):
                take(reply, plan.papers[custom_id])
        elif custom_id.startswith(f"{plan.key}:{CHUNK}:"):
            if isinstance(reply, Completion):
                strangers.append(reply)
        else:
            foreign += 1
    # A chunk this run would have cut differently (some of the papers were scored since the batch was
    # submitted): it held no flagged paper, so it may score any regular paper still without a score.
    for reply in strangers:
        take(reply, [p for p in plan.regular if p.arxiv_id not in outcome.judgments])
    if foreign:
        outcome.notes.append(
            f"{foreign} batch repl{'y was' if foreign == 1 else 'ies were'} ignored: asked with other criteria "
            "than the ones in force now."
        )
    return read


def _explain_missing(
    plan: _Plan, replies: dict[str, Completion | str], state: BatchState, outcome: ScoreOutcome
) -> None:
    unanswered = {
        "expired": "not scored: the OpenAI batch expired (24 h window) before this request ran",
        "cancelled": "not scored: the OpenAI batch was cancelled before this request ran",
    }.get(state.status, "not scored: the OpenAI batch returned no reply for this request")
    missing = 0
    for custom_id, asked in plan.papers.items():
        reply = replies.get(custom_id)
        if reply is None:
            reason = unanswered
        elif isinstance(reply, str):
            reason = f"not scored: the batch request failed ({reply})"
        else:
            reason = "no usable score in the OpenAI batch reply"
        for paper in asked:
            if paper.arxiv_id not in outcome.judgments:
                outcome.failed[paper.arxiv_id] = reason
                missing += 1
    if not missing:
        return
    counts = state.request_counts
    how = {
        "expired": f"expired after 24 h with {counts.completed} of {counts.total} requests answered",
        "cancelled": f"was cancelled with {counts.completed} of {counts.total} requests answered",
    }.get(state.status, "completed")
    outcome.notes.append(
        f"The OpenAI batch {state.id} {how}: {missing} paper(s) came back without a score; they were not "
        "sent through another batch."
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
