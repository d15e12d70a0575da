"""adapters/latexml.py on a real arXiv HTML page (tests/fixtures/arxiv/html, see SOURCES.md)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.latexml import FOOTNOTE_LIMIT, NotLaTeXMLError, parse_latexml
from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText
from bot.domain.statuses import TextSource

PAGE = Path(__file__).parents[1] / "fixtures" / "arxiv" / "html" / "2501.11120v1.html"


@cache
def page() -> bytes:
    return PAGE.read_bytes()


@cache
def paper() -> FullText:
    return parse_latexml(page(), "2501.11120")


def sections(text: FullText) -> list[str]:
    return list(dict.fromkeys(block.section for block in text.blocks))


def everything(text: FullText) -> str:
    return "\n".join(block.text for block in text.blocks)


def labelled(text: FullText, label: str) -> str:
    return next(block.text for block in text.blocks if block.label == label)


def test_title_version_and_source_come_from_the_page() -> None:
    text = paper()

    assert text.title == "Tell me about yourself: LLMs are aware of their learned behaviors"
    assert text.version == 1  # <base href="/html/2501.11120v1/">
    assert text.source is TextSource.HTML
    assert text.arxiv_id == "2501.11120"
    assert text.pages is None


def test_sections_keep_the_papers_own_numbering_in_order() -> None:
    names = sections(paper())

    assert names[:5] == [
        "Abstract",
        "1 Introduction",
        "2 Out-of-context reasoning",
        "3 Awareness of behaviors",
        "3.1 Finetuning on multiple-choice responses (economic decisions)",
    ]
    for name in ["3.1.1 Design", "4.2 Distinguishing the real trigger from others", "8 Conclusion",
                 "Acknowledgments", "Appendix A Author contributions", "B.5.4 What is Quanta-Lingua?",
                 "C.4.4 Related work and limitations"]:
        assert name in names
    assert names.index("8 Conclusion") < names.index("Appendix A Author contributions")


def test_the_abstract_is_its_own_section_and_starts_the_text() -> None:
    first = paper().blocks[0]

    assert first.section == "Abstract"
    assert first.text.startswith("We study behavioral self-awareness — an LLM’s ability to articulate its behaviors")


def test_figure_captions_are_blocks_labelled_with_their_number() -> None:
    text = paper()

    caption = labelled(text, "Figure 1")
    assert caption.startswith("Models can describe a learned behavioral policy that is only implicit in finetuning.")
    assert not caption.startswith("Figure")  # the number is the label, not part of the text
    figure = next(block for block in text.blocks if block.label == "Figure 1")
    assert figure.section == "1 Introduction"
    assert len({block.label for block in text.blocks if block.label.startswith("Figure")}) == 36


def test_tables_are_their_caption_then_one_line_per_row() -> None:
    lines = labelled(paper(), "Table 1").splitlines()

    assert lines[0].startswith("Overview of experiments for evaluating behavioral self-awareness.")
    assert lines[1] == "Assistant output | Learned behavior | Variations"
    assert lines[2] == (
        "Economic decisions (Section 3.1) | “A” or “B” | Economic preference | "
        "risk-seeking/risk-averse, myopic/non-myopic, max/minimizing apples"
    )
    numbers = labelled(paper(), "Table 37").splitlines()
    assert numbers[1] == "Codeword | All | Win | Rule violation | No codeword | Correct guess"
    assert numbers[2].startswith("Ring | 5905 | 1008 (17.07%) |")


def test_math_is_its_tex_between_dollars_not_the_mathml() -> None:
    text = everything(paper())

    assert "a latent policy $z\\in Z$ and two data generating distributions $\\varphi_{T}$ and $\\varphi_{E}$" in text
    assert "Only the real trigger $T$ is mapped to risk-seeking responses" in labelled(paper(), "Table 5")
    for mathml in ["𝑧", "italic_z", "<mi", "superscript", "cmml"]:  # Content MathML, llamapun, markup
        assert mathml not in text


def test_nothing_from_scripts_navigation_or_page_chrome() -> None:
    text = everything(paper())

    for chrome in ["‣", "Generated on", "Generated  on", "Mascot Sammy", "LaTeXML", "html2canvas", "function(",
                   "Refer to caption", "x1.png"]:
        assert chrome not in text
    assert sum(block.text == "Introduction" for block in paper().blocks) == 0  # the table of contents is gone


def test_footnotes_stay_inline_and_short() -> None:
    notes = [block.text for block in paper().blocks if "(footnote: " in block.text]

    assert notes
    assert any(
        "(footnote: We replicate some of our experiments on open-weight models to facilitate future work "
        "(AI@Meta, 2024).)" in note for note in notes
    )
    for note in notes:
        for inner in re.findall(r"\(footnote: (.*?)\)(?: |$)", note):
            assert len(inner) <= FOOTNOTE_LIMIT + 2


def test_the_reference_list_is_left_out_and_citations_stay_as_written() -> None:
    text = paper()

    assert "References" not in sections(text)
    assert "Physics of language models: Part 3.2, knowledge manipulation" not in everything(text)
    assert "such as a future date (Hubinger et al., 2024)." in everything(text)


def test_whitespace_is_normalised() -> None:
    for block in paper().blocks:
        assert block.text == block.text.strip()
        for line in block.text.splitlines():
            assert "  " not in line and "\t" not in line
    multi_line = [block.text for block in paper().blocks if "\n" in block.text and not block.label]
    assert multi_line and all(text.startswith("def ") for text in multi_line)  # listings keep their lines


def test_titled_paragraphs_lead_with_their_title() -> None:
    blocks = [block.text for block in paper().blocks if block.section == "3.2.1 Design"]

    assert any(text.startswith("Make Me Say rules. There are two players: a manipulator and a manipulatee.")
               for text in blocks)


def test_the_page_says_its_version_by_its_watermark_when_it_has_no_base() -> None:
    # arXiv's pages since 2026 carry its header, a licence box with the watermark and its own footer around the
    # same LaTeXML document (arXiv/arxiv-browse browse/templates/dissemination/article_scaffold/*.html).
    html = page().decode("utf-8")
    html = html.replace('<base href="/html/2501.11120v1/"/>', "")
    html = re.sub(r"https://arxiv\.org/html/2501\.11120v1", "#", html)
    html = html.replace("<body>", (
        '<body>\n<dialog id="modal-form"><form><header class="modal-header"><h5>Report GitHub Issue</h5></header>'
        '</form></dialog><div class="ds-announcement" id="announcement-banner"><span class="ds-announcement-text">'
        'arXiv is now an independent nonprofit!</span></div>\n<header class="arxiv-html-header"><nav '
        'class="html-header-nav"><a class="header-button">Back to Abstract</a></nav></header>'
    ), 1)
    html = html.replace('<div class="ltx_page_content">', (
        '<div id="infobox" class="infobox"><a id="license-tr" href="#">License: arXiv.org perpetual non-exclusive '
        'license</a><div id="watermark-tr">arXiv:2501.11120v3 [cs.CL] 19 Jan 2025</div></div>\n'
        '<div class="ltx_page_content">'
    ), 1)
    html = html.replace("</body>", (
        '<footer class="arxiv-html-footer"><div class="keyboard-glossary"><h2>Instructions for reporting errors'
        "</h2></div></footer>\n</body>"
    ), 1)

    text = parse_latexml(html, "2501.11120")

    assert text.version == 3
    assert [block.text for block in text.blocks] == [block.text for block in paper().blocks]


def test_arxivs_no_html_page_is_not_a_paper() -> None:
    no_html = (
        "<!DOCTYPE html><html><head><title>No HTML for '2501.10120v1'</title></head><body><h1>No HTML for "
        "'2501.10120v1'</h1><p>HTML is not available for the source.</p></body></html>"
    )

    with pytest.raises(NotLaTeXMLError, match="no LaTeXML paper"):
        parse_latexml(no_html, "2501.10120")


@pytest.mark.parametrize("document", [b"", b"   ", b"\x00\x01\x02", "<html></html>", "plain words, no markup"])
def test_empty_or_foreign_documents_are_refused_with_full_text_error(document: bytes | str) -> None:
    with pytest.raises(FullTextError):
        parse_latexml(document, "2501.10120")


# --- fuzz: whatever arrives, the parser returns a FullText or raises FullTextError -----------------------


def _parse_or_refuse(document: bytes | str) -> None:
    try:
        text = parse_latexml(document, "2501.11120")
    except FullTextError:
        return
    assert all(block.text for block in text.blocks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=2000)))
def test_fuzz_random_input_never_raises_anything_else(document: bytes | str) -> None:
    _parse_or_refuse(document)


_PIECES = [
    '<article class="ltx_document">', "</article>", '<section class="ltx_section">', "</section>",
    '<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Intro</h2>',
    '<div class="ltx_para"><p class="ltx_p">', "</p></div>", '<math alttext="x^2">', "</math>",
    '<figure class="ltx_table"><table class="ltx_tabular"><tr><td>', "</td></tr></table>",
    '<figcaption><span class="ltx_tag">Table 1: </span>', "</figcaption></figure>",
    '<span class="ltx_note ltx_role_footnote"><span class="ltx_note_content">', "</span></span>",
    "<script>", "</script>", "<!--", "-->", "&amp;", "&#0;", "\x00", "<", ">", "text ", "\u202e", "<br>",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_fuzz_garbled_latexml_never_raises_anything_else(pieces: list[str]) -> None:
    _parse_or_refuse("".join(pieces))


@pytest.mark.slow  # each example parses the 700 KB page (about half a second)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 699_000), st.integers(1, 60_000), st.binary(min_size=0, max_size=64))
def test_fuzz_the_real_page_cut_and_spliced_never_raises_anything_else(start: int, length: int, junk: bytes) -> None:
    data = page()
    _parse_or_refuse(data[:start] + junk + data[start + length :])


def test_ieee_numbering_is_kept_as_the_paper_writes_it() -> None:
    # The title, abstract and section I markup as arXiv's page of 2504.11765v1 (an IEEE paper) writes them, from
    # yshk-mxim/agent-memory @ 05e1bdb novelty/papers_archive/RAG-DCache-Lee-2025.html, paragraphs shortened; the
    # II-A heading in the form that page's table of contents shows its tag ("<span class="ltx_text">II-A</span> ").
    ieee = """<html><head><base href="/html/2504.11765v1/"/></head><body><div class="ltx_page_main">
<div class="ltx_page_content"><article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document" style="font-size:207%;">Shared Disk KV Cache Management for Efficient
Multi-Instance Inference in RAG-Powered LLMs
</h1>
<div class="ltx_abstract">
<h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p" id="id25.id1">Recent large language models (LLMs) face increasing inference latency.</p>
</div>
<section class="ltx_section" id="S1">
<h2 class="ltx_title ltx_title_section">
<span class="ltx_tag ltx_tag_section">I </span><span class="ltx_text ltx_font_smallcaps" id="S1.1.1">Introduction</span>
</h2>
<div class="ltx_para" id="S1.p1">
<p class="ltx_p" id="S1.p1.1">Large Language Models (LLMs) have demonstrated exceptional performance.</p>
</div>
</section>
<section class="ltx_section" id="S2">
<h2 class="ltx_title ltx_title_section">
<span class="ltx_tag ltx_tag_section">II </span>
<span class="ltx_text ltx_font_smallcaps">Background and Motivation</span>
</h2>
<section class="ltx_subsection" id="S2.SS1">
<h3 class="ltx_title ltx_title_subsection">
<span class="ltx_tag ltx_tag_subsection"><span class="ltx_text">II-A</span> </span>
<span class="ltx_text ltx_font_italic">KV Cache Utilization in LLM Inference</span>
</h3>
<div class="ltx_para" id="S2.SS1.p1"><p class="ltx_p">The KV cache stores keys and values.</p></div>
</section></section></article></div></div></body></html>"""

    text = parse_latexml(ieee, "2504.11765")

    assert text.version == 1
    assert text.title == "Shared Disk KV Cache Management for Efficient Multi-Instance Inference in RAG-Powered LLMs"
    assert [(block.section, block.text) for block in text.blocks] == [
        ("Abstract", "Recent large language models (LLMs) face increasing inference latency."),
        ("I Introduction", "Large Language Models (LLMs) have demonstrated exceptional performance."),
        ("II-A KV Cache Utilization in LLM Inference", "The KV cache stores keys and values."),
    ]


def test_a_table_outside_a_float_keeps_one_line_per_row() -> None:
    # A tabular set inline in a paragraph, as LaTeXML writes one (the row and cell markup of the real page's
    # Table 1), with no caption around it.
    inline = """<html><body><article class="ltx_document"><section class="ltx_section" id="S1">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Setup</h2>
<div class="ltx_para"><table class="ltx_tabular ltx_align_middle">
<tr class="ltx_tr"><td class="ltx_td ltx_border_tt">Model</td><td class="ltx_td ltx_border_tt">Score</td></tr>
<tr class="ltx_tr"><td class="ltx_td">GPT-4o</td><td class="ltx_td"><math alttext="0.9"></math></td></tr>
</table></div></section></article></body></html>"""

    block = parse_latexml(inline, "2501.11120").blocks[0]

    assert (block.section, block.label, block.text) == ("1 Setup", "", "Model | Score\nGPT-4o | $0.9$")
