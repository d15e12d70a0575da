"""Giving memory back to the operating system once a busy spell is over.

A thousand channels' runs leave the process at its peak size: Python frees the objects, but glibc keeps the
freed heap pages for reuse, so an idle bot reported 400-600 MiB. ``malloc_trim`` returns them. Elsewhere
(macOS, musl) there is no such call and only the collection runs.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc's (macOS, musl)
        return None
    return trim


def give_back() -> bool:
    """Collect garbage and return the heap's free pages; True when the C library could be asked to."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
