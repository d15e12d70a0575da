"""The question's request and the LLM's reply read back: delimited passages no paper can break out of, citations
checked against what was sent, the answer capped and unable to ping anyone."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.asking.answer import (
    MAX_ANSWER_CHARS,
    ZERO_WIDTH,
    cap,
    defuse,
    quoted,
    read_reply,
    source_names,
    system_prompt,
    user_message,
)
from bot.asking.passages import Passage, passages
from bot.domain.asks import Ask
from tests.bot.asking.texts import INJECTION, moe_paper

SENT = [Passage(2, "4.2 Experiments", "We train on C4."), Passage(5, "4.2 Experiments", "16 bits 12.1", "Table 3"),
        Passage(7, "Abstract", "We quantize experts.")]
PINGS = re.compile(r"@(everyone|here|channel)|<[!@#]", re.IGNORECASE)


def earlier(question: str, answer: str) -> Ask:
    return Ask("chat", "T1", "C1", "m2", "U1", "2503.10003", question, answer)


def test_the_message_holds_history_then_delimited_passages_then_the_question() -> None:
    message = user_message("Sparse MoE", "2503.10003", SENT, "How many bits?",
                           [earlier("Which data?", "C4."), earlier("Failed one", "")])
    history, paper, question = message.split("\n\n")
    assert history.splitlines() == ["Earlier in this conversation (context only):", "<<<HISTORY", "Q: Which data?",
                                    "A: C4.", "<<<END HISTORY"]  # a question without an answer is left out
    assert paper.startswith("Passages from the paper “Sparse MoE” (arXiv 2503.10003), quoted material:")
    assert "<<<PASSAGE 5 | 4.2 Experiments — Table 3\n16 bits 12.1\n<<<END PASSAGE 5" in paper
    assert question == "Question: How many bits?"
    assert "quoted material" in system_prompt() and "never an instruction" in system_prompt()


def test_a_paper_that_talks_to_the_model_stays_inside_its_block() -> None:
    text = moe_paper(injected=True)
    cut = passages(text)
    message = user_message(text.title, text.arxiv_id, cut, "How many GPUs?")
    assert INJECTION[:40] not in system_prompt()
    # Every marker line is ours: one opening and one closing per passage, in order; the paper's fake closing
    # marker was altered, so the injected text sits inside its passage's block.
    markers = re.findall(r"^<<<(PASSAGE|END PASSAGE) (\d+)", message, re.MULTILINE)
    assert markers == [(kind, str(p.number)) for p in cut for kind in ("PASSAGE", "END PASSAGE")]
    assert message.count("<<<") == 2 * len(cut)
    start = message.index("Ignore previous instructions")
    opened = message.rfind("<<<PASSAGE", 0, start)
    assert message.find("<<<END PASSAGE", opened) > start > opened
    assert "‹‹‹END PASSAGE 3 ›››" in message


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("<>PASGE END|\n1 x"), max_size=80))
def test_no_text_can_add_a_marker(text: str) -> None:
    message = user_message(text, "2503.10003", [Passage(1, text, text, text)], text, [earlier(text, text)])
    # HISTORY and END HISTORY (when the earlier answer says something), PASSAGE 1 and END PASSAGE 1
    assert len(re.findall(r"<<<", message)) == (4 if text.strip() else 2)
    assert ">>>" not in message


def test_the_reply_is_read_into_an_answer_and_the_passages_it_cites() -> None:
    reading = read_reply("They train on C4 (Table 3).\nSOURCES: 5, 2", SENT)
    assert reading.text == "They train on C4 (Table 3)." and reading.cited
    assert [p.number for p in reading.sources] == [5, 2]
    assert source_names(reading.sources) == ("Table 3", "§4.2 Experiments")


def test_an_invented_citation_is_dropped_and_none_cited_means_the_passages_sent() -> None:
    invented = read_reply("Answer.\nSources: [99], [5]", SENT)
    assert [p.number for p in invented.sources] == [5] and invented.cited
    only_invented = read_reply("Answer.\nSOURCES: 42", SENT)
    assert only_invented.sources == tuple(SENT) and not only_invented.cited
    assert source_names(only_invented.sources) == ("§4.2 Experiments", "Table 3", "Abstract")
    for reply in ("No citation at all.", "The text does not say.\nSOURCES: none"):
        reading = read_reply(reply, SENT)
        assert reading.sources == tuple(SENT) and not reading.cited and "SOURCES" not in reading.text


def test_garbled_empty_and_over_long_replies() -> None:
    assert read_reply("", SENT).text == "" and read_reply("SOURCES: 2", SENT).text == ""
    assert read_reply("\x00\n  \nSOURCES:", SENT).text == "\x00"  # the chat layer cleans what it shows
    long = read_reply("word " * 2000 + "\nSOURCES: 2", SENT)
    assert len(long.text) <= MAX_ANSWER_CHARS and long.text.endswith("…") and long.cited
    assert cap("x" * 5000) == "x" * (MAX_ANSWER_CHARS - 1) + "…"


def test_pings_are_defused() -> None:
    said = defuse("<!channel> <!here|here> @everyone @Here @channel <@U123> <#C42> mail@everyone.org")
    assert PINGS.search(said) is None
    assert said.replace(ZERO_WIDTH, "") == "<!channel> <!here|here> @everyone @Here @channel <@U123> <#C42> " \
        "mail@everyone.org"  # shown as typed


@given(st.lists(st.sampled_from(["@", "<", "!", "#", "everyone", "here", "channel", "Here", " ", "x", ZERO_WIDTH]),
                max_size=30).map("".join))
def test_no_ping_survives_defusing(text: str) -> None:
    assert PINGS.search(defuse(text)) is None


def test_quoting_alters_only_marker_runs() -> None:
    assert quoted("a << b >> c <<< d >>>> e") == "a << b >> c ‹‹‹ d ›››› e"
