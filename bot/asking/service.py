"""Answering a question about a paper: its full text (kept per version), the passages that matter, the LLM's
answer from them, the limits, and a record of every question taken on."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from bot.asking import answer, limits
from bot.asking.passages import Passage, best_passages, passages
from bot.asking.sources import FullTextSource
from bot.domain.asks import Ask
from bot.domain.counting import counted
from bot.domain.errors import FullTextError, LLMError
from bot.domain.fulltext import FullText
from bot.domain.models import Usage
from bot.domain.pricing import cost_of, format_cost, price_for
from bot.domain.settings import Settings
from bot.domain.statuses import AskOutcome
from bot.scoring.llm_scorer import ChatModel
from storage.store import Store

log = logging.getLogger(__name__)
REREAD_AFTER = dt.timedelta(days=7)  # a paper's kept text is read again after this, for a newer version
ANSWER_SECONDS = 50.0  # the LLM's time to answer: the answer is promised within a minute
NO_LLM = "Questions about papers need an LLM: whoever runs the bot can set OPENAI_API_KEY."
NO_SOURCE = "Reading papers' full text is not set up on this bot, so I cannot answer questions about them."


@dataclass(frozen=True)
class Question:
    """A question about one paper, and where it was asked."""

    platform: str
    workspace: str
    channel: str  # where the digest is posted (for a question in a thread, the thread's parent)
    user: str
    arxiv_id: str  # bare, no version
    text: str
    title: str = ""
    thread: str = ""  # the message whose thread the answer goes in; "" for the channel itself
    # Threads whose earlier questions about this paper belong to this conversation (``thread`` is one of them).
    conversation: Collection[str] = ()


@dataclass(frozen=True)
class Answer:
    text: str  # the answer, defused and capped, or why there is none
    outcome: AskOutcome | None  # None: refused before anything was asked (a limit, no LLM): nothing recorded
    sources: tuple[str, ...] = ()  # "§4.2 Experiments", "Table 3": where in the paper the answer comes from
    cited: bool = False  # the sources are the ones the answer named (else: the passages it was given)
    public: bool = True  # False: shown only to the person who asked (refusals and failures)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0
    text_source: str = ""  # "html" or "pdf": where the paper's text came from


class AskService:
    def __init__(self, settings: Settings, store: Store, chat_factory: Callable[[], ChatModel] | None,
                 source: FullTextSource | None) -> None:
        self.settings = settings
        self.store = store
        self.chat_factory = chat_factory
        self.source = source
        self._reading: dict[str, asyncio.Lock] = {}  # one full-text fetch per paper at a time

    async def aclose(self) -> None:
        """Close the full-text source's connections (at shutdown, when no question can come any more)."""
        if self.source is not None:
            await self.source.aclose()

    async def ask(self, question: Question, *, now: dt.datetime | None = None) -> Answer:
        """The answer to ``question``; refusals and failures say why. Raises only on the unexpected. Logs one
        line per question (never its text)."""
        started = time.monotonic()
        said = await self._ask(question, now or dt.datetime.now(dt.UTC))
        _log_ask(question, said, time.monotonic() - started)
        return said

    async def _ask(self, question: Question, now: dt.datetime) -> Answer:
        if self.chat_factory is None:
            return Answer(NO_LLM, None, public=False)
        refused = await self.store.aio(limits.refusal, self.settings, self.store, question.platform,
                                       question.workspace, question.channel, question.user, now)
        if refused is not None:
            return Answer(refused, None, public=False)
        try:
            text = await self.full_text(question.arxiv_id, now)
        except FullTextError as exc:
            return await self._record(question, Answer(str(exc), AskOutcome.FAILED, public=False))
        if text is None and self.source is None:
            return Answer(NO_SOURCE, None, public=False)  # the bot is set up without one: nothing was asked
        if text is None:
            return await self._record(question, Answer(
                f"arXiv has no readable text of {question.arxiv_id} (neither an HTML rendering nor a PDF), so I "
                "cannot read it to answer.", AskOutcome.NO_TEXT))
        # Cutting a long paper and ranking its passages takes up to a few hundred ms: off the event loop.
        cut, picked = await asyncio.to_thread(_pick, text, question.text)
        if not picked:
            return await self._record(question, Answer(
                f"I searched the paper's text ({counted(len(cut), 'passage')}) and found nothing about that: it "
                "does not seem to cover it. Try other words, or ask about a section, table or figure.",
                AskOutcome.NOT_COVERED, text_source=text.source,
            ))
        return await self._record(question, await self._answer(question, text, picked))

    async def _answer(self, question: Question, text: FullText, picked: list[Passage]) -> Answer:
        assert self.chat_factory is not None
        history = await self.store.aio(self.store.thread_asks, question.platform, question.channel,
                                       question.conversation, arxiv_id=question.arxiv_id, limit=2 * answer.MAX_HISTORY)
        message = answer.user_message(text.title or question.title, question.arxiv_id, picked, question.text, history)
        chat = self.chat_factory()
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                completion = await chat.complete(answer.system_prompt(), message, max_tokens=answer.MAX_ANSWER_TOKENS)
        except TimeoutError:
            return Answer(f"The LLM did not answer within {ANSWER_SECONDS:.0f} seconds; try again in a minute.",
                          AskOutcome.FAILED, public=False)
        except LLMError as exc:
            return Answer(str(exc), AskOutcome.FAILED, public=False)
        finally:
            await chat.aclose()
        cost = cost_of(completion.usage, price_for(chat.model, self.settings.prices))
        reading = answer.read_reply(completion.text, picked)
        if not reading.text:
            return Answer("The LLM's reply held no answer; try asking again.", AskOutcome.FAILED, public=False,
                          usage=completion.usage, cost_usd=cost)
        return Answer(reading.text, AskOutcome.ANSWERED, answer.source_names(reading.sources), reading.cited,
                      usage=completion.usage, cost_usd=cost, text_source=text.source)

    async def full_text(self, arxiv_id: str, now: dt.datetime | None = None) -> FullText | None:
        """The paper's text: the newest version kept, else read from arXiv (once, however many ask at once) and
        kept. A text kept longer than REREAD_AFTER is read again, for a newer version; when arXiv cannot be
        reached then, the kept one serves. None when arXiv has neither HTML nor PDF, or no source is set up."""
        now = now or dt.datetime.now(dt.UTC)
        kept = await self.store.aio(self.store.full_text, arxiv_id)
        if self.source is None or (kept is not None and not await self._stale(arxiv_id, now)):
            return kept
        async with self._reading.setdefault(arxiv_id, asyncio.Lock()):
            kept = await self.store.aio(self.store.full_text, arxiv_id)  # read by whoever held the lock before us
            if kept is not None and not await self._stale(arxiv_id, now):
                return kept
            try:
                fetched = await self.source.full_text(arxiv_id)
            except FullTextError as exc:
                if kept is None:
                    raise
                log.info("Answering from the kept text of %s v%d: arXiv could not be read again (%s)",
                         arxiv_id, kept.version, exc)
                return kept
            if fetched is None or not fetched.blocks:
                return kept
            # A version kept already only counts as read now.
            await self.store.aio(self.store.save_full_text, fetched, read_at=now)
            return await self.store.aio(self.store.full_text, arxiv_id)

    async def _stale(self, arxiv_id: str, now: dt.datetime) -> bool:
        checked = await self.store.aio(self.store.full_text_checked, arxiv_id)
        return checked is None or now - checked > REREAD_AFTER

    async def _record(self, question: Question, said: Answer) -> Answer:
        await self.store.aio(self.store.record_ask, Ask(
            platform=question.platform, workspace=question.workspace, channel=question.channel,
            thread=question.thread, user=question.user, arxiv_id=question.arxiv_id,
            question=question.text[: answer.MAX_QUESTION_CHARS], answer=said.text if said.public else "",
            sections=said.sources, usage=said.usage, cost_usd=said.cost_usd,
            outcome=said.outcome or AskOutcome.FAILED,
        ))
        return said


def _log_ask(question: Question, said: Answer, seconds: float) -> None:
    """One line per question; the fields are also attached for ``--log-json``."""
    outcome = said.outcome or "refused"
    usage = said.usage
    fields: dict[str, object] = {
        "event": "ask", "platform": question.platform, "channel": question.channel, "arxiv_id": question.arxiv_id,
        "outcome": str(outcome), "text_source": said.text_source or None, "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens, "completion_tokens": usage.completion_tokens,
        "cost_usd": said.cost_usd, "seconds": round(seconds, 2),
    }
    log.info("ask %s:%s %s %s: %d tokens, %s, %.1f s", question.platform, question.channel, question.arxiv_id,
             outcome, usage.prompt_tokens + usage.completion_tokens, format_cost(said.cost_usd), seconds, extra=fields)


def _pick(text: FullText, question: str) -> tuple[list[Passage], list[Passage]]:
    """The paper's passages, and the best of them for ``question``."""
    cut = passages(text)
    return cut, [match.passage for match in best_passages(cut, question)]
