"""``arxiv-digest db``: the database schema's revision, and its migrations.

The bot migrates at every start by itself; these commands are for operators who want to see where a
database stands or to migrate it before rolling out a release. bot.cli is imported inside the commands:
it imports this module to register ``db``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.markup import escape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import DigestError
from storage import migrate
from storage.db import make_engine

db_app = typer.Typer(
    help="Show the database's schema revision or migrate it (the bot also migrates at every start).",
    no_args_is_help=True,
)

T = TypeVar("T")


def _with_engine(work: Callable[[Engine], T]) -> T:
    """Run ``work`` on DATABASE_URL's database; a failure is one clear line and exit status 1."""
    from bot.cli import _load_settings, err

    settings = _load_settings()
    engine = make_engine(settings.database_url)
    try:
        return work(engine)
    except DigestError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) is not None else exc).strip().splitlines()[0]
        err.print(
            f"[red]Database error:[/red] {escape(reason)}. Check DATABASE_URL and the server.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def describe(revision: str | None) -> str:
    """Where a database stands, in one line."""
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
    from bot.cli import console, err

    revision = _with_engine(migrate.current)
    line = describe(revision)
    if revision is not None and not migrate.known(revision):
        err.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(line, markup=False, highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Option("--revision", "-r", help="Target revision, e.g. 0002_run_claims; default: the newest.")
    ] = "head",
) -> None:
    """Apply the migrations the database (DATABASE_URL) lacks, in one transaction.

    A database made before migrations existed is recognised and stamped first. Safe while the bot
    runs: one process at a time migrates, the others wait and find the work done.
    """
    from bot.cli import console

    def work(engine: Engine) -> tuple[str | None, str | None]:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        return before, migrate.current(engine)

    before, after = _with_engine(work)
    latest = migrate.head()
    where = f"{after} (head)" if after == latest else f"{after} (head is {latest})"
    if before == after:
        console.print(f"Nothing to do: the database is at {where}.", markup=False, highlight=False, soft_wrap=True)
    else:
        message = f"Upgraded the database from {before or 'no revision'} to {where}."
        console.print(message, markup=False, highlight=False, soft_wrap=True)
