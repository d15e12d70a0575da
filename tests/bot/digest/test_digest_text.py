"""Splitting and wording shared by the chat platforms."""

from __future__ import annotations

from bot.digest.text import join_pieces, pack_lines, split_text, truncate


def test_split_text_pieces_concatenate_back_exactly_and_respect_the_limit():
    text = ("A paragraph about sparse experts. " * 30 + "\n\n") * 5 + "x" * 700
    pieces = split_text(text, 300)
    assert "".join(pieces) == text
    assert all(len(p) <= 300 for p in pieces)
    assert pieces[0].endswith(" ")  # cut after a space, not inside a word


def test_split_text_prefers_paragraph_breaks():
    text = "first paragraph line\nstill first\n\nsecond paragraph"
    assert split_text(text, 40)[0] == "first paragraph line\nstill first\n\n"


def test_join_pieces_restores_split_text_and_survives_trimmed_pieces():
    text = "alpha beta gamma delta " * 50
    assert join_pieces(split_text(text, 100)) == text
    assert join_pieces(["alpha", "beta"]) == "alpha\nbeta"


def test_pack_lines_keeps_every_line_within_the_limit():
    lines = [f"{i}. " + "word " * (i % 7 + 1) for i in range(200)]
    packed = pack_lines(lines, 250)
    assert all(len(p) <= 250 for p in packed)
    assert "\n".join(packed).split("\n") == lines


def test_truncate_cuts_at_a_word_and_marks_the_cut():
    assert truncate("short", 10) == "short"
    cut = truncate("the quick brown fox jumps over the lazy dog", 20)
    assert len(cut) <= 20 and cut.endswith("…") and not cut.endswith(" …")


def test_the_cost_per_1000_papers_counts_every_paper_announced_and_is_left_out_when_unknown():
    from bot.digest.text import per_thousand

    assert per_thousand(0.09, 200) == "$0.45 per 1,000 papers"
    assert per_thousand(0.0, 200) == "$0.00 per 1,000 papers"
    assert per_thousand(None, 200) == "" and per_thousand(0.5, 0) == ""
