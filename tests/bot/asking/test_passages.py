"""A paper's text cut into section-aware passages, and the few BM25 picks for a question."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.asking.passages import MAX_WORDS, MIN_WORDS, best_passages, passages, section_name, tokens
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.statuses import TextSource
from tests.bot.asking.texts import moe_paper


def text_of(*blocks: TextBlock) -> FullText:
    return FullText("2503.10003", 1, TextSource.HTML, blocks)


def words(n: int, word: str = "token") -> str:
    return " ".join(f"{word}{i}." if i % 12 == 11 else f"{word}{i}" for i in range(n))


def test_running_text_is_gathered_within_a_section_and_never_across_one() -> None:
    cut = passages(text_of(
        TextBlock("1 Introduction", words(40)), TextBlock("1 Introduction", words(40)),
        TextBlock("1 Introduction", words(40)), TextBlock("2 Method", words(30)),
    ))
    assert [(p.section, p.words) for p in cut] == [("1 Introduction", 120), ("2 Method", 30)]
    assert [p.number for p in cut] == [1, 2]


def test_a_caption_or_table_is_a_passage_of_its_own_under_its_label() -> None:
    cut = passages(moe_paper())
    table = [p for p in cut if p.label]
    assert [(p.label, p.section, p.source) for p in table] == [("Table 3", "4.2 Experiments", "Table 3")]
    assert "16 bits 12.1" in table[0].text
    assert all("16 bits" not in p.text for p in cut if not p.label)


def test_a_long_paragraph_is_split_and_no_passage_exceeds_the_limit() -> None:
    cut = passages(text_of(TextBlock("3 Results", words(1000)), TextBlock("3 Results", words(700), "Table 9")))
    assert all(p.words <= MAX_WORDS for p in cut)
    assert sum(p.words for p in cut if not p.label) == 1000 and sum(p.words for p in cut if p.label) == 700
    assert {p.label for p in cut if p.label} == {"Table 9"}
    assert all(p.words >= MIN_WORDS for p in cut[:-1] if not p.label)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Abstract", "1 Intro", "2 Method", "A Proofs"]),
                          st.text(max_size=2000), st.sampled_from(["", "Table 1", "Figure 2"])), max_size=20))
def test_any_text_keeps_every_word_in_its_section_and_within_the_limit(blocks: list[tuple[str, str, str]]) -> None:
    text = text_of(*(TextBlock(*block) for block in blocks))
    cut = passages(text)
    assert all(p.words <= MAX_WORDS and p.text.strip() for p in cut)
    for section in {s for s, _, _ in blocks}:
        given_words = sum(len(t.split()) for s, t, _ in blocks if s == section)
        assert sum(p.words for p in cut if p.section == section) == given_words


def test_section_names_are_shown_with_a_section_sign_when_numbered() -> None:
    assert section_name("4.2 Experiments") == "§4.2 Experiments"
    assert section_name("A.1  Proofs") == "§A.1 Proofs"
    assert section_name("Abstract") == "Abstract"
    assert section_name("") == "Untitled section"


def test_tokens_are_lower_case_words_and_numbers_without_stop_words() -> None:
    assert tokens("What does Table 3 show about the BLEU-4 scores?") == ["table", "3", "bleu", "4", "scores"]
    assert tokens("Ω-régularisé α_t") == ["ω", "régularisé", "α", "t"]


def test_a_question_about_a_table_finds_its_caption_first() -> None:
    picked = best_passages(passages(moe_paper()), "What does table 3 report for 4 bits?")
    assert picked[0].passage.label == "Table 3"


def test_the_section_name_counts_as_words_of_its_passages() -> None:
    picked = best_passages(passages(moe_paper()), "limitations?")
    assert [m.passage.section for m in picked] == ["5 Limitations"]  # the passage never says "limitations"


def test_a_question_sharing_no_word_with_the_text_finds_nothing() -> None:
    assert best_passages(passages(moe_paper()), "Who won the football world cup in 1954?") == []
    assert best_passages(passages(moe_paper()), "what is it about?") == []  # stop words only
    assert best_passages([], "experts") == []


def test_a_word_in_every_passage_still_counts_in_a_tiny_text() -> None:
    cut = passages(text_of(TextBlock("1 Intro", "experts everywhere"), TextBlock("2 More", "experts again")))
    assert {m.passage.number for m in best_passages(cut, "experts")} == {1, 2}
    assert all(m.score > 0 for m in best_passages(cut, "experts"))


def test_the_picks_stay_within_the_count_and_the_token_budget() -> None:
    blocks = [TextBlock(f"{i} Section", f"quantization {words(60)}") for i in range(1, 30)]
    cut = passages(text_of(*blocks))
    picked = best_passages(cut, "quantization", top=4, budget=1000)
    assert 1 <= len(picked) <= 4 and sum(m.passage.tokens for m in picked) <= 1000
    assert len(best_passages(cut, "quantization")) == 6
