"""Block Kit rendering: Slack's limits hold on big days, hostile text stays inert, nothing is lost."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.arxiv_rss import parse_feed
from adapters.slack import blocks as slack_blocks
from adapters.slack.blocks import (
    CRITERIA_INPUT_ACTION,
    Message,
    abstract_message,
    criteria_from_submission,
    criteria_modal,
    escape,
    link,
    paper_message,
    summary_messages,
    text_message,
)
from bot.digest.text import split_text
from bot.domain.models import Digest, Judgment, Paper, RankedPaper, Usage
from tests.support.digests import digest_of

REAL_DAY = Path(__file__).parents[2] / "fixtures" / "arxiv" / "rss_cs.LG+cs.AI_2025-03-25.xml"

HOSTILE_TITLE = "Attention <Is> All You Need & More | A *Bold* _Claim_ ~Revisited~ with `code`"
TITLES = [
    HOSTILE_TITLE,
    "Mixture-of-Experts Routing at Scale: Load Balancing Without Auxiliary Losses",
    "Retrieval-Augmented Generation for Long-Context Question Answering over Scientific Papers",
    "Q*-Learning & A* Search: When Planning Meets Large Language Models <Preliminary Report>",
    "Sparse Autoencoders Find Interpretable Features in Vision-Language Models Across Training Checkpoints "
    "and Data Mixtures: An Empirical Study of Feature Universality",
]
LONG_COMMENT = ("The method is directly relevant to MoE routing and reports strong results. " * 140)[:10_000]
ABSTRACT = (
    "We study how $x_i$ and $y_j$ interact when <tokens> & experts are routed *sparsely*. "
    "Our results show a 2x speed-up.\n\n"
)


def ranked_paper(rank: int, *, title: str | None = None, comment: str | None = None, abstract: str = ABSTRACT):
    arxiv_id = f"2503.{10000 + rank}"
    paper = Paper(
        arxiv_id=arxiv_id,
        title=title or TITLES[rank % len(TITLES)] + f" (part {rank})",
        authors=tuple(f"Author{i} Lastname-O'Brien" for i in range(1 + rank % 20)),
        abstract=abstract,
        categories=("cs.CL", "cs.LG"),
    )
    if comment is None:
        comment = LONG_COMMENT if rank == 3 else f"Relevant: paper {rank} matches the MoE criterion & extends it."
    judgment = Judgment(arxiv_id, relevance=10 - rank % 4, novelty=9 - rank % 3, comment=comment)
    return RankedPaper(paper, judgment, rank)


def make_digest(count: int, **changes: Any) -> Digest:
    ranked = changes.pop("ranked") if "ranked" in changes else [ranked_paper(r) for r in range(1, count + 1)]
    usage = Usage(prompt_tokens=70_000, cached_tokens=9_600, completion_tokens=4_112, requests=9)
    return digest_of(ranked, **{"total_arxiv": 169, "scanned": 169, "usage": usage, "cost_usd": 0.0123, **changes})


def walk_texts(node: Any) -> list[str]:
    """Every ``text`` string in a payload, as Slack would count it."""
    if isinstance(node, dict):
        found: list[str] = []
        for key, value in node.items():
            found += [value] if key == "text" and isinstance(value, str) else walk_texts(value)
        return found
    if isinstance(node, list):
        return [text for value in node for text in walk_texts(value)]
    return []


def assert_within_slack_limits(message: Message) -> None:
    payload = message.payload()  # to_dict() runs slack_sdk's own validators
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= 50
    assert 0 < len(payload["text"]) <= 3000
    assert sum(len(text) for text in walk_texts(blocks)) <= 12_000
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"].strip()) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        if block["type"] == "actions":
            assert all(len(button["text"]["text"]) <= 75 for button in block["elements"])


def section_texts(message: Message) -> list[str]:
    return [block["text"]["text"] for block in message.payload()["blocks"] if block["type"] == "section"]


def listed_ids(messages: list[Message]) -> list[str]:
    text = "\n".join(t for message in messages for t in section_texts(message))
    return re.findall(r"<https://arxiv\.org/abs/([\d.]+)\|", text)


def test_sixty_paper_day_stays_within_slack_limits_in_every_message() -> None:
    digest = make_digest(60, notes=["Scores came from gpt-4o-mini."])
    messages = summary_messages(digest)
    messages += [paper_message(digest, item) for item in digest.ranked]
    messages += [abstract_message(item.paper) for item in digest.ranked]
    for message in messages:
        assert_within_slack_limits(message)


def test_summary_lists_every_ranked_paper_once_in_rank_order() -> None:
    digest = make_digest(60)
    assert listed_ids(summary_messages(digest)) == [item.paper.arxiv_id for item in digest.ranked]


def test_summary_table_line_shows_rank_scores_and_linked_title() -> None:
    digest = make_digest(2)
    first_line = section_texts(summary_messages(digest)[0])[0].split("\n")[0]
    item = digest.ranked[0]
    assert first_line.startswith(f"*1.* R {item.judgment.relevance} · N {item.judgment.novelty}  ")
    assert f"<https://arxiv.org/abs/{item.paper.arxiv_id}|" in first_line


def test_long_ranked_list_continues_in_thread_messages_with_rank_ranges() -> None:
    digest = make_digest(200)
    messages = summary_messages(digest)
    assert len(messages) > 1
    assert listed_ids(messages) == [item.paper.arxiv_id for item in digest.ranked]
    expected_first = len(listed_ids(messages[:1])) + 1
    for message in messages[1:]:
        heading = section_texts(message)[0]
        first, last = map(int, re.fullmatch(r"\*Ranked list, continued \((\d+)–(\d+)\)\*", heading).groups())
        assert first == expected_first
        assert last - first + 1 == len(listed_ids([message]))
        assert "Ranked list, continued" in message.text
        expected_first = last + 1
        assert_within_slack_limits(message)
    assert expected_first == 201


def test_parent_message_leads_with_headline_totals_and_cost() -> None:
    parent = summary_messages(make_digest(12))[0]
    blocks = parent.payload()["blocks"]
    assert parent.text == "arXiv digest · Tue 2025-03-25: 12 relevant of 169"
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "arXiv digest · Tue 2025-03-25"
    context = " ".join(walk_texts(blocks[1]))
    assert "169 arXiv · 169 scanned · 12 relevant (R ≥ 7, N ≥ 6)" in context
    assert "gpt-4o-mini · 74,112 tokens (9,600 cached)" in context
    assert blocks[2]["type"] == "divider"


def test_empty_day_says_no_paper_reached_the_thresholds() -> None:
    messages = summary_messages(make_digest(0))
    assert len(messages) == 1
    assert messages[0].text.endswith(": 0 relevant of 169")
    assert "No paper reached R ≥ 7 and N ≥ 6 today." in section_texts(messages[0])
    assert_within_slack_limits(messages[0])


def test_day_without_announcements_says_nothing_was_announced() -> None:
    message = summary_messages(make_digest(0, total_arxiv=0, scanned=0))[0]
    assert any("no new papers" in text for text in section_texts(message))


def test_notes_and_unscored_papers_appear_in_a_context_block() -> None:
    unscored = [(ranked_paper(100 + i).paper, "the model returned no JSON") for i in range(25)]
    digest = make_digest(3, unscored=unscored, notes=["Prices are list prices & may differ.", "Second note."])
    parent = summary_messages(digest)[0]
    contexts = [" ".join(walk_texts(b)) for b in parent.payload()["blocks"] if b["type"] == "context"]
    remarks = contexts[1]
    assert "Prices are list prices &amp; may differ.\nSecond note." in remarks
    assert "25 papers could not be scored: 2503.10100, 2503.10101" in remarks
    assert "2503.10109 and 15 more (the model returned no JSON)." in remarks
    assert "2503.10110" not in remarks
    assert_within_slack_limits(parent)


def test_single_unscored_paper_is_singular() -> None:
    digest = make_digest(1, unscored=[(ranked_paper(50).paper, "")])
    remarks = " ".join(walk_texts(summary_messages(digest)[0].payload()["blocks"]))
    assert "1 paper could not be scored: 2503.10050." in remarks


def test_escape_replaces_slack_control_characters() -> None:
    assert escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"


def test_link_escapes_text_and_keeps_pipe_from_ending_the_url() -> None:
    rendered = link("https://arxiv.org/abs/2503.1", "A|B <C> & *D* _e_")
    assert rendered.startswith("<https://arxiv.org/abs/2503.1|")
    label = rendered.removeprefix("<https://arxiv.org/abs/2503.1|").removesuffix(">")
    assert not set("|<>*_") & set(label)
    assert "&lt;C&gt; &amp;" in label


def test_hostile_title_cannot_break_out_of_its_link_or_bold_markup() -> None:
    digest = make_digest(1, ranked=[ranked_paper(1, title=HOSTILE_TITLE)])
    title_section = section_texts(paper_message(digest, digest.ranked[0]))[0]
    inner = re.fullmatch(r"\*1\. <https://arxiv\.org/abs/2503\.10001\|([^<>|]*)>\*", title_section)
    assert inner is not None
    assert not set("*_~`&") & set(inner.group(1).replace("&amp;", "").replace("&lt;", "").replace("&gt;", ""))
    table = section_texts(summary_messages(digest)[0])[0]
    assert table.count("<") == 1 and table.count(">") == 1 and table.count("|") == 1


def test_paper_message_has_title_context_scores_comment_and_buttons() -> None:
    digest = make_digest(2)
    item = digest.ranked[1]
    message = paper_message(digest, item)
    blocks = message.payload()["blocks"]
    assert [b["type"] for b in blocks] == ["section", "context", "section", "section", "actions"]
    context = walk_texts(blocks[1])
    assert context[0] == f"arXiv:{item.paper.arxiv_id}"
    assert context[1].startswith("Author0 Lastname-O'Brien, Author1")
    assert context[2] == "cs.CL, cs.LG"
    assert blocks[2]["text"]["text"] == f"*R {item.judgment.relevance} · N {item.judgment.novelty}*"
    assert blocks[3]["text"] == {"type": "plain_text", "text": item.judgment.comment, "emoji": False}
    actions = blocks[4]
    assert item.paper.arxiv_id in actions["block_id"]
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        (slack_blocks.ABSTRACT_ACTION, "Abstract", item.paper.arxiv_id),
        (slack_blocks.VOTE_UP_ACTION, "👍", item.paper.arxiv_id),
        (slack_blocks.VOTE_DOWN_ACTION, "👎", item.paper.arxiv_id),
    ]
    assert message.text.startswith("2. ")


def test_long_comment_is_split_over_sections_without_loss() -> None:
    digest = make_digest(3)
    message = paper_message(digest, digest.ranked[2])
    comment_sections = [
        b["text"]["text"] for b in message.payload()["blocks"] if b.get("text", {}).get("type") == "plain_text"
    ]
    assert len(comment_sections) == 4
    assert "".join(comment_sections) == LONG_COMMENT
    assert_within_slack_limits(message)


def test_approximate_scores_keep_their_mark_without_strikethrough() -> None:
    item = ranked_paper(1)
    approximate = RankedPaper(item.paper, Judgment(item.paper.arxiv_id, 8, 7, "", approximate=True), 1)
    message = paper_message(make_digest(1), approximate)
    assert section_texts(message)[1] == "*R ∼8 · N ∼7*"


def test_abstract_is_never_truncated() -> None:
    abstract = ("Sparse experts & <dense> baselines compared on 12 benchmarks. " * 200)[:10_000]
    message = abstract_message(ranked_paper(1, abstract=abstract).paper)
    pieces = [b["text"]["text"] for b in message.payload()["blocks"] if b["type"] == "section"][1:]
    assert len(pieces) == 4
    assert "".join(pieces) == abstract
    assert_within_slack_limits(message)


def test_abstract_message_links_the_title_and_names_the_authors() -> None:
    paper = ranked_paper(4).paper
    blocks = abstract_message(paper).payload()["blocks"]
    assert blocks[0]["text"]["text"].startswith(f"*<{paper.url}|")
    assert any("Author0" in text for text in walk_texts(blocks[1]))


def real_paper(arxiv_id: str) -> Paper:
    announcement = parse_feed(REAL_DAY.read_bytes(), keep_types=("new", "cross", "replace"), source="rss")
    return {paper.arxiv_id: paper for paper in announcement.papers}[arxiv_id]


def test_abstract_message_shows_distinct_affiliations_apart_from_the_names() -> None:
    survey = real_paper("2503.17407")  # 8 authors, 7 distinct affiliations, one author without
    blocks = abstract_message(survey).payload()["blocks"]
    names = " ".join(walk_texts(blocks[1]))
    assert "Ana Araujo, Breno Costa, Carla Dias, Przemysław Nowak" in names and "Brasilia" not in names
    assert blocks[2]["type"] == "context"
    [where] = walk_texts(blocks[2])
    assert where == (
        "Affiliations: University of Brasilia Brazil, The University of Melbourne Australia; University of "
        "Brasilia Brazil; Department of Physics and Astronomy, University of Brasilia; Faculty of Mathematics, "
        "Informatics and Mechanics, University of Warsaw, Poland and 3 more"
    )
    assert blocks[3]["type"] == "section" and blocks[3]["text"]["text"].startswith("Efficient processing of long")
    assert_within_slack_limits(abstract_message(survey))

    hostile = replace(survey, affiliations=("<!channel> *Lab* & " + "x" * 5000,) * 8)
    [where] = walk_texts(abstract_message(hostile).payload()["blocks"][2])
    assert where.startswith("Affiliations: &lt;!channel&gt; ∗Lab∗ &amp; xxx") and len(where) < 400
    for plain in (real_paper("2503.18216"), replace(survey, affiliations=())):  # none given, or none stored
        assert not any("Affiliations" in text for text in walk_texts(abstract_message(plain).payload()["blocks"]))


def test_text_message_splits_long_replies_at_line_breaks() -> None:
    lines = [f"*{i}.* <https://arxiv.org/abs/2503.{10000 + i}|Some paper title {i}> · 👍 3" for i in range(100)]
    mrkdwn = "\n".join(lines)
    message = text_message(mrkdwn)
    texts = section_texts(message)
    assert len(texts) > 1
    assert "\n".join(texts) == mrkdwn
    assert_within_slack_limits(message)


def test_text_message_cut_at_fifty_blocks_says_how_many_characters_were_left_out() -> None:
    mrkdwn = "\n".join(f"line {i:06d} " + "x" * 80 for i in range(2000))  # ~180,000 characters
    message = text_message(mrkdwn)
    blocks = message.payload()["blocks"]
    assert len(blocks) == 50
    left_out = len(mrkdwn) - len("".join(split_text(mrkdwn, 3000)[:49]))
    assert blocks[-1]["text"]["text"] == f"_The text was cut here: {left_out:,} more characters were left out._"
    assert mrkdwn.startswith("\n".join(section_texts(message)[:49]))


def test_text_message_fallback_is_plain_and_bounded() -> None:
    message = text_message("*Criteria* for <https://example.org|the team &amp; friends>\n" + "y " * 5000)
    assert message.text.startswith("*Criteria* for the team &amp; friends\n")
    assert len(message.text) <= 3000


def test_text_message_of_nothing_is_still_a_valid_message() -> None:
    assert_within_slack_limits(text_message(""))


def state_values_as_slack_sends(view: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` for an unedited submission: ``None`` for empty inputs."""
    return {
        block["block_id"]: {
            block["element"]["action_id"]: {"type": "plain_text_input", "value": block["element"].get("initial_value")}
        }
        for block in view["blocks"]
        if block["type"] == "input"
    }


def criteria_text(length: int) -> str:
    paragraph = "Papers on mixture-of-experts routing, sparse models & efficient <inference>. Not: robotics.\n\n"
    text = (paragraph * (length // len(paragraph) + 1))[:length]
    assert len(text) == length
    return text


@pytest.mark.parametrize("length", [2557, 7900])
def test_criteria_modal_round_trip_returns_the_same_text(length: int) -> None:
    criteria = criteria_text(length)
    view = criteria_modal(criteria, max_chars=8000, private_metadata='{"profile": 1}').to_dict()
    assert criteria_from_submission(state_values_as_slack_sends(view)) == criteria


def test_criteria_modal_offers_inputs_covering_max_chars() -> None:
    view = criteria_modal(criteria_text(2557), max_chars=8000, private_metadata="p").to_dict()
    assert view["type"] == "modal" and view["callback_id"] == slack_blocks.CRITERIA_CALLBACK
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == ("Edit criteria", "Save", "Cancel")
    assert view["private_metadata"] == "p"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == [slack_blocks.CRITERIA_ERROR_BLOCK, "criteria_1", "criteria_2"]
    assert [b["label"]["text"] for b in inputs] == [f"Criteria (part {i} of 3)" for i in (1, 2, 3)]
    assert [b.get("optional", False) for b in inputs] == [False, True, True]
    for block in inputs:
        element = block["element"]
        assert element["action_id"] == CRITERIA_INPUT_ACTION
        assert element["multiline"] is True and element["max_length"] == 3000
        assert len(element.get("initial_value", "")) <= 3000
    assert "initial_value" not in inputs[1]["element"]
    assert "Up to 8,000 characters" in walk_texts(view["blocks"][0])[0]


def test_criteria_modal_has_one_input_per_piece_even_beyond_max_chars() -> None:
    view = criteria_modal(criteria_text(7900), max_chars=3000, private_metadata="p").to_dict()
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) == len(split_text(criteria_text(7900), 3000)) >= math.ceil(7900 / 3000)
    assert inputs[0]["label"]["text"] == f"Criteria (part 1 of {len(inputs)})"


def test_criteria_modal_with_room_for_one_input_labels_it_plainly() -> None:
    view = criteria_modal("Only MoE.", max_chars=2000, private_metadata="p").to_dict()
    (single,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert single["label"]["text"] == "Criteria"
    assert single["element"]["initial_value"] == "Only MoE."


def test_criteria_modal_shows_the_error_in_a_context_block() -> None:
    view = criteria_modal("x", max_chars=8000, private_metadata="p", error="Too long: 9,001 > 8,000 <chars>")
    first = view.to_dict()["blocks"][0]
    assert first["type"] == "context"
    assert "Too long: 9,001 &gt; 8,000 &lt;chars&gt;" in first["elements"][0]["text"]


def test_criteria_submission_joins_parts_in_numeric_block_order_and_skips_empty_ones() -> None:
    values = {
        f"criteria_{i}": {CRITERIA_INPUT_ACTION: {"type": "plain_text_input", "value": f"{i};"}} for i in range(12)
    }
    values["criteria_5"][CRITERIA_INPUT_ACTION]["value"] = None
    values["criteria_7"] = {}
    values["unrelated"] = {"x": {"value": "ignored"}}
    assert criteria_from_submission(values) == "0;\n1;\n2;\n3;\n4;\n6;\n8;\n9;\n10;\n11;"


def test_criteria_parts_trimmed_by_slack_still_do_not_fuse_words() -> None:
    values = {
        "criteria_0": {CRITERIA_INPUT_ACTION: {"value": "routing"}},  # "routing " before Slack trimmed it
        "criteria_1": {CRITERIA_INPUT_ACTION: {"value": "sparse experts"}},
    }
    assert criteria_from_submission(values) == "routing\nsparse experts"


def test_message_payload_holds_fallback_text_and_block_dicts() -> None:
    message = text_message("hello")
    assert message.payload() == {
        "text": "hello",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
    }


def test_a_tldr_stands_verbatim_under_the_title_and_its_cost_in_the_summary() -> None:
    tldr = "They route *tokens* to <!channel> experts & halve the cost."
    item = replace(ranked_paper(1), tldr=tldr)
    digest = make_digest(1, ranked=[item], tldr_usage=Usage(1_200, 0, 300, 1), tldr_cost_usd=0.0004)
    blocks = paper_message(digest, item).payload()["blocks"]
    assert [b["type"] for b in blocks[:3]] == ["section", "section", "context"]
    assert blocks[1]["text"] == {"type": "plain_text", "text": f"TL;DR: {tldr}", "emoji": False}  # never markup
    context = walk_texts(summary_messages(digest)[0].payload()["blocks"][1])
    assert context[-1] == "TL;DRs · 1,500 tokens (0 cached) · $0.0004 of the total"
    plain = make_digest(1)
    assert len(walk_texts(summary_messages(plain)[0].payload()["blocks"][1])) == 2  # no pass, no line
