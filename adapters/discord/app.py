"""The Discord bot: ``/arxiv`` app commands, paper buttons, the criteria editor and reactions, all handed to
the command core, which decides what happens and what to answer; this module only translates.

Intents: ``guilds``, ``guild_reactions`` and ``guild_messages``, nothing else. Slash commands, buttons and modal
submissions arrive as interactions, which need no intent. ``guilds`` keeps each guild's roles and threads cached
(GUILD_CREATE, THREAD_CREATE), so ``DIGEST_ADMIN_ROLE`` can be checked by name without an API call;
``guild_reactions`` delivers MESSAGE_REACTION_ADD/REMOVE for feedback; ``guild_messages`` delivers MESSAGE_CREATE,
of which only questions to the bot are read. No privileged intent (message content, members, presences) is
used: reactions are matched to papers by message ID and reported with the reactor's user ID, and Discord sends
the text of a message that mentions the bot without the message content intent (see mentions.py).

Everything a button or the editor needs travels with the interaction (the arXiv ID in the button's
custom_id, the channel and user in the interaction itself), so they keep working after a restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord.config import DiscordSettings
from adapters.discord.embeds import DESCRIPTION_LIMIT, abstract_embeds, pack_embeds, text_embeds
from adapters.discord.markup import FENCE, SUBCOMMANDS, DiscordMarkup
from adapters.discord.mentions import NO_TEXT, Question, names_bot, replied_to, without_mention
from adapters.discord.poster import DiscordPoster
from adapters.discord.threads import ThreadRefused, post_in_thread, thread_name
from bot.chat.asking import MAX_QUESTION_CHARS
from bot.chat.commands import COMMANDS, DIRECT_FAILED, DIRECT_SENT, CommandCore, Invocation
from bot.digest.text import join_pieces, split_text
from bot.domain.errors import CriteriaError, report_failure
from bot.domain.platform import Action, Caller, Reply

log = logging.getLogger(__name__)
MARKUP = DiscordMarkup()
PLATFORM = "discord"
INTENTS = discord.Intents(guilds=True, guild_reactions=True, guild_messages=True)

ARXIV_ID = r"[0-9A-Za-z./-]{1,80}"
EDITOR_ID = "arxiv:criteria"  # modal custom_ids start with this; the rest only makes each one unique
INPUT_ID = "criteria:"  # + the box's index
INPUT_LIMIT = 4000  # Discord's maximum for one text input
MODAL_INPUTS = 5  # and for the inputs in one modal
EDITOR_TIMEOUT = 15 * 60  # how long discord.py keeps an open editor's object; submissions don't need it
NO_CHANNEL = ("Discord did not say which channel this came from, so nothing was done. Try again in the channel "
              "itself; if it keeps happening, tell whoever runs the bot.")
REMEMBERED_CHANNELS = 1024  # interactions whose channel came only as channel_id; each is answered within minutes
DIRECT_REFUSED = DIRECT_FAILED.format(
    fix="allow direct messages from members of this server in Discord's privacy settings (the server's name → "
    "Privacy Settings → Direct Messages), and check that you have not blocked the bot"
)
ASKING_TYPES = (discord.MessageType.default, discord.MessageType.reply)  # what a person writes, not a system note
CANNOT_DM = 50007  # "Cannot send messages to this user": DMs from server members are off, or the bot is blocked


# --- who may change settings -------------------------------------------------------------------------------


def admin_rule(role: str | None) -> str:
    """The rule in words, completed by the core's refusal: "Only {rule} or people listed in DIGEST_ADMINS …"."""
    rule = "members with the Manage Server permission"
    return f"{rule}, members with the “{role}” role" if role else rule


def may_change(interaction: discord.Interaction[Any], role: str | None) -> bool:
    """Manage Server (Administrator implies it) in this channel, or a role named ``role`` (or with that ID).

    Role names come from the guild cache the ``guilds`` intent fills; without it only the permission counts.
    """
    permissions = interaction.permissions
    if permissions.manage_guild or permissions.administrator:
        return True
    user = interaction.user
    if not role or not isinstance(user, discord.Member):
        return False
    wanted = role.casefold()
    return any(r.name.casefold() == wanted or str(r.id) == role for r in user.roles)


# --- rendering replies -----------------------------------------------------------------------------------


def reply_messages(text: str) -> list[list[discord.Embed]]:
    """A command reply as messages of embeds. A code block cut between two embeds is closed at the cut and
    opened again after it, so long criteria still show as code (only the markup makes fences)."""
    pieces: list[str] = []
    inside = False
    for piece in split_text(text, DESCRIPTION_LIMIT - 2 * len(FENCE + "\n")):
        piece = f"{FENCE}\n{piece}" if inside else piece
        inside = piece.count(FENCE) % 2 == 1
        pieces.append(f"{piece.rstrip()}\n{FENCE}" if inside else piece)
    return pack_embeds([embed for piece in pieces for embed in text_embeds(piece)])


async def send(
    interaction: discord.Interaction[Any], messages: list[list[discord.Embed]], *, public: bool,
    view: discord.ui.View | None = None,
) -> None:
    """Answer with ``messages``, ``view``'s buttons under the last: the interaction's response first, then
    followups.

    Commands that defer do so privately, and Discord keeps a deferral's visibility for the message that
    replaces it; so a private answer replaces the "thinking…" message, while a public one resolves it
    with a short note and is posted as new, visible followups.
    """
    response = interaction.response
    rest = messages

    def buttons(embeds: list[discord.Embed]) -> dict[str, Any]:
        return {"view": view} if view is not None and embeds is messages[-1] else {}

    if not response.is_done():
        rest = messages[1:]
        await response.send_message(embeds=messages[0], ephemeral=not public, **buttons(messages[0]))
    elif response.type == discord.InteractionResponseType.deferred_channel_message:
        rest = messages if public else messages[1:]
        if public:
            await interaction.edit_original_response(content="Done: the answer is in the channel.")
        else:
            await interaction.edit_original_response(embeds=messages[0], **buttons(messages[0]))
    for embeds in rest:
        await interaction.followup.send(embeds=embeds, ephemeral=not public, **buttons(embeds))


async def send_file(
    interaction: discord.Interaction[Any], messages: list[list[discord.Embed]], file: tuple[str, bytes], *,
    public: bool,
) -> None:
    """``messages`` with ``file`` attached to the last of them (a multipart message with ``files[0]``)."""
    name, content = file
    *first, last = messages
    if first:
        await send(interaction, first, public=public)
    attachment = discord.File(io.BytesIO(content), filename=name)
    if not interaction.response.is_done():
        await interaction.response.send_message(embeds=last, file=attachment, ephemeral=not public)
    else:
        await interaction.followup.send(embeds=last, file=attachment, ephemeral=not public)


async def send_direct(interaction: discord.Interaction[Any], messages: list[list[discord.Embed]]) -> None:
    """``messages`` to the person as a direct message, confirmed privately where they asked.

    The interaction is acknowledged first: opening a DM and sending to it are REST calls that discord.py may
    hold back for a rate limit, longer than Discord waits for an answer. Someone who accepts no DMs from the
    bot is told how to allow them and gets ``messages`` privately here instead.
    """
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        for embeds in messages:
            await interaction.user.send(embeds=embeds)
    except discord.Forbidden as exc:
        if exc.code != CANNOT_DM:
            raise
        log.info("Discord: user %s accepts no direct messages from the bot; answering privately", interaction.user.id)
        await send(interaction, pack_embeds([*text_embeds(DIRECT_REFUSED), *(e for m in messages for e in m)]),
                   public=False)
        return
    await send(interaction, reply_messages(DIRECT_SENT), public=False)


async def send_failure(interaction: discord.Interaction[Any], error: BaseException, what: str) -> None:
    """Log ``error`` under a reference and tell the person something broke, with that reference but never the
    error's own text (Discord would only say "the application did not respond")."""
    messages = reply_messages(report_failure(log, what, error))
    try:
        await send(interaction, messages, public=False)
    except discord.HTTPException:
        log.warning("Discord: could not report a failure to the user", exc_info=True)


# --- the criteria editor ---------------------------------------------------------------------------------


class CriteriaEditor(discord.ui.Modal):
    """The criteria in up to five paragraph boxes of 4,000 characters, split like Slack's editor.

    Only the form: the submission is handled in :meth:`DiscordBot.on_interaction` from the interaction's
    own data, so it is saved even if the bot restarted while the editor was open.
    """

    def __init__(self, boxes: list[str], *, max_chars: int, unique: int | str) -> None:
        """``boxes``: the text per box, from :func:`editor_boxes` or as a refused submission had it."""
        super().__init__(title="Edit criteria", custom_id=f"{EDITOR_ID}:{unique}", timeout=EDITOR_TIMEOUT)
        total = f"{max_chars:,} characters in all"
        for index, piece in enumerate(boxes):
            label = "Criteria" if len(boxes) == 1 else f"Criteria, part {index + 1} of {len(boxes)}"
            self.add_item(
                discord.ui.TextInput(
                    label=label,
                    style=discord.TextStyle.paragraph,
                    custom_id=f"{INPUT_ID}{index}",
                    default=piece or None,
                    required=index == 0,
                    max_length=INPUT_LIMIT,
                    placeholder=(
                        f"The topics you want and don't want, one per line or paragraph ({total})."
                        if index == 0 else "Continues the part before; the boxes are joined in order."
                    ),
                )
            )


def editor_boxes(criteria: str, max_chars: int) -> list[str] | None:
    """The text per box (empty boxes make room up to ``max_chars``), or None when even five boxes are too few."""
    pieces = split_text(criteria, INPUT_LIMIT)
    if len(pieces) > MODAL_INPUTS:
        return None
    count = min(MODAL_INPUTS, max(math.ceil(max_chars / INPUT_LIMIT), len(pieces), 1))
    return pieces + [""] * (count - len(pieces))


def submitted_boxes(data: dict[str, Any]) -> list[str]:
    """The boxes of a MODAL_SUBMIT in order; Discord nests them in action rows or Label components."""
    parts: dict[int, str] = {}

    def visit(component: dict[str, Any]) -> None:
        index = str(component.get("custom_id") or "").removeprefix(INPUT_ID)
        if component.get("type") == 4 and index.isdigit():
            parts[int(index)] = component.get("value") or ""
        children = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            children.append(component["component"])
        for child in children:
            visit(child)

    for component in data.get("components") or []:
        visit(component)
    return [parts[index] for index in sorted(parts)]


class EditAgain(discord.ui.View):
    """A refused draft's way back into the editor (Discord can't answer a modal with a modal or keep it open)."""

    def __init__(self, boxes: list[str], max_chars: int) -> None:
        super().__init__(timeout=EDITOR_TIMEOUT)
        self.boxes = boxes
        self.max_chars = max_chars

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary)
    async def edit_again(self, interaction: discord.Interaction[Any], button: discord.ui.Button[EditAgain]) -> None:
        editor = CriteriaEditor(self.boxes, max_chars=self.max_chars, unique=interaction.id)
        await interaction.response.send_modal(editor)


# --- persistent paper buttons ----------------------------------------------------------------------------


class AbstractButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"arxiv:abstract:(?P<id>{ARXIV_ID})"):
    """Shows the paper's full abstract to whoever pressed it."""

    def __init__(self, arxiv_id: str) -> None:
        super().__init__(discord.ui.Button(label="Abstract", custom_id=f"arxiv:abstract:{arxiv_id}"))
        self.arxiv_id = arxiv_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AbstractButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: DiscordBot = interaction.client
        await bot.show_abstract(interaction, self.arxiv_id)


VOTES = {"up": ("positive", "👍"), "down": ("negative", "👎")}
VOTE_TEMPLATE = rf"arxiv:(?P<way>up|down):(?P<id>{ARXIV_ID})"


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=VOTE_TEMPLATE):
    """👍 or 👎 for the presser; pressing it again takes the vote back (the core decides)."""

    def __init__(self, way: str, arxiv_id: str) -> None:
        self.kind, emoji = VOTES[way]
        super().__init__(discord.ui.Button(emoji=emoji, custom_id=f"arxiv:{way}:{arxiv_id}"))
        self.arxiv_id = arxiv_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["way"], match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: DiscordBot = interaction.client
        await bot.vote(interaction, self.arxiv_id, self.kind)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"arxiv:do:(?P<action>[a-z -]{1,60})"):
    """A button under one of the core's replies (Preview, Apply, Discard of a criteria change); its custom_id
    names the core's action, which the core checks like a command."""

    def __init__(self, action: str, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or action, custom_id=f"arxiv:do:{action}"))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: DiscordBot = interaction.client
        await bot.press(interaction, self.action)


def actions_view(actions: Sequence[Action]) -> discord.ui.View | None:
    """The buttons of a reply, or None when it has none."""
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(ActionButton(action.id, action.label))
    return view


def paper_view(arxiv_id: str) -> discord.ui.View:
    """A paper message's buttons. Only DynamicItems, so discord.py keeps nothing per message in memory."""
    view = discord.ui.View(timeout=None)
    for button in (AbstractButton(arxiv_id), VoteButton("up", arxiv_id), VoteButton("down", arxiv_id)):
        view.add_item(button)
    return view


# --- the /arxiv commands ---------------------------------------------------------------------------------


def _describe(name: str) -> str:
    spec = COMMANDS[name]
    return spec.summary[:1].upper() + spec.summary[1:] + (" (admins)" if spec.admin else "")


ID_OR_RANK = "An arXiv ID (2503.03213) or a rank in the latest digest (3)"  # abstract's and bibtex's option


def _words(text: str | None) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


class ArxivCommands(app_commands.Group, name="arxiv", description="The daily arXiv digest in this channel",
                    guild_only=True):
    """``/arxiv <subcommand>``: each only names the core's command and passes its options on as words."""

    def __init__(self, bot: DiscordBot) -> None:
        # Channels of a guild only: a digest needs a channel others read, and DMs have no Manage Server.
        super().__init__(allowed_contexts=app_commands.AppCommandContext(guild=True))
        self.bot = bot
        # The commands without options are alike: one each, made from the core's list. Those with options are
        # written out below, each with the options Discord shows.
        groups: dict[str, app_commands.Group] = {}
        for name in COMMANDS:
            discord_name, options = SUBCOMMANDS.get(name, (name, ()))
            if options:
                continue
            *group_name, leaf = discord_name.split()
            parent: app_commands.Group = self
            if group_name:
                if group_name[0] not in groups:
                    groups[group_name[0]] = app_commands.Group(name=group_name[0], description=_describe(name))
                    self.add_command(groups[group_name[0]])
                parent = groups[group_name[0]]
            command: app_commands.Command[Any, ..., None] = app_commands.Command(
                name=leaf, description=_describe(name), callback=self._invoker(name))
            parent.add_command(command)

    def _invoker(self, name: str) -> Callable[[discord.Interaction[Any]], Coroutine[Any, Any, None]]:
        async def invoke(interaction: discord.Interaction[Any]) -> None:
            await self.bot.invoke(interaction, Invocation(name))

        return invoke

    @app_commands.command(name="threshold", description=_describe("threshold"))
    @app_commands.describe(relevance="Minimum relevance, 1–10 (leave both out to see the current ones)",
                           novelty="Minimum novelty, 1–10")
    async def threshold(
        self, interaction: discord.Interaction[Any],
        relevance: app_commands.Range[int, 1, 10] | None = None, novelty: app_commands.Range[int, 1, 10] | None = None,
    ) -> None:
        args = tuple(str(n) for n in (relevance, novelty) if n is not None)
        await self.bot.invoke(interaction, Invocation("threshold", args))

    @app_commands.command(name="categories", description=_describe("categories"))
    @app_commands.describe(categories="arXiv categories, e.g. cs.LG cs.CL (leave out to see the current ones)")
    async def categories(self, interaction: discord.Interaction[Any], categories: str | None = None) -> None:
        await self.bot.invoke(interaction, Invocation("categories", _words(categories)))

    @app_commands.command(name="schedule", description=_describe("schedule"))
    @app_commands.describe(time="HH:MM, e.g. 09:00 (leave out to see the current schedule)",
                           timezone="Area/City, e.g. Europe/Berlin (default: the current one)")
    async def schedule(
        self, interaction: discord.Interaction[Any], time: str | None = None, timezone: str | None = None
    ) -> None:
        await self.bot.invoke(interaction, Invocation("schedule", _words(time) + _words(timezone)))

    @app_commands.command(name="empty-days", description=_describe("empty-days"))
    @app_commands.describe(state="on: a short line on days without papers; off: nothing (leave out to see)")
    async def empty_days(
        self, interaction: discord.Interaction[Any], state: Literal["on", "off"] | None = None
    ) -> None:
        await self.bot.invoke(interaction, Invocation("empty-days", _words(state)))

    @app_commands.command(name="language", description=_describe("language"))
    @app_commands.describe(code="A language code or name, e.g. de, zh, ja (leave out to see the current one)")
    async def language(self, interaction: discord.Interaction[Any], code: str | None = None) -> None:
        await self.bot.invoke(interaction, Invocation("language", _words(code)))

    @app_commands.command(name="abstract", description=_describe("abstract"))
    @app_commands.describe(id_or_rank=ID_OR_RANK)
    async def abstract(self, interaction: discord.Interaction[Any], id_or_rank: str) -> None:
        await self.bot.invoke(interaction, Invocation("abstract", _words(id_or_rank)))

    @app_commands.command(name="export-liked", description=_describe("export liked"))
    @app_commands.describe(days="Days to look back (1 to 366; leave out for 30)")
    async def export_liked(
        self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 1, 366] | None = None
    ) -> None:
        await self.bot.invoke(interaction, Invocation("export liked", _words(None if days is None else str(days))))

    @app_commands.command(name="bibtex", description=_describe("bibtex"))
    @app_commands.describe(id_or_rank=ID_OR_RANK)
    async def bibtex(self, interaction: discord.Interaction[Any], id_or_rank: str) -> None:
        await self.bot.invoke(interaction, Invocation("bibtex", _words(id_or_rank)))

    @app_commands.command(name="feedback", description=_describe("feedback"))
    @app_commands.describe(action="on, off or reset (leave out to see how reactions are used)")
    async def feedback(
        self, interaction: discord.Interaction[Any], action: Literal["on", "off", "reset"] | None = None
    ) -> None:
        await self.bot.invoke(interaction, Invocation("feedback", _words(action)))

    @app_commands.command(name="weekly", description=_describe("weekly"))
    @app_commands.describe(state="on: a roundup every week; off: none (leave all out to see the setting)",
                           day="The roundup's day (default: Friday)",
                           time="HH:MM in the channel's time zone (default: 16:00)")
    async def weekly(
        self, interaction: discord.Interaction[Any], state: Literal["on", "off"] | None = None,
        day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None, time: str | None = None,
    ) -> None:
        # A day or a time alone means "on" with them: Discord offers the options in any order.
        words = _words(day) + _words(time)
        await self.bot.invoke(interaction, Invocation("weekly", _words(state or ("on" if words else None)) + words))

    # "suggest apply N" is an option of suggest: the group holds at most 25 subcommands.
    @app_commands.command(name="suggest", description=_describe("suggest"))
    @app_commands.describe(apply="Make suggestion N the criteria, N as /arxiv suggest showed it (admins; leave out "
                                 "for new suggestions)")
    async def suggest(
        self, interaction: discord.Interaction[Any], apply: app_commands.Range[int, 1] | None = None
    ) -> None:
        await self.bot.invoke(interaction, Invocation("suggest") if apply is None
                              else Invocation("suggest apply", (str(apply),)))

    @app_commands.command(name="ask", description=_describe("ask"))
    @app_commands.describe(id_or_rank=ID_OR_RANK, question="What you want to know, e.g. which dataset they use")
    async def ask(
        self, interaction: discord.Interaction[Any], id_or_rank: str,
        question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
    ) -> None:
        await self.bot.invoke(interaction, Invocation("ask", _words(id_or_rank) + _words(question)))

    @app_commands.command(name="search", description=_describe("search"))
    @app_commands.describe(words="Words from a title or an author's name, or an arXiv ID")
    async def search(self, interaction: discord.Interaction[Any], words: str) -> None:
        await self.bot.invoke(interaction, Invocation("search", _words(words)))

    # followed authors
    @app_commands.command(name="follow", description=_describe("follow"))
    @app_commands.describe(author="The full name as arXiv lists it, e.g. Kaiming He (leave out for suggestions)")
    async def follow(self, interaction: discord.Interaction[Any], author: str | None = None) -> None:
        await self.bot.invoke(interaction, Invocation("follow", _words(author)))

    @app_commands.command(name="unfollow", description=_describe("unfollow"))
    @app_commands.describe(author="A name this channel follows (see /arxiv following)")
    async def unfollow(self, interaction: discord.Interaction[Any], author: str) -> None:
        await self.bot.invoke(interaction, Invocation("unfollow", _words(author)))


class CommandTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        name = interaction.command.qualified_name if interaction.command else "(unknown)"
        await send_failure(interaction, cause, f"Discord command {name}")


# --- the client ------------------------------------------------------------------------------------------


class DiscordBot(discord.Client):
    """The gateway client plus the poster the digest service uses for Discord channels."""

    def __init__(self, core: CommandCore, settings: DiscordSettings) -> None:
        if settings.api_url is not None:
            # discord.py has one REST base for the process (bot calls and interaction webhooks alike).
            discord.http.Route.BASE = settings.api_url
        super().__init__(intents=INTENTS, allowed_mentions=discord.AllowedMentions.none())
        self.core = core
        self.settings = settings
        # Where /arxiv is registered: one guild (DISCORD_GUILD_ID: updates show at once) or None for every guild.
        self.command_guild = discord.Object(settings.guild_id) if settings.guild_id else None
        self.tree = CommandTree(self)
        self.tree.add_command(ArxivCommands(self), guild=self.command_guild)
        self.add_dynamic_items(AbstractButton, VoteButton, ActionButton)
        self.poster = DiscordPoster(self, paper_view, interval=settings.post_interval)
        core.service.register(self.poster)
        self._channels: OrderedDict[int, int] = OrderedDict()  # interaction ID → channel_id, see _keep_channel_id
        parsers = self._connection.parsers
        parsers["INTERACTION_CREATE"] = self._keep_channel_id(parsers["INTERACTION_CREATE"])

    def _keep_channel_id(self, parse: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """discord.py takes an interaction's channel from its ``channel`` object only, but Discord's documented
        payloads may name it by ``channel_id`` alone: remember that ID (for the few minutes an interaction is
        answered in) before discord.py parses the payload, and read it in :meth:`channel_of`."""

        def keep_then_parse(data: dict[str, Any]) -> None:
            channel, key = str(data.get("channel_id") or ""), str(data.get("id") or "")
            if not data.get("channel") and channel.isascii() and channel.isdigit() and key.isascii() and key.isdigit():
                self._channels[int(key)] = int(channel)
                while len(self._channels) > REMEMBERED_CHANNELS:
                    self._channels.popitem(last=False)
            parse(data)

        return keep_then_parse

    def channel_of(self, interaction: discord.Interaction[Any]) -> str | None:
        """The channel an interaction came from, from its ``channel`` object or its ``channel_id``."""
        channel = interaction.channel_id or self._channels.get(interaction.id)
        return str(channel) if channel else None

    async def setup_hook(self) -> None:
        """Register /arxiv with Discord: in one guild at once (DISCORD_GUILD_ID), else globally."""
        synced = await self.tree.sync(guild=self.command_guild)
        where = f"guild {self.command_guild.id}" if self.command_guild else "every guild (global commands)"
        log.info("Discord: synced %d command(s) to %s", len(synced), where)

    def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        role = self.settings.admin_role

        async def is_admin() -> bool:
            return may_change(interaction, role)

        return Caller(PLATFORM, str(interaction.guild_id or ""), self.channel_of(interaction) or "",
                      str(interaction.user.id), is_admin, admin_rule(role))

    async def refuse_without_channel(self, interaction: discord.Interaction[Any]) -> bool:
        """Answer and return True when the interaction names no channel: nothing may be stored under ''."""
        if self.channel_of(interaction) is not None:
            return False
        log.warning("Discord: interaction %s (type %s) names no channel; answered without acting",
                    interaction.id, interaction.type.name)
        await send(interaction, reply_messages(NO_CHANNEL), public=False)
        return True

    # commands, buttons and the editor ----------------------------------------------------------------

    async def invoke(self, interaction: discord.Interaction[Any], invocation: Invocation) -> None:
        """One path for every subcommand: acknowledge slow ones, let the core decide, render its reply."""
        if await self.refuse_without_channel(interaction):
            return
        if invocation.slow:
            await interaction.response.defer(ephemeral=True, thinking=True)
        caller = self.caller(interaction)
        where = interaction.channel
        if invocation.name == "ask" and isinstance(where, discord.Thread) and where.parent_id:
            # asked inside a thread (a paper's, say): the papers were posted in its parent channel
            caller = dataclasses.replace(caller, channel=str(where.parent_id))
        reply = await self.core.execute(caller, invocation, MARKUP)
        await self.answer(interaction, reply, channel=caller.channel)

    async def answer(self, interaction: discord.Interaction[Any], reply: Reply, *, channel: str | None = None) -> None:
        """Render ``reply``; ``channel``: where the papers are, when not the interaction's channel (a thread's)."""
        if reply.editor is not None:
            await self.open_editor(interaction, reply.editor)
            return
        messages = pack_embeds(abstract_embeds(reply.paper)) if reply.paper else reply_messages(reply.text)
        if reply.thread is not None and reply.public and await self.answer_in_thread(
            interaction, reply, messages, channel or self.channel_of(interaction)
        ):
            return
        if reply.direct:
            await send_direct(interaction, messages)
            return
        if reply.file is not None:
            await send_file(interaction, messages, reply.file, public=reply.public)
            return
        await send(interaction, messages, public=reply.public, view=actions_view(reply.actions))

    async def answer_in_thread(
        self, interaction: discord.Interaction[Any], reply: Reply, messages: list[list[discord.Embed]],
        channel: str | None,
    ) -> bool:
        """An answer about a paper (``/arxiv ask``) in the paper's thread (on its message in ``channel``), and a
        private note with its link where the command was given; False when the thread is not to be had, so the
        answer goes there instead."""
        thread = reply.thread
        if channel is None or thread is None or not (thread.isascii() and thread.isdigit()):
            return False
        try:
            await post_in_thread(self, interaction.guild_id, int(channel), int(thread),
                                 await self.thread_name(channel, thread), messages)
        except ThreadRefused as exc:
            await send(interaction, reply_messages(exc.note), public=False)
            return False
        link = f"https://discord.com/channels/{interaction.guild_id}/{thread}"
        await send(interaction, reply_messages(f"The answer is in the paper's thread: {link}"), public=False)
        return True

    async def thread_name(self, channel: str, message: str) -> str:
        """The name of the thread on a paper message: the paper's title, as stored when it was posted."""
        store = self.core.store
        arxiv_id = await store.aio(store.paper_of_message, PLATFORM, channel, message)
        paper = await store.aio(store.get_paper, arxiv_id) if arxiv_id else None
        return thread_name(paper.title if paper else None, arxiv_id)

    async def open_editor(self, interaction: discord.Interaction[Any], criteria: str) -> None:
        max_chars = self.core.settings.max_criteria_chars
        boxes = editor_boxes(criteria, max_chars)
        if boxes is None:
            text = (f"The criteria are longer than Discord's editor holds ({MODAL_INPUTS} boxes of {INPUT_LIMIT:,} "
                    "characters). Shorten them where they were written, e.g. in Slack.")
            await send(interaction, reply_messages(text), public=False)
            return
        await interaction.response.send_modal(CriteriaEditor(boxes, max_chars=max_chars, unique=interaction.id))

    async def save_criteria(self, interaction: discord.Interaction[Any]) -> None:
        if await self.refuse_without_channel(interaction):
            return
        caller = self.caller(interaction)
        boxes = submitted_boxes(interaction.data or {})  # type: ignore[arg-type]  # a modal's data, typed as any interaction's
        text = join_pieces(boxes)
        try:
            reply = await self.core.save_criteria(caller, text, MARKUP)
        except CriteriaError as exc:
            max_chars = self.core.settings.max_criteria_chars
            again = bool(text.strip()) and await self.core.may_change(caller)
            note = f"{exc} Nothing was saved." + (" Your text is kept: press Edit again." if again else "")
            embeds = reply_messages(note)[0]
            if again:
                await interaction.response.send_message(embeds=embeds, view=EditAgain(boxes, max_chars), ephemeral=True)
            else:
                await interaction.response.send_message(embeds=embeds, ephemeral=True)
            return
        await self.answer(interaction, reply)

    async def show_abstract(self, interaction: discord.Interaction[Any], arxiv_id: str) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)  # it may ask the arXiv API
            await self.answer(interaction, await self.core.abstract(arxiv_id, self.caller(interaction)))
        except Exception as exc:
            await send_failure(interaction, exc, "Discord: the Abstract button")

    async def press(self, interaction: discord.Interaction[Any], action: str) -> None:
        try:
            if await self.refuse_without_channel(interaction):
                return
            await interaction.response.defer(ephemeral=True, thinking=True)  # a preview may ask the LLM
            await self.answer(interaction, await self.core.press(self.caller(interaction), action, MARKUP))
        except Exception as exc:
            await send_failure(interaction, exc, "Discord: a criteria button")

    async def vote(self, interaction: discord.Interaction[Any], arxiv_id: str, kind: str) -> None:
        try:
            if await self.refuse_without_channel(interaction):
                return
            await self.answer(interaction, await self.core.vote(self.caller(interaction), arxiv_id, kind))
        except Exception as exc:
            await send_failure(interaction, exc, "Discord: a vote button")

    # gateway events ---------------------------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Criteria editor submissions, whether or not discord.py still holds the modal that was opened."""
        if interaction.type != discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]  # a TypedDict union in discord.py's stubs
        if not str(data.get("custom_id", "")).startswith(EDITOR_ID):
            return
        try:
            await self.save_criteria(interaction)
        except Exception as exc:
            await send_failure(interaction, exc, "Discord: saving criteria")

    async def on_message(self, message: discord.Message) -> None:
        """A question to the bot: a message naming it that replies to a paper message, is written in a paper's
        thread, or stands at the channel's top level (where the core reads a rank or ID from its start)."""
        try:
            question = await self.question(message)
            if question is None:
                return
            if not question.text:  # withheld text, or only an image: nothing to ask the core
                if not (message.attachments or message.stickers or message.embeds):
                    await self.reply_to(message, reply_messages(NO_TEXT))
                return
            caller = self.message_caller(message, question)
            reply = await self.core.ask_mention(
                caller, question.text, thread=str(question.thread) if question.thread else None,
                replied_to=str(question.replied_to) if question.replied_to else None, markup=MARKUP,
                event_id=f"message:{message.id}")
            if reply is not None:  # None: the gateway delivered this message again (a resumed session)
                await self.answer_question(message, question, reply)
        except Exception as exc:  # the log's reference to the asker, never the error's own text
            text = report_failure(log, "Discord: a question to the bot", exc)
            with contextlib.suppress(discord.HTTPException):
                await self.reply_to(message, reply_messages(text))

    async def question(self, message: discord.Message) -> Question | None:
        """The question ``message`` asks the bot, or None when it is none (another bot, no mention of us in its
        text, a DM, a reply to or a thread of something other than a paper)."""
        me = self.user
        if me is None or message.author.bot or message.author.id == me.id:
            return None
        guild = message.guild.id if message.guild else getattr(message.channel, "guild_id", None)
        mentioned = any(user.id == me.id for user in message.mentions)
        if guild is None or not mentioned or message.type not in ASKING_TYPES:
            return None
        if message.content and not names_bot(message, me.id):
            return None  # a reply ping on the bot's message, not a question
        where: Any = message.channel
        if isinstance(where, discord.PartialMessageable):  # a channel or thread the cache does not hold yet
            try:
                where = self.get_channel(where.id) or await self.fetch_channel(where.id)
            except discord.HTTPException as exc:  # gone, or hidden from the bot: nothing to answer in
                log.info("Discord: ignored a question in channel %s the bot cannot see (%s %s)", where.id,
                         exc.status, exc.code)
                return None
        thread = where.id if isinstance(where, discord.Thread) else None
        channel = where.parent_id if isinstance(where, discord.Thread) else where.id
        if channel is None:
            return None
        reply = replied_to(message)
        question = Question(guild, channel, thread, reply, without_mention(message.content, me.id))
        paper = reply if reply is not None else thread
        store = self.core.store
        if paper is not None and await store.aio(store.paper_of_message, PLATFORM, str(channel), str(paper)) is None:
            if thread is None or reply is None:
                return None  # about some other message: not ours to answer
            question = Question(guild, channel, thread, None, question.text)  # a reply inside a paper's thread
            if await store.aio(store.paper_of_message, PLATFORM, str(channel), str(thread)) is None:
                return None
        return question

    def message_caller(self, message: discord.Message, question: Question) -> Caller:
        role = self.settings.admin_role
        author = message.author

        async def is_admin() -> bool:
            permissions = author.guild_permissions if isinstance(author, discord.Member) else None
            if permissions is not None and (permissions.manage_guild or permissions.administrator):
                return True
            wanted = (role or "").casefold()
            return bool(role) and isinstance(author, discord.Member) and any(
                r.name.casefold() == wanted or str(r.id) == role for r in author.roles)

        return Caller(PLATFORM, str(question.guild), str(question.channel), str(author.id), is_admin,
                      admin_rule(role))

    async def answer_question(self, message: discord.Message, question: Question, reply: Reply) -> None:
        """A public answer in the paper's thread (started on the paper's message when there is none yet); a
        refusal, or an answer whose thread Discord refuses, as a reply to the question."""
        messages = reply_messages(reply.text)
        target = reply.thread
        if not reply.public or target is None or not (target.isascii() and target.isdigit()):
            await self.reply_to(message, messages)
            return
        if question.thread is not None and int(target) == question.thread:
            await self.reply_to(message, messages)  # asked inside the paper's thread: answered under the question
            return
        try:
            await post_in_thread(self, question.guild, question.channel, int(target),
                                 await self.thread_name(str(question.channel), target), messages)
        except ThreadRefused as exc:
            await self.reply_to(message, reply_messages(f"{exc.note}\n\n{reply.text}"))
            return
        if question.replied_to is None and question.thread is None:  # asked away from the paper: say where
            link = f"https://discord.com/channels/{question.guild}/{target}"
            await self.reply_to(message, reply_messages(f"The answer is in the paper's thread: {link}"))

    @staticmethod
    async def reply_to(message: discord.Message, messages: list[list[discord.Embed]]) -> None:
        """``messages`` as replies to ``message``, pinging no one (not even its author)."""
        for embeds in messages:
            await message.reply(embeds=embeds, mention_author=False, allowed_mentions=discord.AllowedMentions.none())

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await self._reaction(event, added=True)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await self._reaction(event, added=False)

    async def _reaction(self, event: discord.RawReactionActionEvent, *, added: bool) -> None:
        if self.user is not None and event.user_id == self.user.id:
            return
        # Unicode emoji as the character (skin tones are dropped by the core); custom ones by :name:, like Slack.
        emoji = str(event.emoji) if event.emoji.is_unicode_emoji() else f":{event.emoji.name}:"
        await self.core.reaction(PLATFORM, str(event.channel_id), str(event.message_id), str(event.user_id), emoji,
                                 added=added)
