"""Retrieval on real arXiv papers as the full-text parsers read them (tests/fixtures/arxiv, see SOURCES.md there):
a LaTeXML HTML rendering of 26,000 words and a 15-page PDF."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from adapters.latexml import parse_latexml
from adapters.pdf_text import parse_pdf
from bot.asking.answer import system_prompt, user_message
from bot.asking.passages import MAX_WORDS, Passage, best_passages, passages
from bot.domain.fulltext import FullText

FIXTURES = Path(__file__).parents[2] / "fixtures" / "arxiv"
HTML, PDF = FIXTURES / "html" / "2501.11120v1.html", FIXTURES / "pdf" / "2501.10120v1.pdf"


@cache
def html_paper() -> FullText:
    return parse_latexml(HTML.read_bytes(), "2501.11120")


@cache
def pdf_paper() -> FullText:
    return parse_pdf(PDF.read_bytes(), "2501.10120")


def sources(text: FullText, question: str) -> list[str]:
    return [m.passage.source for m in best_passages(passages(text), question)]


def prompt_tokens(text: FullText, question: str) -> int:
    picked: list[Passage] = [m.passage for m in best_passages(passages(text), question)]
    return (len(system_prompt()) + len(user_message(text.title, text.arxiv_id, picked, question))) // 4


def test_the_html_paper_is_cut_into_passages_within_the_limit() -> None:
    cut = passages(html_paper())
    assert len(cut) > 200 and all(p.words <= MAX_WORDS for p in cut)
    assert {"Figure 3", "Table 9"} <= {p.label for p in cut}


def test_questions_on_the_html_paper_find_the_sections_that_answer_them() -> None:
    paper = html_paper()
    assert {"§B.5.4 What is Quanta-Lingua?", "Table 9"} <= set(sources(paper, "What is Quanta-Lingua?")[:3])
    assert sources(paper, "What does Figure 3 show?")[0] == "Figure 3"
    assert sources(paper, "How do they elicit the trigger?")[0] == "§4.3 Eliciting the trigger with reversal training"
    assert sources(paper, "what is the capital of france") == []
    assert prompt_tokens(paper, "What is Quanta-Lingua?") < 2_500


@pytest.mark.slow  # reading the PDF takes 1–2 s
def test_questions_on_the_pdf_paper_find_the_sections_that_answer_them() -> None:
    paper = pdf_paper()
    assert "§3.2 RealScholarQuery" in sources(paper, "What is RealScholarQuery?")[:3]
    assert sources(paper, "What does Table 2 report?")[0] == "Table 2"
    assert sources(paper, "Which baselines do they compare against?")[0] == "§5.2 Baselines and Evaluation"
    assert prompt_tokens(paper, "Which baselines do they compare against?") < 2_500
