"""Fuzzing the running Slack app over HTTP (``bench.fuzz_slack``'s generator, fixed seeds): a few hundred
garbage, non-UTF-8, oversized and mutated real payloads, unsigned and correctly signed. None may get a
5xx, log a traceback, show internal error text, or grow the log by more than a short line each."""

from __future__ import annotations

import asyncio

import pytest

from bench.fuzz_slack import fuzz

MAX_LOG_BYTES_PER_REQUEST = 300
MAX_LOG_RECORD = 300


@pytest.mark.parametrize(("seed", "requests"), [(13, 400), (2026, 300)])
def test_fuzzed_requests_get_no_5xx_no_traceback_and_bounded_log_lines(seed, requests):
    report = asyncio.run(fuzz(requests, seed))

    assert report.requests == requests
    assert report.failures == [] and report.server_errors == 0
    assert report.tracebacks == 0, report.traceback_samples[:1]
    assert report.leaks == []
    assert report.unsigned_accepted == []
    assert report.log_bytes / requests <= MAX_LOG_BYTES_PER_REQUEST
    assert len(report.longest_log_line) <= MAX_LOG_RECORD, report.longest_log_line[:400]
    for kind, statuses in report.by_kind.items():
        if not kind.endswith("/signed"):
            assert set(statuses) <= {401, 413}, (kind, statuses)  # nothing unsigned gets past the signature
        if kind == "real/signed":
            assert set(statuses) == {200}, statuses  # Slack's own payloads are all acknowledged
    # the run reached every outcome: acknowledged, unreadable, unsigned and oversized requests
    assert {200, 400, 401, 413} <= set(report.statuses), report.statuses
