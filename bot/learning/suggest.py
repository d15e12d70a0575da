"""``/arxiv suggest``: the LLM proposes criteria edits from the channel's recent likes and dislikes.

A proposal is stored, shown, and applied only on ``/arxiv suggest apply N`` by someone who may change
the criteria: it then becomes a normal criteria version, undone with ``/arxiv criteria undo``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.criteria import validate_criteria
from bot.domain.errors import CriteriaError, DigestError
from bot.domain.feedback import Reaction
from bot.scoring.llm_scorer import ChatModel

LOOKBACK = dt.timedelta(weeks=4)
MIN_REACTIONS = 3
MAX_TITLES = 25  # per kind: enough to see a pattern, small enough for a cheap request

SYSTEM = """You maintain the criteria a research team uses to have an LLM rank new arXiv papers for them.
You get the current criteria and titles of recent papers the team liked and did not want.
Propose a revised version of the criteria that would rank the liked kind of paper higher and the unwanted
kind lower. Keep the team's structure, wording and topics wherever the feedback does not argue for a change;
change little, and only where several titles point the same way. Never add instructions about output format.
Answer with one JSON object and nothing else:
{"criteria": "<the complete revised criteria text>", "changes": ["<one short sentence per change and why>"]}"""


@dataclass(frozen=True)
class Proposal:
    criteria: str
    changes: list[str]


def recent(reactions: Sequence[Reaction], now: dt.datetime) -> tuple[list[str], list[str]]:
    """Titles liked and not wanted in the last four weeks (newest first, each paper once)."""
    liked: dict[str, str] = {}
    disliked: dict[str, str] = {}
    for reaction in sorted(reactions, key=lambda r: r.at, reverse=True):
        at = reaction.at if reaction.at.tzinfo else reaction.at.replace(tzinfo=dt.UTC)
        if now - at > LOOKBACK:
            continue
        (liked if reaction.kind == "positive" else disliked).setdefault(reaction.arxiv_id, reaction.title)
    return list(liked.values())[:MAX_TITLES], list(disliked.values())[:MAX_TITLES]


async def propose(chat: ChatModel, criteria: str, liked: Sequence[str], disliked: Sequence[str],
                  *, max_chars: int) -> Proposal:
    """Ask the LLM; a reply that is not the asked JSON, or whose criteria would be refused, is an error
    that says so (nothing is stored)."""
    def listed(titles: Sequence[str]) -> list[str]:
        return [f"- {t}" for t in titles] or ["(none)"]

    user = "\n".join(
        ["## Current criteria", criteria.strip(), "", "## Liked recently", *listed(liked), "",
         "## Not wanted recently", *listed(disliked)]
    )
    completion = await chat.complete(SYSTEM, user, {"type": "json_object"})
    text = completion.text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
        proposed, changes = data["criteria"], data.get("changes", [])
        if not isinstance(proposed, str) or not isinstance(changes, list):
            raise TypeError("criteria must be text and changes a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise DigestError(
            f"The LLM's proposal could not be read ({exc.__class__.__name__}); nothing was changed. Try again."
        ) from exc
    try:
        proposed = validate_criteria(proposed, max_chars=max_chars)
    except CriteriaError as exc:
        raise DigestError(f"The LLM proposed criteria that cannot be used: {exc} Nothing was changed.") from exc
    if proposed.strip() == criteria.strip():
        raise DigestError("The LLM sees nothing to change in the criteria from the recent reactions.")
    return Proposal(proposed, [str(c) for c in changes if str(c).strip()][:10])
