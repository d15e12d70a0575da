"""A number with its noun, for every sentence the bot writes: "1 paper", "2 papers", "1,204 reactions"."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
