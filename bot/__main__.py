"""``python -m bot`` is the ``arxiv-digest`` command."""

from bot.entrypoints.cli import app

if __name__ == "__main__":  # a spawned child process (the prefilter's fitting) imports this module too
    app()
