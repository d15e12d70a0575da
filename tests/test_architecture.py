"""The dependency rule of ARCHITECTURE.md, kept by the test suite as well as by `lint-imports` in .ci/run."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.support import import_graph

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> import_graph.grimp.ImportGraph:
    return import_graph.graph()


def test_every_import_linter_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    from importlinter.cli import lint_imports

    # lint_imports configures logging with dictConfig, which disables every logger that exists: put them back,
    # or the tests this worker runs next see no log records.
    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    disabled = {logger: logger.disabled for logger in loggers}
    try:
        status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        for logger, was in disabled.items():
            logger.disabled = was
    assert status == 0, capsys.readouterr().out


def test_no_module_takes_part_in_an_import_cycle(graph: import_graph.grimp.ImportGraph) -> None:
    assert import_graph.cycles(graph) == []


def test_no_import_points_up_a_layer(graph: import_graph.grimp.ImportGraph) -> None:
    assert import_graph.upward(graph) == []


def test_every_module_sits_in_a_layer(graph: import_graph.grimp.ImportGraph) -> None:
    """A new subpackage of bot/ gets its place in LAYERS (and in pyproject's contracts) before it is used."""
    outside = [m for m in import_graph.modules(graph) if import_graph.layer_of(m) is None and m not in
               ("bot", "adapters")]
    assert outside == []


def test_the_core_names_no_chat_platform() -> None:
    """bot/ speaks of platforms, channels and workspaces; what is Slack's or Discord's lives in adapters/."""
    named = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "bot").rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"slack|discord", line, re.IGNORECASE)]
    assert named == []
