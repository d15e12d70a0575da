"""Discord embed rendering of digests, papers, abstracts and command replies.

The wording comes from :mod:`bot.digest.text`; this module adds only Discord markdown and Discord's limits:
title 256, description 4,096, 25 fields of 1,024 (names 256), footer 2,048, author 256, and at most
10 embeds and 6,000 counted characters (:func:`embed_chars`) per message. Every embed built here is
within those limits, and every list of messages can be sent as is.

Untrusted text (titles, authors, LLM comments, abstracts) is escaped with :func:`escape`, which also
escapes the brackets that would end a ``[title](url)`` link early. Escaping lengthens text, so long
text is split first and escaped per piece (:func:`_escaped_pieces`); markdown never spans embeds anyway.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.digest import text as wording
from bot.digest.text import pack_lines, scores_label, split_text, truncate
from bot.domain.models import Digest, Paper, RankedPaper

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
FIELDS_MAX = 25
EMBEDS_PER_MESSAGE = 10
MESSAGE_CHARS = 6000
# What we fill a message to: a little under Discord's 6,000 in case its counting ever differs slightly.
MESSAGE_BUDGET = 5800

MIN_TLDR_CHARS = 40  # a TL;DR cut shorter than this says nothing: it is left out
TABLE_TITLE_LIMIT = 150  # per ranked line: a 60-paper day stays within a couple of messages
AUTHORS_LIMIT = 1000
AFFILIATIONS_LIMIT = 300
CATEGORIES_LIMIT = 200
NOTES_LIMIT = 1000
BLANK_FIELD_NAME = "\u200b"  # Discord requires a field name; a zero-width space lets the text flow on

COLOUR = discord.Colour(0xB31B1B)  # arXiv red


# --- text ---------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Shown as typed: Discord markdown escaped, and ``[`` ``]`` too so a title can't break its link.

    ``discord.utils.escape_markdown`` escapes ``\\ * _ ~ | `` and line-start ``# > -`` and leaves URLs
    alone (Discord doesn't format inside them), but it treats a whole ``[text](url)`` as one unit (leaving
    the text's own markup live) and ignores a lone ``]``, which would end a masked link's label early.
    So brackets are escaped here and the text between them goes through the library. Escaping at most
    doubles the length.
    """
    return "".join(
        f"\\{part}" if part in ("[", "]") else discord.utils.escape_markdown(part) for part in _BRACKETS.split(text)
    )


_BRACKETS = re.compile(r"([\[\]])")


def _smaller(limit: int, overflow: int) -> int:
    """A split limit to retry with: smaller by the overflow, but never below half (which always fits)."""
    return max(1, limit // 2, limit - overflow)


def _fit(text: str, limit: int) -> str:
    """``text`` escaped and truncated so that the escaped result is at most ``limit`` characters."""
    allowed = limit
    while len(escaped := escape(truncate(text, allowed))) > limit:
        allowed -= len(escaped) - limit
    return escaped


def _escaped_pieces(text: str, limit: int) -> list[str]:
    """Escaped pieces of at most ``limit`` characters holding all of ``text`` (blank pieces left out).

    Split before escaping so no cut lands between a backslash and what it escapes.
    """
    pieces: list[str] = []
    rest = text
    while rest:
        piece, rest = _take(rest, limit)
        if piece:
            pieces.append(piece)
    return pieces


def embed_chars(embed: discord.Embed) -> int:
    """Characters Discord counts towards a message's 6,000: title, description, fields, footer, author."""
    data: dict[str, Any] = dict(embed.to_dict())  # a TypedDict in discord.py's stubs; read as a plain dict
    total = len(data.get("title") or "") + len(data.get("description") or "")
    total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in data.get("fields") or [])
    total += len((data.get("footer") or {}).get("text") or "")
    total += len((data.get("author") or {}).get("name") or "")
    return total


def pack_embeds(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Consecutive embeds grouped into messages of at most 10 embeds and 6,000 counted characters."""
    messages: list[list[discord.Embed]] = []
    used = 0
    for embed in embeds:
        size = embed_chars(embed)
        if not messages or len(messages[-1]) == EMBEDS_PER_MESSAGE or used + size > MESSAGE_BUDGET:
            messages.append([])
            used = 0
        messages[-1].append(embed)
        used += size
    return messages


def _embed(title: str | None = None, description: str | None = None, url: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=description, url=url, colour=COLOUR)


# --- the day's summary --------------------------------------------------------------------------


def _table_line(item: RankedPaper) -> str:
    """``**1.** R 9 · N 7 [Title](https://arxiv.org/abs/ID)``."""
    title = escape(truncate(item.paper.title, TABLE_TITLE_LIMIT))
    followed = f" *{escape(mark)}*" if (mark := wording.followed_line(item)) else ""
    return f"**{item.rank}.** {escape(scores_label(item.judgment))} [{title}]({item.paper.url}){followed}"


def _continued(first: int, last: int) -> str:
    return f"Ranked list, continued ({first}–{last})"


def summary_messages(digest: Digest) -> list[list[discord.Embed]]:
    """The day's messages: headline, totals, cost, notes, then the ranked list over as many as it takes.

    Each inner list is one message. The first opens with the headline and the totals; the ranked list
    fills descriptions of at most 4,096 characters and messages of at most MESSAGE_BUDGET, continuing
    under ``Ranked list, continued (41–60)`` titles. Every ranked paper appears once, in rank order.
    """
    title = _fit(wording.headline(digest), TITLE_LIMIT)
    head = [escape(wording.totals_line(digest)), escape(wording.cost_line(digest))]
    if tldr_cost := wording.tldr_cost_line(digest):
        head.append(escape(tldr_cost))
    if digest.notes:
        head.append(_fit("\n".join(digest.notes), NOTES_LIMIT))
    if digest.unscored:
        head.append(escape(wording.unscored_line(digest.unscored)))
    if not digest.ranked:
        return [[_embed(title, "\n".join([*head, "", escape(wording.nothing_line(digest))]))]]

    head.append("")  # a blank line before the list
    head_chars = sum(len(line) + 1 for line in head)
    longest_title = len(_continued(10**6, 10**6))
    lines = [_table_line(item) for item in digest.ranked]
    chunks = wording.chunk_lines(lines, MESSAGE_BUDGET - len(title) - head_chars, MESSAGE_BUDGET - longest_title)

    messages: list[list[discord.Embed]] = []
    start = 0
    for index, chunk in enumerate(chunks):
        if index == 0:
            pieces = pack_lines([*head, *chunk], DESCRIPTION_LIMIT)
            chunk_title = title
        else:
            pieces = pack_lines(chunk, DESCRIPTION_LIMIT)
            chunk_title = _continued(digest.ranked[start].rank, digest.ranked[start + len(chunk) - 1].rank)
        messages.append([_embed(chunk_title if i == 0 else None, piece) for i, piece in enumerate(pieces)])
        start += len(chunk)
    return messages


# --- one paper ----------------------------------------------------------------------------------


def _paper_lines(paper: Paper) -> list[str]:
    details = [f"arXiv:{escape(paper.arxiv_id)}"]
    if paper.categories:
        details.append(escape(truncate(", ".join(paper.categories), CATEGORIES_LIMIT)))
    lines = [" · ".join(details)]
    if paper.authors:
        lines.append(_fit(wording.authors_line(paper.authors), AUTHORS_LIMIT))
    return lines


def paper_embed(digest: Digest, item: RankedPaper) -> discord.Embed:
    """A paper: linked ``rank. title``, scores, ID, categories, authors, then the scorer's comment.

    The comment starts in the description and continues in fields of 1,024 characters; it is cut (with
    ``…``) only where the whole embed would pass MESSAGE_BUDGET, so the embed can always be sent alone.
    ``digest`` is unused for now; it keeps the signature in step with the Slack renderer.
    """
    paper, judgment = item.paper, item.judgment
    title = _fit(f"{item.rank}. {paper.title}", TITLE_LIMIT)
    why = [f"*{escape(line)}*" for line in [wording.why_line(item)] if line]
    followed = [f"⭐ {escape(line)}" for line in [wording.followed_line(item)] if line]
    header = "\n".join([*followed, f"**{escape(scores_label(judgment))}**", *_paper_lines(paper), *why])
    header = _with_tldr(item, header, MESSAGE_BUDGET - len(title) - len(header) - 2)
    comment = judgment.comment.strip()
    if not comment:
        return _embed(title, header, paper.url)

    room = DESCRIPTION_LIMIT - len(header) - 2
    allowed = MESSAGE_BUDGET - len(title) - len(header) - 2  # for the comment: description part and fields
    keep = allowed
    while True:
        first, rest = _take(truncate(comment, keep), room)
        fields = _escaped_pieces(rest, FIELD_VALUE_LIMIT)
        size = len(first) + sum(len(BLANK_FIELD_NAME) + len(value) for value in fields)
        if size <= allowed:
            break
        keep = _smaller(keep, size - allowed)
    embed = _embed(title, f"{header}\n\n{first}" if first else header, paper.url)
    for value in fields:
        embed.add_field(name=BLANK_FIELD_NAME, value=value, inline=False)
    return embed


def _with_tldr(item: RankedPaper, header: str, room: int) -> str:
    """The TL;DR first, right under the title, in at most half the room the header leaves (escaping may double
    it), so the comment always keeps a share of the embed; none when even a few words would not fit."""
    line = wording.tldr_line(item)
    limit = min(len(line), room // 2)
    if not line or limit < MIN_TLDR_CHARS:
        return header
    return f"{escape(truncate(line, limit))}\n{header}"


def _take(text: str, room: int) -> tuple[str, str]:
    """The first piece of ``text`` that fits ``room`` once escaped (escaped; "" if blank), and the raw rest.

    The piece is cut by :func:`split_text` (paragraph, line, then word breaks), retried shorter while
    escaping makes it too long.
    """
    limit = room
    # split_text's first piece depends only on the first limit + 1 characters.
    while len(first := escape(raw := split_text(text[: limit + 1], limit)[0])) > room:
        limit = _smaller(limit, len(first) - room)
    return (first if raw.strip() else ""), text[len(raw) :]


# --- abstracts and replies ----------------------------------------------------------------------


def abstract_embeds(paper: Paper) -> list[discord.Embed]:
    """The full abstract, never truncated (it is what the reader asked for), split over embeds as needed.

    The first embed carries the linked title, ID and authors. Send the result with :func:`pack_embeds`:
    arXiv's own 1,920-character cap keeps real abstracts in one message, but nothing here relies on it.
    """
    lines = _paper_lines(paper)
    # Affiliations get a line of their own, not one in the names.
    if where := wording.affiliations_line(paper.affiliations, AFFILIATIONS_LIMIT):
        lines.append(f"*Affiliations: {_fit(where, AFFILIATIONS_LIMIT)}*")
    header = "\n".join(lines)
    title = _fit(paper.title, TITLE_LIMIT)
    abstract = paper.abstract.strip()
    if not abstract:
        return [_embed(title, f"{header}\n\n*No abstract.*", paper.url)]
    first, rest = _take(abstract, DESCRIPTION_LIMIT - len(header) - 2)
    embeds = [_embed(title, f"{header}\n\n{first}" if first else header, paper.url)]
    return embeds + [_embed(description=piece) for piece in _escaped_pieces(rest, DESCRIPTION_LIMIT)]


def text_embeds(text: str, title: str | None = None) -> list[discord.Embed]:
    """A command reply (already Discord markdown, not escaped) in embeds of at most 4,096 characters.

    Cuts fall at paragraph or line breaks when there are any, so links and list lines stay whole.
    Send the result with :func:`pack_embeds`.
    """
    pieces = [piece.rstrip() for piece in split_text(text, DESCRIPTION_LIMIT) if piece.strip()]
    heading = truncate(title, TITLE_LIMIT) if title else None
    if not pieces:
        return [_embed(heading, "*Nothing to show.*")]
    return [_embed(heading if i == 0 else None, piece) for i, piece in enumerate(pieces)]
