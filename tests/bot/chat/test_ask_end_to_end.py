"""/arxiv ask on the real clients: the core as bootstrap builds it, reading a real paper's HTML rendering from the
arXiv stand-in (ArxivFullText, httpx) and answering through the openai client against the OpenAI stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build_core
from bot.chat.commands import parse
from storage.store import Store
from tests.support import ArxivStandIn, make_paper
from tests.support.fakes import PlainMarkup, caller
from tests.support.openai_server import OpenAIStandIn

HTML = Path(__file__).parents[2] / "fixtures" / "arxiv" / "html" / "2501.11120v1.html"
PAPER = "2501.11120"
TITLE = "Tell me about yourself: LLMs are aware of their learned behaviors"


@pytest.mark.slow  # two stand-ins, the look-up lane and a 700 kB page: about 4 s
def test_a_question_about_a_real_paper_is_answered_from_its_html(
    make_settings: Callable[..., Any], arxiv: ArxivStandIn, llm: OpenAIStandIn,
) -> None:
    arxiv.add_papers([make_paper(PAPER, title=TITLE)])
    arxiv.set_html(PAPER, HTML.read_bytes())
    settings = make_settings(fetch_retries=0, arxiv_html_url=arxiv.html_url, arxiv_pdf_url=arxiv.pdf_url)
    store = Store.open(settings.database_url)
    core = build_core(settings, store)

    async def ask(text: str) -> Any:
        try:
            return await core.execute(caller(channel="C7"), parse(text), PlainMarkup())
        finally:
            await core.aclose()

    try:
        reply = asyncio.run(ask("ask 2501.11120 What is Quanta-Lingua?"))
        again = asyncio.run(ask("ask 2501.11120v1 Which models do they finetune?"))
        kept = store.full_text(PAPER)
    finally:
        store.close()
    assert reply.public and reply.thread is None  # not posted in this channel: the answer goes where asked
    assert f"@U1 asked about [{TITLE}](https://arxiv.org/abs/{PAPER})" in reply.text
    assert "Quanta-Lingua" in reply.text and "Sources: Table 9 · [arXiv 2501.11120]" in reply.text
    assert again.public and "Sources:" in again.text and len(llm.completions) == 2
    assert kept is not None and kept.version == 1 and kept.source == "html"
    # The paper was read from arXiv once: the second question used the kept text.
    assert len([r for r in arxiv.requests if r.status == 200 and r.path.startswith("/html/")]) == 1
