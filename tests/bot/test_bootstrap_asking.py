"""The whole path of a question as the bot builds it (bot.bootstrap): ``/arxiv ask <id> <question>`` reads the
paper's text from arXiv (the stand-in serving arXiv's real HTML of 2501.11120v1 and a real PDF), keeps it in the
database, picks passages and asks the LLM (the OpenAI stand-in) through the openai client, and answers with the
sections it used; in process, and in ``arxiv-digest run`` answering a signed Slack command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import build_core
from bot.chat.commands import CommandCore, parse
from bot.domain.platform import Reply
from bot.domain.statuses import AskOutcome
from storage.store import Store
from tests.bot.entrypoints.test_runner import free_port, wait_for
from tests.support import ArxivStandIn, OpenAIStandIn, make_paper
from tests.support.fakes import PlainMarkup, caller
from tests.support.openai_server import is_ask_request
from tests.support.slack_api import SlackStandIn

FIXTURES = Path(__file__).parents[1] / "fixtures" / "arxiv"
HTML_PAPER, PDF_PAPER = "2501.11120", "2501.10120"
QUESTION = "What learning rate do they use for finetuning?"
ANSWER = "We use a learning rate of 2, and a batch size of 66"  # the paper's §C.4.2
SECTION = "§C.4.2 Freeform Trigger Articulation Details"
SECRET = "ask-path-secret"


@pytest.fixture
def papers(arxiv: ArxivStandIn) -> ArxivStandIn:
    """arXiv knows both papers (the API's metadata); one has its HTML rendering, the other only its PDF."""
    arxiv.add_papers([
        make_paper(HTML_PAPER, "Tell me about yourself: LLMs are aware of their learned behaviors"),
        make_paper(PDF_PAPER, "PaSa: An LLM Agent for Comprehensive Academic Paper Search"),
    ])
    arxiv.set_html(HTML_PAPER, (FIXTURES / "html" / "2501.11120v1.html").read_bytes())
    arxiv.set_pdf(PDF_PAPER, (FIXTURES / "pdf" / "2501.10120v1.pdf").read_bytes())
    return arxiv


@pytest.fixture
def core(make_settings: Callable[..., Any], papers: ArxivStandIn) -> Iterator[CommandCore]:
    """The chat core exactly as the bot process builds it, on settings pointing at the stand-ins."""
    settings = make_settings()
    store = Store.open(settings.database_url)
    built = build_core(settings, store)
    yield built
    asyncio.run(built.aclose())
    store.close()


def ask(core: CommandCore, text: str) -> Reply:
    return asyncio.run(core.execute(caller(), parse(f"ask {text}"), PlainMarkup()))


def asks(llm: OpenAIStandIn) -> list[str]:
    """The user messages of the question requests the LLM received."""
    return [r.json["messages"][-1]["content"] for r in llm.completions
            if is_ask_request(r.json["messages"][0]["content"])]


def test_ask_reads_the_papers_html_once_and_answers_with_its_sections(
    core: CommandCore, papers: ArxivStandIn, llm: OpenAIStandIn,
) -> None:
    reply = ask(core, f"{HTML_PAPER} {QUESTION}")

    assert reply.public and ANSWER in reply.text and f"Sources: {SECTION}" in reply.text
    assert [(r.path, r.status) for r in papers.requests if r.path.startswith("/html/")] == [
        (f"/html/{HTML_PAPER}", 302), (f"/html/{HTML_PAPER}v1", 200)]
    [sent] = asks(llm)
    assert f"| {SECTION[1:]}\n" in sent and ANSWER in sent and sent.endswith(f"Question: {QUESTION}")

    again = ask(core, f"{HTML_PAPER} How many codewords are used in Make Me Say?")

    assert again.public and "Make Me Say" in again.text and "Sources:" in again.text
    assert sum(r.path.startswith("/html/") for r in papers.requests) == 2  # the text was kept in the database
    kept = core.store.full_text(HTML_PAPER)
    assert kept is not None and kept.version == 1 and kept.source == "html"
    assert [a.outcome for a in core.store.thread_asks("chat", "C1", [""], arxiv_id=HTML_PAPER)] == [
        AskOutcome.ANSWERED, AskOutcome.ANSWERED]


@pytest.mark.slow  # reading the 15-page PDF takes a few seconds
def test_a_paper_without_html_is_answered_from_its_pdf(
    core: CommandCore, papers: ArxivStandIn, llm: OpenAIStandIn,
) -> None:
    reply = ask(core, f"{PDF_PAPER} Which datasets do they build for training the crawler?")

    assert reply.public and "Sources:" in reply.text and "According to the paper" in reply.text
    assert [r.path for r in papers.requests if r.path.startswith(("/html/", "/pdf/"))] == [
        f"/html/{PDF_PAPER}", f"/pdf/{PDF_PAPER}"]
    kept = core.store.full_text(PDF_PAPER)
    assert kept is not None and kept.source == "pdf" and kept.pages == 15


@pytest.mark.slow
def test_the_bot_process_answers_a_slack_ask_from_arxivs_full_text(
    papers: ArxivStandIn, llm: OpenAIStandIn, tmp_path: Path,
) -> None:
    port = free_port()
    with SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "OPENAI_", "ARXIV_"))},
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
            "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "DIGEST_SCHEDULER": "false",
            "ARXIV_RSS_URL": papers.rss_url, "ARXIV_API_URL": papers.api_url, "DIGEST_ARXIV_API_DELAY": "0",
            "ARXIV_HTML_URL": papers.html_url, "ARXIV_PDF_URL": papers.pdf_url,
            "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": llm.base_url,
        }
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", process)
            body = urlencode({
                "team_id": slack.team_id, "channel_id": "C1", "user_id": "U1", "command": "/arxiv",
                "text": f"ask {HTML_PAPER} {QUESTION}", "response_url": slack.response_url(), "trigger_id": "t.1",
            })
            ts = str(int(time.time()))
            response = httpx.post(
                f"http://127.0.0.1:{port}/slack/events", content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                         "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)},
            )
            assert response.status_code == 200
            said = ""
            deadline = time.monotonic() + 30
            while ANSWER not in said and time.monotonic() < deadline:
                time.sleep(0.1)
                # Where Slack shows it (the command's response, or a message in the channel or a thread).
                said = json.dumps([*slack.responses, *(c.args for c in slack.posted())], ensure_ascii=False)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
    assert ANSWER in said and SECTION in said, output
    assert process.returncode == 0, output
    assert [r.path for r in papers.requests if r.path.startswith("/html/")] == [
        f"/html/{HTML_PAPER}", f"/html/{HTML_PAPER}v1"]
    assert len(asks(llm)) == 1 and "test-key" not in output and SECRET not in output
