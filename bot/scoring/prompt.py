"""The scoring prompt, laid out for the provider's prompt cache.

Everything static (base prompt, the team's criteria, the rubric, the instructions) goes first in the
system message; the day's papers go last in the user message. Identical prefixes across a day's
requests are then served from the cache at a fraction of the price.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

import prompts
from bot.domain.models import Paper

MAX_ABSTRACT_CHARS = 3000
PAPER_LIST_PLACEHOLDER = "[PAPER LIST HERE]"

# Text in an abstract that addresses the model rather than the reader. Such a paper is scored in a
# request of its own, so whatever the text achieves can only touch that paper's own score.
_INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts?|rules)"
    r"|disregard\s+(?:all\s+|the\s+)?(?:previous|prior|above)"
    r"|\b(?:rate|score|give)\s+(?:this|it|the\s+paper|all(?:\s+papers)?)\b.{0,40}?\b10\b"
    r"|\b(?:ARXIVID|RELEVANCE|NOVELTY)\s*[\"']?\s*[:=]"
    r"|\bsystem\s+prompt\b|\byou\s+are\s+now\b",
    re.IGNORECASE | re.DOTALL,
)


def system_prompt(criteria: str) -> str:
    """The static prefix: identical for every request of a profile's criteria version."""
    instructions = prompts.load("postfix_prompt") + "\n" + prompts.load("output_rules")
    return "\n\n".join(
        [prompts.load("base_prompt"), criteria.strip(), prompts.load("score_criteria"), instructions]
    )


def criteria_key(criteria: str) -> str:
    """Scores are stored per prompt version: a hash of the whole static prefix (undo finds old scores)."""
    return hashlib.sha256(system_prompt(criteria).encode("utf-8")).hexdigest()[:16]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def paper_block(paper: Paper) -> str:
    """One paper in the seed's layout. Newlines are folded so no abstract can start a fake entry."""
    abstract = _one_line(paper.abstract)
    if len(abstract) > MAX_ABSTRACT_CHARS:
        abstract = abstract[:MAX_ABSTRACT_CHARS] + " …"
    return (
        f"ArXiv ID: {paper.arxiv_id}\n"
        f"Title: {_one_line(paper.title)}\n"
        f"Authors: {' and '.join(paper.authors)}\n"
        f"Abstract: {abstract}"
    )


def papers_message(papers: Sequence[Paper]) -> str:
    return "## Papers\n\n" + "\n\n".join(paper_block(p) for p in papers)


def reply_line(arxiv_id: str, relevance: int, novelty: int, comment: str) -> str:
    """The line the instructions ask the LLM to write for one paper (what a reply costs is counted on it)."""
    return json.dumps(
        {"ARXIVID": arxiv_id, "COMMENT": comment, "RELEVANCE": relevance, "NOVELTY": novelty}, ensure_ascii=False
    )


def looks_like_injection(paper: Paper) -> bool:
    return bool(_INJECTION.search(paper.title) or _INJECTION.search(paper.abstract))


def display_prompt(criteria: str) -> str:
    """The prompt as appended to a digest page (papers replaced by a placeholder, as the seed does)."""
    return system_prompt(criteria) + "\n\n## Papers\n\n" + PAPER_LIST_PLACEHOLDER
