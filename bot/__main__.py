"""``python -m bot`` is the ``arxiv-digest`` command."""

from bot.entrypoints.cli import app

app()
