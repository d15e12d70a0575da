"""The words of a posted digest, shared by every chat platform (each adds only its own markup).

Also the text splitting both platforms need to stay inside their message limits.
"""

from __future__ import annotations

from bot.domain.counting import counted
from bot.domain.models import Digest, Judgment, Paper, RankedPaper
from bot.domain.pricing import format_cost

ELLIPSIS = "…"
UNSCORED_IDS_SHOWN = 10
REASON_LIMIT = 200


def headline(digest: Digest) -> str:
    """``arXiv digest · Tue 2025-03-25``."""
    return f"arXiv digest · {digest.date:%a %Y-%m-%d}"


def totals_line(digest: Digest) -> str:
    """The seed's three totals: announced, scanned, relevant (with the thresholds that made them so)."""
    text = (
        f"{digest.total_arxiv} arXiv · {digest.scanned} scanned · {digest.relevant} relevant "
        f"(R ≥ {digest.min_relevance}, N ≥ {digest.min_novelty})"
    )
    if digest.unscored:
        text += f" · {len(digest.unscored)} without a score"
    return text


def per_thousand(cost: float | None, papers: int) -> str:
    """``$0.45 per 1,000 papers``: what a team compares with other ways of reading arXiv; "" when unknown."""
    if cost is None or papers <= 0:
        return ""
    return f"{format_cost(1000 * cost / papers)} per 1,000 papers"


def cost_line(digest: Digest) -> str:
    """Who scored and what it cost: ``gpt-4o-mini · 74,112 tokens (9,600 cached) · $0.012 · $0.05 per 1,000
    papers`` (per paper announced, whether the LLM or the prefilter judged it)."""
    if digest.approximate:
        return "local TF-IDF scorer (approximate; set OPENAI_API_KEY for LLM judgments) · free"
    usage = digest.usage
    per_paper = per_thousand(digest.cost_usd, digest.total_arxiv)
    return (
        f"{digest.model} · {usage.total_tokens:,} tokens ({usage.cached_tokens:,} cached) · "
        f"{format_cost(digest.cost_usd)}" + (f" · {per_paper}" if per_paper else "")
        + (f" · {digest.shared:,} scores shared with another channel's run (its cost)" if digest.shared else "")
    )


TLDR_LIMIT = 400


def tldr_line(item: RankedPaper) -> str:
    """``TL;DR: They …`` under a paper's title, or "" when it has none."""
    return truncate(f"TL;DR: {item.tldr}", TLDR_LIMIT) if item.tldr else ""


def tldr_cost_line(digest: Digest) -> str:
    """The TL;DR pass on a line of its own (``TL;DRs · 3,210 tokens · $0.0004 of the total``); "" when it asked
    the LLM nothing (the local scorer, or every TL;DR was stored already)."""
    usage = digest.tldr_usage
    if not usage.requests:
        return ""
    return (
        f"TL;DRs · {usage.total_tokens:,} tokens ({usage.cached_tokens:,} cached) · "
        f"{format_cost(digest.tldr_cost_usd)} of the total"
    )


def scores_label(judgment: Judgment) -> str:
    """``R 9 · N 7`` (a ``~`` marks approximate local scores)."""
    mark = "~" if judgment.approximate else ""
    return f"R {mark}{judgment.relevance} · N {mark}{judgment.novelty}"


WHY_LIMIT = 300


def why_line(item: RankedPaper) -> str:
    """Why a paper ranks where it does ("Why here: matches topic 2: MoE; ↑ like 3 papers …"), or ""."""
    if not item.explanation:
        return ""
    moved = f" ({item.adjustment:+.1f} on R+N)" if item.adjustment else ""
    return truncate(f"Why here: {item.explanation}{moved}", WHY_LIMIT)


FOLLOWED_LIMIT = 200


def followed_line(item: RankedPaper) -> str:
    """``followed: Kaiming He`` for a paper by authors the channel follows (it is listed first), or ""."""
    return truncate("followed: " + ", ".join(item.followed), FOLLOWED_LIMIT) if item.followed else ""


def authors_line(authors: tuple[str, ...] | list[str], limit: int = 12) -> str:
    """Authors joined by commas; long lists end with ``et al. (N authors)``."""
    names = list(authors)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", et al. ({len(names)} authors)"


def affiliations_line(affiliations: tuple[str, ...] | list[str], limit: int = 300, shown: int = 4) -> str:
    """The distinct affiliations in author order, ``; ``-joined and bounded: ``A; B; C; D and 3 more``
    ("" when none). They name places, not people: a reader matches them to names in the full listing."""
    distinct = list(dict.fromkeys(where for where in affiliations if where))
    text = "; ".join(distinct[:shown])
    if len(distinct) > shown:
        text += f" and {len(distinct) - shown} more"
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near, ending in ``…``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters whose concatenation is exactly ``text``.

    Each cut falls after the last paragraph break in reach, else line break, else space; a word
    longer than the limit is cut hard. Nothing is dropped or added, so edited pieces join back.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        end = limit
        for sep in ("\n\n", "\n", " "):
            found = window.rfind(sep)
            if found > 0:
                end = found + len(sep)
                break
        pieces.append(rest[:end])
        rest = rest[end:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def pack_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines with newlines into as few pieces of at most ``limit`` characters as possible.

    A single line longer than the limit is split with :func:`split_text`.
    """
    pieces: list[str] = []
    current = ""
    for line in lines:
        for part in [p.strip() for p in split_text(line, limit)] if len(line) > limit else [line]:
            candidate = f"{current}\n{part}" if current else part
            if len(candidate) > limit:
                pieces.append(current)
                current = part
            else:
                current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def join_pieces(pieces: list[str]) -> str:
    """Join text edited in several boxes. Pieces from :func:`split_text` come back exactly; if a
    platform trimmed the whitespace at a cut, a newline stands in for it so words never fuse."""
    text = ""
    for piece in pieces:
        if text and piece and not text[-1].isspace() and not piece[0].isspace():
            text += "\n"
        text += piece
    return text


def unscored_line(unscored: list[tuple[Paper, str]]) -> str:
    """``3 papers could not be scored: ID, ID and 1 more (reason).`` The reason only when they share one."""
    count = len(unscored)
    ids = [paper.arxiv_id for paper, _ in unscored]
    shown = ", ".join(ids[:UNSCORED_IDS_SHOWN])
    if count > UNSCORED_IDS_SHOWN:
        shown += f" and {count - UNSCORED_IDS_SHOWN} more"
    text = f"{counted(count, 'paper')} could not be scored: {shown}"
    reasons = {why.strip() for _, why in unscored}
    if len(reasons) == 1 and (reason := reasons.pop()):
        text += f" ({truncate(reason, REASON_LIMIT)})"
    return text + "."


def nothing_line(digest: Digest) -> str:
    """What a day without a relevant paper says instead of a table."""
    if digest.total_arxiv == 0:
        return "arXiv announced no new papers in these categories today."
    return f"No paper reached R ≥ {digest.min_relevance} and N ≥ {digest.min_novelty} today."


def chunk_lines(lines: list[str], first_budget: int, budget: int) -> list[list[str]]:
    """Consecutive runs of lines, each within its message's text budget (newlines counted)."""
    chunks: list[list[str]] = [[]]
    used, limit = 0, first_budget
    for line in lines:
        cost = len(line) + 1
        if chunks[-1] and used + cost > limit:
            chunks.append([])
            used, limit = 0, budget
        chunks[-1].append(line)
        used += cost
    return chunks
