"""Digest files: ``YYYY-MM/YYYY-MM-DD-output.md`` in the seed's layout and a ``.json`` twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.digest.text import why_line
from bot.domain.models import Digest, Paper, Usage
from bot.domain.pricing import Price, cost_of, format_cost

APPROXIMATE_BANNER = (
    "> **Approximate scores.** No OPENAI_API_KEY was set, so these papers were ranked by local TF-IDF "
    "similarity to the criteria, not by an LLM. Set OPENAI_API_KEY for real judgments."
)


def _md_link_text(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def _token_table(digest: Digest) -> list[str]:
    """The seed's token/cost table plus a column for the prompt tokens the provider served from cache, and the
    TL;DR pass's share of it on rows of its own (none when it asked nothing)."""
    tldr = digest.tldr_usage
    return [
        f"| *[{digest.model}]* | Prompt | Cached (part of prompt) | Completion | Total |",
        "|---|---|---|---|---|",
        *_usage_rows(("**Token**", "**Cost**"), digest.usage, digest.price, digest.cost_usd),
        *(_usage_rows(("*of which TL;DR tokens*", "*of which TL;DR cost*"), tldr, digest.price, digest.tldr_cost_usd)
          if tldr.requests else []),
    ]


def _usage_rows(labels: tuple[str, str], usage: Usage, price: Price | None, total_cost: float | None) -> list[str]:
    prompt_cost = cost_of(Usage(usage.prompt_tokens, usage.cached_tokens, 0), price)
    cached_cost = cost_of(Usage(usage.cached_tokens, usage.cached_tokens, 0), price)
    completion_cost = cost_of(Usage(0, 0, usage.completion_tokens), price)
    return [
        f"| {labels[0]} | {usage.prompt_tokens} | {usage.cached_tokens} | {usage.completion_tokens} "
        f"| {usage.total_tokens} |",
        f"| {labels[1]} | {format_cost(prompt_cost)} | {format_cost(cached_cost)} | {format_cost(completion_cost)} "
        f"| {format_cost(total_cost)} |",
    ]


def render_markdown(digest: Digest) -> str:
    lines = [f"# Personalized Daily Arxiv Papers {digest.date:%m/%d/%Y}", ""]
    if digest.approximate:
        lines += [APPROXIMATE_BANNER, ""]
    lines += [*_token_table(digest), ""]
    lines += [
        f"Total arXiv papers: {digest.total_arxiv}",
        "",
        f"Total scanned papers: {digest.scanned}",
        "",
        f"Total relevant papers: {digest.relevant}",
        "",
    ]
    if digest.unscored:
        lines += [f"Papers without a score: {len(digest.unscored)} (listed at the end)", ""]
    for note in digest.notes:
        lines += [f"> {note}", ""]
    lines += ["**Table of contents with paper titles:**", ""]
    for item in digest.ranked:
        lines += [
            f"{item.rank}. [{_md_link_text(item.paper.title)}](#user-content-link{item.rank})",
            f"**Authors:** {', '.join(item.paper.authors)}",
            "",
        ]
    lines += ["---", ""]
    for item in digest.ranked:
        paper, judgment = item.paper, item.judgment
        lines += [
            f"## {item.rank}. [{_md_link_text(paper.title)}]({paper.url}) <a id=\"link{item.rank}\"></a>",
            "",
            *([f"**Followed:** {', '.join(item.followed)}", ""] if item.followed else []),
            *([f"**TL;DR:** {item.tldr}", ""] if item.tldr else []),
            f"**ArXiv ID:** {paper.arxiv_id}",
            "",
            f"**Authors:** {', '.join(paper.authors)}",
            "",
            *([f"**Affiliations:** {where}", ""] if (where := _affiliations(paper)) else []),
            f"**Abstract:** {paper.abstract}",
            "",
            f"**Comment:** {judgment.comment or '—'}",
            "",
            *([f"*{why}*", ""] if (why := why_line(item)) else []),
            f"**Relevance:** {judgment.relevance}",
            f"**Novelty:** {judgment.novelty}",
            "",
            "---",
            "",
        ]
    if digest.unscored:
        lines += ["## Papers without a score", ""]
        lines += [f"- [{_md_link_text(p.title)}]({p.url}) ({p.arxiv_id}): {why}" for p, why in digest.unscored]
        lines += ["", "---", ""]
    lines += ["# Paper Selection Prompt", "", digest.prompt, ""]
    return "\n".join(lines)


def _affiliations(paper: Paper) -> str:
    """``Name: affiliation; …`` for the authors the feed gave one, never glued into the names."""
    pairs = zip(paper.authors, paper.affiliations, strict=False)
    return "; ".join(f"{name}: {where}" for name, where in pairs if where)


def digest_json(digest: Digest) -> dict[str, Any]:
    return {
        "date": digest.date.isoformat(),
        "profile": digest.profile,
        "model": digest.model,
        "approximate": digest.approximate,
        "thresholds": {"relevance": digest.min_relevance, "novelty": digest.min_novelty},
        "total_arxiv_papers": digest.total_arxiv,
        "total_scanned_papers": digest.scanned,
        "total_relevant_papers": digest.relevant,
        "total_unscored_papers": len(digest.unscored),
        "usage": _usage_json(digest.usage),
        "cost_usd": digest.cost_usd,
        # The TL;DR pass, already part of usage and cost_usd.
        "tldr_usage": _usage_json(digest.tldr_usage),
        "tldr_cost_usd": digest.tldr_cost_usd,
        "papers": [
            {
                "rank": item.rank,
                "arxiv_id": item.paper.arxiv_id,
                "title": item.paper.title,
                "authors": list(item.paper.authors),
                # One per author ("" unknown); absent when the source gave none (the arXiv API never does).
                **({"affiliations": list(item.paper.affiliations)} if item.paper.affiliations else {}),
                "abstract": item.paper.abstract,
                "categories": list(item.paper.categories),
                "url": item.paper.url,
                "comment": item.judgment.comment,
                "relevance": item.judgment.relevance,
                "novelty": item.judgment.novelty,
                "score": item.score,
                "adjustment": item.adjustment,
                "explanation": item.explanation,
                "followed": list(item.followed),  # followed authors on it ([] for none): it is listed first
                "tldr": item.tldr,
            }
            for item in digest.ranked
        ],
        "unscored": [{"arxiv_id": p.arxiv_id, "title": p.title, "reason": why} for p, why in digest.unscored],
        "notes": digest.notes,
    }


def _usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "requests": usage.requests,
    }


def write_digest(digest: Digest, out_dir: Path) -> tuple[Path, Path]:
    folder = out_dir / f"{digest.date:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{digest.date:%Y-%m-%d}-output"
    md_path, json_path = folder / f"{stem}.md", folder / f"{stem}.json"
    md_path.write_text(render_markdown(digest), encoding="utf-8")
    json_path.write_text(json.dumps(digest_json(digest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md_path, json_path
