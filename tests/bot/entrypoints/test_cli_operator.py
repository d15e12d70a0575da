"""The command line in an operator's first hour: mistakes end as one line that says what to do."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.domain.calendar import ArxivCalendar
from bot.entrypoints.cli import COMMAND_ORDER, app
from tests.conftest import DAY, sample_papers

runner = CliRunner()
SECRET = "hunter2"  # a password in DATABASE_URL must never be echoed


@pytest.fixture(autouse=True)
def _restore_logging():
    """`run` configures the root logger with a handler on CliRunner's stream, closed after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def assert_one_line_error(result, *phrases: str) -> None:
    """Exit status not 0, exactly one line on stderr with every phrase, no traceback, nothing leaked."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and SECRET not in result.output
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


# 1. database problems, in every command that opens the database ---------------------------------------

DATABASE_COMMANDS = {
    "digest": lambda tmp: ["digest", "--out", str(tmp / "out")],
    "site": lambda tmp: ["site", "--out", str(tmp / "out")],
    "criteria show": lambda tmp: ["criteria", "show"],
    "criteria set": lambda tmp: ["criteria", "set", str(tmp / "criteria.txt")],
    "criteria history": lambda tmp: ["criteria", "history"],
    "criteria undo": lambda tmp: ["criteria", "undo"],
    "abstract": lambda tmp: ["abstract", "2503.03213"],
    "db upgrade": lambda tmp: ["db", "upgrade"],
    "db current": lambda tmp: ["db", "current"],
    "run": lambda tmp: ["run"],
}
DATABASE_PROBLEMS = {
    # a server that does not answer (port 1: refused at once), with and without an explicit driver
    "unreachable": (f"postgresql+psycopg://nobody:{SECRET}@127.0.0.1:1/x?connect_timeout=2",
                    ("Database error", "127.0.0.1:1", "DATABASE_URL")),
    "unreachable, bare scheme": (f"postgresql://nobody:{SECRET}@127.0.0.1:1/x?connect_timeout=2",
                                 ("Database error", "Connection refused")),
    "driver not installed": (f"postgresql+psycopg2://nobody:{SECRET}@127.0.0.1:1/x",
                             ("'psycopg2'", "not installed", "postgresql+psycopg://")),
    "unknown scheme": ("mongodb://localhost/x", ("'mongodb'", "SQLite or PostgreSQL")),
    "not a URL": ("notaurl", ("DATABASE_URL is not a database URL", "sqlite:///")),
}


@pytest.mark.parametrize("problem", DATABASE_PROBLEMS)
@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_a_database_problem_is_one_line_saying_what_to_do(command, problem, env, monkeypatch, tmp_path):
    (tmp_path / "criteria.txt").write_text("1. Mixture of experts\n")
    url, phrases = DATABASE_PROBLEMS[problem]
    monkeypatch.setenv("DATABASE_URL", url)
    assert_one_line_error(runner.invoke(app, DATABASE_COMMANDS[command](tmp_path)), *phrases)


@pytest.mark.parametrize("url", ["notaurl", f"postgresql://nobody:{SECRET}@127.0.0.1:1/x"])
def test_the_installed_command_prints_one_line_too(url, tmp_path):
    """The real process (python -m bot): no warning, log line or traceback besides the one line."""
    environment = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "criteria", "show"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env=environment)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error: "), done.stderr
    assert SECRET not in done.stderr


def test_eval_never_opens_the_database(monkeypatch, tmp_path):
    from tests.bot.learning.test_evaluation import _days, _write

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody:{SECRET}@127.0.0.1:1/x")
    data = _write(tmp_path / "days.jsonl", _days(4))
    result = runner.invoke(app, ["eval", "--data", str(data), "--min-labels", "50"])
    assert result.exit_code == 0, result.output


def test_the_postgresql_driver_comes_with_the_default_install():
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(d.startswith("psycopg[binary]") for d in pyproject["project"]["dependencies"])


# 1. an --out folder that cannot be written ---------------------------------------------------------------

@pytest.mark.parametrize("command", ["digest", "demo", "site"])
def test_an_unwritable_out_folder_is_one_line_before_any_work(command, env, arxiv, llm, tmp_path):
    arxiv.set_day(DAY, sample_papers(3))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, [command, "--out", str(blocker / "digests")])
    assert_one_line_error(result, "--out", "not a folder")
    assert not arxiv.requests and not llm.completions  # nothing fetched or paid for that could not be written


# 2. the demo keeps its own database ----------------------------------------------------------------------

def test_the_demo_never_touches_database_url(monkeypatch, tmp_path):
    real = tmp_path / "real.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert not real.exists() and (tmp_path / "demo" / "demo.sqlite").exists()
    monkeypatch.setenv("DATABASE_URL", "notaurl")  # not even read
    assert runner.invoke(app, ["demo", "--out", str(tmp_path / "demo2")]).exit_code == 0


# 3. criteria show | set round trips ----------------------------------------------------------------------

CRITERIA = (
    "1. Mixture of experts — routing, load balancing, expert parallelism; " + "long line " * 20 + "end.\n"
    "   - Irrelevant: applications of MoE to a single task.\n"
    "\n"
    "2. Łukasz's naïve quantization (数学, ≥ 4 bits, 🧪) with [brackets] and [bold]markup[/bold]\n"
)


def test_criteria_show_writes_the_criteria_alone_byte_for_byte(env, tmp_path):
    source = tmp_path / "mine.txt"
    source.write_text(CRITERIA, encoding="utf-8")
    assert runner.invoke(app, ["criteria", "set", str(source)]).exit_code == 0
    shown = runner.invoke(app, ["criteria", "show"])
    assert shown.exit_code == 0
    assert shown.stdout_bytes == CRITERIA.encode("utf-8")  # no header, no wrapping at 80 columns, no markup
    assert "Criteria v2" in shown.stderr

    again = tmp_path / "again.txt"
    again.write_bytes(shown.stdout_bytes)  # criteria show > again.txt; criteria set again.txt
    assert runner.invoke(app, ["criteria", "set", str(again)]).exit_code == 0
    assert runner.invoke(app, ["criteria", "show"]).stdout_bytes == shown.stdout_bytes


def test_criteria_that_are_not_utf8_text_are_one_line(env, tmp_path):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("1. Réseaux de neurones\n".encode("latin-1"))
    assert_one_line_error(runner.invoke(app, ["criteria", "set", str(latin1)]), "not UTF-8 text")


def test_the_default_criteria_survive_show_then_set(env, tmp_path):
    first = runner.invoke(app, ["criteria", "show"]).stdout_bytes
    assert first.startswith(b"## Relevant Topics") and first.endswith(b"Knowledge Graph, etc.\n")
    saved = tmp_path / "f.txt"
    saved.write_bytes(first)
    assert runner.invoke(app, ["criteria", "set", str(saved)]).exit_code == 0
    assert runner.invoke(app, ["criteria", "show"]).stdout_bytes == first


# 4. digest --date: past days from the arXiv API, weekends and holidays without a request ---------------

def test_a_past_day_is_rebuilt_from_the_arxiv_api_without_the_feed(env, arxiv, llm, monkeypatch, tmp_path):
    wednesday = DAY - dt.timedelta(days=1)
    start = ArxivCalendar().submission_window(wednesday)[0]
    arxiv.add_papers([dict(p, published=f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")
                      for p in sample_papers(4, start=700)])
    monkeypatch.setenv("ARXIV_RSS_URL", "http://127.0.0.1:1/rss/")  # the feed is down: a past day must not need it
    result = runner.invoke(app, ["digest", "--date", "2025-03-05", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "arXiv digest Wed 2025-03-05" in result.output and "4 arXiv papers" in result.output
    assert arxiv.requests_to("/api/query") and not [r for r in arxiv.requests if r.path.startswith("/rss")]
    data = json.loads((tmp_path / "out/2025-03/2025-03-05-output.json").read_text())
    assert data["total_arxiv_papers"] == 4


@pytest.mark.parametrize(("day", "why"), [
    ("2025-03-01", "announces Sunday to Thursday"),  # a Saturday
    ("2025-03-02", "announces Sunday to Thursday"),  # a Sunday
    ("2025-01-21", "Mon 2025-01-20) was an arXiv holiday"),  # Martin Luther King Jr. Day
])
def test_a_weekend_or_holiday_date_is_answered_before_any_request(day, why, env, arxiv, llm, tmp_path):
    result = runner.invoke(app, ["digest", "--date", day, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "no announcement dated" in result.stdout and why in result.stdout
    assert not arxiv.requests and not llm.completions
    assert not (tmp_path / "out").exists() and not (tmp_path / "cli.db").exists()


def test_a_day_not_announced_yet_is_said_so(env, arxiv):
    future = dt.date.today() + dt.timedelta(days=30)
    while not ArxivCalendar().is_mailing(future):
        future += dt.timedelta(days=1)
    result = runner.invoke(app, ["digest", "--date", future.isoformat()])
    assert result.exit_code == 1 and "has not announced" in result.stderr
    assert not arxiv.requests


# 6. start-up: --help imports no heavy library --------------------------------------------------------------

# pydantic: typer validates an unset --help flag with a pydantic TypeAdapter unless the flag's value is a bool.
HEAVY = ("openai", "sklearn", "slack_bolt", "discord", "sqlalchemy", "alembic", "numpy", "jinja2", "feedparser",
         "pydantic", "bot.domain.errors")  # bot.domain.errors: how a failure is explained, and --help is none


def imported_by(argv: list[str], modules: tuple[str, ...], setup: str = "", **env: str) -> tuple[str, str]:
    """The command's stdout in a fresh interpreter (after ``setup``), and which of ``modules`` it imported."""
    script = (
        f"import sys\n{setup}from bot.entrypoints.cli import app\n"
        f"sys.argv = ['arxiv-digest', *{argv!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {modules!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True,
                          env={**os.environ, **env})
    return done.stdout, done.stderr.strip()


@pytest.mark.parametrize("argv", [["--help"], ["criteria", "--help"], ["abstract", "--help"], ["digest", "--help"],
                                  ["criteria", "show", "--help"], ["criteria", "set", "--help"], ["db", "--help"],
                                  ["db", "upgrade", "--help"], ["worker", "--help"]])
def test_help_imports_no_heavy_library(argv):
    stdout, loaded = imported_by(argv, HEAVY)
    assert "Usage: arxiv-digest" in stdout
    assert loaded == "", f"imported for {argv}: {loaded}"


def test_abstract_of_a_stored_paper_loads_neither_the_llm_nor_the_chat_clients(tmp_path):
    """bot.bootstrap builds only what a command uses: a look-up needs the database and the arXiv client."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    setup = (
        "from bot.domain.models import Paper\nfrom storage.store import Store\n"
        f"store = Store.open({url!r})\nstore.save_papers([Paper('2401.00001', 'Stored', ('A. Author',), 'Text.')])\n"
        "store.close()\n"
    )
    stdout, loaded = imported_by(["abstract", "2401.00001"], ("openai", "slack_bolt", "discord", "jinja2"), setup,
                                 DATABASE_URL=url)
    assert "Stored" in stdout
    assert loaded == "", f"imported for abstract: {loaded}"


# 7. --help texts -------------------------------------------------------------------------------------------

HELP_PAGES = [[], ["demo"], ["digest"], ["abstract"], ["criteria"], ["criteria", "show"], ["criteria", "set"],
              ["criteria", "history"], ["criteria", "undo"], ["run"], ["worker"], ["site"], ["eval"], ["db"],
              ["db", "upgrade"], ["db", "current"]]


@pytest.mark.parametrize("argv", HELP_PAGES, ids=lambda a: " ".join(a) or "top")
def test_help_pages_carry_no_type_labels(argv):
    result = runner.invoke(app, [*argv, "--help"])
    assert result.exit_code == 0
    for noise in ("<bool>", "<str>", "<path>", "<file>", "<int>", "<float", "list[Path]"):
        assert noise not in result.output, (noise, result.output)


def test_help_lists_the_commands_in_the_order_a_newcomer_needs_them():
    listed = runner.invoke(app, ["--help"]).output.split("Commands:", 1)[1]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ") and line[2] != " "]
    assert names == list(COMMAND_ORDER) == ["demo", "digest", "abstract", "criteria", "run", "worker", "site", "eval",
                                            "db"]


@pytest.mark.parametrize("argv", HELP_PAGES, ids=lambda a: " ".join(a) or "top")
def test_help_descriptions_break_lines_only_where_the_width_requires(argv):
    """A line of a description ends early only at a paragraph's end: the next word would not have fit."""
    text = runner.invoke(app, [*argv, "--help"], terminal_width=80).output
    lines = [line.rstrip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next(i for i, line in enumerate(lines) if i > start and line.strip()[:1] in {"╭", "O", "A", "C"})
    for line, following in itertools.pairwise(lines[start:end]):
        if line.strip() and following.strip():
            assert len(line) + 1 + len(following.split()[0]) > 80 - 2, f"break after {line!r}"


def test_help_shows_the_real_defaults():
    from bot.domain.settings import Settings

    assert "[default: digests]" in runner.invoke(app, ["digest", "--help"]).output
    assert "[default: digests-demo]" in runner.invoke(app, ["demo", "--help"]).output
    assert "[default: INFO]" in runner.invoke(app, ["run", "--help"]).output
    evaluation = " ".join(runner.invoke(app, ["eval", "--help"]).output.split())
    fields = Settings.model_fields  # eval's defaults are the bot's own (DIGEST_PREFILTER_*)
    for name, option in (("prefilter_recall", "--recall"), ("prefilter_min_labels", "--min-labels"),
                         ("prefilter_sample", "--sample")):
        after = evaluation.split(f"{option} ", 1)[1]
        assert f"[default: {fields[name].default}" in after.split(" --", 1)[0], option
    own = f"the bot's own are {fields['min_relevance'].default} and {fields['min_novelty'].default}"
    assert own in evaluation  # eval's 8/7 are the labelled data's thresholds, and it says so
