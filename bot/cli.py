"""The ``arxiv-digest`` command line."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.arxiv_api import ArxivLookup
from adapters.arxiv_rss import RSSFetcher
from adapters.files import write_digest
from adapters.llm import OpenAIChat
from adapters.site.build import SiteResult, publish_site
from bot import cli_eval
from bot.app import batch_factory
from bot.cli_db import db_app
from bot.criteria import validate_criteria
from bot.errors import DigestError
from bot.models import Digest, Profile, normalize_arxiv_id
from bot.pipeline import RunResult, run_digest
from bot.pricing import format_cost
from bot.profiles import default_profile
from bot.settings import DEFAULT_DATABASE_URL, Settings, sqlite_url_for
from storage.store import Store

app = typer.Typer(
    help="arxiv-digest: a daily, LLM-ranked digest of new arXiv papers.\n\n"
    "Configuration comes from DIGEST_* environment variables (or a .env file); see README.md.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
criteria_app = typer.Typer(help="Show, change, list or undo the default profile's criteria.", no_args_is_help=True)
app.add_typer(criteria_app, name="criteria")
app.add_typer(db_app, name="db")
app.command(name="eval")(cli_eval.evaluate)
console = Console()
err = Console(stderr=True)

SAMPLE_DAY = "2025-03-25.xml"


class RichProgress:
    """The pipeline's progress hooks drawn as a rich progress bar."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task: int | None = None

    def start(self, total: int, description: str) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True,
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


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        err.print(f"[red]Invalid configuration[/red]: {problems}. Fix the DIGEST_* variable (or .env) and retry.")
        raise typer.Exit(2) from exc


def _chat_factory(settings: Settings) -> Callable[[], OpenAIChat] | None:
    return (lambda: OpenAIChat.from_settings(settings)) if settings.has_llm else None


def print_digest(digest: Digest) -> None:
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
    """The database, migrated; a clear line and exit 1 when it cannot be opened."""
    try:
        return Store.open(settings.database_url)
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _run(settings: Settings, fetcher: RSSFetcher, date: dt.date | None, out: Path, *, api: bool = True) -> RunResult:
    store = _open_store(settings)
    try:
        profile = default_profile(store, settings, update=True)  # follows the environment
        if not settings.has_llm:
            console.print(
                "[bold yellow]No OPENAI_API_KEY set:[/bold yellow] using the local TF-IDF scorer. "
                "Scores are approximate; set OPENAI_API_KEY for LLM judgments."
            )
        result = asyncio.run(
            run_digest(
                settings, store, profile, fetcher,
                chat_factory=_chat_factory(settings), batch_factory=batch_factory(settings), date=date,
                past=(_api(settings), settings.calendar, settings.announce_types) if api else None,
                deliver=[lambda digest: write_digest(digest, out)], progress=RichProgress(),
            )
        )
        # The whole site again: the day before gets its "next" link, and the month page its new day.
        site = publish_site(store, profile, out, result.digest) if result.digest is not None else None
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()
    if result.digest is None:
        console.print(result.message)
        return result
    print_digest(result.digest)
    for md_path, json_path in result.outputs:  # type: ignore[misc]
        console.print(f"Wrote {md_path} and {json_path}")
    if site is not None:
        _print_site(site)
    return result


def _print_site(site: SiteResult) -> None:
    days, months = (f"{n} {word}{'' if n == 1 else 's'}" for n, word in ((site.days, "day"), (site.months, "month")))
    console.print(f"Wrote the archive site ({days}, {months}, {site.seconds:.2f} s): open {site.index}")


def _api(settings: Settings) -> ArxivLookup:
    return ArxivLookup(settings.arxiv_api_url, delay_seconds=settings.arxiv_api_delay, timeout=settings.fetch_timeout)


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-25") from exc


OutOption = Annotated[
    Path, typer.Option("--out", help="Folder for YYYY-MM/YYYY-MM-DD-output.{md,json} and the archive site.")
]


@app.command()
def digest(
    date: Annotated[
        str | None,
        typer.Option(help="Announcement day (YYYY-MM-DD); default: the feed's newest day. Past days the feed no "
                     "longer holds are rebuilt from the arXiv API."),
    ] = None,
    out: OutOption = Path("digests"),
) -> None:
    """Fetch today's arXiv announcement, score it, rank it, write the files and print the table.

    Runs for the default profile (DIGEST_PROFILE) with DIGEST_CATEGORIES and the thresholds from the
    environment. Running the same day twice sends nothing to the LLM the second time.
    """
    settings = _load_settings()
    fetcher = RSSFetcher(
        settings.feed_url, keep_types=settings.announce_types, retries=settings.fetch_retries,
        timeout=settings.fetch_timeout, base_delay=settings.retry_base_delay,
    )
    _run(settings, fetcher, _parse_date(date), out)


@app.command()
def demo(out: OutOption = Path("digests-demo")) -> None:
    """Run the daily job offline on a bundled sample day (real arXiv papers of 2025-03-25).

    Needs no network and no key: without OPENAI_API_KEY the local scorer ranks the papers. The demo
    keeps its own SQLite database in the output folder, apart from your real one.
    """
    settings = _load_settings()
    if settings.database_url == DEFAULT_DATABASE_URL:
        settings = settings.model_copy(update={"database_url": sqlite_url_for(out / "demo.sqlite")})
    with as_file(files("bot").joinpath("sample", SAMPLE_DAY)) as sample:
        fetcher = RSSFetcher(str(sample), keep_types=settings.announce_types)
        _run(settings, fetcher, None, out, api=False)


@app.command()
def run(
    log_level: Annotated[str, typer.Option(help="Logging level: DEBUG, INFO, WARNING.")] = "INFO",
    log_json: Annotated[
        bool, typer.Option("--log-json", help="One JSON object per log line (with the run's counts as fields).")
    ] = False,
) -> None:
    """Run the chat bot: Slack and/or Discord, whichever the environment configures, until stopped.

    Slack: SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode, no public URL needed) or
    SLACK_SIGNING_SECRET (HTTP mode on $PORT, path /slack/events). Discord: DISCORD_TOKEN.

    Each subscribed channel gets its digest at its own time (/arxiv schedule; default DIGEST_SCHEDULE)
    on days arXiv announces; days missed while the bot was down are posted at start, in order.
    Extra HTTP replicas run with DIGEST_SCHEDULER=false. Stop with Ctrl-C or SIGTERM: running
    digests get DIGEST_SHUTDOWN_GRACE_SECONDS to finish, and the next start finishes the rest.
    """
    from rich.markup import escape

    from adapters.platforms import configured_platforms
    from bot.logs import configure_logging
    from bot.runner import serve

    configure_logging(log_level, json=log_json)
    settings = _load_settings()
    try:
        asyncio.run(serve(settings, configured_platforms))
    except (DigestError, ValidationError) as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line, however long
        raise typer.Exit(1) from exc


@app.command()
def site(
    out: OutOption = Path("digests"),
    profile: Annotated[
        str | None,
        typer.Option(help="Profile whose digests to publish: DIGEST_PROFILE by default; a channel's is "
                     "'slack:<channel ID>' or 'discord:<channel ID>'."),
    ] = None,
) -> None:
    """Rebuild the archive site from the database: a page per day the profile has a run for, a page per
    month, and index.html with a search box. Static files: serve the folder anywhere or open it from disk.
    """
    settings = _load_settings()
    store = _open_store(settings)
    try:
        name = profile or settings.profile
        found = store.get_profile(name)
        if found is None:
            err.print(f"[red]Error:[/red] there is no profile {name!r} in the database; run a digest for it first.")
            raise typer.Exit(1)
        result = publish_site(store, found, out)
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()
    _print_site(result)


@app.command()
def abstract(arxiv_id: Annotated[str, typer.Argument(help="An arXiv ID or URL, e.g. 2503.03213")]) -> None:
    """Show a paper's title, authors and full abstract (from the database, else from the arXiv API)."""
    pid = normalize_arxiv_id(arxiv_id)
    if pid is None:
        err.print(f"[red]Error:[/red] {arxiv_id!r} is not an arXiv ID (expected e.g. 2503.03213 or hep-th/9901001).")
        raise typer.Exit(2)
    settings = _load_settings()
    store = _open_store(settings)
    try:
        paper = store.get_paper(pid)
        if paper is None:
            found = _api(settings).lookup_sync([pid])
            paper = found.get(pid)
            if paper is None:
                err.print(f"[red]Error:[/red] arXiv has no paper {pid}. Check the ID.")
                raise typer.Exit(1)
            store.save_papers([paper])
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()
    console.print(f"[bold]{paper.title}[/bold]\n{paper.url}\n{', '.join(paper.authors)}\n")
    console.print(paper.abstract)


def _store_and_profile() -> tuple[Store, Profile, Settings]:
    settings = _load_settings()
    store = _open_store(settings)
    return store, default_profile(store, settings, update=True), settings


@criteria_app.command("show")
def criteria_show() -> None:
    """Print the criteria in force."""
    store, profile, _ = _store_and_profile()
    store.close()
    console.print(f"[bold]Criteria v{profile.criteria_version}[/bold] of profile {profile.name!r}\n")
    console.print(profile.criteria, markup=False)


@criteria_app.command("set")
def criteria_set(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A text file with the new criteria.")],
) -> None:
    """Replace the criteria with the text of FILE (a new version; `criteria undo` goes back)."""
    store, profile, settings = _store_and_profile()
    try:
        text = validate_criteria(file.read_text(encoding="utf-8"), settings.max_criteria_chars)
        version = store.set_criteria(profile.id, text, author="cli")
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()
    console.print(f"Criteria v{version} is now in force. The next digest scores papers against it.")


@criteria_app.command("history")
def criteria_history() -> None:
    """List every criteria version, newest first."""
    store, profile, _ = _store_and_profile()
    rows = store.criteria_history(profile.id)
    store.close()
    table = Table("version", "when (UTC)", "by", "state", "first line")
    for row in rows:
        state = "undone" if row.reverted else ("in force" if row.version == profile.criteria_version else "")
        first = next((line for line in row.text.splitlines() if line.strip()), "")[:60]
        table.add_row(str(row.version), f"{row.created_at:%Y-%m-%d %H:%M}", row.author, state, first)
    console.print(table)


@criteria_app.command("undo")
def criteria_undo() -> None:
    """Undo the latest criteria change."""
    store, profile, _ = _store_and_profile()
    version = store.undo_criteria(profile.id)
    store.close()
    if version is None:
        err.print("Nothing to undo: the criteria have not been changed.")
        raise typer.Exit(1)
    console.print(f"Criteria v{version} is back in force.")
