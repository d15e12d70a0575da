"""The "followed" mark on a followed author's paper, in every rendering: Slack blocks, Discord embeds, the
Markdown and JSON files, and the archive site (where the followed authors are read from the database)."""

from __future__ import annotations

import dataclasses
import json
import re

from adapters.discord.embeds import paper_embed
from adapters.discord.embeds import summary_messages as discord_summary
from adapters.files import digest_json, render_markdown
from adapters.site.build import day_path, publish_site
from adapters.slack.blocks import paper_message
from adapters.slack.blocks import summary_messages as slack_summary
from bot.domain.authors import parse_followed
from bot.domain.models import Digest, RankedPaper
from tests.adapters.discord.test_embeds import ranked_paper as discord_paper
from tests.adapters.slack.test_blocks import ranked_paper as slack_paper
from tests.adapters.test_files import make_digest as files_digest
from tests.adapters.test_site import add_day, paper, profile  # noqa: F401  (profile: the fixture)
from tests.conftest import DAY
from tests.support.digests import digest_of

FOLLOWED = ("Kaiming He", "Przemysław Biecek")


def marked(item: RankedPaper) -> RankedPaper:
    return dataclasses.replace(item, followed=FOLLOWED)


def slack_texts(node: object) -> str:
    return json.dumps(node, ensure_ascii=False)


def test_slack_marks_the_paper_in_the_list_and_in_its_message():
    first, second = marked(slack_paper(1)), slack_paper(2)
    digest = digest_of([first, second])
    [summary] = slack_summary(digest)
    table = slack_texts(summary.blocks[-1].to_dict())
    assert "_followed: Kaiming He, Przemysław Biecek_" in table and table.count("followed:") == 1
    blocks = [block.to_dict() for block in paper_message(digest, first).blocks]
    assert blocks[1] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "⭐ followed: Kaiming He, Przemysław Biecek"}]}
    assert "followed" not in slack_texts([b.to_dict() for b in paper_message(digest, second).blocks])


def test_discord_marks_the_paper_in_the_list_and_in_its_embed():
    first, second = marked(discord_paper(1)), discord_paper(2)
    digest = digest_of([first, second])
    description = discord_summary(digest)[0][0].description or ""
    assert re.search(r"\*\*1\.\*\* .*\) \*followed: Kaiming He, Przemysław Biecek\*$", description, re.MULTILINE)
    assert description.count("followed:") == 1
    embed = paper_embed(digest, first)
    assert (embed.description or "").startswith("⭐ followed: Kaiming He, Przemysław Biecek\n**R ")
    assert "followed" not in (paper_embed(digest, second).description or "")


def test_markdown_and_json_carry_the_followed_authors():
    digest: Digest = files_digest()
    digest.ranked[0] = marked(digest.ranked[0])
    text = render_markdown(digest)
    assert "**Followed:** Kaiming He, Przemysław Biecek\n\n**ArXiv ID:** 2503.00001" in text
    assert text.count("**Followed:**") == 1
    papers = digest_json(digest)["papers"]
    assert [p["followed"] for p in papers] == [list(FOLLOWED), []]


def test_the_site_lists_a_followed_authors_paper_first_and_marked_whatever_its_scores(store, profile, tmp_path):  # noqa: F811
    papers = [paper("2503.00001", "On topic"), paper("2503.00002", "Off topic", authors=("Kaiming He", "Ann A"))]
    add_day(store, profile, DAY, papers, {"2503.00001": (9, 8), "2503.00002": (2, 1)})
    store.follow(profile.id, parse_followed("Kaiming He"))
    publish_site(store, profile, tmp_path / "site")
    html = (tmp_path / "site" / day_path(DAY)).read_text()
    titles = re.findall(r'<h2><a href="[^"]+">(.*?)</a></h2>', html)
    assert titles == ["Off topic", "On topic"]
    assert re.findall(r'<p class="followed">(.*?)</p>', html) == ["followed: Kaiming He"]
