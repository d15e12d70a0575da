"""The bot process fits the prefilter in a child process (its CPU work off the event loop's GIL): the same
model as a fit in the process, the child stopped when the bot is idle, a dead child survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bot.learning import prefilter
from bot.learning.fitting import ProcessFit
from tests.bot.learning.test_prefilter import CRITERIA, _days


def children(fit: ProcessFit) -> list[int]:
    executor = fit._executor
    return [] if executor is None else [p.pid for p in (executor._processes or {}).values()]


def test_a_fit_in_the_child_process_is_the_fit_done_here_and_stop_ends_the_child():
    examples = _days(8, 50, 8)
    here = prefilter.train(examples, CRITERIA, recall=0.95, min_labels=300)
    fit = ProcessFit()
    try:
        there = fit(examples, CRITERIA, recall=0.95, min_labels=300)
        [child] = children(fit)
        assert child != os.getpid()
        assert there.cutoff == here.cutoff and there.model is not None and here.model is not None
        assert np.array_equal(there.model.coef, here.model.coef) and there.model.vocabulary == here.model.vocabulary
        fit.stop()
        assert children(fit) == [] and not os.path.exists(f"/proc/{child}")
        again = fit(examples, CRITERIA, recall=0.95, min_labels=300)  # a new child for the next busy spell
        assert again.cutoff == here.cutoff and children(fit) and children(fit) != [child]
    finally:
        fit.close()
    assert children(fit) == []
    assert fit(examples, CRITERIA, recall=0.95, min_labels=300).cutoff == here.cutoff  # closed: fitted here


def test_a_child_that_dies_is_logged_and_the_fit_done_here(caplog):
    examples = _days(8, 50, 8)
    fit = ProcessFit()
    try:
        fit(examples, CRITERIA, recall=0.95, min_labels=300)
        [child] = children(fit)
        os.kill(child, signal.SIGKILL)  # out of memory, or an operator
        training = fit(examples, CRITERIA, recall=0.95, min_labels=300)
        assert training.cutoff is not None
        assert "training process ended unexpectedly" in caplog.text
        assert fit(examples, CRITERIA, recall=0.95, min_labels=300).cutoff is not None  # a new child
    finally:
        fit.close()


def test_the_child_of_a_bot_killed_outright_exits_too(tmp_path):
    script = tmp_path / "killed_bot.py"
    script.write_text(
        "import os, signal, sys\n"
        "from bot.learning.fitting import ProcessFit\n"
        "from tests.bot.learning.test_prefilter import CRITERIA, _days\n"
        "if __name__ == '__main__':\n"
        "    fit = ProcessFit()\n"
        "    fit(_days(8, 50, 8), CRITERIA, recall=0.95, min_labels=300)\n"
        "    print([p.pid for p in fit._executor._processes.values()][0], flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == -signal.SIGKILL, done.stderr
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_a_fit_that_meets_the_idle_stop_is_done_here():
    examples = _days(8, 50, 8)
    fit = ProcessFit()
    try:
        fit(examples, CRITERIA, recall=0.95, min_labels=300)
        executor = fit._executor
        assert executor is not None
        executor.shutdown(wait=True)  # the idle hook stopped it between _pool() and submit()
        fit._executor = executor
        assert fit(examples, CRITERIA, recall=0.95, min_labels=300).cutoff is not None
    finally:
        fit.close()
