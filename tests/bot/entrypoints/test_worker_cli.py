"""``arxiv-digest worker`` as an operator meets it: one line for a database that is not PostgreSQL (and the same for
``run`` with DIGEST_RUNS=queue), one line for a refused token or a port in use, its health check on $PORT, and
Ctrl-C as a clean exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.storage.conftest import postgres_schema
from tests.support.slack_api import SlackStandIn
from tests.support.unreachable import closed_port

ONE_LINE_SQLITE = "Error: The job queue (DIGEST_RUNS=queue, arxiv-digest worker) needs PostgreSQL"


def environment(**values: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DIGEST_", "OPENAI_", "DISCORD_")) and k not in {"DATABASE_URL", "PORT"}}
    return {**base, **values}


def arxiv_digest(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:") or "Traceback" in line]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("args", [["worker"], ["run"]])
def test_the_queue_on_sqlite_is_refused_at_start_in_one_line(tmp_path: Path, args: list[str]) -> None:
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", DIGEST_RUNS="queue",
                      SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-test")
    done = arxiv_digest(args, env, tmp_path)
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert line.startswith(ONE_LINE_SQLITE)


@pytest.mark.slow
def test_a_refused_bot_token_stops_the_worker_in_one_line(tmp_path: Path, postgres_url: str) -> None:
    with SlackStandIn() as slack:
        env = environment(DATABASE_URL=postgres_url, DIGEST_RUNS="queue", SLACK_BOT_TOKEN="xoxb-revoked",
                          SLACK_API_URL=slack.base_url)
        done = arxiv_digest(["worker"], env, tmp_path)
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert line.startswith("Error: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)")
    assert "xoxb-revoked" not in done.stderr


@pytest.mark.slow
def test_a_port_in_use_stops_the_worker_in_one_line(tmp_path: Path, postgres_url: str) -> None:
    with SlackStandIn() as slack, socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(DATABASE_URL=postgres_url, DIGEST_RUNS="queue", SLACK_BOT_TOKEN="xoxb-test",
                          SLACK_API_URL=slack.base_url, PORT=str(port))
        done = arxiv_digest(["worker"], env, tmp_path)
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert line == (f"Error: Cannot listen on 0.0.0.0:{port}: another process listens there. Set PORT to a free "
                    "port, or stop the process that holds it.")


@pytest.mark.slow
def test_a_waiting_worker_answers_its_health_check_and_ctrl_c_stops_it_cleanly(tmp_path: Path,
                                                                               postgres_url: str) -> None:
    port = closed_port()  # free: the worker listens on it
    with SlackStandIn() as slack:
        env = environment(DATABASE_URL=postgres_url, DIGEST_RUNS="queue", SLACK_BOT_TOKEN="xoxb-test",
                          SLACK_API_URL=slack.base_url, DIGEST_SHUTDOWN_GRACE_SECONDS="2", PORT=str(port),
                          DIGEST_HEALTH_TOKEN="health-secret")
        process = subprocess.Popen([sys.executable, "-m", "bot", "worker"], env=env, cwd=tmp_path, text=True,
                                   stderr=subprocess.PIPE)
        assert process.stderr is not None
        seen = []
        deadline = time.monotonic() + 90
        try:
            for line in process.stderr:
                seen.append(line)
                if "is taking digests" in line or time.monotonic() > deadline:
                    break
            assert seen[-1].rstrip().endswith("is taking digests (32 at once) for slack"), "".join(seen)
            health = f"http://127.0.0.1:{port}/healthz"
            assert httpx.get(health, timeout=10).json() == {"status": "ok"}  # the rest needs the token
            details = httpx.get(health, headers={"Authorization": "Bearer health-secret"}, timeout=10).json()
            assert details["worker"] == {"platforms": ["slack"], "runs_at_once": 32} and "database" not in details
            process.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            rest = process.communicate(timeout=30)[1]
        finally:
            process.kill()
    assert process.returncode == 0
    assert time.monotonic() - stopped < 15
    assert "Worker stopped" in rest and not error_lines(rest)
