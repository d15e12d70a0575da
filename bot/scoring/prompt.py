"""The scoring prompt, laid out for the provider's prompt cache.

Everything static (base prompt, the team's criteria, the rubric, the instructions) goes first in the
system message; the day's papers go last in the user message. Identical prefixes across a day's
requests are then served from the cache at a fraction of the price.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence

import prompts
from bot.domain.models import Paper

MAX_ABSTRACT_CHARS = 3000
MAX_AUTHORS = 3  # the names beyond the first few cost tokens and change no judgment
LINK_SENTENCE_WORDS = 15  # a sentence this short around a link is only pointing at it ("Code is at …")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
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


def without_links(text: str) -> str:
    """The abstract without its links: a short sentence that only points at code or data goes whole, a longer
    one keeps its words. A link tells the LLM nothing about the paper and costs a dozen tokens or more."""
    kept: list[str] = []
    pos = 0
    for link in _URL.finditer(text):
        if link.start() < pos:
            continue
        starts = [m.end() for m in _SENTENCE_END.finditer(text, pos, link.start())]
        start = starts[-1] if starts else pos
        end_match = _SENTENCE_END.search(text, link.end() - 1)
        end = end_match.end() if end_match else len(text)
        sentence = text[start:end]
        if len(_URL.sub("", sentence).split()) <= LINK_SENTENCE_WORDS:
            kept.append(text[pos:start])
        else:
            kept.append(text[pos:link.start()].rstrip(" ("))
            end = link.end()
        pos = end
    kept.append(text[pos:])
    return _one_line("".join(kept))


def authors_line(authors: Sequence[str]) -> str:
    shown = ", ".join(_one_line(a) for a in authors[:MAX_AUTHORS])
    return shown + (" et al." if len(authors) > MAX_AUTHORS else "")


def paper_block(paper: Paper) -> str:
    """One paper in the seed's layout, compact: whitespace folded (so no abstract can start a fake entry), the
    first few authors, no links. Every run of the day sends the same papers: each block is written once."""
    return _paper_block(paper.arxiv_id, paper.title, tuple(paper.authors), paper.abstract)


@functools.lru_cache(maxsize=20_000)  # a few days' papers of every feed the process serves
def _paper_block(arxiv_id: str, title: str, authors: tuple[str, ...], abstract: str) -> str:
    abstract = without_links(_one_line(abstract))
    if len(abstract) > MAX_ABSTRACT_CHARS:
        abstract = abstract[:MAX_ABSTRACT_CHARS] + " …"
    return (
        f"ArXiv ID: {arxiv_id}\n"
        f"Title: {_one_line(title)}\n"
        f"Authors: {authors_line(authors)}\n"
        f"Abstract: {abstract}"
    )


def papers_message(papers: Sequence[Paper]) -> str:
    return "## Papers\n\n" + "\n\n".join(paper_block(p) for p in papers)


COMMENT_FROM = (7, 6)  # the instructions ask for a comment from this relevance and novelty on (the default digest's)


def reply_line(arxiv_id: str, relevance: int, novelty: int, comment: str) -> str:
    """The line the instructions ask the LLM to write for one paper (what a reply costs is counted on it)."""
    wanted = relevance >= COMMENT_FROM[0] and novelty >= COMMENT_FROM[1]
    return f"{arxiv_id} {relevance} {novelty}" + (f" {_one_line(comment)}" if wanted and comment.strip() else "")


def looks_like_injection(paper: Paper) -> bool:
    """Whether the paper's title or abstract addresses the model; asked by every run of the day, answered once."""
    return _addresses_model(paper.title, paper.abstract)


@functools.lru_cache(maxsize=20_000)  # a few days' papers of every feed the process serves
def _addresses_model(title: str, abstract: str) -> bool:
    return bool(_INJECTION.search(title) or _INJECTION.search(abstract))


def display_prompt(criteria: str) -> str:
    """The prompt as appended to a digest page (papers replaced by a placeholder, as the seed does)."""
    return system_prompt(criteria) + "\n\n## Papers\n\n" + PAPER_LIST_PLACEHOLDER
