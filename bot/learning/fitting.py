"""Fitting the prefilter in a process of its own.

A fit is CPU work in Python (scikit-learn's tokenizing, counting and regression): on a thread it holds the GIL
the event loop needs, and a thousand channels' trainings after their posts made up most of the GIL time the
bot's threads took from it (py-spy, 300 channels: 56%). In a child process it runs on the other core. The child
is started at the first fit (a spawned interpreter: the parent runs threads, which a fork would copy halfway)
and stopped when the bot is idle, so its memory goes with it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.learning import prefilter
from bot.learning.prefilter import Example, Training

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0


class ProcessFit:
    """``prefilter.train`` in a child process; blocking, for the training thread to call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def __call__(self, examples: Sequence[Example], criteria: str, *, recall: float, min_labels: int) -> Training:
        executor = self._pool()
        if executor is None:  # closing: the fit is done here rather than lost
            return prefilter.train(examples, criteria, recall=recall, min_labels=min_labels)
        try:
            return executor.submit(prefilter.train, list(examples), criteria, recall=recall,
                                   min_labels=min_labels).result()
        except BrokenProcessPool:  # the child died (killed, out of memory): this fit here, a new child next time
            log.warning("The prefilter's training process ended unexpectedly; training on a thread this time")
            self.stop()
        except (CancelledError, RuntimeError):  # stopped for idleness just as a new run's training came: fit here
            pass
        return prefilter.train(examples, criteria, recall=recall, min_labels=min_labels)

    def stop(self) -> None:
        """End the child (the next fit starts another): when the bot is idle, and at shutdown."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._closed = True
        self.stop()

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._closed:
                return None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=_end_with, initargs=(os.getpid(),))
            return self._executor


def _end_with(parent: int) -> None:
    """In the child: exit once the bot is gone. A bot killed outright (SIGKILL, out of memory) cannot stop its
    child, which would otherwise wait for work forever (it holds its own end of the queue's pipe)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
