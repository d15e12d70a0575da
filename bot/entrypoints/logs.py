"""Logging for the long-running process: readable lines, or one JSON object per line (``--log-json``)."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


NOISY = ("httpx", "httpx2", "apscheduler.executors", "apscheduler.scheduler", "procrastinate")


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    handler = logging.StreamHandler()
    if json:
        # Extra fields passed with a record (a run's counts, tokens, cost) become keys of the object.
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party clients log every request at INFO; our run lines are what an operator reads. (The openai client
    # sends its requests through httpx2, which logs under its own name.)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
