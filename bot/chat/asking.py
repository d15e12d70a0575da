"""Questions about papers in chat: ``/arxiv ask <arXiv ID | rank> <question>`` and mentions of the bot. Which
paper a question is about, which thread the answer goes in, and the answer's wording.

Where the paper's thread is (decided for every platform): a posted paper's message starts it, so an answer about
a posted paper goes under that message (a platform that threads the papers under the day's summary shows it
there). A mention in a day's thread names its paper by a leading rank or arXiv ID, else means the paper last
asked about in that thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.asking.answer import MAX_QUESTION_CHARS, defuse
from bot.asking.service import Answer, AskService, Question
from bot.chat.words import MAX_RANK, clean, whole_number
from bot.digest.budget import month_start, next_month
from bot.digest.text import truncate
from bot.domain.counting import counted
from bot.domain.models import Paper, normalize_arxiv_id
from bot.domain.platform import Caller, Markup, Reply
from bot.domain.pricing import format_cost
from bot.domain.settings import Settings
from bot.domain.statuses import AskOutcome, PostKind
from storage.store import Store

__all__ = ["MAX_QUESTION_CHARS", "Questions", "paper_at_rank", "stats_lines"]
# The paper an arXiv ID names (from the database, else arXiv), or the reply saying why there is none.
FindPaper = Callable[[str, Caller], Awaitable[Paper | Reply]]


@dataclass(frozen=True)
class _Target:
    """The paper a question is about, and where its answer goes."""

    arxiv_id: str
    thread: str  # the message whose thread the answer goes in; "" for where it was asked
    conversation: frozenset[str]  # threads whose earlier questions about the paper carry into this one


class Questions:
    def __init__(self, store: Store, service: AskService, find_paper: FindPaper) -> None:
        self.store = store
        self.service = service
        self.find_paper = find_paper

    # /arxiv ask ------------------------------------------------------------------------------

    async def command(self, caller: Caller, args: tuple[str, ...], m: Markup) -> Reply:
        """``/arxiv ask <arXiv ID | rank> <question>``: the answer goes in the paper's thread when the paper was
        posted in this channel, else where the command was given."""
        if len(args) < 2:
            return Reply(f"Give the paper and your question, e.g. {m.command('ask 3 what dataset do they use?')} "
                         "(a rank from the latest digest here, or an arXiv ID).")
        target = await self.store.aio(self._channel_target, caller, args[0], m)
        if isinstance(target, Reply):
            return target
        return await self._answer(caller, target, " ".join(args[1:]), m, asked_by=caller.user, fallback="")

    # mentions --------------------------------------------------------------------------------

    async def mention(self, caller: Caller, text: str, *, thread: str | None, replied_to: str | None,
                      m: Markup) -> Reply:
        """See CommandCore.ask_mention."""
        here = thread or replied_to or ""
        text = " ".join(clean(text).split())
        if len(text) > MAX_QUESTION_CHARS:
            return Reply(f"That question is too long: {len(text):,} characters, and I take at most "
                         f"{MAX_QUESTION_CHARS:,}. Ask it shorter.", thread=here or None)
        for message in (replied_to, thread):
            posted = (await self.store.aio(self.store.posted_message, caller.platform, caller.channel, message)
                      if message else None)
            if posted is None:
                continue
            day, part, arxiv_id = posted
            if arxiv_id is not None:  # a paper's message, or its thread
                assert message is not None
                where = thread or message
                target = _Target(arxiv_id, where, await self.store.aio(self._conversation, caller, arxiv_id, where))
                return await self._answer(caller, target, text, m, asked_by=None, fallback=here)
            if part.startswith(PostKind.SUMMARY):  # the day's summary: its thread, or a reply to it
                assert message is not None
                return await self._in_day(caller, day, thread or message, text, m)
        # Asked in the channel (or in a thread the bot did not start): the text names the paper first.
        first, _, rest = text.partition(" ")
        if not _names_paper(first):
            return Reply(_how_to_name(m), thread=here or None)
        named = await self.store.aio(self._channel_target, caller, first, m, thread=thread or "")
        if isinstance(named, Reply):
            return Reply(named.text, thread=here or None)
        return await self._answer(caller, named, rest, m, asked_by=None, fallback=here)

    async def _in_day(self, caller: Caller, day: dt.date, thread: str, text: str, m: Markup) -> Reply:
        """A mention in the thread of ``day``'s digest: a leading rank of that day or an arXiv ID names the paper,
        else the one last asked about in this thread."""
        first, _, rest = text.partition(" ")
        arxiv_id: str | None = None
        rank = _rank(first)
        if rank is not None:
            found = await self.store.aio(self.store.day_paper, caller.platform, caller.channel, day, rank)
            if found is None:
                return Reply(f"There is no rank {rank} in the digest of {day:%a %d %B}.", thread=thread)
            arxiv_id, text = found[0], rest
        elif (named := _arxiv_id(first)) is not None:
            arxiv_id, text = named, rest
        else:
            threads = [thread, *await self.store.aio(self.store.day_messages, caller.platform, caller.channel, day)]
            earlier = await self.store.aio(self.store.thread_asks, caller.platform, caller.channel, threads, limit=1)
            if not earlier:
                return Reply(_how_to_name(m), thread=thread)
            arxiv_id = earlier[-1].arxiv_id
        target = _Target(arxiv_id, thread, await self.store.aio(self._conversation, caller, arxiv_id, thread))
        return await self._answer(caller, target, text, m, asked_by=None, fallback=thread)

    # the paper and the answer ----------------------------------------------------------------

    def _channel_target(self, caller: Caller, word: str, m: Markup, *, thread: str = "") -> _Target | Reply:
        """The paper ``word`` names (a rank of the latest digest here, or an arXiv ID); the answer goes in
        ``thread`` when given, else under the paper's message when it was posted here. Blocking: called on the
        store's threads."""
        rank = _rank(word)
        if rank is not None:
            found = paper_at_rank(self.store, caller, rank)
            if isinstance(found, Reply):
                return found
            arxiv_id = found
        else:
            named = _arxiv_id(word)
            if named is None:
                shown = m.escape(defuse(truncate(word, 40)))
                return Reply(f"“{shown}” is not an arXiv ID or a rank from the latest digest: start with one, e.g. "
                             f"{m.command('ask 3 what dataset do they use?')}.")
            arxiv_id = named
        posts = self.store.paper_messages(caller.platform, caller.channel, arxiv_id)
        answer_thread = thread or (posts[0][1] if posts else "")
        return _Target(arxiv_id, answer_thread, self._conversation(caller, arxiv_id, answer_thread))

    def _conversation(self, caller: Caller, arxiv_id: str, thread: str) -> frozenset[str]:
        """The threads a question about the paper in ``thread`` continues: that thread, and where the paper was
        posted in the channel (its message and its day's summary, whichever thread its platform uses)."""
        if not thread:
            return frozenset()
        posted = self.store.paper_messages(caller.platform, caller.channel, arxiv_id)
        return frozenset({thread, *(message for _, message, _ in posted), *(s for _, _, s in posted if s)})

    async def _answer(self, caller: Caller, target: _Target, question: str, m: Markup, *, asked_by: str | None,
                      fallback: str) -> Reply:
        """Ask the service and word its answer. ``asked_by``: the question was not seen by the channel (a command),
        so the answer repeats it; ``fallback``: the thread the question was asked in ("" for the channel), where
        a private reply goes."""
        question = question.strip()
        found = await self.find_paper(target.arxiv_id, caller)
        if isinstance(found, Reply):
            return Reply(found.text, thread=fallback or None)
        if not question:
            return Reply(f"What would you like to know about {m.link(found.url, truncate(found.title, 80))}? Write "
                         "the question after the paper, e.g. “3 what dataset do they use?”.", thread=fallback or None)
        said = await self.service.ask(Question(
            platform=caller.platform, workspace=caller.workspace, channel=caller.channel, user=caller.user,
            arxiv_id=found.arxiv_id, text=question, title=found.title, thread=target.thread,
            conversation=target.conversation,
        ))
        # An answer goes in the paper's (or the question's) thread; a refusal only to the asker, where they asked.
        thread = target.thread if said.public else fallback
        return Reply(_wording(said, found, question, m, asked_by), public=said.public, thread=thread or None)


def _wording(said: Answer, paper: Paper, question: str, m: Markup, asked_by: str | None) -> str:
    """The answer, the sections it used and the paper's link; a command's answer first repeats the question."""
    lines = []
    if asked_by is not None and said.public:
        lines.append(f"{m.mention(asked_by)} asked about {m.link(paper.url, truncate(paper.title, 80))}: "
                     f"“{m.escape(defuse(truncate(question, 300)))}”")
    lines.append(m.escape(defuse(said.text)))
    if said.outcome is AskOutcome.ANSWERED:
        where = m.escape(defuse(", ".join(said.sources)))
        lines.append(f"{'Sources' if said.cited else 'From'}: {where} · {m.link(paper.url, f'arXiv {paper.arxiv_id}')}")
    return "\n".join(lines)


def stats_lines(store: Store, settings: Settings, caller: Caller, now: dt.datetime) -> list[str]:
    """/arxiv stats: the month's questions here and their cost; the month's spend against its budget when set."""
    since = month_start(now)
    here = store.ask_figures(since, platform=caller.platform, channel=caller.channel)
    lines = [f"Questions about papers: {counted(here.questions, 'question')} this month, "
             f"{here.tokens:,} tokens, {format_cost(here.cost_usd)}"]
    if settings.monthly_budget_usd is not None:
        spend = store.spend_since(since)
        floor = " at least" if spend.unknown else ""
        lines.append(f"Month's LLM budget (every channel): spent{floor} {format_cost(spend.total_usd)} of "
                     f"{format_cost(settings.monthly_budget_usd)} (digests {format_cost(spend.runs_usd)}, questions "
                     f"{format_cost(spend.asks_usd)}); it starts again on {next_month(now):%-d %B}")
    return lines


def paper_at_rank(store: Store, caller: Caller, rank: int) -> str | Reply:
    """The arXiv ID ranked ``rank`` in the latest digest posted where ``caller`` is, or the reply saying there is
    none."""
    found = store.paper_at_rank(caller.platform, caller.channel, rank)
    if found is not None:
        return found[1]
    latest = store.latest_posted_day(caller.platform, caller.channel)
    where = f"the digest of {latest}" if latest else "any digest posted in this channel"
    return Reply(f"There is no rank {rank} in {where}. Give an arXiv ID instead.")


def _rank(word: str) -> int | None:
    return whole_number(word.strip("#.:,)"), low=1, high=MAX_RANK)


def _arxiv_id(word: str) -> str | None:
    return normalize_arxiv_id(word.rstrip(".,:;?!)")) if word else None


def _names_paper(word: str) -> bool:
    return _rank(word) is not None or _arxiv_id(word) is not None


def _how_to_name(m: Markup) -> str:
    return ("Which paper? Start your question with its rank in the digest or its arXiv ID, e.g. “3 what dataset do "
            "they use?”, or ask in the paper's thread. " f"{m.command('ask <arXiv ID | rank> <question>')} works "
            "anywhere.")
