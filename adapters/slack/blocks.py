"""Slack Block Kit rendering of digests, papers, command replies and the criteria modal.

Built from slack_sdk's block classes (not dicts) so their validators catch limit mistakes in tests.
The wording comes from :mod:`bot.digest.text`; this module adds only Slack markup and Slack's limits:
3,000 characters per section, 150 per header, 50 blocks and roughly 12,000 characters of block text
per message, 3,000 characters per modal text input.

Paper text (titles, authors) goes into ``mrkdwn`` escaped with :func:`literal`; long free text
(abstracts, LLM comments) goes into ``plain_text`` sections, which Slack shows verbatim, so it can be
split with :func:`~bot.digest.text.split_text` and never needs escaping.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.digest.text import (
    affiliations_line,
    authors_line,
    chunk_lines,
    cost_line,
    followed_line,
    headline,
    join_pieces,
    nothing_line,
    pack_lines,
    scores_label,
    split_text,
    tldr_cost_line,
    tldr_line,
    totals_line,
    truncate,
    unscored_line,
    why_line,
)
from bot.domain.models import Digest, Paper, RankedPaper
from bot.domain.platform import Action
from bot.domain.statuses import PostKind

ABSTRACT_ACTION = "digest_abstract"
VOTE_UP_ACTION = "digest_vote_up"
VOTE_DOWN_ACTION = "digest_vote_down"
PAPER_ACTIONS_BLOCK = "paper"  # block_id of a paper's buttons: ``paper:<arxiv_id>``

# The buttons under a reply (the core's Actions): action_id ``reply_action:<n>``, value the action's id.
REPLY_ACTION = "reply_action"
REPLY_ACTIONS_BLOCK = "reply_actions"

CRITERIA_CALLBACK = "criteria_edit"
CRITERIA_INPUT_ACTION = "text"
CRITERIA_BLOCK_PREFIX = "criteria_"
CRITERIA_ERROR_BLOCK = f"{CRITERIA_BLOCK_PREFIX}0"  # key for ``response_action: errors``

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3000
INPUT_LIMIT = 3000
MAX_BLOCKS = 50
# Slack's practical ceiling is about 12,000 characters of block text; keep some headroom.
MESSAGE_TEXT_BUDGET = 11_500

TABLE_TITLE_LIMIT = 150  # per line of the ranked table: 60 papers should fit the parent message
TITLE_LIMIT = 300  # arXiv titles are shorter; bounds a hostile one (escaping can grow it 5x)
AUTHORS_LIMIT = 600
AFFILIATIONS_LIMIT = 300  # before escaping; a context element holds 3,000
CATEGORIES_LIMIT = 200
COMMENT_LIMIT = 10_000  # keeps one paper's reply inside MESSAGE_TEXT_BUDGET
NOTES_LIMIT = 2000

# Slack mrkdwn has no escape for its formatting marks, so untrusted text gets look-alikes instead.
_FORMATTING_LOOKALIKES = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_PIPE_LOOKALIKE = "∣"
_LINK_RE = re.compile(r"<([^<>|]*)\|([^<>]*)>")
_BARE_LINK_RE = re.compile(r"<([^<>|]*)>")


@dataclass(frozen=True)
class Message:
    """One ``chat.postMessage`` (or ephemeral) payload."""

    text: str  # notification/fallback text: mrkdwn-escaped, at most FALLBACK_LIMIT characters
    blocks: list[Block]
    metadata: dict[str, Any] | None = None  # Slack message metadata: which digest part this is

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}
        if self.metadata is not None:
            payload["metadata"] = self.metadata
        return payload


# Message metadata names each digest message's part, so a run resumed after a crash can find the
# messages Slack accepted but our database never recorded, instead of posting them twice.
PART_EVENT = "arxiv_digest_part"


def part_metadata(date: dt.date, part: str) -> dict[str, Any]:
    return {"event_type": PART_EVENT, "event_payload": {"date": date.isoformat(), "part": part}}


# --- mrkdwn -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters as entities, so ``<`` can't open a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal(text: str) -> str:
    """Escaped, with ``* _ ~ ``` swapped for look-alikes: untrusted text shows as typed, unformatted."""
    return escape(text).translate(_FORMATTING_LOOKALIKES)


def link(url: str, text: str) -> str:
    """``<url|text>`` with the text literal; a ``|`` in it would end the URL part, so it becomes ``∣``."""
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{literal(text).replace('|', _PIPE_LOOKALIKE)}>"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def _plain(text: str, *, emoji: bool = False) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=emoji)


def _fallback(raw: str, limit: int = FALLBACK_LIMIT) -> str:
    """Notification text: Slack reads it as mrkdwn, so escaped, and cut to fit after escaping."""
    allowed = limit
    while len(text := escape(truncate(raw, allowed))) > limit:
        allowed -= len(text) - limit
    return text


def _unformat(mrkdwn: str) -> str:
    """Roughly what the reader sees: link labels instead of link markup, entities decoded."""
    text = _BARE_LINK_RE.sub(r"\1", _LINK_RE.sub(r"\2", mrkdwn))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_sections(text: str) -> list[SectionBlock]:
    """Verbatim text over as many sections as it takes; the pieces join back to ``text`` exactly."""
    return [SectionBlock(text=_plain(piece)) for piece in split_text(text, SECTION_LIMIT) if piece.strip()]


def _text_chars(blocks: list[Block]) -> int:
    """Characters of text in the blocks, as counted against the per-message budget."""

    def walk(node: Any) -> int:
        if isinstance(node, dict):
            return sum(len(v) if k == "text" and isinstance(v, str) else walk(v) for k, v in node.items())
        if isinstance(node, list):
            return sum(walk(v) for v in node)
        return 0

    return sum(walk(block.to_dict()) for block in blocks)


# --- the day's summary --------------------------------------------------------------------------


def _table_line(item: RankedPaper) -> str:
    title = truncate(item.paper.title, TABLE_TITLE_LIMIT)
    followed = f"  _{literal(mark)}_" if (mark := followed_line(item)) else ""
    return f"*{item.rank}.* {literal(scores_label(item.judgment))}  {link(item.paper.url, title)}{followed}"


def summary_messages(digest: Digest) -> list[Message]:
    """The parent message of the day, then any continuations of the ranked list for its thread.

    The parent carries the headline, totals, cost, notes and as much of the ranked table as fits the
    per-message budget; the rest follows in ``Ranked list, continued (41–60)`` messages.
    """
    title = headline(digest)
    context = [_md(escape(totals_line(digest))), _md(escape(cost_line(digest)))]
    if tldr_cost := tldr_cost_line(digest):
        context.append(_md(escape(tldr_cost)))
    head: list[Block] = [
        HeaderBlock(text=_plain(truncate(title, HEADER_LIMIT), emoji=True)),
        ContextBlock(elements=context),
    ]
    remarks = []
    if digest.notes:
        remarks.append(_md(escape(truncate("\n".join(digest.notes), NOTES_LIMIT))))
    if digest.unscored:
        remarks.append(_md(escape(unscored_line(digest.unscored))))
    if remarks:
        head.append(ContextBlock(elements=remarks))
    head.append(DividerBlock())
    fallback = _fallback(f"{title}: {digest.relevant} relevant of {digest.total_arxiv}")
    if not digest.ranked:
        return [Message(fallback, [*head, SectionBlock(text=_md(escape(nothing_line(digest))))],
                        part_metadata(digest.date, PostKind.SUMMARY))]

    def heading(first: int, last: int) -> str:
        return f"Ranked list, continued ({first}–{last})"

    longest_heading = len(f"*{heading(10**6, 10**6)}*")
    lines = [_table_line(item) for item in digest.ranked]
    chunks = chunk_lines(lines, MESSAGE_TEXT_BUDGET - _text_chars(head), MESSAGE_TEXT_BUDGET - longest_heading)
    messages = [Message(fallback, [*head, *_table_sections(chunks[0])], part_metadata(digest.date, PostKind.SUMMARY))]
    start = len(chunks[0])
    for number, chunk in enumerate(chunks[1:], start=2):
        text = heading(digest.ranked[start].rank, digest.ranked[start + len(chunk) - 1].rank)
        blocks = [SectionBlock(text=_md(f"*{text}*")), *_table_sections(chunk)]
        messages.append(Message(_fallback(f"{title} · {text}"), blocks,
                                part_metadata(digest.date, f"{PostKind.SUMMARY}.{number}")))
        start += len(chunk)
    return messages


def _table_sections(lines: list[str]) -> list[Block]:
    return [SectionBlock(text=_md(piece)) for piece in pack_lines(lines, SECTION_LIMIT)]


# --- one paper ----------------------------------------------------------------------------------


def _paper_context(paper: Paper) -> ContextBlock:
    elements = [_md(f"arXiv:{escape(paper.arxiv_id)}")]
    if paper.authors:
        elements.append(_md(literal(truncate(authors_line(paper.authors), AUTHORS_LIMIT))))
    if paper.categories:
        elements.append(_md(escape(truncate(", ".join(paper.categories), CATEGORIES_LIMIT))))
    return ContextBlock(elements=elements)


def _button(text: str, action_id: str, value: str) -> ButtonElement:
    return ButtonElement(text=_plain(text, emoji=True), action_id=action_id, value=value)


def paper_message(digest: Digest, item: RankedPaper) -> Message:
    """A paper's thread reply: linked title, ID/authors/categories, scores and comment, buttons.

    The buttons carry the arXiv ID as their value (and in the block_id) so the handlers need no lookup.
    Its metadata names the day and paper, for recovery after a crash.
    """
    paper, judgment = item.paper, item.judgment
    title = truncate(paper.title, TITLE_LIMIT)
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{item.rank}. {link(paper.url, title)}*")),
        *([ContextBlock(elements=[_md(f"⭐ {literal(mark)}")])] if (mark := followed_line(item)) else []),
        *_plain_sections(tldr_line(item)),  # the LLM's words: shown verbatim, never as markup
        _paper_context(paper),
        SectionBlock(text=_md(f"*{literal(scores_label(judgment))}*")),
        *_plain_sections(truncate(judgment.comment, COMMENT_LIMIT)),
        *([ContextBlock(elements=[_md(literal(why))])] if (why := why_line(item)) else []),
        ActionsBlock(
            block_id=f"{PAPER_ACTIONS_BLOCK}:{paper.arxiv_id}",
            elements=[
                _button("Abstract", ABSTRACT_ACTION, paper.arxiv_id),
                _button("👍", VOTE_UP_ACTION, paper.arxiv_id),
                _button("👎", VOTE_DOWN_ACTION, paper.arxiv_id),
            ],
        ),
    ]
    return Message(_fallback(f"{item.rank}. {paper.title}"), blocks, part_metadata(digest.date, paper.arxiv_id))


def abstract_message(paper: Paper) -> Message:
    """The full abstract (never truncated: it is what the reader asked for), under the linked title."""
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{link(paper.url, truncate(paper.title, TITLE_LIMIT))}*")),
        _paper_context(paper),
    ]
    if where := affiliations_line(paper.affiliations, AFFILIATIONS_LIMIT):  # a line of their own, not in the names
        blocks.append(ContextBlock(elements=[_md(f"Affiliations: {literal(where)}")]))
    blocks += _plain_sections(paper.abstract) or [SectionBlock(text=_md("_No abstract._"))]
    return Message(_fallback(f"Abstract: {paper.title}"), blocks)


# --- command replies ----------------------------------------------------------------------------


def text_message(mrkdwn: str) -> Message:
    """Any mrkdwn reply in sections of at most 3,000 characters, cut (and saying so) at 50 blocks.

    Cuts fall at paragraph or line breaks when there are any, so links and table rows stay whole.
    """
    pieces = split_text(mrkdwn, SECTION_LIMIT)
    visible = [i for i, piece in enumerate(pieces) if piece.strip()]
    left_out = 0
    if len(visible) > MAX_BLOCKS:
        last = visible[MAX_BLOCKS - 2]  # keep 49 sections, the 50th says what is missing
        left_out = sum(len(piece) for piece in pieces[last + 1 :])
        pieces = pieces[: last + 1]
    blocks: list[Block] = [SectionBlock(text=_md(piece.rstrip())) for piece in pieces if piece.strip()]
    if left_out:
        note = f"_The text was cut here: {left_out:,} more characters were left out._"
        blocks.append(SectionBlock(text=_md(note)))
    if not blocks:
        blocks.append(SectionBlock(text=_md("_Nothing to show._")))
    return Message(_fallback(_unformat(mrkdwn) or "Nothing to show."), blocks)


def with_actions(message: Message, actions: Sequence[Action]) -> Message:
    """``message`` with a row of the core's buttons under it, within Slack's 50 blocks."""
    if not actions:
        return message
    row = ActionsBlock(block_id=REPLY_ACTIONS_BLOCK, elements=[
        _button(action.label, f"{REPLY_ACTION}:{n}", action.id) for n, action in enumerate(actions)
    ])
    return Message(message.text, [*message.blocks[: MAX_BLOCKS - 1], row], message.metadata)


# --- criteria modal -----------------------------------------------------------------------------


def criteria_modal(criteria: str, *, max_chars: int, private_metadata: str, error: str | None = None) -> View:
    """The modal that edits a profile's criteria, over several inputs since one holds only 3,000 characters.

    The current text is split with :func:`split_text`, so an unedited submission joins back to it exactly;
    empty optional inputs make the total capacity reach ``max_chars``.
    """
    pieces = split_text(criteria, INPUT_LIMIT)
    count = max(math.ceil(max_chars / INPUT_LIMIT), len(pieces), 1)
    pieces += [""] * (count - len(pieces))
    blocks: list[Block] = []
    if error:
        blocks.append(ContextBlock(elements=[_md(f"⚠️ {escape(truncate(error, SECTION_LIMIT - 3))}")]))
    limit_note = (
        f"Up to {max_chars:,} characters; plain language: the topics you want and don't want, "
        "one per line or paragraph."
    )
    if count > 1:
        limit_note += " Longer criteria continue in the next box; the boxes are joined in order, as typed."
    blocks.append(ContextBlock(elements=[_md(escape(limit_note))]))
    for index, piece in enumerate(pieces):
        label = "Criteria" if count == 1 else f"Criteria (part {index + 1} of {count})"
        element = PlainTextInputElement(
            action_id=CRITERIA_INPUT_ACTION,
            initial_value=piece or None,
            multiline=True,
            max_length=INPUT_LIMIT,
        )
        blocks.append(
            InputBlock(
                block_id=f"{CRITERIA_BLOCK_PREFIX}{index}",
                label=_plain(label),
                element=element,
                optional=index > 0,
            )
        )
    return View(
        type="modal",
        callback_id=CRITERIA_CALLBACK,
        title=_plain("Edit criteria"),
        submit=_plain("Save"),
        close=_plain("Cancel"),
        private_metadata=private_metadata,
        blocks=blocks,
    )


def criteria_from_submission(state_values: dict[str, Any]) -> str:
    """The criteria from ``view["state"]["values"]``: the inputs joined in block order, nothing added.

    Slack sends ``None`` for an empty optional input; block order is numeric (``criteria_10`` after ``_9``).
    """
    parts: list[tuple[int, str]] = []
    for block_id, actions in state_values.items():
        if not block_id.startswith(CRITERIA_BLOCK_PREFIX):
            continue
        suffix = block_id.removeprefix(CRITERIA_BLOCK_PREFIX)
        if not suffix.isdigit():
            continue
        value = (actions.get(CRITERIA_INPUT_ACTION) or {}).get("value")
        parts.append((int(suffix), value or ""))
    return join_pieces([value for _, value in sorted(parts)])
