"""The question's request to the LLM, and its reply read back: an answer and the passages it cites.

The paper's text is untrusted: it travels only inside delimited blocks of the user message, and anything in it
that looks like a delimiter is altered first, so no text of a paper can end its block and speak as the
instructions. The reply is untrusted too: its citations are checked against what was sent, its length capped,
and whatever a chat platform would turn into a ping is defused before the chat layer escapes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import prompts
from bot.asking.passages import Passage
from bot.domain.asks import Ask

MAX_ANSWER_CHARS = 1200  # ~150 words asked for; a reply that ignores that is cut
MAX_ANSWER_TOKENS = 400  # what a reply may cost: ~150 words and the SOURCES line, with room to spare
MAX_HISTORY = 3  # earlier questions and answers of the thread sent along
MAX_HISTORY_ANSWER = 600
MAX_QUESTION_CHARS = 600
_SOURCES = re.compile(r"^\W*sources?\W*:\s*(?P<ids>.*)$", re.IGNORECASE)
_DELIMITER = re.compile(r"<{3,}|>{3,}")
# What chat platforms turn into a notification: @everyone, @here, @channel, and the <!here>, <@U…>, <#C…> forms.
_BROADCAST = re.compile(r"@(?=everyone|here|channel|all)", re.IGNORECASE)  # "@everyoneX" pings too
_ANGLE_PING = re.compile(r"<(?=[!@#])")
ZERO_WIDTH = "\u200b"


def system_prompt() -> str:
    return prompts.load("ask_prompt")


def quoted(text: str) -> str:
    """``text`` safe inside a delimited block: runs of three or more < or > (what the markers are made of)
    become look-alikes, so the text can neither end its block nor open another."""
    return _DELIMITER.sub(lambda run: ("‹" if run.group()[0] == "<" else "›") * len(run.group()), text)


def user_message(title: str, arxiv_id: str, passages: Sequence[Passage], question: str,
                 history: Sequence[Ask] = ()) -> str:
    parts: list[str] = []
    earlier = [ask for ask in history if ask.answer.strip()][-MAX_HISTORY:]
    if earlier:
        lines = ["Earlier in this conversation (context only):", "<<<HISTORY"]
        for ask in earlier:
            lines.append(f"Q: {quoted(_one_line(ask.question))}")
            lines.append(f"A: {quoted(_one_line(ask.answer)[:MAX_HISTORY_ANSWER])}")
        lines.append("<<<END HISTORY")
        parts.append("\n".join(lines))
    name = f"“{quoted(_one_line(title))}” (arXiv {arxiv_id})" if title else f"arXiv {arxiv_id}"
    blocks = [f"Passages from the paper {name}, quoted material:"]
    for p in passages:
        where = quoted(_one_line(p.section)) + (f" — {quoted(_one_line(p.label))}" if p.label else "")
        blocks.append(f"<<<PASSAGE {p.number} | {where}\n{quoted(p.text)}\n<<<END PASSAGE {p.number}")
    parts.append("\n".join(blocks))
    parts.append(f"Question: {quoted(_one_line(question)[:MAX_QUESTION_CHARS])}")
    return "\n\n".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Reading:
    """The LLM's reply as the bot will show it."""

    text: str  # the answer, capped and defused ("" when the reply held none)
    sources: tuple[Passage, ...]  # the passages it cites, or every one sent when it cited none it was sent
    cited: bool  # False: the sources are the passages sent, not ones the answer named


def read_reply(reply: str, sent: Sequence[Passage]) -> Reading:
    """The answer and its cited passages: a citation of a passage that was not sent is dropped; without a
    usable citation the passages sent are the sources (cited=False)."""
    lines = reply.strip().splitlines()
    cited_numbers: list[int] = []
    body: list[str] = []
    for line in lines:
        match = _SOURCES.match(line.strip())
        if match:
            cited_numbers.extend(int(n) for n in re.findall(r"\d{1,6}", match.group("ids")))
        else:
            body.append(line)
    by_number = {p.number: p for p in sent}
    cited = tuple(dict.fromkeys(by_number[n] for n in cited_numbers if n in by_number))
    text = cap(defuse("\n".join(body).strip()))
    return Reading(text, cited or tuple(sent), bool(cited))


def cap(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """At most ``limit`` characters, cut at a word with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def defuse(text: str) -> str:
    """No ping left in ``text``: @everyone/@here/@channel and the <!…>, <@…>, <#…> forms get a zero-width space
    after their first character, so they show as typed and notify nobody."""
    return _ANGLE_PING.sub("<" + ZERO_WIDTH, _BROADCAST.sub("@" + ZERO_WIDTH, text))


def source_names(sources: Sequence[Passage]) -> tuple[str, ...]:
    """("§4.2 Experiments", "Table 3"): each section or label once, in the order cited."""
    return tuple(dict.fromkeys(p.source for p in sources))
