"""arXiv's ``dc:creator`` split into authors and their affiliations, decoded (the decoder is bot/domain/tex.py's).

rss.arxiv.org lists ``Name (Affiliation 1, Affiliation 2), Name, …``; older feeds end with "A, B and C".
"""

from __future__ import annotations

import re

from bot.domain.tex import decode_tex

__all__ = ["decode_tex", "split_creators"]


def _matched_ranges(text: str) -> list[bool]:
    """For each character: is it inside a balanced (…) or {…} pair? Unmatched brackets protect nothing."""
    inside = [False] * len(text)
    stack: list[tuple[str, int]] = []
    pairs = {")": "(", "}": "{"}
    for i, ch in enumerate(text):
        if ch in "({":
            stack.append((ch, i))
        elif ch in pairs:
            # Pop to the matching opener; openers left unclosed in between are dropped.
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == pairs[ch]:
                    start = stack[k][1]
                    del stack[k:]
                    for p in range(start, i + 1):
                        inside[p] = True
                    break
    return inside


def _top_level_split(text: str) -> list[str]:
    inside = _matched_ranges(text)
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch == "," and not inside[i]:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    if parts:  # older feeds: "A, B and C"; a final top-level " and " separates the last two names
        last, offset = parts[-1], len(text) - len(parts[-1])
        for match in reversed(list(re.finditer(r"\s+and\s+", last))):
            if not inside[offset + match.start()]:
                parts[-1:] = [last[: match.start()], last[match.end() :]]
                break
    return [p.strip() for p in parts if p.strip()]


def _groups(text: str, inside: list[bool]) -> str:
    """``(A, B) (C)`` → ``A, B; C``: the text of each balanced parenthesised group after a name."""
    groups, start = [], None
    for i, ch in enumerate(text):
        if ch == "(" and inside[i] and start is None:
            start = i + 1
        elif ch == ")" and inside[i] and start is not None and not (i + 1 < len(text) and inside[i + 1]):
            groups.append(text[start:i])
            start = None
    return "; ".join(g.strip() for g in groups if g.strip())


def split_creators(creator: str) -> list[tuple[str, str]]:
    """``dc:creator`` to ``(name, affiliation)`` pairs, decoded; affiliation "" when none is given.

    rss.arxiv.org writes ``Name (Affiliation 1, Affiliation 2), Name, …``: commas and " and " inside
    the parentheses belong to the affiliation, so only top-level ones separate authors.
    """
    authors: list[tuple[str, str]] = []
    for part in _top_level_split(creator):
        inside = _matched_ranges(part)
        cut = next((i for i, ch in enumerate(part) if ch == "(" and inside[i]), None)
        if cut is None or cut == 0:
            name, affiliation = part, ""
        else:
            name, affiliation = part[:cut], _groups(part[cut:], inside[cut:])
        name = decode_tex(name)
        if name:
            authors.append((name, decode_tex(affiliation)))
    return authors
