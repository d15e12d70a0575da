"""Run lines as an operator reads them, and as ``--log-json`` writes them."""

from __future__ import annotations

import json
import logging

import pytest

from bot.entrypoints.logs import configure_logging
from tests.bot.conftest import THU, berlin
from tests.conftest import sample_papers


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_one_json_object_per_run_with_counts_tokens_cost_and_duration(world, fake_arxiv, capsys, restore_logging):
    configure_logging("INFO", json=True)
    w = world()
    fake_arxiv.set_day(THU, sample_papers(9))
    w.run(berlin(THU))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    runs = [line for line in lines if line.get("event") == "run"]
    assert len(runs) == 1
    run = runs[0]
    assert run["level"] == "INFO" and run["logger"] == "bot.digest.service" and run["status"] == "posted"
    assert run["date"] == "2025-03-06" and run["papers"] == 9 and run["scored"] == 9
    assert run["messages"] == 1 + run["relevant"] and run["requests"] >= 1 and run["prompt_tokens"] > 0
    assert run["cost_usd"] > 0 and run["seconds"] >= 0
    assert "posted" in run["message"] and "test-key" not in json.dumps(lines)


def test_text_logs_carry_the_same_figures_in_one_line(world, fake_arxiv, capsys, restore_logging):
    configure_logging("INFO")
    w = world()
    fake_arxiv.set_day(THU, sample_papers(6))
    w.run(berlin(THU))
    lines = [line for line in capsys.readouterr().err.splitlines() if "run chat:C1" in line]
    assert len(lines) == 1
    assert "2025-03-06 posted" in lines[0] and "6 papers, 6 scored" in lines[0] and "requests" in lines[0]
    assert "$" in lines[0] and lines[0].rstrip().endswith(" s")


def test_the_http_clients_request_lines_are_not_logged_at_info(restore_logging, capsys):
    configure_logging("INFO")
    for name in ("httpx", "httpx2"):  # httpx2: the openai client's transport, one line per LLM request
        logging.getLogger(name).info('HTTP Request: POST http://llm/v1/chat/completions "HTTP/1.1 200 OK"')
    logging.getLogger("bot.digest").info("posted the digest")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err and "posted the digest" in err
