"""Where the bot's event loop spends its time, sampled from outside with py-spy (``pip install py-spy``).

``py-spy record --idle --format raw`` samples every thread's stack; the event loop's thread is the one inside
asyncio's ``_run_once``. A sample whose innermost frame is the selector's wait is the loop idle, waiting for
I/O; any other sample is the loop held: running Python code or blocked in a call that does not yield (a
database query, a CPU-bound fit). Those samples are grouped by the innermost frame of our own code (bot/,
adapters/, storage/), with its file and line, so the report says which line of ours held the loop and for
about how long (samples / rate).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

RATE = 20  # samples a second: light enough to leave the bot's timing alone
OURS = re.compile(r"\((?:.*/)?(?:bot|adapters|storage)/[^ ()]*\.py:\d+\)$")  # py-spy shortens paths to bot/…
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")
LOOP = "._run_once (asyncio/base_events.py"
WAITING = re.compile(r"^\w*Selector\.select \(selectors\.py:\d+\)$")  # the loop waiting for I/O


@dataclass(frozen=True)
class Held:
    """One place of ours that held the event loop: ``samples`` of them at ``RATE`` a second."""

    where: str  # "function (path:line)" of our innermost frame, path from bot/, adapters/ or storage/
    samples: int
    via: str  # the frame it called into (the library call that took the time)

    @property
    def seconds(self) -> float:
        return self.samples / RATE


class LoopProfile:
    """``py-spy record`` attached to ``pid`` until :meth:`stop`; None from :meth:`start` without py-spy."""

    def __init__(self, process: subprocess.Popen[bytes], output: Path) -> None:
        self.process = process
        self.output = output

    @classmethod
    def start(cls, pid: int, output: Path) -> LoopProfile | None:
        spy = shutil.which("py-spy") or str(Path(__import__("sys").executable).parent / "py-spy")
        if not Path(spy).exists():
            return None
        process = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--idle", "--rate", str(RATE), "--format", "raw", "--nonblocking",
             "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return cls(process, output)

    def stop(self) -> tuple[int, int, list[Held]]:
        """(loop samples, loop samples held, places that held it, most first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.output.exists():
            return 0, 0, []
        return held_places(self.output.read_text(encoding="utf-8", errors="replace"))


def held_places(raw: str) -> tuple[int, int, list[Held]]:
    """Read py-spy's raw (collapsed) stacks: "frame;frame;… count" per line, outermost first."""
    loop = held = 0
    places: Counter[tuple[str, str]] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or LOOP not in stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        loop += count
        if WAITING.match(frames[-1]):
            continue
        held += count
        ours = [i for i, frame in enumerate(frames) if OURS.search(frame)]
        if not ours:
            places[("(no frame of ours: library or asyncio code)", short(frames[-1]))] += count
            continue
        i = ours[-1]
        via = short(frames[i + 1]) if i + 1 < len(frames) else "(itself)"
        places[(short(frames[i]), via)] += count
    return loop, held, [Held(where, n, via) for (where, via), n in places.most_common()]


def short(frame: str) -> str:
    """A frame with its path cut to the package: "run_lock (storage/runs.py:47)"."""
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()[:120]
    path = match["file"]
    for root in ("bot/", "adapters/", "storage/", "site-packages/"):
        if f"/{root}" in path:
            path = path[path.index(f"/{root}") + 1:]
            break
    return f"{match['func']} ({path}:{match['line']})"
