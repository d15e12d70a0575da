"""What every ``arxiv-digest`` command shares: the console it prints to, the one line a fixable failure
ends as, the settings it loads and the --out folder it checks.

Like the command modules, this imports only typer and the standard library at the top (``--help`` stays fast).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from bot.domain.settings import Settings


@cache
def out() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)  # a long line (a path, a message) stays whole: terminals wrap it themselves


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    typer.echo(f"Error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


_database_url: list[str] = []  # the URL the running command opened (for explain), set by use_database


def use_database(url: str) -> None:
    """``url`` is the database this command works on: a failure with it is explained with it."""
    _database_url.append(url)


def explain(exc: BaseException) -> str | None:
    """What an operator reads for a failure they can fix; None for a bug (it keeps its traceback)."""
    from bot.domain.errors import DigestError

    if isinstance(exc, DigestError):
        return str(exc)
    if "sqlalchemy" in sys.modules:  # the database was used: its errors are explained with the URL
        from storage.db import explain as explain_database

        found = explain_database(exc, _database_url[-1] if _database_url else os.environ.get("DATABASE_URL", ""))
        if found is not None:
            return found
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}. Check the path and its permissions."
    return None


def load_settings() -> Settings:
    from pydantic import ValidationError

    from bot.domain.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        fail(f"Invalid configuration: {problems}. Fix the DIGEST_* variable (or .env) and retry.", 2)
    use_database(settings.database_url)
    return settings


def writable_folder(folder: Path) -> Path:
    """``folder`` if files can be written into it (made later, when there is something to write); else exit."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        fail(f"Cannot write to --out {folder}: {existing} is not a folder. Choose another --out.")
    if not os.access(existing, os.W_OK | os.X_OK):
        fail(f"Cannot write to --out {folder}: {existing} is not writable. Choose a folder you can write to.")
    return folder
