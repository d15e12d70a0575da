"""The profile the command line runs for, taken from the settings."""

from __future__ import annotations

import prompts
from bot.domain.authors import parse_followed
from bot.domain.models import Profile
from bot.domain.settings import Settings
from storage.store import Store


def default_profile(store: Store, settings: Settings, *, update: bool = False) -> Profile:
    """The settings' profile (DIGEST_PROFILE), created with the default criteria on first use.

    ``update`` applies DIGEST_CATEGORIES and the thresholds from the environment to it, and follows the
    authors of DIGEST_FOLLOW (adding to those followed from chat: unfollowing is /arxiv unfollow's).
    """
    profile = store.ensure_profile(
        settings.profile,
        categories=settings.categories,
        min_relevance=settings.min_relevance,
        min_novelty=settings.min_novelty,
        top_n=settings.top_n,
        default_criteria=prompts.default_criteria(),
        update=update,
    )
    if update:
        for name in settings.follow:
            store.follow(profile.id, parse_followed(name), by="DIGEST_FOLLOW")
    return profile
