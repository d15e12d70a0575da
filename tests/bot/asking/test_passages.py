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


def long_paper(pages: int = 60, words_per_page: int = 500) -> FullText:
    """A paper of ``pages`` pages of running text (about 500 words a page) in sections of two pages, with one
    sentence that answers the question asked of it, deep in section 37."""
    import random

    chance = random.Random(7)
    vocabulary = [f"{stem}{n}" for stem in ("model", "layer", "loss", "token", "expert", "gradient", "batch")
                  for n in range(300)]
    blocks: list[TextBlock] = []
    for page in range(pages):
        section = f"{page // 2 + 1} Section {page // 2 + 1}"
        for _ in range(words_per_page // 100):
            blocks.append(TextBlock(section, " ".join(chance.choice(vocabulary) for _ in range(100)) + "."))
        if page % 4 == 0:
            blocks.append(TextBlock(section, "Scores per setting: " + " ".join(chance.choice(vocabulary)
                                                                               for _ in range(40)), f"Table {page}"))
    blocks.insert(len(blocks) * 3 // 5, TextBlock("37 Training", "The learning rate warmup lasts 4000 steps."))
    return text_of(*blocks)


def test_a_60_page_paper_is_cut_and_searched_quickly_and_the_answer_found() -> None:
    import time

    paper = long_paper()
    assert sum(len(b.text.split()) for b in paper.blocks) > 30_000
    started = time.perf_counter()
    cut = passages(paper)
    picked = best_passages(cut, "How long is the learning rate warmup?")
    seconds = time.perf_counter() - started
    assert len(cut) > 150 and picked[0].passage.text == "The learning rate warmup lasts 4000 steps."
    assert seconds < 1.0, seconds  # measured 0.1 s on the CI machine


def test_a_table_figure_or_section_the_question_names_comes_first() -> None:
    cut = passages(text_of(
        TextBlock("1 Intro", "Figure 2 and Table 1 and Table 2 are discussed at length in this figure table text."),
        TextBlock("1 Intro", "Accuracy per model.", "Table 2"),
        TextBlock("3 Method", "The architecture has a router.", "Figure 2"),
        TextBlock("B.1 Proofs", "Lemma 1 holds."),
    ))
    assert best_passages(cut, "What does Table 2 show?")[0].passage.label == "Table 2"
    assert best_passages(cut, "explain fig. 2")[0].passage.label == "Figure 2"
    assert best_passages(cut, "Is §B.1 convincing?")[0].passage.section == "B.1 Proofs"
    assert best_passages(cut, "what is in section 3?")[0].passage.section == "3 Method"  # named, shares no word
