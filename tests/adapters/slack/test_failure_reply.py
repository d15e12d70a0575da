"""A Slack request that fails unexpectedly is answered with a log reference, never the exception's own text, and
its acknowledgement stands (an exception escaping a listener after ack() made bolt answer Slack with a 404)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from adapters.slack.blocks import VOTE_UP_ACTION
from tests.adapters.slack.harness import SlackHarness, text_of, until
from tests.adapters.slack.test_app import scenario  # noqa: F401  (the started app, as test_app.py runs it)


def test_an_unexpected_failure_is_answered_with_a_reference(scenario: Any, slack: Any,  # noqa: F811
                                                            caplog: pytest.LogCaptureFixture) -> None:
    shown: list[str] = []

    async def test(h: SlackHarness) -> None:
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("(sqlite3.OperationalError) database is locked [SQL: INSERT INTO feedback …]")

        h.core.store.add_feedback = broken  # type: ignore[method-assign]
        for _ in range(5):  # bolt's race between ack() and a failing listener did not lose every time
            assert (await h.click(VOTE_UP_ACTION, "2503.10001")).status_code == 200
        await until(lambda: len(h.replies()) == 5)
        shown.extend(text_of(reply) for reply in h.replies())

    with caplog.at_level(logging.ERROR):
        scenario(test)
    assert len(shown) == 5
    text = shown[-1]
    assert "Sorry, that failed on the bot's side (reference " in text
    for leak in ("sqlite3", "database is locked", "RuntimeError", "SQL"):
        assert leak not in text
    reference = text.split("(reference ", 1)[1][:8]
    assert any(f"[ref {reference}]" in r.getMessage() and "database is locked" in r.getMessage()
               for r in caplog.records)
