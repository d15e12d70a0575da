"""bench/ask_paper.py keeps working: two questions a paper, no LLM latency, every one answered and counted."""

from __future__ import annotations

import re

import pytest

from bench import ask_paper


@pytest.mark.slow  # reads and parses two real papers through the stand-ins: several seconds
def test_the_ask_bench_answers_every_question_and_reports_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert ask_paper.main(["--latency", "0", "--questions", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"2501\.11120 \(html, [\d,]+ words, \d+ passages\): 2 of 2 answered", out)
    assert re.search(r"2501\.10120 \(pdf, [\d,]+ words, \d+ passages\): 2 of 2 answered", out)
    assert out.count("target ≤ 60 s: PASS") == 2
    tokens = [int(n.replace(",", "")) for n in re.findall(r"per answer: ([\d,]+) prompt tokens", out)]
    assert len(tokens) == 2 and all(500 < n < 2_500 for n in tokens)
