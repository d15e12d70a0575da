"""The ``arxiv-digest`` command as an operator runs it: environment variables in, files and a table out."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.entrypoints.cli import app
from tests.conftest import DAY, sample_papers
from tests.support import Status, make_paper

runner = CliRunner()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address):
        raise OSError(f"network use in an offline test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_demo_runs_offline_without_a_key_and_says_scores_are_approximate(no_network, tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "No OPENAI_API_KEY set" in result.output and "approximate" in result.output
    data = json.loads((tmp_path / "demo/2025-03/2025-03-25-output.json").read_text())
    assert data["total_arxiv_papers"] == 169 and data["approximate"] is True  # 4 replacements dropped
    assert 0 < data["total_relevant_papers"] < 169
    assert (tmp_path / "demo/demo.sqlite").exists()
    assert not Path("arxiv_digest.db").exists()  # the demo keeps away from the real database


def test_digest_fetches_scores_writes_and_prints_the_table(env, arxiv, llm, tmp_path):
    arxiv.set_day(DAY, sample_papers(12))
    result = runner.invoke(app, ["digest", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "arXiv digest Thu 2025-03-06" in result.output
    assert "12 arXiv papers · 12 scanned" in result.output
    ranked = json.loads((tmp_path / "out/2025-03/2025-03-06-output.json").read_text())["papers"]
    assert ranked and all(p["arxiv_id"] in result.output for p in ranked)
    assert "sk-test-secret-value" not in result.output
    assert llm.completions[0].headers["authorization"] == "Bearer sk-test-secret-value"


def test_digest_categories_come_from_the_environment(env, arxiv, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGEST_CATEGORIES", "cs.CL, cs.CV")
    arxiv.set_day(DAY, sample_papers(2))
    assert runner.invoke(app, ["digest", "--out", str(tmp_path)]).exit_code == 0
    assert arxiv.requests[0].path == "/rss/cs.CL+cs.CV"


def test_digest_on_an_empty_day_says_so_and_writes_nothing(env, arxiv, tmp_path):
    arxiv.set_day(DAY, [])
    result = runner.invoke(app, ["digest", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0 and "no new papers" in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreachable_feed_ends_with_a_clear_error(env, arxiv, tmp_path):
    for _ in range(5):
        arxiv.add_fault(Status(503))
    result = runner.invoke(app, ["digest", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Could not read the arXiv feed" in result.output and "try again" in result.output


def test_a_bad_date_or_setting_is_explained(env, monkeypatch):
    result = runner.invoke(app, ["digest", "--date", "06/03/2025"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    monkeypatch.setenv("DIGEST_MIN_RELEVANCE", "11")
    result = runner.invoke(app, ["digest"])
    assert result.exit_code == 2 and "min_relevance" in result.output


def test_abstract_reads_the_database_then_the_arxiv_api(env, arxiv):
    arxiv.add_papers([make_paper("2401.00001", title="Known to arXiv", abstract="The full abstract.")])
    result = runner.invoke(app, ["abstract", "arXiv:2401.00001v2"])
    assert result.exit_code == 0, result.output
    assert "Known to arXiv" in result.output and "The full abstract." in result.output
    api_calls = len(arxiv.requests_to("/api/query"))
    assert runner.invoke(app, ["abstract", "2401.00001"]).exit_code == 0
    assert len(arxiv.requests_to("/api/query")) == api_calls  # now stored
    missing = runner.invoke(app, ["abstract", "2401.99999"])
    assert missing.exit_code == 1 and "no paper 2401.99999" in missing.output
    assert runner.invoke(app, ["abstract", "not-an-id"]).exit_code == 2


def test_criteria_can_be_set_listed_and_undone(env, tmp_path):
    new = tmp_path / "criteria.txt"
    new.write_text("1. Mixture of experts\n2. Quantization\n")
    assert runner.invoke(app, ["criteria", "set", str(new)]).exit_code == 0
    assert "Mixture of experts" in runner.invoke(app, ["criteria", "show"]).output
    history = runner.invoke(app, ["criteria", "history"]).output
    assert "in force" in history and "default" in history
    assert "v1 is back" in runner.invoke(app, ["criteria", "undo"]).output
    assert "Relevant Topics" in runner.invoke(app, ["criteria", "show"]).output


def test_oversized_or_empty_criteria_are_refused_with_the_limit(env, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_MAX_CRITERIA_CHARS", "100")
    big = tmp_path / "big.txt"
    big.write_text("x" * 500)
    result = runner.invoke(app, ["criteria", "set", str(big)])
    assert result.exit_code == 1 and "limit is 100" in result.output
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert "empty" in runner.invoke(app, ["criteria", "set", str(empty)]).output


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("digest", "demo", "abstract", "criteria"):
        assert command in result.output
