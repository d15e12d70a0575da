"""A channel's pending criteria change, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.domain.criteria import CriteriaDraft
from tests.storage.test_channels import profile_id


def test_a_profile_holds_one_draft_that_a_new_one_replaces_and_clearing_forgets(db):
    pid, other = profile_id(db), profile_id(db, "discord:9")
    assert db.get_draft(pid) is None and not db.clear_draft(pid)
    db.set_draft(pid, CriteriaDraft("Only robotics.", "U1", None))
    db.set_draft(pid, CriteriaDraft("Only ∂ sparse attention.", "U2 (suggestion 3)", 3))
    db.set_draft(other, CriteriaDraft("Other channel.", "U9", None))
    assert db.get_draft(pid) == CriteriaDraft("Only ∂ sparse attention.", "U2 (suggestion 3)", 3)
    assert db.clear_draft(pid) and db.get_draft(pid) is None
    assert db.get_draft(other) == CriteriaDraft("Other channel.", "U9", None)
