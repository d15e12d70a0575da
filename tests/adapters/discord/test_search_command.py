"""``/arxiv search words:…`` in Discord: the subcommand the tree registers reaches the core's search (whose
wording, also in Discord markup, tests/bot/chat/test_search_command.py checks)."""

from __future__ import annotations

from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import MEMBER, DiscordHarness
from tests.adapters.discord.test_app import posted_digest


def test_search_answers_the_caller_with_linked_titles_and_the_abstract_command(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        answer = await h.command("search", user=MEMBER, words="mixture quantization")
        assert answer.ephemeral and h.shows(answer)
        assert h.last.invocation.name == "search" and h.last.invocation.args == ("mixture", "quantization")
        assert "1. [Sparse mixture of experts with quantization, part " in answer.text  # found something
        nothing = await h.command("search", user=MEMBER, words="diffusion")
        assert h.shows(nothing) and h.last.invocation.args == ("diffusion",)

    scenario(test)
