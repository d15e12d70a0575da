"""``/arxiv follow author:…``, ``unfollow author:…`` and ``following`` in Discord: the subcommands the tree registers
reach the core (whose wording tests/bot/chat/test_follow_commands.py checks)."""

from __future__ import annotations

from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import ADMIN, MEMBER, DiscordHarness


def test_follow_unfollow_and_following_reach_the_core_with_the_whole_name(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        followed = await h.command("follow", user=ADMIN, author="Przemysław  Biecek")
        assert h.shows(followed) and not followed.ephemeral
        assert h.last.invocation.name == "follow" and h.last.invocation.args == ("Przemysław", "Biecek")
        assert "`/arxiv unfollow author:Przemysław Biecek`" in followed.text  # the command as Discord spells it
        listed = await h.command("following", user=MEMBER)
        assert listed.ephemeral and h.shows(listed) and "follows 1 author: Przemysław Biecek" in listed.text
        suggested = await h.command("follow", user=MEMBER)  # no name: suggestions, for everyone
        assert h.shows(suggested) and h.last.invocation.args == ()
        refused = await h.command("unfollow", user=MEMBER, author="Przemysław Biecek")
        assert h.shows(refused) and "Only" in refused.text
        gone = await h.command("unfollow", user=ADMIN, author="przemyslaw biecek")
        assert h.shows(gone) and "unfollowed **Przemysław Biecek**" in gone.text

    scenario(test)
