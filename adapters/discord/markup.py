"""Discord markdown for the command core's replies, including Discord's spelling of ``/arxiv`` commands."""

from __future__ import annotations

from adapters.discord.embeds import escape
from adapters.markdown import BACKTICK_LOOKALIKE, Markdown
from bot.chat.commands import COMMANDS, parse

FENCE = "```"
PREFIX = "/arxiv "

# Core command names → (Discord subcommand name, its options in the order the core gives arguments): Discord
# subcommand names have no spaces and arguments are named options; a name of two words is a subcommand of a
# group ("criteria edit"), because a group holds at most 25 subcommands. For the same limit "suggest apply N"
# is suggest's option ``apply:N``. The app's command tree uses exactly these names (a test checks).
SUBCOMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "criteria": ("criteria show", ()),
    "criteria edit": ("criteria edit", ()),
    "criteria history": ("criteria history", ()),
    "criteria undo": ("criteria undo", ()),
    "criteria preview": ("criteria preview", ()),
    "criteria apply": ("criteria apply", ()),
    "criteria discard": ("criteria discard", ()),
    "threshold": ("threshold", ("relevance", "novelty")),
    "categories": ("categories", ("categories",)),
    "schedule": ("schedule", ("time", "timezone")),
    "empty-days": ("empty-days", ("state",)),
    "language": ("language", ("code",)),
    "abstract": ("abstract", ("id_or_rank",)),
    "bibtex": ("bibtex", ("id_or_rank",)),
    "export liked": ("export-liked", ("days",)),
    "search": ("search", ("words",)),
    "feedback": ("feedback", ("action",)),
    "suggest": ("suggest", ("apply",)),
    "suggest apply": ("suggest", ("apply",)),
    "ask": ("ask", ("id_or_rank", "question")),
    # followed authors
    "follow": ("follow", ("author",)),
    "unfollow": ("unfollow", ("author",)),
    "weekly": ("weekly", ("state", "day", "time")),
}


def slash_command(text: str) -> str:
    """``threshold 8 6`` → ``/arxiv threshold relevance:8 novelty:6``.

    Words beyond the options go to the last one (categories are one option holding several).
    """
    invocation = parse(text)
    if invocation.name not in COMMANDS:
        return PREFIX + text
    name, options = SUBCOMMANDS.get(invocation.name, (invocation.name, ()))
    args = list(invocation.args)
    if options and len(args) > len(options):
        args[len(options) - 1 :] = [" ".join(args[len(options) - 1 :])]
    return " ".join([PREFIX + name, *(f"{option}:{arg}" for option, arg in zip(options, args, strict=False))])


class DiscordMarkup(Markdown):
    def bold(self, text: str) -> str:
        return f"**{text}**"

    def command(self, text: str) -> str:
        return self.code(slash_command(text))

    def block(self, text: str) -> str:
        # Nothing inside a fence is formatted, so only a fence in the text itself needs defusing.
        # Fences are only ever made here: the reply renderer counts them to re-open a block it splits.
        return f"{FENCE}\n{text.replace(FENCE, BACKTICK_LOOKALIKE * 3)}\n{FENCE}"

    def link(self, url: str, text: str) -> str:
        return f"[{escape(text)}]({url.replace(')', '%29')})"

    def escape(self, text: str) -> str:
        return escape(text)
