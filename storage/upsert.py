"""``INSERT … ON CONFLICT`` for the two databases we run on: rows that another process may write at the same
moment (the day's papers, a run row, scores, posted messages) are inserted idempotently instead of being
looked up first and inserted after, which fails on a unique constraint when two processes race."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on ``table`` (a table or SQLModel class) that supports ``on_conflict_do_nothing/update``."""
    target: Table = getattr(table, "__table__", table)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(target)
    if dialect == "sqlite":
        return sqlite.insert(target)
    raise NotImplementedError(f"no upsert for the {dialect} database; use SQLite or PostgreSQL")


def insert_missing(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str] | None = None) -> None:
    """Insert the rows that are not there yet (by ``keys``, or by any unique constraint); keep the others."""
    if rows:
        session.execute(insert(session, table).on_conflict_do_nothing(index_elements=keys), rows)


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    update: list[str],
    keep_unless_given: Sequence[str] = (),
) -> None:
    """Insert the rows, or set the ``update`` columns of the row already there with the same ``keys``; a
    ``keep_unless_given`` column is set only when the new row's value is not NULL (else the stored one stays)."""
    if rows:
        statement = insert(session, table)
        target: Table = getattr(table, "__table__", table)
        values: dict[str, Any] = {column: statement.excluded[column] for column in update}
        values |= {column: func.coalesce(statement.excluded[column], target.c[column]) for column in keep_unless_given}
        session.execute(statement.on_conflict_do_update(index_elements=keys, set_=values), rows)
