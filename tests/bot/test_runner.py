"""``arxiv-digest run`` as a real process: configured from the environment, serving Slack's HTTP
mode against the stand-ins, answering a signed command, and stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.conftest import DAY, sample_papers

SECRET = "process-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the bot exited early:\n{process.stdout.read()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the bot did not start listening")


def test_run_serves_slack_http_mode_until_sigterm(arxiv, llm, tmp_path: Path):
    from tests.support.slack_api import SlackStandIn

    arxiv.set_day(DAY, sample_papers(6))
    port = free_port()
    with SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "OPENAI_"))},
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
            "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "ARXIV_RSS_URL": arxiv.rss_url, "ARXIV_API_URL": arxiv.api_url,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", process)
            body = urlencode({
                "team_id": slack.team_id, "channel_id": "C1", "user_id": "U1", "command": "/arxiv",
                "text": "subscribe", "response_url": slack.response_url(), "trigger_id": "t.1",
            })
            ts = str(int(time.time()))
            response = httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                         "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)},
            )
            assert response.status_code == 200
            deadline = time.monotonic() + 10
            while not slack.responses and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "subscribed this channel" in slack.responses[0]["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Shutting down" in output
    assert "xoxb-test" not in output and SECRET not in output  # secrets are never logged
