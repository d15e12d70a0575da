"""``python -m bot`` is the ``arxiv-digest`` command."""

from bot.cli import app

app()
