"""DIGEST_FOLLOW: the command line's profile follows its authors; a name that would match half of arXiv stops
the settings with the reason."""

from __future__ import annotations

import pydantic
import pytest

from bot.digest.profiles import default_profile
from bot.domain.authors import parse_followed
from bot.domain.settings import Settings


def test_digest_follow_takes_names_separated_by_commas_or_semicolons(monkeypatch):
    monkeypatch.setenv("DIGEST_FOLLOW", "Kaiming He; Przemys{\\l}aw Biecek, Yann LeCun")
    assert Settings(_env_file=None).follow == ["Kaiming He", "Przemysław Biecek", "Yann LeCun"]
    assert Settings(_env_file=None, follow='["Kaiming He"]').follow == ["Kaiming He"]
    assert Settings(_env_file=None, follow="").follow == []


def test_an_ambiguous_digest_follow_name_is_a_settings_error(monkeypatch):
    monkeypatch.setenv("DIGEST_FOLLOW", "Kaiming He; K. He")
    with pytest.raises(pydantic.ValidationError, match=r"“K\. He” is ambiguous"):
        Settings(_env_file=None)


def test_the_cli_profile_follows_digest_follow_and_keeps_the_authors_followed_in_chat(store):
    settings = Settings(_env_file=None, follow="Kaiming He; Yann LeCun")
    profile = default_profile(store, settings)
    assert store.followed(profile.id) == []  # only an update applies the environment
    store.follow(profile.id, parse_followed("Ann Lee"), by="U1")
    default_profile(store, settings, update=True)
    default_profile(store, settings, update=True)
    assert [f.shown for f in store.followed(profile.id)] == ["Ann Lee", "Kaiming He", "Yann LeCun"]
