"""The TL;DR pass: batched requests, in the channel's language, robust to garbled replies, extractive without an
LLM or where the LLM gives nothing usable. Core tests on FakeChat; one through the openai client and the stand-in."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.llm import OpenAIChat
from bot.domain.errors import LLMError
from bot.domain.models import Completion, Paper, Tldr, Usage
from bot.domain.pricing import price_for
from bot.scoring.tldr import MAX_CHARS, extractive, parse_comments, parse_tldrs, system_prompt, write_tldrs
from tests.conftest import as_paper, sample_papers
from tests.support import Drop, Malformed, OpenAIStandIn
from tests.support.fakes import FakeChat
from tests.support.openai_server import tldr_of

PRICE = price_for("gpt-4o-mini")


def papers(n: int) -> list[Paper]:
    return [as_paper(p) for p in sample_papers(n)]


def paper(abstract: str) -> Paper:
    return Paper("2503.00001", "A title", ("A",), abstract)


def test_papers_go_several_to_a_request_and_each_gets_the_models_sentence():
    chat, day = FakeChat(), papers(20)
    outcome = asyncio.run(write_tldrs(chat, day, language="en", price=PRICE))
    assert sorted(user.count("ArXiv ID:") for user in chat.tldr_requests) == [4, 8, 8]
    assert outcome.tldrs == {p.arxiv_id: tldr_of(p.title, p.abstract) for p in day} == outcome.written
    assert outcome.usage.requests == 3 and outcome.cost_usd is not None and outcome.cost_usd > 0


def test_the_language_is_named_in_the_prompt_and_each_language_has_its_own_prefix():
    chat = FakeChat()
    asyncio.run(write_tldrs(chat, papers(2), language="de", price=PRICE))
    assert "Write every TL;DR in German" in chat.systems[0]
    assert system_prompt("ja") != system_prompt("de") and "Japanese" in system_prompt("ja")


def test_without_an_llm_every_tldr_is_the_abstracts_first_sentence_and_free():
    day = papers(3)
    outcome = asyncio.run(write_tldrs(None, day, language="de", price=PRICE))
    assert outcome.tldrs == {p.arxiv_id: extractive(p) for p in day} and outcome.written == {}
    assert outcome.usage == Usage() and outcome.cost_usd == 0.0


def test_a_garbled_reply_is_asked_again_once_and_what_stays_missing_is_extractive():
    chat, day = FakeChat(), papers(3)
    chat.replies = ["Sure! {ARXIVID: broken", f'{{"ARXIVID": "{day[0].arxiv_id}", "TLDR": "They fix it at last."}}']
    outcome = asyncio.run(write_tldrs(chat, day, language="en", price=PRICE))
    assert len(chat.tldr_requests) == 2
    assert outcome.tldrs[day[0].arxiv_id] == "They fix it at last."
    assert outcome.tldrs[day[1].arxiv_id] == extractive(day[1]) and day[1].arxiv_id not in outcome.written


class Failing(FakeChat):
    async def complete(self, system, user, response_format=None, max_tokens=None) -> Completion:
        raise LLMError("503 from the provider")


def test_an_llm_error_costs_the_digest_nothing_but_the_models_sentences():
    day = papers(2)
    outcome = asyncio.run(write_tldrs(Failing(), day, language="en", price=PRICE))
    assert outcome.tldrs == {p.arxiv_id: extractive(p) for p in day}


def test_replies_in_the_shapes_models_use_are_read():
    ids = ["2503.00001", "2503.00002", "2503.00003"]
    reply = (
        "Here you go:\n```json\n"
        + json.dumps([{"arxiv_id": "arXiv:2503.00001v2", "tl;dr": "TL;DR: They do one thing well."}])
        + "\n```"
    )
    assert parse_tldrs(reply, ids) == {"2503.00001": "They do one thing well."}
    assert parse_tldrs(json.dumps({"papers": [{"ARXIVID": "2503.00002", "TLDR": "Sie zeigen etwas Neues."}]}), ids) == {
        "2503.00002": "Sie zeigen etwas Neues."}
    assert parse_tldrs("- 2503.00003: 他们提出了一种新的方法并证明其有效。\n9999.99999: invented", ids) == {
        "2503.00003": "他们提出了一种新的方法并证明其有效。"}


def test_invented_ids_empty_and_non_text_answers_are_ignored_and_long_ones_cut():
    ids = ["2503.00001", "2503.00002", "2503.00003"]
    reply = "\n".join(json.dumps(o) for o in [
        {"ARXIVID": "2503.99999", "TLDR": "Not asked about at all."},
        {"ARXIVID": "2503.00001", "TLDR": ""},
        {"ARXIVID": "2503.00002", "TLDR": {"nested": "no"}},
        {"ARXIVID": "2503.00003", "TLDR": "word " * 200},
    ])
    found = parse_tldrs(reply, ids)
    assert set(found) == {"2503.00003"} and len(found["2503.00003"]) <= MAX_CHARS and found["2503.00003"].endswith("…")


@given(st.text(max_size=400))
def test_any_reply_gives_only_one_line_sentences_for_ids_asked_about(reply):
    found = parse_tldrs(reply, ["2503.00001", "2503.00002"])
    assert set(found) <= {"2503.00001", "2503.00002"}
    assert all(0 < len(s) <= MAX_CHARS and "\n" not in s for s in found.values())


def test_the_extractive_sentence_skips_abbreviations_and_is_trimmed():
    first = "We train MoEs, e.g. Mixtral, at scale."
    assert extractive(paper(first + " Then more.")) == first
    assert extractive(paper("Work by Smith et al. Shows gains. More.")) == "Work by Smith et al. Shows gains."
    assert extractive(paper("No full stop here")) == "No full stop here"
    long = extractive(paper("word " * 300))
    assert len(long) <= MAX_CHARS and long.endswith("…")


@given(st.text(max_size=800))
def test_any_abstract_gives_one_short_line(abstract):
    sentence = extractive(paper(abstract))
    assert len(sentence) <= MAX_CHARS and "\n" not in sentence


def test_through_the_openai_client_a_short_reply_is_completed_on_the_second_ask(llm: OpenAIStandIn):
    day = papers(5)
    llm.add_fault(Drop(2), Malformed())  # the first reply lacks two papers; the retry's reply is garbled

    async def go():
        chat = OpenAIChat(api_key="test", model="gpt-4o-mini", base_url=llm.base_url, max_retries=0)
        try:
            return await write_tldrs(chat, day, language="ja", price=PRICE)
        finally:
            await chat.aclose()

    outcome = asyncio.run(go())
    assert [len(r.paper_ids) for r in llm.tldr_completions] == [5, 2] and llm.paper_ids_per_request == []
    assert {pid: outcome.tldrs[pid] for pid in outcome.written} == {
        p.arxiv_id: tldr_of(p.title, p.abstract) for p in day[:3]}
    assert [outcome.tldrs[p.arxiv_id] for p in day[3:]] == [extractive(p) for p in day[3:]]
    assert outcome.usage.requests == 2 and outcome.usage.prompt_tokens > 0
    assert "Japanese" in llm.completions[0].json["messages"][0]["content"]


# Translated comments ------------------------------------------------------------------------------------


def test_comments_are_asked_for_in_the_same_requests_and_come_back_translated():
    chat, day = FakeChat(), papers(3)
    english = {p.arxiv_id: f"Matches topic {i}." for i, p in enumerate(day[:2], 1)}
    saved: dict[str, Tldr] = {}
    outcome = asyncio.run(write_tldrs(chat, day, language="de", price=PRICE, comments=english, on_written=saved.update))
    assert len(chat.tldr_requests) == 1 and chat.tldr_requests[0].count("\nComment: ") == 2
    assert '"COMMENT"' in chat.systems[0] and "Translate it into German" in chat.systems[0]
    assert outcome.comments == {pid: f"[German] {text}" for pid, text in english.items()}
    first = Tldr(outcome.tldrs[day[0].arxiv_id], "[German] Matches topic 1.", "Matches topic 1.")
    assert saved[day[0].arxiv_id] == first
    assert saved[day[2].arxiv_id].comment is None  # it had no comment to translate


def test_without_comments_the_prompt_and_requests_are_as_before():
    chat = FakeChat()
    asyncio.run(write_tldrs(chat, papers(2), language="de", price=PRICE, comments={}))
    assert chat.systems[0] == system_prompt("de") and '"COMMENT"' not in chat.systems[0]
    assert "Comment:" not in chat.tldr_requests[0]


def test_a_garbled_or_missing_translation_leaves_the_english_comment():
    chat, day = FakeChat(), papers(3)
    english = {p.arxiv_id: "Matches topic 1." for p in day}
    chat.replies = ["\n".join([
        json.dumps({"ARXIVID": day[0].arxiv_id, "TLDR": "Sie zeigen etwas Neues.", "COMMENT": "Passt zu Thema 1."}),
        json.dumps({"ARXIVID": day[1].arxiv_id, "TLDR": "Sie zeigen noch etwas.", "COMMENT": ["kaputt"]}),
        '{"ARXIVID": "' + day[2].arxiv_id + '", "TLDR": "Sie zeigen', ])]
    chat.replies.append(json.dumps({"ARXIVID": day[2].arxiv_id, "TLDR": "Sie zeigen ein drittes Ding."}))
    outcome = asyncio.run(write_tldrs(chat, day, language="de", price=PRICE, comments=english))
    assert outcome.comments == {day[0].arxiv_id: "Passt zu Thema 1."}
    assert set(outcome.written) == {p.arxiv_id for p in day}  # the cut line was asked again, its TL;DR came
    assert parse_comments('Sure! {"ARXIVID": "2503.0000', ["2503.00001"]) == {}


def test_through_the_openai_client_the_comments_come_back_translated(llm: OpenAIStandIn):
    day = papers(3)
    english = {p.arxiv_id: "Matches topic 2: mixture of experts." for p in day}

    async def go():
        chat = OpenAIChat(api_key="test", model="gpt-4o-mini", base_url=llm.base_url, max_retries=0)
        try:
            return await write_tldrs(chat, day, language="ja", price=PRICE, comments=english)
        finally:
            await chat.aclose()

    outcome = asyncio.run(go())
    assert outcome.comments == {p.arxiv_id: "[Japanese] Matches topic 2: mixture of experts." for p in day}
    assert outcome.tldrs == {p.arxiv_id: tldr_of(p.title, p.abstract) for p in day}
    assert '"COMMENT"' in llm.completions[0].json["messages"][0]["content"]
