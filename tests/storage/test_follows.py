"""Followed authors and the authors a channel liked, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.domain.authors import parse_followed
from bot.domain.models import Paper
from tests.storage.test_channels import profile_id
from tests.support import make_paper


def test_a_person_is_followed_once_however_the_name_is_written_and_in_order(db):
    pid, other = profile_id(db), profile_id(db, "discord:9")
    assert db.follow(pid, parse_followed("Przemys{\\l}aw Biecek"), by="U1")
    assert not db.follow(pid, parse_followed("przemyslaw  BIECEK"), by="U2")
    assert db.follow(pid, parse_followed("Kaiming He"))
    assert db.follow(other, parse_followed("Kaiming He"))
    assert [f.shown for f in db.followed(pid)] == ["Przemysław Biecek", "Kaiming He"]
    assert db.followed(pid)[0] == parse_followed("Przemysław Biecek")


def test_unfollow_returns_the_stored_spelling_and_only_touches_its_profile(db):
    pid, other = profile_id(db), profile_id(db, "discord:9")
    db.follow(pid, parse_followed("Przemysław Biecek"))
    db.follow(other, parse_followed("Przemysław Biecek"))
    removed = db.unfollow(pid, parse_followed("PRZEMYSLAW BIECEK"))
    assert removed is not None and removed.shown == "Przemysław Biecek"
    assert db.unfollow(pid, parse_followed("Przemysław Biecek")) is None
    assert db.followed(pid) == [] and len(db.followed(other)) == 1


def test_liked_authors_count_each_liked_paper_once_per_person(db):
    db.save_papers(Paper.from_dict(make_paper(pid, authors=authors)) for pid, authors in [
        ("2503.00001", ["Przemys{\\l}aw Biecek", "Kaiming He"]),
        ("2503.00002", ["Przemysław Biecek", "Ann Lee"]),
        ("2503.00003", ["Ann Lee"]),
    ])
    for user in ("U1", "U2"):  # two people liking one paper count it once
        db.add_feedback("slack", "C1", user, "2503.00001", kind="positive", emoji="+1", source="reaction")
    db.add_feedback("slack", "C1", "U1", "2503.00002", kind="positive", emoji="+1", source="reaction")
    db.add_feedback("slack", "C1", "U1", "2503.00003", kind="negative", emoji="-1", source="reaction")
    db.add_feedback("slack", "C2", "U1", "2503.00003", kind="positive", emoji="+1", source="reaction")
    assert db.liked_authors("slack", "C1") == [("Przemys{\\l}aw Biecek", 2), ("Kaiming He", 1), ("Ann Lee", 1)]
