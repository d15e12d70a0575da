"""Scoring a day's papers with an LLM: batches in flight at once, retries, and a budget.

A batch whose reply lacks some papers (malformed JSON, a dropped line) is retried for the missing
ones in smaller batches; a paper that still has no score after ``MAX_ATTEMPTS`` is reported as
unscored, never dropped. Papers whose abstracts talk to the model are scored alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain.errors import LLMError, LLMUnusableError
from bot.domain.models import Completion, Judgment, Paper, Usage
from bot.domain.pricing import Price, cost_of, format_cost
from bot.scoring import prompt
from bot.scoring.hooks import settle
from bot.scoring.replies import json_schema_response_format, parse_reply

MAX_ATTEMPTS = 3
EXPECTED_COMPLETION_TOKENS_PER_PAPER = 40


class ChatModel(Protocol):
    model: str

    async def complete(
        self, system: str, user: str, response_format: dict[str, Any] | None = None, max_tokens: int | None = None
    ) -> Completion:
        """``max_tokens`` caps the reply's tokens (what is paid for), e.g. an answer to a question."""
        ...

    async def aclose(self) -> None: ...


@dataclass
class ScoreOutcome:
    judgments: dict[str, Judgment] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # arxiv_id → why it has no score
    flagged: set[str] = field(default_factory=set)  # abstracts that address the model
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0
    budget_stop: bool = False
    unusable: LLMUnusableError | None = None  # the endpoint cannot serve us at all: the run stops
    notes: list[str] = field(default_factory=list)


def _expected_usage(system: str, user: str, n_papers: int) -> Usage:
    """A request's tokens before it is sent: about four characters a token, a short answer per paper."""
    return Usage(prompt_tokens=(len(system) + len(user)) // 4,
                 completion_tokens=EXPECTED_COMPLETION_TOKENS_PER_PAPER * n_papers)


def estimate_cost(papers: Sequence[Paper], criteria: str, batch_size: int, price: Price | None) -> float | None:
    """What scoring ``papers`` live would cost, estimated the way the budget reserves it; None: price unknown."""
    if price is None:
        return None
    system = prompt.system_prompt(criteria)
    return sum(cost_of(_expected_usage(system, prompt.papers_message(batch), len(batch)), price) or 0.0
               for batch in _chunks(papers, batch_size))


def _chunks(items: Sequence[Paper], size: int) -> list[list[Paper]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def plan_batches(papers: Sequence[Paper], batch_size: int) -> list[list[Paper]]:
    """The requests a day's papers go out in, in order: batches of ``batch_size``, then each paper whose
    abstract addresses the model alone (so it can only touch its own score)."""
    flagged = [p for p in papers if prompt.looks_like_injection(p)]
    regular = [p for p in papers if not prompt.looks_like_injection(p)]
    return _chunks(regular, batch_size) + [[p] for p in flagged]


class LLMScorer:
    def __init__(
        self,
        chat: ChatModel,
        *,
        criteria: str,
        batch_size: int,
        concurrency: int,
        price: Price | None,
        max_cost_usd: float | None = None,
        budget_name: str = "DIGEST_MAX_COST_USD",  # the setting max_cost_usd comes from, named when it stops scoring
        structured_output: bool = False,
        on_judgments: Callable[[list[Judgment]], Awaitable[None] | None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_usage: Callable[[Usage, float | None], Awaitable[None] | None] | None = None,
    ) -> None:
        self.chat = chat
        self.system = prompt.system_prompt(criteria)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.price = price
        self.max_cost_usd = max_cost_usd
        self.budget_name = budget_name
        self.response_format = json_schema_response_format() if structured_output else None
        self.on_judgments = on_judgments or (lambda _: None)
        self.on_progress = on_progress or (lambda _: None)
        self.on_usage = on_usage or (lambda _usage, _cost: None)

    async def score(self, papers: Sequence[Paper]) -> ScoreOutcome:
        self._outcome = ScoreOutcome(cost_usd=0.0 if self.price is not None else None)
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._reserved = 0.0  # estimated cost of requests in flight, counted against the budget
        self._outcome.flagged = {p.arxiv_id for p in papers if prompt.looks_like_injection(p)}
        batches = plan_batches(papers, self.batch_size)
        await asyncio.gather(*(self._run(batch, attempt=1) for batch in batches))
        return self._outcome

    def _estimate_cost(self, user: str, n_papers: int) -> float:
        return cost_of(_expected_usage(self.system, user, n_papers), self.price) or 0.0

    def _fail(self, batch: Sequence[Paper], reason: str) -> None:
        for paper in batch:
            self._outcome.failed[paper.arxiv_id] = reason
        self.on_progress(len(batch))

    async def _run(self, batch: list[Paper], attempt: int) -> None:
        outcome = self._outcome
        user = prompt.papers_message(batch)
        async with self._semaphore:
            if outcome.unusable is not None:
                self._fail(batch, f"not scored: {outcome.unusable}")
                return
            if outcome.budget_stop:
                self._fail(batch, "not scored: the cost budget was reached")
                return
            estimate = self._estimate_cost(user, len(batch))
            committed = (outcome.cost_usd or 0.0) + self._reserved + estimate
            if self.max_cost_usd is not None and committed > self.max_cost_usd:
                outcome.budget_stop = True
                outcome.notes.append(
                    f"Scoring stopped: {self.budget_name} ({format_cost(self.max_cost_usd)}) reached "
                    f"after {format_cost(outcome.cost_usd)}; raise it to score the remaining papers."
                )
                self._fail(batch, "not scored: the cost budget was reached")
                return
            self._reserved += estimate
            try:
                completion: Completion | None = await self.chat.complete(self.system, user, self.response_format)
                error = None
            except LLMUnusableError as exc:
                outcome.unusable = exc
                self._fail(batch, f"not scored: {exc}")
                return
            except LLMError as exc:
                completion, error = None, str(exc)
            finally:
                self._reserved -= estimate

            # Stored before the slot is given up: a process killed at any moment has at most DIGEST_CONCURRENCY
            # batches asked and not recorded (under load a save can take longer than the next request).
            found: dict[str, Judgment] = {}
            if completion is not None:
                outcome.usage.add(completion.usage)
                cost = cost_of(completion.usage, self.price)
                if outcome.cost_usd is not None:
                    outcome.cost_usd += cost or 0.0
                await settle(self.on_usage(completion.usage, cost))
                found, notes = parse_reply(completion.text, (p.arxiv_id for p in batch))
                outcome.notes.extend(notes)
                if found:
                    outcome.judgments.update(found)
                    await settle(self.on_judgments(list(found.values())))
                    self.on_progress(len(found))

        missing = [p for p in batch if p.arxiv_id not in found]
        if not missing:
            return
        if attempt >= MAX_ATTEMPTS:
            reason = f"LLM error: {error}" if error else f"no usable score from the LLM after {attempt} attempts"
            self._fail(missing, reason)
            return
        # Retry what is missing in smaller batches: a reply that chokes on one paper spares the rest.
        size = max(1, (len(missing) + 1) // 2)
        await asyncio.gather(*(self._run(chunk, attempt + 1) for chunk in _chunks(missing, size)))
