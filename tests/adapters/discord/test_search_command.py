"""``/arxiv search words:…`` in Discord: the subcommand the tree registers reaches the core's search."""

from __future__ import annotations

from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import MEMBER, DiscordHarness
from tests.adapters.discord.test_app import posted_digest


def test_search_answers_the_caller_with_linked_titles_and_the_abstract_command(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        answer = await h.command("search", user=MEMBER, words="mixture quantization")
        assert answer.ephemeral
        assert "**Papers matching “mixture quantization” in past digests**" in answer.text
        assert "1. [Sparse mixture of experts with quantization, part " in answer.text
        assert "](https://arxiv.org/abs/2503.100" in answer.text
        assert "`/arxiv abstract id_or_rank:2503.100" in answer.text
        nothing = await h.command("search", user=MEMBER, words="diffusion")
        assert "No paper in this channel's past digests matches “diffusion”" in nothing.text

    scenario(test)
