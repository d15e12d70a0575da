"""``arxiv-digest db``: the database schema's revision, and its migrations.

The bot migrates at every start by itself; these commands are for operators who want to see where a
database stands or to migrate it before rolling out a release. bot.entrypoints.cli registers ``db``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.entrypoints.console import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

db_app = typer.Typer(
    help="Show the database's schema revision or migrate it (the bot also migrates at every start).",
    short_help="Show the database's schema revision or migrate it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

T = TypeVar("T")


def _with_engine(work: Callable[[Engine], T]) -> T:
    """Run ``work`` on DATABASE_URL's database (a failure ends as one line: bot.entrypoints.console explains it)."""
    from storage.db import make_engine

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        return work(engine)
    finally:
        engine.dispose()


def describe(revision: str | None) -> str:
    """Where a database stands, in one line."""
    from storage import migrate

    latest = migrate.head()
    if revision is None:
        return f"not versioned (empty, or made before migrations); head is {latest} — run `arxiv-digest db upgrade`"
    if revision == latest:
        return f"{revision} (head)"
    if not migrate.known(revision):
        return f"{revision}: unknown here (head is {latest}); a newer arxiv-digest migrated it — upgrade arxiv-digest"
    return f"{revision}; head is {latest} — run `arxiv-digest db upgrade`"


@db_app.command("current")
def db_current() -> None:
    """Print the revision the database (DATABASE_URL) is at, and whether it is the newest."""
    from storage import migrate

    revision = _with_engine(migrate.current)
    line = describe(revision)
    if revision is not None and not migrate.known(revision):
        typer.echo(line, err=True)
        raise typer.Exit(1)
    typer.echo(line)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str,
        typer.Option("--revision", "-r", metavar="REVISION", help="Target revision, e.g. 0002_run_claims; "
                     "'head' is the newest."),
    ] = "head",
) -> None:
    """Apply the migrations the database (DATABASE_URL) lacks, in one transaction.

    A database made before migrations existed is recognised and stamped first. Safe while the bot
    runs: one process at a time migrates, the others wait and find the work done.
    """
    from storage import migrate

    def work(engine: Engine) -> tuple[str | None, str | None]:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        return before, migrate.current(engine)

    before, after = _with_engine(work)
    latest = migrate.head()
    where = f"{after} (head)" if after == latest else f"{after} (head is {latest})"
    if before == after:
        typer.echo(f"Nothing to do: the database is at {where}.")
    else:
        typer.echo(f"Upgraded the database from {before or 'no revision'} to {where}.")
