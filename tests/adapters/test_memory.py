"""The heap a busy spell grew goes back to the system (glibc keeps freed pages for reuse otherwise)."""

from __future__ import annotations

import os
import sys

import pytest

from adapters.memory import give_back

STATM = "/proc/self/statm"


def resident_mib() -> float:
    with open(STATM) as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists(STATM),
                    reason="resident memory is read from /proc (Linux)")
def test_memory_freed_by_python_is_returned_to_the_system():
    before = resident_mib()
    blocks = [bytearray(1000) for _ in range(100_000)]  # about 100 MiB in small heap allocations
    grown = resident_mib() - before
    del blocks  # glibc keeps most of these pages for reuse
    assert give_back() is True  # glibc: malloc_trim was called
    left = resident_mib() - before
    assert grown > 50 and left < grown / 4, (grown, left)
