"""Alembic environment. storage.migrate configures it in code and hands it a Connection in a transaction
it holds a lock on (``config.attributes["connection"]``); there is no alembic.ini and no offline mode."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migrate import context_options

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through storage.migrate (or `arxiv-digest db upgrade`), not the alembic command")

context.configure(connection=connection, target_metadata=SQLModel.metadata, **context_options())
with context.begin_transaction():  # a no-op: storage.migrate's transaction commits (or rolls back) it all
    context.run_migrations()
