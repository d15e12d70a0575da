"""The entry points: the ``arxiv-digest`` command line and the long-running bot process.

They get every adapter from bot.bootstrap, the composition root.
"""
