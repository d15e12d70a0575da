"""One plain-language sentence per posted paper (what they did, what it shows), in the channel's language.

A second, small LLM pass after ranking: only the papers that made the digest, several per request, with
the abstract but not the criteria, so it costs a few percent of the day's scoring. For a channel not in English
the same requests carry each paper's criteria comment (the scorer writes it in English) and return it translated;
a paper whose translation is missing keeps the English comment. A paper the LLM gives
no usable sentence for (an error, a garbled or cut reply) gets the extractive one instead, as the local
scorer writes for every paper: the abstract's first sentence, trimmed. Caching is the caller's (the
pipeline stores TL;DRs per paper, language and model).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import prompts
from bot.domain.errors import LLMError
from bot.domain.languages import prompt_name
from bot.domain.models import Paper, Tldr, Usage, normalize_arxiv_id
from bot.domain.pricing import Price, cost_of
from bot.scoring.hooks import settle
from bot.scoring.llm_scorer import ChatModel
from bot.scoring.prompt import paper_block
from bot.scoring.replies import field_of, json_objects

BATCH_SIZE = 8  # papers per request: a digest of 20 takes three requests
CONCURRENCY = 4
MAX_CHARS = 320  # a sentence longer than this is cut at a word, with an ellipsis
MAX_ABSTRACT_CHARS = 1500  # the start of an abstract says what was done and shown; the rest costs tokens

# A sentence ends at . ! ? followed by a space and a capital, digit or opening bracket, unless the word before
# the stop is a common abbreviation ("e.g.", "et al.", "Fig.") or a single letter (an initial, "i.e.").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"“])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Ref|Refs|approx|resp|No|Dr|Prof|Inc)|\b[A-Za-z])\.$"
)
# A reply line that is not JSON but still pairs an ID with a sentence: "2503.01234: They …", "- 2503.01234 — …".
_ID_LINE = re.compile(r"^\W*(?:arxiv:?\s*)?(\d{4}\.\d{4,5}(?:v\d+)?)\W*?[\s:–—-]+\s*(.+)$", re.IGNORECASE)
_LABEL = re.compile(r"^(?:TL;?DR|summary)\s*[:：-]\s*", re.IGNORECASE)


@dataclass
class TldrOutcome:
    tldrs: dict[str, str] = field(default_factory=dict)  # arxiv_id → sentence, for every paper asked about
    written: dict[str, str] = field(default_factory=dict)  # the ones the LLM wrote (the caller stores these)
    comments: dict[str, str] = field(default_factory=dict)  # arxiv_id → the comment translated, where it was
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0  # None: price unknown for this model


def system_prompt(language: str, *, comments: bool = False) -> str:
    """The static prefix, one per language (and whether comments are translated): every such request shares it
    (the provider's cache)."""
    text = prompts.load("tldr_prompt") + ("\n\n" + prompts.load("tldr_comments") if comments else "")
    return text.replace("{language}", prompt_name(language))


def papers_message(papers: Sequence[Paper], comments: Mapping[str, str] | None = None) -> str:
    """The papers under "## Papers"; a paper with an English comment to translate has it on a "Comment:" line."""
    blocks = []
    for paper in papers:
        block = paper_block(paper)
        head, _, abstract = block.partition("\nAbstract: ")
        if len(abstract) > MAX_ABSTRACT_CHARS:
            abstract = abstract[:MAX_ABSTRACT_CHARS].rsplit(" ", 1)[0] + " …"
        comment = " ".join((comments or {}).get(paper.arxiv_id, "").split())
        if comment:
            head += f"\nComment: {comment}"
        blocks.append(f"{head}\nAbstract: {abstract}")
    return "## Papers\n\n" + "\n\n".join(blocks)


def trim(text: str, limit: int = MAX_CHARS) -> str:
    """One line, at most ``limit`` characters, cut at a word."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–—-")
    return cut + "…"


def extractive(paper: Paper) -> str:
    """The abstract's first sentence, trimmed: the TL;DR when no LLM writes one."""
    abstract = " ".join(paper.abstract.split())
    for match in _SENTENCE_END.finditer(abstract):
        if not _ABBREVIATION.search(abstract[: match.start()]):
            return trim(abstract[: match.start()])
    return trim(abstract)


def _sentence(value: object) -> str | None:
    """A usable TL;DR from what the reply holds there, or None (not text, empty, a placeholder)."""
    if not isinstance(value, str):
        return None
    text = _LABEL.sub("", " ".join(value.split())).strip(" \"'`*“”")
    if len(text) < 8 or text.lower() in {"one sentence.", "n/a", "none", "..."}:
        return None
    return trim(text)


def _reply_id(raw: object) -> str | None:
    """The arXiv ID a reply gives for a paper, as we store it; None when it gives none."""
    return normalize_arxiv_id(str(raw)) if isinstance(raw, str | int | float) else None


def parse_tldrs(text: str, expected_ids: Sequence[str]) -> dict[str, str]:
    """The TL;DRs a reply holds for the IDs asked about: JSON objects (lines, an array, a wrapper, fenced),
    else "ID: sentence" lines. Anything else is ignored; the first answer for a paper counts."""
    expected = set(expected_ids)
    found: dict[str, str] = {}

    def take(raw_id: object, value: object) -> None:
        arxiv_id = _reply_id(raw_id)
        sentence = _sentence(value)
        if arxiv_id in expected and arxiv_id not in found and sentence is not None:
            found[arxiv_id] = sentence

    for obj in json_objects(text):
        take(field_of(obj, "ARXIVID", "ARXIV_ID", "ID"), field_of(obj, "TLDR", "TL;DR", "TL_DR", "SUMMARY"))
    if len(found) < len(expected):
        for line in text.splitlines():
            match = _ID_LINE.match(line.strip())
            if match and "{" not in line:
                take(match.group(1), match.group(2))
    return found


def parse_comments(text: str, expected_ids: Sequence[str]) -> dict[str, str]:
    """The translated comments a reply's JSON objects hold for the IDs asked about; the first one counts."""
    expected = set(expected_ids)
    found: dict[str, str] = {}
    for obj in json_objects(text):
        arxiv_id, comment = _reply_id(field_of(obj, "ARXIVID", "ARXIV_ID", "ID")), _sentence(field_of(obj, "COMMENT"))
        if arxiv_id in expected and arxiv_id not in found and comment is not None:
            found[arxiv_id] = comment
    return found


async def write_tldrs(
    chat: ChatModel | None,
    papers: Sequence[Paper],
    *,
    language: str,
    price: Price | None,
    batch_size: int = BATCH_SIZE,
    concurrency: int = CONCURRENCY,
    on_written: Callable[[dict[str, Tldr]], Awaitable[None] | None] | None = None,
    comments: Mapping[str, str] | None = None,
) -> TldrOutcome:
    """A TL;DR for every paper: the LLM's in ``language`` where it gives one, else the extractive one.
    ``comments`` (arxiv_id → English comment) are asked for translated in the same requests; ``on_written``
    gets each reply's TL;DRs with their translations. Without ``chat`` (the local scorer, no API key) every
    TL;DR is extractive and free."""
    outcome = TldrOutcome(cost_usd=0.0 if price is not None else None)
    comments = {pid: text for pid, text in (comments or {}).items() if text.strip()}
    if chat is not None and papers:
        system = system_prompt(language, comments=bool(comments))
        semaphore = asyncio.Semaphore(concurrency)

        async def ask(batch: Sequence[Paper], attempt: int = 1) -> None:
            async with semaphore:
                try:
                    completion = await chat.complete(system, papers_message(batch, comments))
                except LLMError:
                    return  # these papers get the extractive sentence; the digest never waits on a TL;DR
            outcome.usage.add(completion.usage)
            if outcome.cost_usd is not None:
                outcome.cost_usd += cost_of(completion.usage, price) or 0.0
            written = parse_tldrs(completion.text, [p.arxiv_id for p in batch])
            translated = parse_comments(completion.text, list(written)) if comments else {}
            outcome.written.update(written)
            outcome.comments.update(translated)
            if written and on_written is not None:
                await settle(on_written({
                    pid: Tldr(text, translated.get(pid), comments.get(pid) if pid in translated else None)
                    for pid, text in written.items()
                }))
            missing = [p for p in batch if p.arxiv_id not in written]
            if missing and attempt == 1:  # a garbled or cut reply: ask once more for what it lacked
                await ask(missing, attempt=2)

        chunks = [papers[i : i + batch_size] for i in range(0, len(papers), batch_size)]
        await asyncio.gather(*(ask(chunk) for chunk in chunks))
    outcome.tldrs = {p.arxiv_id: outcome.written.get(p.arxiv_id) or extractive(p) for p in papers}
    return outcome
