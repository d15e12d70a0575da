"""Embed rendering: Discord's limits hold on big days, hostile text stays inert, nothing is lost or reordered."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.arxiv_rss import parse_feed
from adapters.discord.embeds import (
    BLANK_FIELD_NAME,
    TABLE_TITLE_LIMIT,
    abstract_embeds,
    embed_chars,
    escape,
    pack_embeds,
    paper_embed,
    summary_messages,
    text_embeds,
)
from bot.digest.text import headline, truncate
from bot.domain.models import Digest, Judgment, Paper, RankedPaper
from tests.support.digests import digest_of
from tests.support.discord_api import CHANNEL_ID, DiscordStandIn, embed_size, form_errors, logged_in

REAL_DAY = Path(__file__).parents[2] / "fixtures" / "arxiv" / "rss_cs.LG+cs.AI_2025-03-25.xml"

HOSTILE_TITLES = [
    "Attention [Is] All (You) Need *Bold* _Claim_ ~~Revisited~~ | with `code` \\ and ]( brackets",
    "[Click me](https://evil.example/phish) for **free** GPUs ||spoiler||",
    "# Not a Heading > not a quote - not a list <@123> @everyone",
    "Mixture-of-Experts Routing at Scale: Load Balancing Without Auxiliary Losses",
    "Sparse Autoencoders Find Interpretable Features in Vision-Language Models Across Training Checkpoints "
    "and Data Mixtures: An Empirical Study of Feature Universality, Revisited With Many More Words in the Title",
]
LONG_ABSTRACT = ("We route *tokens* to experts_i with [sparse] gates | ~50% less compute. " * 140)[:10_000]
LONG_COMMENT = ("Relevant to MoE routing: *strong* results, [ablation] in §4_b; ~2x faster. " * 135)[:10_000]
LINE_RE = re.compile(
    r"^\*\*(\d+)\.\*\* (R ~?\d+ · N ~?\d+|R \\~\d+ · N \\~\d+) \[(.*)\]\((https://arxiv\.org/abs/[^)]+)\)$"
)


def ranked_paper(rank: int, *, comment: str | None = None, approximate: bool = False) -> RankedPaper:
    arxiv_id = f"2503.{10000 + rank}"
    paper = Paper(
        arxiv_id=arxiv_id,
        title=HOSTILE_TITLES[rank % len(HOSTILE_TITLES)] + f" (part {rank})",
        authors=tuple(f"Author_{i} O'Brien-*Star*" for i in range(1 + rank % 30)),
        abstract=LONG_ABSTRACT if rank == 1 else "A short abstract with $x_i$ and *stars*.",
        categories=("cs.CL", "cs.LG"),
    )
    if comment is None:
        comment = LONG_COMMENT if rank == 3 else f"Matches: MoE & routing (paper {rank})."
    judgment = Judgment(arxiv_id, 10 - rank % 4, 9 - rank % 3, comment, approximate=approximate)
    return RankedPaper(paper, judgment, rank)


def make_digest(count: int, **changes: Any) -> Digest:
    ranked = changes.pop("ranked") if "ranked" in changes else [ranked_paper(r) for r in range(1, count + 1)]
    return digest_of(ranked, **{**changes})


def assert_sendable(embeds: list[discord.Embed]) -> None:
    """One message's embeds pass every Discord limit (the stand-in's validator, no server needed)."""
    assert 1 <= len(embeds) <= 10
    assert form_errors({"embeds": [e.to_dict() for e in embeds]}) == {}
    assert sum(embed_chars(e) for e in embeds) <= 6000


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def has_live(text: str, chars: str) -> bool:
    """Whether any of ``chars`` appears unescaped (preceded by an even number of backslashes)."""
    return re.search(r"(?<!\\)(?:\\\\)*[" + re.escape(chars) + "]", text) is not None


def ranked_lines(messages: list[list[discord.Embed]]) -> list[re.Match[str]]:
    lines = [line for m in messages for e in m for line in (e.description or "").split("\n")]
    return [match for line in lines if (match := LINE_RE.match(line))]


# --- summary ------------------------------------------------------------------------------------


def test_sixty_paper_day_fits_and_lists_every_paper_once_in_order() -> None:
    digest = make_digest(60)
    messages = summary_messages(digest)
    for embeds in messages:
        assert_sendable(embeds)
    matches = ranked_lines(messages)
    assert [int(m[1]) for m in matches] == list(range(1, 61))
    assert [m[4] for m in matches] == [item.paper.url for item in digest.ranked]
    first = messages[0][0]
    assert first.title == escape(headline(digest))
    assert "412 arXiv · 409 scanned · 60 relevant" in (first.description or "")
    assert "gpt-4o-mini" in (first.description or "")


def test_a_big_day_continues_over_several_messages() -> None:
    digest = make_digest(300)
    messages = summary_messages(digest)
    assert len(messages) > 2
    for embeds in messages:
        assert_sendable(embeds)
    assert [int(m[1]) for m in ranked_lines(messages)] == list(range(1, 301))
    for embeds in messages[1:]:
        first, last = map(int, re.fullmatch(r"Ranked list, continued \((\d+)–(\d+)\)", embeds[0].title or "").groups())
        listed = [int(m[1]) for m in ranked_lines([embeds])]
        assert (first, last) == (listed[0], listed[-1])
        assert all(e.title is None for e in embeds[1:])


def test_hostile_titles_stay_inside_their_links() -> None:
    messages = summary_messages(make_digest(len(HOSTILE_TITLES) * 2))
    matches = ranked_lines(messages)
    assert len(matches) == len(HOSTILE_TITLES) * 2
    for match in matches:
        label = match[3]
        assert not has_live(label, "[]*_~|`"), label
        titles = [f"{t} (part {match[1]})" for t in HOSTILE_TITLES]
        assert unescape(label) in {truncate(t, TABLE_TITLE_LIMIT) for t in titles}


def test_approximate_scores_are_escaped() -> None:
    digest = make_digest(1, ranked=[ranked_paper(1, approximate=True)], approximate=True)
    [match] = ranked_lines(summary_messages(digest))
    assert match[2] == "R \\~9 · N \\~8"
    assert "local TF-IDF scorer" in (summary_messages(digest)[0][0].description or "")


def test_notes_unscored_and_empty_day() -> None:
    unscored = [(ranked_paper(i).paper, "LLM refused") for i in range(1, 13)]
    digest = make_digest(0, unscored=unscored, notes=["Feed was late *today*."])
    [[embed]] = summary_messages(digest)
    text = embed.description or ""
    assert "12 papers could not be scored: 2503.10001" in text and "and 2 more (LLM refused)." in text
    assert "Feed was late \\*today\\*." in text
    assert "No paper reached R ≥ 7 and N ≥ 6 today." in text
    assert_sendable([embed])
    quiet = make_digest(0, total_arxiv=0, scanned=0)
    assert "announced no new papers" in (summary_messages(quiet)[0][0].description or "")


def test_summary_with_notes_and_unscored_on_a_big_day_still_fits() -> None:
    unscored = [(ranked_paper(i).paper, "x" * 500) for i in range(1, 40)]
    digest = make_digest(120, unscored=unscored, notes=["note " * 500])
    messages = summary_messages(digest)
    for embeds in messages:
        assert_sendable(embeds)
    assert [int(m[1]) for m in ranked_lines(messages)] == list(range(1, 121))


# --- one paper ----------------------------------------------------------------------------------


def test_paper_embed_short_comment() -> None:
    item = ranked_paper(2)
    embed = paper_embed(make_digest(3), item)
    assert_sendable([embed])
    assert embed.url == "https://arxiv.org/abs/2503.10002"
    assert unescape(embed.title or "") == f"2. {item.paper.title}"
    description = embed.description or ""
    assert description.startswith("**R 8 · N 7**\narXiv:2503.10002 · cs.CL, cs.LG\nAuthor\\_0 O'Brien-\\*Star\\*")
    assert description.endswith("\n\nMatches: MoE & routing (paper 2).")
    assert embed.fields == []


def test_paper_embed_long_comment_is_split_into_fields_and_cut_to_fit() -> None:
    item = ranked_paper(3)
    embed = paper_embed(make_digest(3), item)
    assert_sendable([embed])
    assert embed.fields and all(f.name == BLANK_FIELD_NAME and f.inline is False for f in embed.fields)
    comment = (embed.description or "").split("\n\n", 1)[1] + "".join(f.value or "" for f in embed.fields)
    shown = unescape(comment)
    assert shown.endswith("…")
    assert LONG_COMMENT.startswith(shown[:-1].rstrip())
    assert len(shown) > 4000  # most of the 6,000 goes to the comment
    assert not has_live(comment, "*_~[]|")


def test_paper_embed_without_comment_or_authors() -> None:
    paper = Paper("2503.00001", "x" * 400, (), "abstract")
    embed = paper_embed(make_digest(1), RankedPaper(paper, Judgment("2503.00001", 9, 9, "  "), 1))
    assert_sendable([embed])
    assert len(embed.title or "") <= 256 and (embed.title or "").endswith("…")
    assert embed.description == "**R 9 · N 9**\narXiv:2503.00001"


def test_paper_embed_all_markup_comment_still_fits() -> None:
    """Every character escapes, doubling the text: the cut must account for it."""
    item = ranked_paper(4, comment="*_" * 5000)
    embed = paper_embed(make_digest(4), item)
    assert_sendable([embed])
    assert sum(len(f.value or "") for f in embed.fields) > 1000


# --- abstracts and replies ----------------------------------------------------------------------


def test_abstract_is_never_truncated() -> None:
    paper = ranked_paper(1).paper
    embeds = abstract_embeds(paper)
    assert len(embeds) >= 3
    for message in pack_embeds(embeds):
        assert_sendable(message)
    first = embeds[0]
    assert first.url == paper.url and unescape(first.title or "") == paper.title
    header, start = (first.description or "").split("\n\n", 1)
    assert header.startswith("arXiv:2503.10001 · cs.CL, cs.LG\nAuthor\\_0")
    text = unescape(start + "".join(e.description or "" for e in embeds[1:]))
    assert text == LONG_ABSTRACT.strip()
    assert all(e.title is None for e in embeds[1:])


def test_short_and_missing_abstracts() -> None:
    [embed] = abstract_embeds(ranked_paper(2).paper)
    assert (embed.description or "").endswith("\n\nA short abstract with $x\\_i$ and \\*stars\\*.")
    [empty] = abstract_embeds(Paper("2503.00002", "T", ("A",), "   "))
    assert (empty.description or "").endswith("*No abstract.*")


def real_paper(arxiv_id: str) -> Paper:
    announcement = parse_feed(REAL_DAY.read_bytes(), keep_types=("new", "cross", "replace"), source="rss")
    return {paper.arxiv_id: paper for paper in announcement.papers}[arxiv_id]


def test_abstract_embeds_show_distinct_affiliations_apart_from_the_names() -> None:
    survey = real_paper("2503.17407")  # 8 authors, 7 distinct affiliations, one author without
    [embed] = abstract_embeds(survey)
    header, abstract = (embed.description or "").split("\n\n", 1)
    _, names, where = header.split("\n")
    assert names.startswith("Ana Araujo, Breno Costa, Carla Dias, Przemysław Nowak") and "Brasilia" not in names
    assert where == (
        "*Affiliations: University of Brasilia Brazil, The University of Melbourne Australia; University of "
        "Brasilia Brazil; Department of Physics and Astronomy, University of Brasilia; Faculty of Mathematics, "
        "Informatics and Mechanics, University of Warsaw, Poland and 3 more*"
    )
    assert unescape(abstract) == survey.abstract
    assert_sendable([embed])

    hostile = replace(survey, affiliations=("@everyone *Lab* " + "x" * 5000,) * 8)
    where = (abstract_embeds(hostile)[0].description or "").split("\n\n")[0].split("\n")[2]
    assert where.startswith("*Affiliations: @everyone \\*Lab\\* xxx") and len(where) < 400
    for plain in (real_paper("2503.18216"), replace(survey, affiliations=())):  # none given, or none stored
        assert "Affiliations" not in (abstract_embeds(plain)[0].description or "")


def test_text_embeds_split_at_line_breaks_and_keep_markdown() -> None:
    lines = [f"**{i}.** [Paper {i}](https://arxiv.org/abs/2503.{i:05d}) — *note*" for i in range(400)]
    text = "\n".join(lines)
    embeds = text_embeds(text, title="Your subscriptions")
    assert len(embeds) > 1
    assert embeds[0].title == "Your subscriptions" and all(e.title is None for e in embeds[1:])
    for message in pack_embeds(embeds):
        assert_sendable(message)
    assert [line for e in embeds for line in (e.description or "").split("\n")] == lines


def test_text_embeds_empty_and_long_title() -> None:
    [embed] = text_embeds("  \n ", title="t" * 300)
    assert embed.description == "*Nothing to show.*" and len(embed.title or "") == 256


def test_pack_embeds_respects_count_and_size() -> None:
    small = [discord.Embed(description="x") for _ in range(23)]
    assert [len(m) for m in pack_embeds(small)] == [10, 10, 3]
    big = [discord.Embed(description="x" * 4000) for _ in range(3)]
    assert [len(m) for m in pack_embeds(big)] == [1, 1, 1]


@pytest.mark.parametrize("rank", [1, 3])
def test_embed_chars_matches_discord_counting(rank: int) -> None:
    embed = paper_embed(make_digest(3), ranked_paper(rank))
    embed.set_footer(text="footer").set_author(name="author")
    assert embed_chars(embed) == len(embed) == embed_size(embed.to_dict())


# --- through discord.py, against the stand-in ---------------------------------------------------


def test_the_stand_in_accepts_everything_built(discord_api: DiscordStandIn) -> None:
    digest = make_digest(60)
    summary = summary_messages(digest)
    outgoing = [
        *summary,
        *([paper_embed(digest, item)] for item in digest.ranked[:5]),
        *pack_embeds(abstract_embeds(digest.ranked[0].paper)),
        *pack_embeds(text_embeds("\n".join(f"line {i} *x*" for i in range(2000)), title="Help")),
    ]

    async def main() -> None:
        async with logged_in(discord.Client(intents=discord.Intents.default())) as client:
            channel = client.get_partial_messageable(CHANNEL_ID)
            for embeds in outgoing:
                await channel.send(embeds=embeds)

    asyncio.run(main())
    posted = discord_api.requests_to(f"/channels/{CHANNEL_ID}/messages")
    assert [r.status for r in posted] == [200] * len(outgoing)
    stored = discord_api.messages(CHANNEL_ID)
    assert [len(m["embeds"]) for m in stored] == [len(e) for e in outgoing]
    listed = [line for m in stored[: len(summary)] for e in m["embeds"] for line in e["description"].split("\n")]
    assert [int(m[1]) for line in listed if (m := LINE_RE.match(line))] == list(range(1, 61))


def test_a_tldr_opens_the_description_escaped_and_its_cost_follows_the_days_cost() -> None:
    from bot.domain.models import Usage

    item = replace(ranked_paper(2), tldr="They make *MoE* routing cheap, see `code` & more.")
    digest = make_digest(2, ranked=[ranked_paper(1), item], tldr_usage=Usage(900, 0, 100, 1), tldr_cost_usd=0.0002)
    embed = paper_embed(digest, item)
    assert_sendable([embed])
    first = (embed.description or "").split("\n")[0]
    assert first == r"TL;DR: They make \*MoE\* routing cheap, see \`code\` & more."
    assert (embed.description or "").split("\n")[1] == "**R 8 · N 7**"
    summary = summary_messages(digest)[0][0].description or ""
    assert "TL;DRs · 1,000 tokens (0 cached) · $0.0002 of the total" in unescape(summary)


def test_a_long_tldr_never_crowds_the_comment_out_of_a_small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.discord import embeds

    item = replace(ranked_paper(2), tldr="*" * 320)  # escaping doubles it
    for budget, shown in ((450, True), (280, False)):  # cut to fit; left out when a few words would not fit
        monkeypatch.setattr(embeds, "MESSAGE_BUDGET", budget)
        embed = paper_embed(make_digest(2), item)
        description = embed.description or ""
        assert embed_chars(embed) <= budget and description.startswith("TL;DR: \\*") == shown
        assert "Matches" in description or embed.fields  # the comment kept its share
