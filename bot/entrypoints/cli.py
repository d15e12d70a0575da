"""The ``arxiv-digest`` command line.

Start-up time matters here (``--help``, ``criteria``, ``abstract`` are typed by hand), so this module
imports only typer, the standard library and the other command modules at the top: every command imports
what it needs (the adapters through bot.bootstrap), and ``--help`` loads neither the database layer nor
the LLM, scikit-learn or chat clients.

Failures a person can fix (the database, the network, files, settings) end as one line on stderr that
says what to do, with exit status 1; only a bug shows a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from bot.entrypoints import cli_db, cli_eval
from bot.entrypoints.console import explain, fail, load_settings, out, use_database, writable_folder

if TYPE_CHECKING:
    from bot.bootstrap import SiteResult
    from bot.digest.pipeline import RunResult
    from bot.domain.models import Digest, Profile
    from bot.domain.settings import Settings
    from storage.store import Store

SAMPLE_DAY = "2025-03-25.xml"
DEMO_DATABASE = "demo.sqlite"


COMMAND_ORDER = ("demo", "digest", "abstract", "criteria", "run", "worker", "site", "eval", "db")  # a newcomer's order


class _Group(TyperGroup):
    """A command group whose --help flag, when not given, is False rather than None (click's default).

    Typer takes a bool flag's bool value as it is, but checks any other value with a pydantic TypeAdapter: every
    group above the command asked for ``--help`` would import pydantic for it, doubling the time
    ``arxiv-digest criteria --help`` takes. ``default`` is click's own attribute, so this stays correct whatever
    typer does; only the saving depends on typer (test_help_imports_no_heavy_library notices if it goes).
    """

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


class _OneLineErrors(_Group):
    """Turns the failures an operator can fix into one line with what to do, whichever command hit them,
    and lists the commands in the order a newcomer needs them."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else len(COMMAND_ORDER))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.Exit:  # how --help and a finished command end: nothing to explain (nor to import for it)
            raise
        except Exception as exc:
            message = explain(exc)
            if message is None:
                raise
            fail(message)


class _Command(TyperCommand):
    """A command whose arguments show their name alone in --help, without typer's type label (<str>, <file>)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # hide typer's type label


app = typer.Typer(
    cls=_OneLineErrors,
    help="A daily, LLM-ranked digest of new arXiv papers, for the terminal and chat channels.\n\n"
    "Start with 'arxiv-digest demo' (offline, no key). Settings are environment variables (DIGEST_*, "
    "OPENAI_API_KEY, DATABASE_URL, ...) or a .env file; README.md lists them all.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # click's plain layout: paragraphs re-flowed to the terminal, no type labels
    pretty_exceptions_enable=False,
)
criteria_app = typer.Typer(
    cls=_Group,
    help="Show, replace, list or undo the criteria the default profile's papers are scored against.",
    short_help="Show, replace, list or undo the criteria papers are scored against.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class RichProgress:
    """The pipeline's progress hooks drawn as a rich progress bar."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def start(self, total: int, description: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=out(), transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def print_digest(digest: Digest) -> None:
    from rich.table import Table

    from bot.domain.pricing import format_cost

    console = out()
    label = " (approximate: local TF-IDF scorer)" if digest.approximate else ""
    table = Table(title=f"arXiv digest {digest.date:%a %Y-%m-%d}{label}", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("R", justify="right")
    table.add_column("N", justify="right")
    table.add_column("arXiv ID", no_wrap=True)
    table.add_column("Title", overflow="fold")
    for item in digest.ranked:
        table.add_row(
            str(item.rank), str(item.judgment.relevance), str(item.judgment.novelty),
            f"[link={item.paper.url}]{item.paper.arxiv_id}[/link]", item.paper.title,
        )
    console.print(table)
    usage = digest.usage
    console.print(
        f"{digest.total_arxiv} arXiv papers · {digest.scanned} scanned · {digest.relevant} relevant "
        f"(R ≥ {digest.min_relevance}, N ≥ {digest.min_novelty}) · model {digest.model} · "
        f"{usage.prompt_tokens} prompt tokens ({usage.cached_tokens} cached), {usage.completion_tokens} completion "
        f"· {format_cost(digest.cost_usd)}"
    )
    for paper, why in digest.unscored[:10]:
        console.print(f"[yellow]unscored[/yellow] {paper.arxiv_id} {paper.title[:70]}: {why}")
    if len(digest.unscored) > 10:
        console.print(f"[yellow]… and {len(digest.unscored) - 10} more without a score (see the files)[/yellow]")
    for note in digest.notes:
        console.print(f"[yellow]note[/yellow] {note}")


def _open_store(settings: Settings) -> Store:
    """The database, migrated (a problem with it ends as one line, see explain)."""
    from storage.store import Store

    return Store.open(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)


@contextmanager
def _default_profile(settings: Settings) -> Iterator[tuple[Store, Profile]]:
    """The database, open for the command, and the default profile (DIGEST_PROFILE) as the environment sets it."""
    from bot.digest.profiles import default_profile

    store = _open_store(settings)
    try:
        yield store, default_profile(store, settings, update=True)
    finally:
        store.close()


def _run(settings: Settings, folder: Path, date: dt.date | None = None, *, feed: str | None = None) -> None:
    """The default profile's digest into ``folder`` and the terminal; ``feed``: a file read instead of arXiv's."""
    import asyncio

    from bot.bootstrap import OutFolder, build_service

    files = OutFolder(folder)
    with _default_profile(settings) as (store, profile):
        if not settings.has_llm:
            out().print(
                "[bold yellow]No OPENAI_API_KEY set:[/bold yellow] using the local TF-IDF scorer. "
                "Scores are approximate; set OPENAI_API_KEY for LLM judgments."
            )
        service = build_service(settings, store, feed=feed)

        async def run() -> RunResult:
            try:
                return await service.run_profile(profile, date=date, deliver=[files.write], progress=RichProgress())
            finally:
                await service.aclose()  # the LLM client

        result = asyncio.run(run())
        # The whole site again: the day before gets its "next" link, and the month page its new day.
        site = files.publish_site(store, profile, result.digest) if result.digest is not None else None
    if result.digest is None:
        out().print(result.message)
        return
    print_digest(result.digest)
    for written in result.outputs:  # each file output returns its (Markdown, JSON) paths
        md_path, json_path = cast("tuple[Path, Path]", written)
        out().print(f"Wrote {md_path} and {json_path}")
    if site is not None:
        _print_site(site)


def _print_site(site: SiteResult) -> None:
    from bot.domain.counting import counted

    days, months = counted(site.days, "day"), counted(site.months, "month")
    out().print(f"Wrote the archive site ({days}, {months}, {site.seconds:.2f} s): open {site.index}")


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-25") from exc


def _no_announcement(settings: Settings, day: dt.date) -> tuple[str, int] | None:
    """Why no digest can exist for ``day`` and the exit status: 0 for a weekend or an arXiv holiday (a
    normal day without papers), 1 for a day not announced yet; None when it may exist.

    Answered from arXiv's calendar alone, before the database or the network is touched."""
    calendar = settings.calendar
    if not calendar.is_mailing(day):
        evening = day - dt.timedelta(days=1)
        why = (
            f"the evening before ({evening:%a %Y-%m-%d}) was an arXiv holiday"
            if evening.weekday() not in (4, 5) else
            "arXiv announces Sunday to Thursday evenings (US Eastern), each dated the next day"
        )
        return f"arXiv made no announcement dated {day:%a %Y-%m-%d}: {why}. Nothing to digest.", 0
    if day > calendar.latest_mailing(dt.datetime.now(dt.UTC)):
        when = calendar.announced_at(day)
        return f"arXiv has not announced {day:%a %Y-%m-%d} yet: it does so at {when:%Y-%m-%d %H:%M} US Eastern.", 1
    return None


OutOption = Annotated[
    Path,
    typer.Option(
        "--out", metavar="DIR", help="Folder for YYYY-MM/YYYY-MM-DD-output.{md,json} and the archive site."
    ),
]


@app.command(short_help="Run the daily job offline on a bundled sample day.")
def demo(out_dir: OutOption = Path("digests-demo")) -> None:
    """Run the daily job offline on a bundled sample day (real arXiv papers of 2025-03-25).

    Needs no network and no key: without OPENAI_API_KEY the local scorer ranks the papers. The demo keeps
    its own SQLite database (demo.sqlite in the --out folder), whatever DATABASE_URL says.
    """
    from importlib.resources import as_file, files

    from bot.domain.settings import sqlite_url_for

    folder = writable_folder(out_dir)
    settings = load_settings()
    settings = settings.model_copy(update={"database_url": sqlite_url_for(folder / DEMO_DATABASE)})
    use_database(settings.database_url)
    with as_file(files("bot").joinpath("sample", SAMPLE_DAY)) as sample:
        _run(settings, folder, feed=str(sample))


@app.command(short_help="Score today's arXiv announcement (or a past day) and write the digest files.")
def digest(
    date: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Announcement day; default: the feed's newest. A past day "
                     "not in the database is rebuilt from the arXiv API."),
    ] = None,
    out_dir: OutOption = Path("digests"),
) -> None:
    """Fetch today's arXiv announcement, score it, rank it, write the files and print the table.

    Runs for the default profile (DIGEST_PROFILE) with DIGEST_CATEGORIES and the thresholds from the
    environment. Running the same day twice sends nothing to the LLM the second time.
    """
    day = _parse_date(date)
    folder = writable_folder(out_dir)
    settings = load_settings()
    if day is not None and (answer := _no_announcement(settings, day)) is not None:
        message, status = answer
        typer.echo(message, err=status != 0)
        raise typer.Exit(status)
    _run(settings, folder, day)


@app.command(cls=_Command, short_help="Show a paper's title, authors and full abstract.")
def abstract(
    arxiv_id: Annotated[str, typer.Argument(metavar="ARXIV_ID", help="An arXiv ID or URL, e.g. 2503.03213.")],
) -> None:
    """Show a paper's title, authors and full abstract (from the database, else from the arXiv API)."""
    import asyncio

    from bot.bootstrap import build_service
    from bot.domain.models import normalize_arxiv_id

    pid = normalize_arxiv_id(arxiv_id)
    if pid is None:
        fail(f"{arxiv_id!r} is not an arXiv ID (expected e.g. 2503.03213 or hep-th/9901001).", 2)
    settings = load_settings()
    store = _open_store(settings)
    try:
        paper = asyncio.run(build_service(settings, store).paper(pid))
    finally:
        store.close()
    if paper is None:
        fail(f"arXiv has no paper {pid}. Check the ID.")
    out().print(f"[bold]{paper.title}[/bold]\n{paper.url}\n{', '.join(paper.authors)}\n")
    out().print(paper.abstract)


app.add_typer(criteria_app, name="criteria")


# The long-running processes' logging options (run and worker).
LogLevel = Annotated[str, typer.Option(metavar="LEVEL", help="Logging level: DEBUG, INFO or WARNING.")]
LogJson = Annotated[
    bool, typer.Option("--log-json", help="One JSON object per log line (with the run's counts as fields).")
]


@app.command(short_help="Run the chat bot on every configured chat platform, with its daily schedule.")
def run(
    log_level: LogLevel = "INFO",
    log_json: LogJson = False,
) -> None:
    """Run the chat bot on every chat platform the environment configures, until stopped.

    README.md lists each platform's settings (its tokens, and whether it needs a public URL).

    Each subscribed channel gets its digest at its own time (/arxiv schedule; default DIGEST_SCHEDULE) on
    days arXiv announces; days missed while the bot was down are posted at start, in order. Extra HTTP
    replicas run with DIGEST_SCHEDULER=false. Stop with Ctrl-C or SIGTERM: running digests get
    DIGEST_SHUTDOWN_GRACE_SECONDS to finish, and the next start finishes the rest.
    """
    import asyncio

    from pydantic import ValidationError

    from bot.bootstrap import chat_platforms
    from bot.entrypoints.logs import configure_logging
    from bot.entrypoints.runner import serve

    configure_logging(log_level, json=log_json)
    settings = load_settings()
    try:
        asyncio.run(serve(settings, chat_platforms))
    except ValidationError as exc:
        fail(str(exc))


@app.command(short_help="Take channel digests off the job queue (DIGEST_RUNS=queue, PostgreSQL).")
def worker(
    log_level: LogLevel = "INFO",
    log_json: LogJson = False,
) -> None:
    """Post the digests that 'arxiv-digest run' (the clock, with DIGEST_RUNS=queue) puts on the job queue.

    Run as many workers as the channels need, on any machines, with the same DATABASE_URL (PostgreSQL) and
    chat tokens as the bot (a worker posts through the platforms' web APIs only). DIGEST_WORKER_CONCURRENCY
    digests run at once in each. Stop with Ctrl-C or SIGTERM: running digests get
    DIGEST_SHUTDOWN_GRACE_SECONDS; a digest cut off, or left by a worker that died, goes to another worker.
    """
    import asyncio

    from bot.entrypoints.logs import configure_logging
    from bot.entrypoints.worker import work

    configure_logging(log_level, json=log_json)
    settings = load_settings()
    asyncio.run(work(settings))


@app.command(short_help="Rebuild the archive site (HTML) from the database.")
def site(
    out_dir: OutOption = Path("digests"),
    profile: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Profile whose digests to publish; default: DIGEST_PROFILE. A channel's "
                     "profile is <platform>:<channel ID>."),
    ] = None,
) -> None:
    """Rebuild the archive site from the database: a page per day the profile has a run for, a page per month,
    and index.html with a search box. Static files: serve the folder anywhere or open it from disk.
    """
    from bot.bootstrap import OutFolder

    folder = writable_folder(out_dir)
    settings = load_settings()
    store = _open_store(settings)
    try:
        name = profile or settings.profile
        found = store.get_profile(name)
        if found is None:
            fail(f"there is no profile {name!r} in the database; run a digest for it first.")
        result = OutFolder(folder).publish_site(store, found)
    finally:
        store.close()
    _print_site(result)


app.command(name="eval", short_help="Replay labelled days through the prefilter: recall and LLM cost saved.")(
    cli_eval.evaluate
)
app.add_typer(cli_db.db_app, name="db", cls=_Group)


def _write_stdout(text: str) -> None:
    """``text`` exactly, as UTF-8 (no wrapping, no markup, whatever the terminal's width or locale)."""
    sys.stdout.flush()
    data = text.encode("utf-8")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(text)


@criteria_app.command("show", short_help="Print the criteria in force (to stdout, exactly as stored).")
def criteria_show() -> None:
    """Print the criteria in force, exactly as stored: 'criteria show > f', edit f, 'criteria set f'.

    Only the criteria go to stdout; the version line goes to stderr.
    """
    with _default_profile(load_settings()) as (_, profile):
        pass
    typer.echo(f"Criteria v{profile.criteria_version} of profile {profile.name!r}:", err=True)
    text = profile.criteria
    _write_stdout(text if text.endswith("\n") else text + "\n")


@criteria_app.command("set", cls=_Command, short_help="Replace the criteria with the text of FILE.")
def criteria_set(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, help="A text file with the new criteria.")
    ],
) -> None:
    """Replace the criteria with the text of FILE (a new version; 'criteria undo' goes back)."""
    from bot.domain.criteria import validate_criteria

    try:
        raw = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text. Save the criteria as UTF-8 (plain text) and try again.")
    settings = load_settings()
    with _default_profile(settings) as (store, profile):
        text = validate_criteria(raw, settings.max_criteria_chars)
        version = store.set_criteria(profile.id, text, author="cli")
    out().print(f"Criteria v{version} is now in force. The next digest scores papers against it.")


@criteria_app.command("history")
def criteria_history() -> None:
    """List every criteria version, newest first."""
    from rich.table import Table

    with _default_profile(load_settings()) as (store, profile):
        rows = store.criteria_history(profile.id)
    table = Table("version", "when (UTC)", "by", "state", "first line")
    for row in rows:
        state = "undone" if row.reverted else ("in force" if row.version == profile.criteria_version else "")
        first = next((line for line in row.text.splitlines() if line.strip()), "")[:60]
        table.add_row(str(row.version), f"{row.created_at:%Y-%m-%d %H:%M}", row.author, state, first)
    out().print(table)


@criteria_app.command("undo")
def criteria_undo() -> None:
    """Undo the latest criteria change."""
    with _default_profile(load_settings()) as (store, profile):
        version = store.undo_criteria(profile.id)
    if version is None:
        fail("Nothing to undo: the criteria have not been changed.")
    out().print(f"Criteria v{version} is back in force.")
