"""What people type, read safely: text cleaned for platforms and databases, whole numbers in ASCII digits."""

from __future__ import annotations

import re
import unicodedata

MAX_RANK = 999  # "abstract 12" is a rank; anything longer must be an arXiv ID
# Numbers are ASCII digits: str.isdigit() also accepts "²" and "٣", which int() refuses or reads unexpectedly.
_NUMBER = re.compile(r"[0-9]{1,12}")


def clean(text: str) -> str:
    """``text`` as chat platforms and databases take it: a lone surrogate (JSON can carry one, no UTF-8 text can)
    becomes "?", and control characters such as NUL, which PostgreSQL refuses, are dropped."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(c for c in text if unicodedata.category(c) != "Cc")


def whole_number(text: str, *, low: int, high: int) -> int | None:
    """``text`` as a number from ``low`` to ``high``, written in ASCII digits; None for anything else."""
    if not _NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None
