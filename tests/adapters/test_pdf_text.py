"""adapters/pdf_text.py on a real arXiv PDF (tests/fixtures/arxiv/pdf, see SOURCES.md), and on PDFs that
cannot be read."""

from __future__ import annotations

import contextlib
import io
import time
from functools import cache
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.pdf_text import _drop_furniture, parse_pdf
from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText
from bot.domain.statuses import TextSource

PDF = Path(__file__).parents[1] / "fixtures" / "arxiv" / "pdf" / "2501.10120v1.pdf"


@cache
def pdf() -> bytes:
    return PDF.read_bytes()


@cache
def paper() -> FullText:
    return parse_pdf(pdf(), "2501.10120")


def sections(text: FullText) -> list[str]:
    return list(dict.fromkeys(block.section for block in text.blocks))


def everything(text: FullText) -> str:
    return "\n".join(block.text for block in text.blocks)


def rebuilt(pages: list[pypdf.PageObject] | None = None, *, blank: int = 0, password: str = "") -> bytes:
    """A PDF made of real pages (or blank ones), optionally encrypted."""
    writer = pypdf.PdfWriter()
    for page in pages or []:
        writer.add_page(page)
    for _ in range(blank):
        writer.add_blank_page(width=612, height=792)
    if password:
        writer.encrypt(user_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sixty_pages() -> bytes:
    """The tests' 60-page paper: the real PDF's 15 pages, four times over."""
    reader = pypdf.PdfReader(io.BytesIO(pdf()))
    return rebuilt([page for _ in range(4) for page in reader.pages])


@cache
def sixty() -> tuple[bytes, FullText, float]:
    """The 60-page paper, its text and the seconds parsing it took (parsed once: it takes seconds)."""
    data = sixty_pages()
    started = time.perf_counter()
    text = parse_pdf(data, "2501.10120")
    return data, text, time.perf_counter() - started


def test_title_pages_version_and_source() -> None:
    text = paper()

    assert text.title == "PaSa: An LLM Agent for Comprehensive Academic Paper Search"
    assert text.pages == 15
    assert text.version == 1  # from arXiv's stamp, "arXiv:2501.10120v1 [cs.IR] 17 Jan 2025"
    assert text.source is TextSource.PDF


def test_numbered_headings_give_blocks_their_section() -> None:
    names = sections(paper())

    for name in ["Abstract", "1 Introduction", "2 Related Work", "3.1 AutoScholarQuery", "4.2 Crawler",
                 "5.4 Ablation study", "6 Conclusion", "A.1 Imitation learning data generation",
                 "B Implementation Details of the Selector", "E.2 Prompt for Paper Selection"]:
        assert name in names
    appendix = names.index("A.1 Imitation learning data generation")
    assert names.index("1 Introduction") < names.index("4.2 Crawler") < appendix
    # "8 NVIDIA H100 GPUs. In the second stage, we" starts a line in 5.1: a number, but not the next heading
    assert not any(name.startswith("8 ") for name in names)


def test_text_before_the_first_heading_is_placed_under_its_page() -> None:
    first = paper().blocks[0]

    assert first.section == "Page 1"
    assert first.text.startswith("PaSa: An LLM Agent for Comprehensive Academic Paper Search")


def test_arxivs_stamp_and_page_numbers_are_dropped() -> None:
    text = paper()

    assert "arXiv:2501.10120v1" not in everything(text)
    assert not any(block.text.strip().isdigit() for block in text.blocks)


def test_words_hyphenated_at_line_ends_are_joined() -> None:
    text = everything(paper())

    assert "reading papers, and selecting relevant references, to ultimately obtain comprehensive" in text
    assert "ul- timately" not in text and "pa- pers" not in text


def test_captions_are_labelled_blocks() -> None:
    captions = {block.label: block for block in paper().blocks if block.label}

    assert captions["Figure 1"].text.startswith("Architecture of PaSa. The system consists of two LLM agents")
    assert captions["Table 1"].text.startswith("Examples of queries and corresponding papers in AutoScholarQuery.")
    assert captions["Table 3"].section == "4.1 Overview"
    assert {f"Table {n}" for n in range(1, 17)} <= set(captions)
    # "Table 12 in Appendix D provides examples" is running text, not a caption
    assert not any(block.text.startswith("in Appendix D") for block in paper().blocks)


def test_the_reference_list_is_left_out() -> None:
    text = paper()

    assert "References" not in sections(text)
    assert "The claude 3 model family" not in everything(text)


@pytest.mark.slow
def test_sixty_page_paper_keeps_lines_repeated_on_few_pages(capsys: pytest.CaptureFixture[str]) -> None:
    # Four copies of the paper: each copy's lines recur on 4 of 60 pages, far from the most pages a running head
    # sits on, so they stay; the page numbers go.
    data, text, elapsed = sixty()
    with capsys.disabled():
        print(f"\n60-page PDF ({len(data) / 1e6:.1f} MB): parsed in {elapsed:.2f} s, {len(text.blocks)} blocks, "
              f"{text.chars:,} characters")

    assert text.pages == 60
    assert everything(text).count("Academic paper search lies at the core of research") == 4
    assert everything(text).count("Figure 1: Architecture of PaSa") == 0  # captions lose their number to the label
    assert sum(block.label == "Figure 1" for block in text.blocks) == 4
    assert not any(block.text.strip().isdigit() for block in text.blocks)


def test_running_heads_and_feet_on_most_pages_are_dropped() -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    body = [[f"{word} {other} is discussed on this page." for other in words[:5]] for word in words]
    journal = [["Journal of Examples, Vol. 3", *lines, f"Preprint – page {n} of 8"] for n, lines in enumerate(body, 1)]

    kept = _drop_furniture(journal)

    assert kept == body


def test_an_encrypted_pdf_says_so() -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf()))
    locked = rebuilt(list(reader.pages[:2]), password="secret")

    with pytest.raises(FullTextError, match=r"The PDF of 2501\.10120 is encrypted"):
        parse_pdf(locked, "2501.10120")


def test_a_pdf_encrypted_with_an_empty_password_is_read() -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf()))
    opened = parse_pdf(rebuilt(list(reader.pages[:2]), password=""), "2501.10120")

    assert opened.pages == 2


def test_a_pdf_without_a_text_layer_says_so() -> None:
    with pytest.raises(FullTextError, match="no text layer"):
        parse_pdf(rebuilt(blank=3), "2501.10120")


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.95])
def test_a_truncated_pdf_is_read_in_part_or_refused_never_a_crash(cut: float) -> None:
    data = pdf()[: int(len(pdf()) * cut)]

    try:
        text = parse_pdf(data, "2501.10120")
    except FullTextError as exc:
        assert "could not be read" in str(exc) or "no text layer" in str(exc)
    else:
        assert text.blocks


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", b"<html>"])
def test_files_that_are_no_pdf_are_refused(data: bytes) -> None:
    with pytest.raises(FullTextError):
        parse_pdf(data, "2501.10120")


# --- fuzz ------------------------------------------------------------------------------------------------


def _parse_or_refuse(data: bytes) -> None:
    with contextlib.suppress(FullTextError):
        parse_pdf(data, "2501.10120")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(lambda tail: b"%PDF-1.5\n" + tail)))
def test_fuzz_random_bytes_never_raise_anything_else(data: bytes) -> None:
    _parse_or_refuse(data)


@cache
def two_pages() -> bytes:
    """The real paper's first two pages as a PDF of their own: damaging it is quick to parse."""
    return rebuilt(list(pypdf.PdfReader(io.BytesIO(pdf())).pages[:2]))


@pytest.mark.slow  # pypdf's recovery from a damaged file takes about half a second each
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0, 1), st.integers(1, 2_000), st.binary(max_size=64))
def test_fuzz_a_real_pdf_damaged_never_raises_anything_else(where: float, length: int, junk: bytes) -> None:
    data = two_pages()
    start = int(where * len(data))
    _parse_or_refuse(data[:start] + junk + data[start + length :])
