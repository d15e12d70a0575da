"""The ``/arxiv …`` commands, once for every chat platform.

Adapters translate a platform's slash command, modal, button or reaction into a call here and
render the :class:`Reply`; who may change what, and every answer's wording, are decided here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import prompts
from bot.asking.service import AskService
from bot.asking.sources import FullTextSource
from bot.chat.asking import MAX_QUESTION_CHARS, Questions, paper_at_rank, stats_lines
from bot.chat.lookups import LookupLane
from bot.chat.words import MAX_RANK, clean, whole_number
from bot.digest import preview
from bot.digest.service import DigestService
from bot.digest.text import per_thousand, truncate
from bot.digest.weekly import channel_zone, weekly_time
from bot.domain import authors, schedule, weekly
from bot.domain.bibtex import bibtex_entries, bibtex_entry
from bot.domain.counting import counted
from bot.domain.criteria import CriteriaDraft, validate_criteria
from bot.domain.errors import CriteriaError, DigestError, report_failure
from bot.domain.feedback import KINDS, canonical
from bot.domain.languages import language_name, parse_language
from bot.domain.models import Paper, Profile, Subscription, normalize_arxiv_id
from bot.domain.platform import Action, Caller, Markup, Reply
from bot.domain.pricing import format_cost
from bot.domain.taxonomy import validate_categories

# Direct replies (Reply.direct): the caller's private confirmation, and the lead when a DM was refused.
DIRECT_SENT = "Sent you a direct message."
DIRECT_FAILED = "I could not send you a direct message: {fix}. Here it is instead:"
log = logging.getLogger(__name__)
MAX_SUGGESTION = 1_000_000
MAX_CATEGORY_CHARS = 40  # the longest arXiv category name has 18
# Longer command text is refused whole, before it is split: no command takes more (see Command.max_chars).
MAX_COMMAND_CHARS = 1_000
MAX_FOLLOWED = 100  # authors a channel may follow: each is matched against every paper of every day
MAX_SUGGESTED = 8  # authors `follow` alone suggests
MAX_EXPANSIONS = 5  # full names offered for an ambiguous "K. He"
VOTE_EMOJI = {"positive": "👍", "negative": "👎"}
EXPORT_DAYS, MAX_EXPORT_DAYS = 30, 366  # /arxiv export liked [days]
# The buttons under a criteria change (see CommandCore.press): each names the command it runs.
PREVIEW, APPLY, DISCARD = (Action(f"criteria {word.lower()}", word) for word in ("Preview", "Apply", "Discard"))
ACTIONS = {action.id for action in (PREVIEW, APPLY, DISCARD)}
NO_DRAFT = "No criteria change is waiting here; {edit} makes one."


Args = tuple[str, ...]
Sub = Subscription | None  # None only for the commands that need no subscription
# A command's handler: a CommandCore method taking (caller, subscription, args, markup).
Handler = Callable[["CommandCore", Caller, Sub, Args, Markup], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """One ``/arxiv`` command: its handler and all that is said about it (help, limits, who may run it)."""

    name: str  # one or two words: "criteria edit"
    summary: str
    handler: Handler
    usage: str
    admin: bool = False  # changes the channel's settings: admins only
    read_only_when_bare: bool = False  # an admin command that only shows the setting when given no arguments
    subscribed: bool = True  # needs a subscribed channel
    # Characters of arguments accepted, checked before anything else runs on them (criteria are written in the
    # editor and have their own limit, DIGEST_MAX_CRITERIA_CHARS).
    max_chars: int = 100
    slow: bool = False  # may take longer than a chat platform waits for an answer (3 s): acknowledge first


# Every command by name, in the order their handlers are defined: the order of help and of the platforms' menus.
COMMANDS: dict[str, Command] = {}
_ALIASES: dict[str, str] = {}  # other spellings parse() accepts: "criteria show" → "criteria"


def command(
    name: str, summary: str, *, usage: str | None = None, aliases: tuple[str, ...] = (), admin: bool = False,
    setting: bool = False, subscribed: bool = True, max_chars: int = 100, slow: bool = False,
) -> Callable[[Handler], Handler]:
    """Registers the decorated CommandCore method as the command ``name``. A ``setting`` of the channel is
    shown to anyone who gives no arguments and changed by admins only."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(
            name, summary, handler, usage or name, admin=admin or setting, read_only_when_bare=setting,
            subscribed=subscribed, max_chars=max_chars, slow=slow,
        )
        _ALIASES.update(dict.fromkeys(aliases, name))
        return handler

    return register


@dataclass(frozen=True)
class Invocation:
    name: str
    args: Args = ()
    oversize: int = 0  # the text's length when parse() refused it as too long (args are then empty)

    @property
    def size(self) -> int:
        """Characters of the arguments, as checked against the command's limit."""
        return self.oversize or len(" ".join(self.args))

    @property
    def slow(self) -> bool:
        """May take longer than a chat platform waits for an answer (3 s): acknowledge first."""
        spec = COMMANDS.get(self.name)
        return spec is not None and spec.slow


def parse(text: str) -> Invocation:
    """``"criteria  Edit"`` → Invocation("criteria edit"); ``"threshold 8 7"`` → ("threshold", ("8", "7")).

    Text over MAX_COMMAND_CHARS is not split: only its command is read, and execute() refuses it.
    """
    oversize = len(text) if len(text) > MAX_COMMAND_CHARS else 0
    words = [word for word in map(clean, text[:MAX_COMMAND_CHARS].split()) if word]
    if not words:
        return Invocation("help", oversize=oversize)
    name, args = words[0].lower(), tuple(words[1:])
    if args:
        two_words = f"{name} {args[0].lower()}"
        two_words = _ALIASES.get(two_words, two_words)
        if two_words in COMMANDS:
            name, args = two_words, args[1:]
    return Invocation(name, () if oversize else args, oversize=oversize)


class CommandCore:
    def __init__(self, service: DigestService, full_text: FullTextSource | None = None) -> None:
        self.service = service
        self.store = service.store
        self.settings = service.settings
        self._lookups: LookupLane | None = None
        # Questions about papers: their full text from ``full_text`` (None: not set up, and questions say so).
        self.questions = Questions(
            service.store, AskService(service.settings, service.store, service.chat_factory, full_text),
            lambda raw, who: self._find_paper(raw, who, "a question about a paper"),
        )

    @property
    def lookups(self) -> LookupLane:
        """arXiv look-ups for people, on threads of their own (made on first use: not every core needs them)."""
        if self._lookups is None:
            self._lookups = LookupLane(lambda ids: self.service.lookup.lookup_sync(ids))
        return self._lookups

    def close(self) -> None:
        if self._lookups is not None:
            self._lookups.close()

    async def aclose(self) -> None:
        """Close what questions about papers read arXiv through, and the digest service's clients; then close()."""
        await self.questions.service.aclose()
        await self.service.aclose()
        self.close()

    # entry points --------------------------------------------------------------------------

    async def execute(self, caller: Caller, invocation: Invocation, markup: Markup) -> Reply:
        """The answer to a command. Never raises: an unexpected failure is logged under a reference that the
        answer gives instead of the exception's text."""
        spec = COMMANDS.get(invocation.name)
        if spec is None:
            shown = markup.code(markup.escape(truncate(clean(invocation.name), 40)))
            return Reply(f"Unknown command {shown}.\n\n" + self._help(markup))
        if invocation.size > spec.max_chars:
            return Reply(
                f"That is too long for {markup.command(invocation.name)}: {invocation.size:,} characters, and it "
                f"takes at most {spec.max_chars:,}, e.g. {markup.command(spec.usage)}. Nothing was changed."
            )
        args = tuple(word for word in map(clean, invocation.args) if word)
        try:
            subscription = await self.store.aio(self.store.get_subscription, caller.platform, caller.channel)
            if spec.subscribed and (subscription is None or not subscription.active):
                return Reply(f"This channel is not subscribed. {markup.command('subscribe')} first.")
            changes = spec.admin and not (spec.read_only_when_bare and not args)
            if changes and not await self.may_change(caller):
                return self._refusal(caller)
            return await spec.handler(self, caller, subscription, args, markup)
        except DigestError as exc:
            return Reply(str(exc))
        except Exception as exc:
            return Reply(report_failure(log, f"/arxiv {invocation.name} in {caller.platform} {caller.channel}", exc))

    async def may_change(self, caller: Caller) -> bool:
        return caller.user in self.settings.admins or await caller.is_admin()

    async def save_criteria(self, caller: Caller, text: str, markup: Markup) -> Reply:
        """The editor's submission. Raises CriteriaError (with the limit) for text to show in the editor."""
        subscription = await self._subscription(caller)
        if not await self.may_change(caller):
            raise CriteriaError(self._refusal(caller).text)
        cleaned = validate_criteria(text, self.settings.max_criteria_chars)
        profile = await self.store.aio(self.store.profile_by_id, subscription.profile_id)
        if cleaned == profile.criteria:
            return Reply("The criteria are unchanged.")
        return await self.store.aio(self._draft, caller, profile, CriteriaDraft(cleaned, caller.user, None), markup)

    async def press(self, caller: Caller, action: str, markup: Markup) -> Reply:
        """A button of a reply's :class:`Action`: the command it names, with the same permission checks.
        Never raises, like execute()."""
        if action not in ACTIONS:  # buttons are ours, but a request can be crafted with any value
            return Reply("That button is not one of this bot's, so nothing was done.")
        return await self.execute(caller, Invocation(action), markup)

    def _draft(self, caller: Caller, profile: Profile, draft: CriteriaDraft, m: Markup) -> Reply:
        """Keep ``draft`` as the channel's pending change and say what previewing it would cost (blocking: called
        on the store's threads)."""
        self.store.set_draft(profile.id, draft)
        lead = (f"Your criteria change ({len(draft.text):,} characters) waits for you: nothing changes until you "
                "apply it.")
        day = self.store.latest_posted_day(caller.platform, caller.channel)
        if day is None:
            return Reply(f"{lead} No digest has been posted here yet, so there is no day to preview it on.",
                         actions=(APPLY, DISCARD))
        guess = preview.estimate(self.store, self.settings, profile, day, draft.text)
        if guess.missing == 0:
            cost = "every paper is scored under these criteria already, so it costs nothing"
        elif guess.approximate:
            cost = f"the local scorer scores {counted(guess.missing, 'paper')} for free"
        else:
            cost = (f"{counted(guess.missing, 'paper')} of {guess.papers:,} not scored under these criteria yet, "
                    f"about {format_cost(guess.cost_usd)}")
        return Reply(
            f"{lead} Previewing re-ranks the digest of {day:%a %d %B} under it: {cost}. "
            f"({m.command('criteria preview')}, {m.command('criteria apply')} and "
            f"{m.command('criteria discard')} do the same as the buttons.)",
            actions=(PREVIEW, APPLY, DISCARD),
        )

    async def abstract(self, raw: str, caller: Caller | None = None) -> Reply:
        """A paper by arXiv ID: from our database, else from the arXiv API in the look-up lane, where ``caller``
        (when known) may have only a few look-ups at once. Never raises, like execute()."""
        found = await self._find_paper(raw, caller, "an abstract look-up")
        return found if isinstance(found, Reply) else Reply(paper=found)

    async def ask_mention(self, caller: Caller, text: str, *, thread: str | None, replied_to: str | None,
                          markup: Markup, event_id: str | None = None) -> Reply | None:
        """A question to the bot by mention: ``text`` without the bot's own mention, written in ``thread`` (None:
        in the channel itself), replying to message ``replied_to`` (None: to none). The paper is the posted paper
        message replied to or threaded under; in a day's thread, a leading rank or arXiv ID, else the paper last
        asked about there; in the channel, a leading rank or arXiv ID. The answer is public in the paper's (or the
        question's) thread; refusals are private. None: ``event_id`` (the platform's ID of the event or
        message) was answered already, e.g. a retried delivery. Never raises, like execute()."""
        seen = f"{caller.platform}:{event_id}"
        if event_id is not None and not await self.store.aio(self.store.first_sighting, seen):
            return None
        try:
            return await self.questions.mention(caller, text, thread=thread, replied_to=replied_to, m=markup)
        except DigestError as exc:
            return Reply(str(exc), thread=thread or replied_to)
        except Exception as exc:
            where = f"a question by mention in {caller.platform} {caller.channel}"
            return Reply(report_failure(log, where, exc), thread=thread or replied_to)

    async def _find_paper(self, raw: str, caller: Caller | None, what: str) -> Paper | Reply:
        """The paper an arXiv ID names (see abstract()), or the reply saying why there is none. Never raises."""
        try:
            arxiv_id = normalize_arxiv_id(raw)
            if arxiv_id is None:
                shown = truncate(" ".join(clean(raw).split()), 60)
                return Reply(f"“{shown}” is not an arXiv ID (expected e.g. 2503.03213, or a rank from the latest "
                             "digest).")
            person = _person(caller) if caller else None
            paper = await self.service.paper(arxiv_id, fetch=lambda pid: self.lookups.lookup(pid, person=person))
            if paper is None:
                return Reply(f"arXiv has no paper {arxiv_id}. Check the ID.")
            return paper
        except DigestError as exc:
            return Reply(str(exc))
        except Exception as exc:
            return Reply(report_failure(log, what, exc))

    async def vote(self, caller: Caller, arxiv_id: str, kind: str) -> Reply:
        """A 👍/👎 button: pressing it again takes the vote back. Never raises, like execute(): an exception
        escaping into a platform's handler after it acknowledged the click can turn that ack into an error."""
        try:
            return await self.store.aio(self._vote, caller, arxiv_id, kind)
        except Exception as exc:
            return Reply(report_failure(log, f"a {kind} vote in {caller.platform} {caller.channel}", exc))

    def _vote(self, caller: Caller, value: str, kind: str) -> Reply:
        emoji = VOTE_EMOJI[kind]
        arxiv_id = normalize_arxiv_id(value)
        if arxiv_id is None:  # buttons are ours, but a request can be crafted with any value
            return Reply("That button does not name an arXiv paper, so nothing was counted.")
        paper = self.store.get_paper(arxiv_id)
        title = f" for “{truncate(paper.title, 80)}”" if paper else ""
        if self.store.add_feedback(
            caller.platform, caller.channel, caller.user, arxiv_id, kind=kind, emoji=emoji, source="button"
        ):
            return Reply(f"Noted: {emoji}{title}. Press it again to take it back.")
        self.store.remove_feedback(caller.platform, caller.channel, caller.user, arxiv_id, emoji)
        return Reply(f"Took back your {emoji}{title}.")

    async def reaction(
        self, platform: str, channel: str, message_id: str, user: str, emoji: str, *, added: bool,
        event_id: str | None = None,
    ) -> str | None:
        """Store a reaction on a paper message; returns its kind, or None when it means nothing to us
        (another message, an emoji outside the map, or an event already handled)."""
        return await self.store.aio(self._reaction, platform, channel, message_id, user, emoji, added=added,
                                    event_id=event_id)

    def _reaction(
        self, platform: str, channel: str, message_id: str, user: str, emoji: str, *, added: bool,
        event_id: str | None,
    ) -> str | None:
        kind = self.settings.reactions.get(canonical(emoji))
        if kind is None:
            return None
        arxiv_id = self.store.paper_of_message(platform, channel, message_id)
        if arxiv_id is None:
            return None
        if event_id is not None and not self.store.first_sighting(f"{platform}:{event_id}"):
            return None
        if added:
            self.store.add_feedback(
                platform, channel, user, arxiv_id, kind=kind, emoji=canonical(emoji), source="reaction"
            )
        else:
            self.store.remove_feedback(platform, channel, user, arxiv_id, canonical(emoji))
        return kind

    # helpers -------------------------------------------------------------------------------

    async def _subscription(self, caller: Caller) -> Subscription:
        subscription = await self.store.aio(self.store.get_subscription, caller.platform, caller.channel)
        if subscription is None or not subscription.active:
            raise CriteriaError("This channel is not subscribed any more; /arxiv subscribe first.")
        return subscription

    def _refusal(self, caller: Caller) -> Reply:
        return Reply(
            f"Only {caller.admin_rule} or people listed in DIGEST_ADMINS can change this channel's digest "
            "settings. Ask one of them; everyone can read them with the same command without arguments."
        )

    def _help(self, markup: Markup) -> str:
        lines = [markup.bold("arXiv digest commands")]
        for spec in COMMANDS.values():
            lines.append(f"{markup.command(spec.usage)}: {spec.summary}" + (" (admins)" if spec.admin else ""))
        reactions = "  ".join(
            f"{' '.join(e for e, k in self.settings.reactions.items() if k == kind)} {kind}"
            for kind in KINDS
            if kind in self.settings.reactions.values()
        )
        lines.append(f"React on a paper to teach the digest what you like: {reactions}.")
        return "\n".join(lines)

    async def _profile(self, subscription: Subscription | None) -> Profile:
        assert subscription is not None
        return await self.store.aio(self.store.profile_by_id, subscription.profile_id)

    def _schedule_text(self, subscription: Subscription) -> str:
        default_time, default_zone = self.settings.schedule.split()
        return f"{subscription.schedule_time or default_time} {subscription.timezone or default_zone}"

    def _settings_text(self, subscription: Subscription, profile: Profile, markup: Markup) -> str:
        return (
            f"categories {markup.code(' '.join(profile.categories))} · posted when R ≥ {profile.min_relevance} "
            f"and N ≥ {profile.min_novelty} · daily at {self._schedule_text(subscription)} · criteria "
            f"v{profile.criteria_version}"
        )

    # commands ------------------------------------------------------------------------------
    # Each is registered in COMMANDS by @command, which execute() dispatches through.

    @command("help", "this list", subscribed=False)
    async def _cmd_help(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        return Reply(self._help(m))

    @command("subscribe", "post the daily digest in this channel", subscribed=False)
    async def _cmd_subscribe(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        if sub is not None and sub.active:
            now = self._settings_text(sub, await self._profile(sub), m)
            return Reply(f"This channel already gets the digest: {now}.")
        profile = await self.store.aio(
            self.store.ensure_profile, f"{caller.platform}:{caller.channel}",
            categories=self.settings.categories,
            min_relevance=self.settings.min_relevance,
            min_novelty=self.settings.min_novelty,
            top_n=self.settings.top_n,
            default_criteria=prompts.default_criteria(),
        )
        sub = await self.store.aio(self.store.subscribe, caller.platform, caller.workspace, caller.channel, caller.user,
                                   profile.id)
        await self.service.subscriptions_changed()
        now = self._settings_text(sub, profile, m)
        return Reply(
            f"{m.mention(caller.user)} subscribed this channel to the arXiv digest: {now}. "
            f"See {m.command('criteria')} for what papers are scored against and {m.command('help')} "
            "for the rest.",
            public=True,
        )

    @command("unsubscribe", "stop posting here (settings are kept)")
    async def _cmd_unsubscribe(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        if caller.user != sub.created_by and not await self.may_change(caller):
            return Reply(
                f"Only the person who subscribed this channel, {caller.admin_rule} or people listed in "
                "DIGEST_ADMINS can unsubscribe it."
            )
        await self.store.aio(self.store.update_subscription, caller.platform, caller.channel, active=False)
        await self.service.subscriptions_changed()
        return Reply(
            f"{m.mention(caller.user)} unsubscribed this channel: no more digests here. Its criteria and settings "
            f"are kept; {m.command('subscribe')} brings them back.",
            public=True,
        )

    @command("criteria", "show the criteria papers are scored against", aliases=("criteria show",))
    async def _cmd_criteria(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        return Reply(
            f"{m.bold(f'Criteria v{profile.criteria_version}')} ({len(profile.criteria):,} of "
            f"{self.settings.max_criteria_chars:,} characters; change them with "
            f"{m.command('criteria edit')}):\n{m.block(profile.criteria)}"
        )

    @command("criteria edit", "change the criteria in an editor", admin=True)
    async def _cmd_criteria_edit(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        return Reply(editor=(await self._profile(sub)).criteria)

    @command("criteria history", "every version of the criteria")
    async def _cmd_criteria_history(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        lines = [m.bold("Criteria versions, newest first")]
        for row in await self.store.aio(self.store.criteria_history, profile.id):
            state = " · undone" if row.reverted else (" · in force" if row.version == profile.criteria_version else "")
            who = "default" if row.author in ("", "default") else m.mention(row.author)
            first = next((line.strip() for line in row.text.splitlines() if line.strip()), "")
            lines.append(
                f"v{row.version} · {row.created_at:%Y-%m-%d %H:%M} UTC · {who}{state} · "
                f"{len(row.text):,} chars · {m.escape(truncate(first, 80))}"
            )
        return Reply("\n".join(lines))

    @command("criteria undo", "go back to the previous criteria", admin=True)
    async def _cmd_criteria_undo(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        version = await self.store.aio(self.store.undo_criteria, (await self._profile(sub)).id)
        if version is None:
            return Reply("Nothing to undo: these are the first criteria this channel has had.")
        return Reply(f"{m.mention(caller.user)} undid the latest criteria change: v{version} is back in force.",
                     public=True)

    @command("criteria preview", "the latest digest re-ranked under the criteria change waiting", admin=True,
             slow=True)
    async def _cmd_criteria_preview(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        draft = await self.store.aio(self.store.get_draft, profile.id)
        if draft is None:
            return Reply(NO_DRAFT.format(edit=m.command("criteria edit")))
        day = await self.store.aio(self.store.latest_posted_day, caller.platform, caller.channel)
        if day is None:
            return Reply("No digest has been posted here yet, so there is no day to preview the change on.",
                         actions=(APPLY, DISCARD))
        shown = await preview.preview(self.store, self.settings, profile, day, draft.text, self.service.chat_factory)
        lines = [m.bold(f"The digest of {day:%a %d %B} under the new criteria")]
        for move in shown.moves:
            title = m.link(move.paper.url, truncate(move.paper.title, 90))
            if move.before is None:
                lines.append(f"＋ enters at #{move.after}: {title}")
            elif move.after is None:
                lines.append(f"－ leaves (was #{move.before}): {title}")
            else:
                arrow = "↑" if move.after < move.before else "↓"
                lines.append(f"{arrow} #{move.before} → #{move.after}: {title}")
        if not shown.moves:
            lines.append("No paper enters, leaves or moves.")
        figures = [f"{counted(shown.kept, 'paper')} keep their place", f"scoring cost {format_cost(shown.cost_usd)}"]
        if shown.unscored:
            figures.append(f"{counted(shown.unscored, 'paper')} could not be scored and are left out")
        lines.append("; ".join(figures) + ". Apply makes these the criteria; nothing is posted.")
        return Reply("\n".join(lines), actions=(APPLY, DISCARD))

    @command("criteria apply", "make the criteria change waiting the criteria (undo goes back)", admin=True)
    async def _cmd_criteria_apply(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        draft = await self.store.aio(self.store.get_draft, profile.id)
        if draft is None:
            return Reply(NO_DRAFT.format(edit=m.command("criteria edit")))
        await self.store.aio(self.store.clear_draft, profile.id)
        if draft.text == profile.criteria:
            return Reply("The criteria are unchanged.")
        version = await self.store.aio(self.store.set_criteria, profile.id, draft.text, author=draft.author)
        what = "changed the criteria"
        if draft.suggestion is not None:
            await self.store.aio(self.store.mark_suggestion_applied, draft.suggestion, version)
            what = f"applied suggestion {draft.suggestion}"
        return Reply(
            f"{m.mention(caller.user)} {what} (v{version}, {len(draft.text):,} characters). The next digest "
            f"scores papers against them; {m.command('criteria undo')} goes back.",
            public=True,
        )

    @command("criteria discard", "forget the criteria change waiting", admin=True)
    async def _cmd_criteria_discard(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        if not await self.store.aio(self.store.clear_draft, profile.id):
            return Reply(NO_DRAFT.format(edit=m.command("criteria edit")))
        return Reply(f"Discarded the criteria change: the criteria stay v{profile.criteria_version}.")

    @command("threshold", "minimum scores (1–10) for a paper to be posted", usage="threshold <relevance> <novelty>",
             setting=True, max_chars=20)
    async def _cmd_threshold(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        if not args:
            return Reply(_thresholds_now(profile, m))
        numbers = [whole_number(a, low=1, high=10) for a in args]
        if len(numbers) != 2 or None in numbers:
            return Reply(f"Give two whole numbers from 1 to 10, e.g. {m.command('threshold 8 6')}.")
        relevance, novelty = (n for n in numbers if n is not None)
        await self.store.aio(self.store.update_profile, profile.id, min_relevance=relevance, min_novelty=novelty)
        return Reply(
            f"{m.mention(caller.user)} set the thresholds: papers are posted when relevance ≥ {relevance} and "
            f"novelty ≥ {novelty} (was {profile.min_relevance} and {profile.min_novelty}).",
            public=True,
        )

    @command("categories", "the arXiv categories to read", usage="categories cs.LG cs.CL …", setting=True,
             max_chars=500)
    async def _cmd_categories(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        if not args:
            return Reply(_categories_now(profile, m))
        words = " ".join(args).replace(",", " ").split()
        if any(len(word) > MAX_CATEGORY_CHARS for word in words):  # not worth a "did you mean", nor an echo
            return Reply(f"arXiv category names are short, like cs.LG or cond-mat.stat-mech; give them separated by "
                         f"spaces, e.g. {m.command('categories cs.LG cs.CL')}. Nothing was changed.")
        try:
            categories = validate_categories(words)
        except ValueError as exc:
            return Reply(f"{exc}. Nothing was changed.")
        await self.store.aio(self.store.update_profile, profile.id, categories=categories)
        return Reply(
            f"{m.mention(caller.user)} set the categories to {m.code(' '.join(categories))} "
            f"(was {m.code(' '.join(profile.categories))}). The next digest reads them.",
            public=True,
        )

    @command("schedule", "when the digest is posted", usage="schedule HH:MM [Area/City]", setting=True, max_chars=80)
    async def _cmd_schedule(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        if not args:
            return Reply(
                f"The digest is posted daily at {self._schedule_text(sub)}, on days arXiv announces papers. "
                f"Change with {m.command('schedule HH:MM [Area/City]')}, "
                f"e.g. {m.command('schedule 09:00 Europe/Berlin')}."
            )
        current_zone = sub.timezone or self.settings.schedule.split()[1]
        try:
            time, zone = schedule.parse_schedule(" ".join(args), default_zone=current_zone)
        except ValueError as exc:
            return Reply(f"{exc} Nothing was changed.")
        sub = await self.store.aio(self.store.update_subscription, caller.platform, caller.channel,
                                   schedule_time=f"{time:%H:%M}", timezone=zone)
        await self.service.subscriptions_changed()
        return Reply(
            f"{m.mention(caller.user)} set the schedule: the digest is posted daily at {self._schedule_text(sub)}, "
            "on days arXiv announces papers (Sunday to Thursday evenings, US Eastern).",
            public=True,
        )

    @command("empty-days", "one short line on days without papers", usage="empty-days on|off", setting=True)
    async def _cmd_empty_days(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        if not args:
            state = "on" if sub.post_empty_days else "off"
            return Reply(f"Empty days are {state}: " + (
                "a short line is posted on days without papers." if sub.post_empty_days
                else "nothing is posted on days without papers."
            ))
        choice = args[0].lower()
        if choice not in {"on", "off"}:
            return Reply(f"Use {m.command('empty-days on')} or {m.command('empty-days off')}.")
        await self.store.aio(self.store.update_subscription, caller.platform, caller.channel,
                             post_empty_days=choice == "on")
        what = "a short line is posted" if choice == "on" else "nothing is posted"
        return Reply(f"{m.mention(caller.user)} turned empty days {choice}: {what} on days without papers.",
                     public=True)

    @command("language", "the language TL;DRs and comments are written in", usage="language <code>", setting=True,
             max_chars=60)
    async def _cmd_language(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        if not args:
            return Reply(
                f"TL;DRs and comments are written in {language_name(profile.language)}; "
                f"abstracts stay as arXiv has them. Change with {m.command('language <code>')}, "
                f"e.g. {m.command('language de')} or {m.command('language ja')}."
            )
        try:
            tag = parse_language(" ".join(args))
        except ValueError as exc:
            return Reply(f"{exc}. Nothing was changed.")
        if tag == profile.language:
            return Reply(f"TL;DRs and comments are already written in {language_name(tag)}.")
        await self.store.aio(self.store.update_profile, profile.id, language=tag)
        return Reply(
            f"{m.mention(caller.user)} set the language to {language_name(tag)} "
            f"(was {language_name(profile.language)}): TL;DRs and comments from the next digest on are "
            "written in it; "
            "abstracts stay as arXiv has them.",
            public=True,
        )

    @command("abstract", "a paper's full abstract", usage="abstract <arXiv ID | rank>", subscribed=False, slow=True)
    async def _cmd_abstract(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        target = await self._paper_target(caller, args, m, "abstract")
        return target if isinstance(target, Reply) else await self.abstract(target, caller)

    async def _paper_target(self, caller: Caller, args: Args, m: Markup, name: str) -> str | Reply:
        """The arXiv ID that ``<arXiv ID | rank>`` names (a rank is the latest digest's here), or why none."""
        if len(args) != 1:
            return Reply(f"Give one arXiv ID or a rank from the latest digest, e.g. {m.command(f'{name} 3')} "
                         f"or {m.command(f'{name} 2503.03213')}.")
        rank = whole_number(args[0], low=0, high=MAX_RANK)
        return args[0] if rank is None else await self.store.aio(paper_at_rank, self.store, caller, rank)

    @command("bibtex", "a paper's BibTeX entry", usage="bibtex <arXiv ID | rank>", subscribed=False, slow=True)
    async def _cmd_bibtex(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        target = await self._paper_target(caller, args, m, "bibtex")
        if isinstance(target, Reply):
            return target
        found = await self._find_paper(target, caller, "a BibTeX look-up")
        if isinstance(found, Reply):
            return found
        if not found.primary_category:  # from the database, which keeps no DOI or journal: ask arXiv for them
            found = await self._with_publication(found, caller)
        return Reply(f"BibTeX for {m.link(found.url, found.arxiv_id)}:\n{m.block(bibtex_entry(found).rstrip())}")

    @command("ask", "ask a paper a question; the answer goes in its thread", usage="ask <arXiv ID | rank> <question>",
             subscribed=False, max_chars=MAX_QUESTION_CHARS, slow=True)
    async def _cmd_ask(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        return await self.questions.command(caller, args, m)

    @command("export liked", "a .bib file of the papers liked here", usage="export liked [days]")
    async def _cmd_export_liked(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        days = whole_number(args[0], low=1, high=MAX_EXPORT_DAYS) if len(args) == 1 else None
        if len(args) > 1 or (args and days is None):
            return Reply(f"Give the number of days to look back, 1 to {MAX_EXPORT_DAYS}, e.g. "
                         f"{m.command('export liked 90')} (default {EXPORT_DAYS}).")
        days = days or EXPORT_DAYS
        today = dt.datetime.now(dt.UTC)
        papers = await self.store.aio(self.store.liked_papers, caller.platform, caller.channel,
                                      today - dt.timedelta(days=days))
        if not papers:
            return Reply(f"No paper got a {VOTE_EMOJI['positive']} here in the last {days} days, so there is "
                         "nothing to export.")
        name = f"arxiv-liked-{today:%Y-%m-%d}-{days}d.bib"
        count = counted(len(papers), "paper")
        return Reply(f"{m.mention(caller.user)} exported the {count} liked here in the last {days} days as BibTeX.",
                     public=True, file=(name, bibtex_entries(papers).encode("utf-8")))

    async def _with_publication(self, paper: Paper, caller: Caller) -> Paper:
        """``paper`` as the arXiv API has it now (DOI and journal are often added after the paper appeared), or
        as stored when the API cannot say (busy, down, or it does not know the paper)."""
        person = _person(caller)
        try:
            fresh = await self.lookups.lookup(paper.arxiv_id, person=person)
        except DigestError as exc:
            log.info("BibTeX for %s without the API's DOI and journal: %s", paper.arxiv_id, exc)
            return paper
        return fresh or paper

    @command("run", "post today's digest now (only what is not posted yet)", slow=True)
    async def _cmd_run(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        try:
            delivery = await self.service.run_requested(sub)
        except LookupError as exc:
            return Reply(f"Cannot post here right now: {exc}.")
        return Reply(delivery.message)

    @command("stats", "papers, cost and reactions this month")
    async def _cmd_stats(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        return await self.store.aio(self._stats, caller, await self._profile(sub), m)

    def _stats(self, caller: Caller, profile: Profile, m: Markup) -> Reply:
        """The stats reply (blocking: it reads much of the database and the prefilter, on the store's threads)."""
        today = dt.date.today()
        since = today.replace(day=1)
        stats = self.store.channel_stats(caller.platform, caller.channel, profile.id, since)
        reactions = stats["reactions"]
        reaction_text = (
            ", ".join(f"{reactions[kind]} {kind}" for kind in KINDS if kind in reactions) or "none yet"
        )
        return Reply(
            "\n".join(
                [
                    m.bold(f"This channel since {since:%d %B %Y}"),
                    f"Digests posted: {counted(stats['days_posted'], 'day')}, "
                    f"{counted(stats['papers_posted'], 'paper')}",
                    f"Papers scored: {stats['papers_scanned']:,} of {stats['papers_announced']:,} announced",
                    f"LLM use: {stats['requests']:,} requests, {stats['tokens']:,} tokens, "
                    f"{format_cost(stats['cost_usd'])}"
                    + (f" ({per})" if (per := per_thousand(stats["cost_usd"], stats["papers_announced"])) else ""),
                    f"Reactions: {reaction_text} (from {counted(stats['people'], 'person', 'people')})",
                    *stats_lines(self.store, self.settings, caller, dt.datetime.now(dt.UTC)),
                    *self._learning_lines(profile, today),
                ]
            )
        )

    def _learning_lines(self, profile: Profile, today: dt.date) -> list[str]:
        from bot.learning import personal
        from bot.learning import training as learning

        week = personal.feedback_week(self.store, profile, today)
        moved = f"raised {counted(week.raised, 'paper')} and lowered {week.lowered} in the last 7 days"
        if week.biggest is not None:
            title, before, after = week.biggest
            moved += f"; most: “{truncate(title, 80)}” from #{before} to #{after}"
        report = learning.report(self.store, profile, today - dt.timedelta(days=30))
        lines = [f"Feedback {moved}" if week.raised + week.lowered else "Feedback moved no paper in the last 7 days"]
        prefilter = f"Prefilter: {report.status}"
        if report.recall_bound is not None:
            prefilter += (f"; its cutoff keeps an estimated {report.recall_bound:.0%} or more of the LLM's selections "
                          f"(aiming at {self.settings.prefilter_recall:.0%}, DIGEST_PREFILTER_RECALL)")
        if report.papers and report.skipped:
            prefilter += (f"; in 30 days it sent {report.sent:,} of {report.papers:,} papers to the LLM "
                          f"({report.sent / report.papers:.0%})")
            if report.estimated_recall is not None:
                prefilter += (f", estimated recall {report.estimated_recall:.0%} (from {report.sampled} papers "
                              f"scored below its cutoff, {report.selected_in_sample} of them selected)")
        return [*lines, prefilter]

    @command("search", "find papers in past digests", usage="search <words>", max_chars=300)
    async def _cmd_search(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        from bot.chat import search  # the reply's wording and the number of results

        words = " ".join(args)
        hits = (await self.store.aio(self.store.search_papers, (await self._profile(sub)).id, words,
                                     limit=search.RESULTS) if args else [])
        return Reply(search.search_text(words, hits, m))

    @command("feedback", "whether reactions move papers up and down; reset forgets them",
             usage="feedback on|off|reset", setting=True)
    async def _cmd_feedback(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        profile = await self._profile(sub)
        choice = args[0].lower() if args else ""
        if choice in {"on", "off"}:
            await self.store.aio(self.store.update_subscription, caller.platform, caller.channel,
                                 learn_from_feedback=choice == "on")
            what = ("reactions now move similar papers up and down (by at most "
                    f"{self.settings.feedback_weight:g} points of R+N) and a few liked titles go into the prompt"
                    if choice == "on" else "the ranking is the LLM's alone; reactions are still recorded")
            return Reply(f"{m.mention(caller.user)} turned feedback {choice}: {what}.", public=True)
        if choice == "reset":
            await self.store.aio(self.store.update_subscription, caller.platform, caller.channel,
                                 feedback_since=dt.datetime.now(dt.UTC))
            return Reply(f"{m.mention(caller.user)} reset the feedback: reactions given before now no longer shape "
                         "the ranking, the prompt or the prefilter (they are kept, and still counted in stats).",
                         public=True)
        if choice:
            return Reply(f"Use {m.command('feedback on')}, {m.command('feedback off')} or "
                         f"{m.command('feedback reset')}.")
        used = await self.store.aio(self.store.reactions, profile.id)
        liked = sum(1 for r in used if r.kind == "positive")
        since = f" since the reset on {sub.feedback_since:%d %B %Y}" if sub.feedback_since else ""
        state = "on" if sub.learn_from_feedback else "off"
        return Reply(f"Feedback is {state}: {counted(liked, 'liked paper')} and "
                     f"{counted(len(used) - liked, 'disliked paper')} count{since}. "
                     f"{m.command('feedback reset')} forgets them; {m.command('me')} shows your own ranking.")

    @command("me", "your own ranking of the latest digest, by direct message", slow=True)
    async def _cmd_me(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        from bot.learning import personal

        day = await self.store.aio(self.store.latest_posted_day, caller.platform, caller.channel)
        if day is None:
            return Reply("No digest has been posted in this channel yet.")
        mine = await self.store.aio(personal.personal_ranking, self.store, self.settings, await self._profile(sub), day,
                                    caller.user)
        if not mine.ranked:
            return Reply(f"The digest of {day} has no ranked papers.")
        lines = [m.bold(f"Your ranking of the digest of {day:%a %d %B %Y}")]
        lines.append(
            f"From the channel's reactions and your {counted(mine.own_reactions, 'reaction')}, counted double."
            if mine.own_reactions else
            "You have not reacted to any paper yet, so this is the channel's ranking: react with 👍 or 👎 to "
            "make it yours."
        )
        for item in mine.ranked:
            channel_rank = mine.channel_rank.get(item.paper.arxiv_id)
            where = f", #{channel_rank} in the channel" if channel_rank and channel_rank != item.rank else ""
            why = f"\n    {m.escape(item.explanation)}" if item.explanation else ""
            lines.append(f"{item.rank}. {m.link(item.paper.url, item.paper.title)} "
                         f"(R {item.judgment.relevance} · N {item.judgment.novelty}{where}){why}")
        return Reply("\n".join(lines), direct=True)

    @command("suggest", "criteria edits the LLM proposes from the channel's reactions", slow=True)
    async def _cmd_suggest(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        from bot.learning import suggest

        profile = await self._profile(sub)
        if args:
            return Reply(f"Use {m.command('suggest')} for a proposal, {m.command('suggest apply 1')} to apply one.")
        if self.service.chat_factory is None:
            return Reply("Suggestions need an LLM: set OPENAI_API_KEY for the bot.")
        reactions = await self.store.aio(self.store.reactions, profile.id)
        liked, disliked = suggest.recent(reactions, dt.datetime.now(dt.UTC))
        if len(liked) + len(disliked) < suggest.MIN_REACTIONS:
            return Reply(f"The channel reacted to {counted(len(liked) + len(disliked), 'paper')} in the last four "
                         f"weeks; react with 👍 or 👎 on at least {suggest.MIN_REACTIONS} before asking.")
        chat = self.service.chat_factory()
        try:
            proposal = await suggest.propose(chat, profile.criteria, liked, disliked,
                                             max_chars=self.settings.max_criteria_chars)
        finally:
            await chat.aclose()
        number = await self.store.aio(self.store.add_suggestion, profile.id, proposal.criteria,
                                      "\n".join(proposal.changes), caller.user)
        changes = "\n".join(f"• {m.escape(change)}" for change in proposal.changes) or "• (no summary given)"
        return Reply(
            f"{m.bold(f'Suggestion {number}')} from {counted(len(liked), 'liked paper')} and "
            f"{counted(len(disliked), 'disliked paper')}:\n{changes}\n\n{m.block(truncate(proposal.criteria, 2500))}\n"
            f"{m.command(f'suggest apply {number}')} makes it the criteria (undo with "
            f"{m.command('criteria undo')})."
        )

    @command("suggest apply", "make suggestion N the criteria (undo goes back)", usage="suggest apply <N>",
             admin=True)
    async def _cmd_suggest_apply(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        number = whole_number(args[0], low=1, high=MAX_SUGGESTION) if len(args) == 1 else None
        if number is None:
            return Reply(f"Give the number {m.command('suggest')} showed, in digits 0–9, e.g. "
                         f"{m.command('suggest apply 3')}.")
        proposal = await self.store.aio(self.store.get_suggestion, profile.id, number)
        if proposal is None:
            return Reply(f"There is no suggestion {number} for this channel; {m.command('suggest')} makes one.")
        if proposal.applied_version is not None:
            return Reply(f"Suggestion {number} was applied already (criteria v{proposal.applied_version}).")
        text = validate_criteria(proposal.text, self.settings.max_criteria_chars)
        draft = CriteriaDraft(text, f"{caller.user} (suggestion {number})", number)
        return await self.store.aio(self._draft, caller, profile, draft, m)

    # the weekly roundup ---------------------------------------------------------------------

    def _weekly_text(self, sub: Subscription) -> str:
        if sub.weekly_day is None:
            return "off"
        zone = channel_zone(sub, self.settings.schedule).key
        return f"on: {weekly.weekday_name(sub.weekly_day)}s at {weekly_time(sub):%H:%M} {zone}"

    @command("weekly", "a roundup of the week: most liked, best unnoticed, the figures",
             usage="weekly on [day HH:MM] | off", setting=True, max_chars=40)
    async def _cmd_weekly(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        assert sub is not None
        usage = (f"Use {m.command('weekly on')} (Fridays at 16:00), {m.command('weekly on mon 09:30')} or "
                 f"{m.command('weekly off')}.")
        if not args:
            return Reply(f"The weekly roundup is {self._weekly_text(sub)}. " + usage)
        choice = args[0].lower()
        changed: dict[str, int | str | None]
        if choice == "off" and len(args) == 1:
            changed = {"weekly_day": None}
        elif choice == "on":
            try:
                day, time = weekly.parse_weekly(args[1:])
            except ValueError as exc:
                return Reply(f"{m.escape(truncate(str(exc), 200))}. {usage} Nothing was changed.")
            changed = {"weekly_day": day, "weekly_time": f"{time:%H:%M}"}
        else:
            return Reply(usage)
        sub = await self.store.aio(self.store.update_subscription, caller.platform, caller.channel, **changed)
        await self.service.subscriptions_changed()
        what = ("the week's most liked papers, the best-scored ones nobody reacted to, and the week's figures"
                if sub.weekly_day is not None else "no roundup is posted")
        return Reply(f"{m.mention(caller.user)} turned the weekly roundup {self._weekly_text(sub)}: {what}.",
                     public=True)


    # followed authors ----------------------------------------------------------------------

    @command("follow", "always post an author's papers, listed first; alone: authors the channel liked",
             usage="follow <name>", setting=True)
    async def _cmd_follow(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        followed = await self.store.aio(self.store.followed, profile.id)
        if not args:
            liked = await self.store.aio(self.store.liked_authors, caller.platform, caller.channel)
            return Reply(_follow_suggestions(liked, followed, m))
        try:
            name = authors.parse_followed(" ".join(args))
        except authors.AuthorNameError as exc:
            liked = await self.store.aio(self.store.liked_authors, caller.platform, caller.channel)
            known = authors.expansions(" ".join(args), (author for author, _ in liked))[:MAX_EXPANSIONS]
            maybe = f" Authors of papers this channel liked: {', '.join(m.escape(k) for k in known)}." if known else ""
            return Reply(f"{exc}{maybe} Nothing was changed.")
        if len(followed) >= MAX_FOLLOWED and name.key not in {f.key for f in followed}:
            return Reply(f"This channel follows {MAX_FOLLOWED} authors, the most it may; "
                         f"{m.command('unfollow <name>')} one first. Nothing was changed.")
        if not await self.store.aio(self.store.follow, profile.id, name, by=caller.user):
            now = await self.store.aio(self.store.followed, profile.id)
            stored = next((f.shown for f in now if f.key == name.key), name.shown)
            return Reply(f"This channel follows {m.escape(stored)} already; {m.command('following')} lists all.")
        return Reply(
            f"{m.mention(caller.user)} followed {m.bold(m.escape(name.shown))}: their papers are always in this "
            "channel's digest, listed first and marked “followed”, whatever their scores. "
            f"{m.command('unfollow ' + name.shown)} stops it.",
            public=True,
        )

    @command("unfollow", "stop always posting an author's papers", usage="unfollow <name>", admin=True)
    async def _cmd_unfollow(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        profile = await self._profile(sub)
        if not args:
            return Reply(f"Give the name to unfollow, e.g. {m.command('unfollow Kaiming He')}; "
                         f"{m.command('following')} lists who this channel follows.")
        try:
            name = authors.parse_followed(" ".join(args))
        except authors.AuthorNameError:
            name = None
        removed = await self.store.aio(self.store.unfollow, profile.id, name) if name is not None else None
        if removed is None:
            shown = m.escape(truncate(" ".join(args), 80))
            return Reply(f"This channel does not follow “{shown}”; {m.command('following')} lists who it follows. "
                         "Nothing was changed.")
        return Reply(f"{m.mention(caller.user)} unfollowed {m.bold(m.escape(removed.shown))}: their papers now make "
                     "the digest only on their scores.", public=True)

    @command("following", "the authors whose papers are always posted here")
    async def _cmd_following(self, caller: Caller, sub: Sub, args: Args, m: Markup) -> Reply:
        followed = await self.store.aio(self.store.followed, (await self._profile(sub)).id)
        if not followed:
            return Reply(f"This channel follows no authors. {m.command('follow <name>')} posts an author's papers "
                         f"every day they appear, e.g. {m.command('follow Kaiming He')}; {m.command('follow')} alone "
                         "suggests authors of papers the channel liked.")
        names = ", ".join(m.escape(f.shown) for f in followed)
        return Reply(f"This channel follows {counted(len(followed), 'author')}: {names}. Their papers are always in "
                     f"the digest, listed first. {m.command('unfollow <name>')} stops one.")


def _thresholds_now(profile: Profile, m: Markup) -> str:
    return (f"Papers are posted when relevance ≥ {profile.min_relevance} and novelty ≥ {profile.min_novelty}. "
            f"Change with {m.command('threshold <relevance> <novelty>')}, e.g. {m.command('threshold 8 6')}.")


def _categories_now(profile: Profile, m: Markup) -> str:
    return (f"This channel reads {m.code(' '.join(profile.categories))}. Change with "
            f"{m.command('categories cs.LG cs.CL …')} (arXiv category names).")


def _follow_suggestions(liked: list[tuple[str, int]], followed: list[authors.FollowedName], m: Markup) -> str:
    """``follow`` alone: authors of two or more liked papers, else the most frequent ones, not followed yet."""
    keys = {f.key for f in followed}
    candidates = [(name, n) for name, n in liked if _followable(name) and authors.parse_followed(name).key not in keys]
    often = [(name, n) for name, n in candidates if n >= 2] or candidates
    usage = (f"{m.command('follow <name>')} posts an author's papers every day they appear, listed first, e.g. "
             f"{m.command('follow Kaiming He')}.")
    if not often:
        return f"No suggestions yet: react with 👍 on papers you like and their authors show up here. {usage}"
    shown = ", ".join(f"{m.escape(name)} ({counted(n, 'liked paper')})" for name, n in often[:MAX_SUGGESTED])
    return f"Authors of papers this channel liked: {shown}.\n{usage}"


def _followable(name: str) -> bool:
    try:
        authors.parse_followed(name)
    except authors.AuthorNameError:
        return False
    return True


def _person(caller: Caller) -> str:
    """Who asks, across platforms and workspaces: the look-up lane's per-person limit counts by this."""
    return f"{caller.platform}:{caller.workspace}:{caller.user}"
