"""bench/ask.py on a short real paper (the first two pages of 2501.10120v1's PDF, no HTML rendering): its
figures agree with each other and with what the stand-ins saw."""

from __future__ import annotations

import pytest

from bench.ask import (
    ANSWER_RESERVE,
    CONTEXT_TOKENS,
    count_tokens,
    main,
    o200k_counter,
    pdf_pages,
    pdf_paper,
    report,
    run_paper,
)
from bot.asking.passages import TOKEN_BUDGET, TOP_PASSAGES
from bot.domain.pricing import PRICES, cost_of
from bot.domain.statuses import AskOutcome

LATENCY, PACE = 0.2, 0.3


@pytest.mark.slow
def test_the_ask_bench_figures_agree_on_a_short_paper() -> None:
    run = run_paper(pdf_paper(pdf_pages(copies=1, pages=2), "pdf2", "2501.10120v1, first 2 pages"),
                    latency=LATENCY, pace=PACE)

    count_tokens([run])
    assert run.failures == []
    cold, warm, follow_up = (run.step(label) for label in ("cold", "warm", "follow-up"))
    naive = run.naive
    assert naive is not None
    assert run.text_source == "pdf" and run.pages == 2 and run.chars > 0 and run.all_passages > 0
    # Time: only the cold question reads arXiv (the HTML's 404, then the PDF a pace later) and parses.
    assert (cold.arxiv_requests, warm.arxiv_requests, follow_up.arxiv_requests) == (2, 0, 0)
    assert cold.source_seconds >= PACE and warm.source_seconds == follow_up.source_seconds == 0
    for step in (cold, warm, follow_up, naive):
        assert step.outcome in (AskOutcome.ANSWERED, None) and step.usage.requests == 1
        assert LATENCY <= step.llm_seconds <= step.seconds and 0 <= step.loop_stall <= step.seconds
    assert cold.seconds >= cold.source_seconds + cold.llm_seconds
    assert warm.seconds < cold.seconds and follow_up.seconds < cold.seconds
    # Tokens: what was sent, at the stand-in's 4 characters a token; the cost is the list price of that usage.
    for step in (cold, warm, follow_up, naive):
        assert step.usage.prompt_tokens == step.sent.request_chars // 4
        assert step.cost_usd == cost_of(step.usage, PRICES["gpt-4o-mini"])
        assert step.sent.passage_chars < step.sent.request_chars
    for step in (cold, warm, follow_up):
        assert 1 <= step.sent.passages <= TOP_PASSAGES and step.sent.passage_chars <= (TOKEN_BUDGET + 300) * 4
        assert step.answer and step.sources
    assert (cold.sent.history, warm.sent.history, follow_up.sent.history) == (0, 0, 1)
    # The naive way sends every passage: the whole text, more tokens than any question's.
    assert naive.sent.passages == run.all_passages and naive.sent.passage_chars >= 0.95 * run.chars  # blanks aside
    assert naive.usage.prompt_tokens > max(s.usage.prompt_tokens for s in (cold, warm, follow_up))
    assert run.naive_fits == (run.naive_tokens + ANSWER_RESERVE <= CONTEXT_TOKENS) and run.naive_fits
    # gpt-4o's own count of the same requests (with the bench extra) is near the stand-in's 4 characters a token.
    for step in (cold, warm, follow_up, naive):
        real = step.sent.o200k_tokens
        if o200k_counter() is None:
            assert real is None and run.naive_tokens == naive.usage.prompt_tokens
        else:
            assert real is not None and 0.6 < real / step.usage.prompt_tokens < 1.4
    assert run.parse_seconds > 0 and run.rss_mb > 0
    printed = report(run)
    assert f"{cold.usage.prompt_tokens:,}" in printed and f"naive: {run.naive_tokens:,} prompt tokens" in printed
    assert "fits a 128k context" in printed and "pdf2: 2501.10120v1, first 2 pages" in printed
    assert f"first answer in {cold.seconds:.1f} s, target within 60 s: PASS" in printed


def test_the_bench_refuses_negative_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--latency", "-1"])
    assert "--latency and --pace must be >= 0" in capsys.readouterr().err
