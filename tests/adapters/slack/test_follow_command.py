"""``/arxiv follow …`` in Slack: one slash command carries the words; the core's wording is checked in
tests/bot/chat/test_follow_commands.py."""

from __future__ import annotations

from tests.adapters.slack.harness import MEMBER, SlackHarness, text_of
from tests.adapters.slack.test_app import scenario  # noqa: F401  (the fixture: a started Slack app in HTTP mode)


def test_follow_unfollow_and_following_pass_the_name_through(scenario):  # noqa: F811
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        assert h.shows(await h.say("follow Przemys{\\l}aw Biecek"))
        assert h.last.invocation.name == "follow" and h.last.invocation.args == ("Przemys{\\l}aw", "Biecek")
        assert "follows 1 author: Przemysław Biecek" in text_of(await h.say("following", MEMBER))
        assert h.shows(await h.say("follow K. He")) and "ambiguous" in h.last.reply.text
        assert h.shows(await h.say("unfollow przemyslaw biecek"))
        assert "follows no authors" in text_of(await h.say("following", MEMBER))

    scenario(test)
