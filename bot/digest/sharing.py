"""Concurrent runs share their LLM work: a paper is scored once per (criteria, model) and its TL;DR written
once per (language, model), however many channels' runs need it at the same time.

The run that does the work records its usage and cost; a run that waits for another's records none, and its
digest says how many of its scores were shared (the other run paid for them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.domain.models import Judgment, Paper, Tldr
from bot.scoring import prompt
from bot.scoring.llm_scorer import ScoreOutcome
from bot.scoring.shared_work import SharedWork
from bot.scoring.tldr import TldrOutcome, extractive

ItemKey = tuple[str, str, str]  # (criteria key or language, model, arXiv ID)
ROUNDS = 2  # a paper another run claimed and could not score is tried once more here
NOT_SHARED = "not scored: the concurrent run scoring it for the same criteria could not score it"


@dataclass
class SharedScoring:
    """The process's claims on scoring and TL;DR work (the digest service holds one for all its runs)."""

    judgments: SharedWork[ItemKey, Judgment] = field(default_factory=SharedWork)
    tldrs: SharedWork[ItemKey, Tldr] = field(default_factory=SharedWork)

    def forget_done(self) -> None:
        """No run is going: the results kept for concurrent runs go (the database has them)."""
        self.judgments.forget_done()
        self.tldrs.forget_done()


async def score_once(
    shared: SharedWork[ItemKey, Judgment], criteria_key: str, model: str, papers: Sequence[Paper],
    score: Callable[[list[Paper]], Awaitable[ScoreOutcome]],
) -> tuple[ScoreOutcome, int]:
    """``papers`` judged: by ``score`` for those no other run is scoring, by the others for the rest.
    Returns the outcome (this run's usage only) and how many judgments came from other runs."""
    outcome = ScoreOutcome(cost_usd=0.0)
    by_key = {(criteria_key, model, p.arxiv_id): p for p in papers}
    from_others = 0
    left = list(by_key)
    for _ in range(ROUNDS):
        async def work(keys: list[ItemKey]) -> dict[ItemKey, Judgment]:
            own = await score([by_key[key] for key in keys])
            _add(outcome, own)
            return {(criteria_key, model, pid): judgment for pid, judgment in own.judgments.items()}

        mine, theirs = await shared.do(left, work)
        outcome.judgments.update({key[2]: judgment for key, judgment in theirs.items()})
        outcome.flagged |= {key[2] for key in theirs if prompt.looks_like_injection(by_key[key])}
        from_others += len(theirs)
        # What another run claimed and could not score: this run tries it (a later round), then gives up.
        left = [key for key in left if key not in mine and key not in theirs and key[2] not in outcome.failed]
        if not left or outcome.unusable is not None or outcome.budget_stop:
            break
    for key in left:
        outcome.failed.setdefault(key[2], NOT_SHARED)
    return outcome, from_others


def _add(total: ScoreOutcome, part: ScoreOutcome) -> None:
    total.judgments.update(part.judgments)
    total.failed.update(part.failed)
    total.flagged |= part.flagged
    total.usage.add(part.usage)
    total.cost_usd = None if total.cost_usd is None or part.cost_usd is None else total.cost_usd + part.cost_usd
    total.budget_stop = total.budget_stop or part.budget_stop
    total.unusable = total.unusable or part.unusable
    total.notes.extend(part.notes)


async def write_once(
    shared: SharedWork[ItemKey, Tldr], language: str, model: str, papers: Sequence[Paper],
    write: Callable[[list[Paper], Callable[[dict[str, Tldr]], None]], Awaitable[TldrOutcome]],
) -> tuple[TldrOutcome, dict[str, Tldr]]:
    """TL;DRs of ``papers``: ``write`` (given the papers and a callback for what the LLM wrote) for those no
    other run is writing; returns this run's outcome and the TL;DRs other runs wrote. A paper the other run
    could not write gets the extractive sentence this run's outcome already holds."""
    by_key = {(language, model, p.arxiv_id): p for p in papers}
    outcome = TldrOutcome()
    written: dict[ItemKey, Tldr] = {}

    async def work(keys: list[ItemKey]) -> dict[ItemKey, Tldr]:
        nonlocal outcome
        outcome = await write([by_key[key] for key in keys], lambda fresh: written.update(
            {(language, model, pid): tldr for pid, tldr in fresh.items()}))
        return written

    _, theirs = await shared.do(by_key, work)
    # What the other run could not write gets the extractive sentence, as an LLM error here would.
    outcome.tldrs.update({p.arxiv_id: extractive(p) for key, p in by_key.items()
                          if key not in theirs and p.arxiv_id not in outcome.tldrs})
    return outcome, {key[2]: tldr for key, tldr in theirs.items()}
