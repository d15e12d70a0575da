"""``/arxiv suggest [apply:N]`` in Discord: one subcommand for the core's "suggest" and "suggest apply N" (the
/arxiv group is at Discord's 25 subcommands), spelled the same way in the core's replies."""

from __future__ import annotations

from adapters.discord.markup import slash_command
from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import ADMIN, MEMBER, DiscordHarness


def test_suggest_alone_asks_for_suggestions_and_its_apply_option_applies_one(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.subscribe()
        asked = await h.command("suggest", user=MEMBER)
        assert h.shows(asked) and h.last.invocation.name == "suggest" and h.last.invocation.args == ()
        applied = await h.command("suggest", user=ADMIN, apply=2)
        assert h.shows(applied) and h.last.invocation.name == "suggest apply" and h.last.invocation.args == ("2",)

    scenario(test)


def test_the_core_spells_suggest_apply_as_the_option_discord_shows() -> None:
    assert slash_command("suggest apply 2") == "/arxiv suggest apply:2"
    assert slash_command("suggest") == "/arxiv suggest"
