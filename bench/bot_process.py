"""``arxiv-digest run --log-json`` as a child process, for benchmarks: its run lines, its memory, its CPU time.

The process is the production one (``python -m bot run``) configured only through its environment; what it
does is read from its JSON log lines (one ``"event": "run"`` object per channel run, with the counts as
fields) and from /proc (resident memory now and at its peak, CPU seconds).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

KEPT_LINES = 40  # warnings and errors kept for the report; the rest are only counted
# asyncio's debug mode (PYTHONASYNCIODEBUG=1) names each step that held the event loop longer than 0.1 s:
# "Executing <Task pending name=… coro=<f() running at file:line> …> took 0.523 seconds" (or <Handle …>).
SLOW_STEP = re.compile(r"^Executing <(?P<what>.*)> took (?P<seconds>[0-9.]+) seconds$", re.DOTALL)
CORO = re.compile(r"coro=<(?P<coro>\S+ (?:running at|done, defined at) [^>\s]+)>")


def slow_step(message: str) -> tuple[str, float] | None:
    """(where the step ended, seconds it held the loop) from asyncio's debug line, else None."""
    slow = SLOW_STEP.match(message)
    if slow is None:
        return None
    coro = CORO.search(slow["what"])
    return (coro["coro"] if coro else slow["what"][:160]), float(slow["seconds"])


@dataclass(frozen=True)
class RunLine:
    """One channel run as the bot logged it, with the moment (time.monotonic) the line arrived."""

    at: float
    platform: str
    channel: str
    status: str
    messages: int
    fields: Mapping[str, Any]


@dataclass
class LogTally:
    """What the bot's stderr said, counted by logger and level; the WARNING and ERROR lines kept (the last few)."""

    lines: int = 0
    by_logger: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_LINES))
    not_json: int = 0
    slow_steps: list[tuple[float, str, float]] = field(default_factory=list)  # (arrived, where, seconds held)


class BotProcess:
    """``python -m bot run --log-json`` in ``cwd`` with exactly ``env`` (plus PATH and the like); ``command``
    ``worker`` runs ``arxiv-digest worker`` instead (DIGEST_RUNS=queue)."""

    def __init__(self, env: Mapping[str, str], cwd: Path, *, command: str = "run") -> None:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DIGEST_", "OPENAI_", "ARXIV_"))
                and k not in {"PORT", "DATABASE_URL"}}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", command, "--log-json"], cwd=cwd, env={**base, **env}, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.pid = self.process.pid
        self.tally = LogTally()
        self.runs: list[RunLine] = []
        self.children: dict[int, tuple[float, float]] = {}  # child PID → (peak RSS MiB, CPU seconds) seen
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="bot-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.rstrip("\n")
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            with self._changed:
                self._count(line, record)
                self._changed.notify_all()

    def _count(self, line: str, record: object) -> None:
        tally = self.tally
        tally.lines += 1
        if not isinstance(record, dict):
            tally.not_json += 1
            tally.problems.append(line[:300])
            return
        level, logger = str(record.get("level", "")), str(record.get("logger", ""))
        tally.by_logger[logger] += 1
        tally.by_level[level] += 1
        message = str(record.get("message", ""))
        if logger == "asyncio" and (slow := slow_step(message)) is not None:
            tally.slow_steps.append((time.monotonic(), *slow))
            return
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            tally.problems.append(f"{level} {logger}: {message[:300]}")
        if record.get("event") == "run":
            self.runs.append(RunLine(time.monotonic(), str(record.get("platform")), str(record.get("channel")),
                                     str(record.get("status")), int(record.get("messages") or 0), record))

    # waiting ------------------------------------------------------------------------------------------

    def wait_healthy(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"The bot exited at start (code {self.process.returncode}):\n" + self.last_problems())
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"The bot did not answer {url} within {timeout:.0f} s:\n" + self.last_problems())

    def run_lines(self) -> list[RunLine]:
        with self._changed:
            return list(self.runs)

    def last_problems(self, n: int = 10) -> str:
        with self._changed:
            return "\n".join(list(self.tally.problems)[-n:])

    # memory and CPU -------------------------------------------------------------------------------------

    def _status(self, name: str) -> int:
        """A kB figure from /proc/<pid>/status (VmRSS: resident now, VmHWM: the peak so far); 0 once exited."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(f"{name}:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def rss_mib(self) -> float:
        return self._status("VmRSS") / 1024

    def watch_children(self) -> None:
        """Note the bot's child processes (the prefilter's fitting): their peak memory and CPU so far, kept
        after they exit. Call it every second or so."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines()
                              if ":" in line)
                if int(status.get("PPid", "0")) != self.pid:
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, ValueError):
                continue
            peak = int(status.get("VmHWM", "0 kB").split()[0]) / 1024
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            known = self.children.get(int(entry.name), (0.0, 0.0))
            self.children[int(entry.name)] = (max(known[0], peak), max(known[1], cpu))

    def children_peak_mib(self) -> float:
        return max((peak for peak, _ in self.children.values()), default=0.0)

    def children_cpu_seconds(self) -> float:
        return sum(cpu for _, cpu in self.children.values())

    def peak_rss_mib(self) -> float:
        return self._status("VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far (its threads included)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # stopping -------------------------------------------------------------------------------------------

    def stop(self, timeout: float) -> tuple[float, bool]:
        """SIGTERM, then wait ``timeout`` s (then SIGKILL): (seconds until it exited, whether SIGTERM did it)."""
        if self.process.poll() is not None:
            return 0.0, True
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            clean = True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            clean = False
        self._reader.join(5)
        return time.monotonic() - sent, clean

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)
