"""BibTeX entries: arXiv's fields, unique keys, TeX specials escaped, and every entry read back by bibtexparser
(a real BibTeX reader) with the fields it was given, whatever the title and the names hold."""

from __future__ import annotations

import bibtexparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.bibtex import bibtex_entries, bibtex_entry, citation_key, paper_year
from bot.domain.models import Paper


def make(arxiv_id: str = "2503.03213", title: str = "Attention is all you need", authors=("Ashish Vaswani",),
         **changes: object) -> Paper:
    return Paper(arxiv_id, title, tuple(authors), "Abstract.", ("cs.CL", "cs.LG"), **changes)  # type: ignore[arg-type]


def parse(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    return library


def braces_balance(text: str) -> bool:
    """BibTeX counts every brace, escaped or not."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_an_entry_has_arxivs_own_fields_and_reads_back():
    paper = make(doi="10.1063/1.1383585", journal_ref="J. Chem. Phys. 115, 1626 (2001)", primary_category="cs.CL")
    [entry] = parse(bibtex_entry(paper)).entries
    assert entry.entry_type == "misc" and entry.key == "vaswani2025attention"
    assert {f.key: f.value for f in entry.fields} == {
        "title": "Attention is all you need", "author": "Ashish Vaswani", "year": "2025", "eprint": "2503.03213",
        "archivePrefix": "arXiv", "primaryClass": "cs.CL", "doi": "10.1063/1.1383585",
        "journal": "J. Chem. Phys. 115, 1626 (2001)", "url": "https://arxiv.org/abs/2503.03213",
    }


def test_without_doi_or_journal_the_entry_leaves_them_out_and_the_first_category_is_primary():
    fields = {f.key: f.value for f in parse(bibtex_entry(make())).entries[0].fields}
    assert "doi" not in fields and "journal" not in fields and fields["primaryClass"] == "cs.CL"


@pytest.mark.parametrize(("arxiv_id", "year"), [("2503.03213", 2025), ("0704.0001", 2007), ("hep-th/9901001", 1999),
                                                ("math.GT/0309136", 2003), ("cond-mat/0102536", 2001)])
def test_the_year_is_the_first_versions_from_the_id(arxiv_id, year):
    assert paper_year(arxiv_id) == year


def test_tex_specials_are_text_and_names_with_and_stay_one_author():
    paper = make(title="50% of $5 & #1 a_b ~x^2 \\emph {braces}", authors=("Przemysław Rémy", "ATLAS and CMS"))
    [entry] = parse(bibtex_entry(paper)).entries
    title, author = entry.fields_dict["title"].value, entry.fields_dict["author"].value
    assert braces_balance(title) and "\\&" in title and "\\%" in title and "\\$" in title and "\\_" in title
    assert "{\\textasciitilde}x{\\textasciicircum}2 {\\textbackslash}emph \\textbraceleft{}braces" in title
    assert author == "Przemys{\\l}aw R\\'emy and {ATLAS and CMS}"


def test_keys_are_unique_within_a_file_suffixed_in_order():
    papers = [make(f"2503.0000{i}", title="Deep residual learning", authors=("Kaiming He",)) for i in range(1, 4)]
    papers.append(make("2503.00009", title="Deepa", authors=("Kaiming He",)))  # its own key is a suffixed one
    keys = [e.key for e in parse(bibtex_entries(papers)).entries]
    assert keys == ["he2025deep", "he2025deepa", "he2025deepb", "he2025deepaa"]


def test_a_key_skips_leading_small_words_and_folds_accents():
    assert citation_key(make(title="On the Ω of Étale things", authors=("Zoë Ñúñez",))) == "nunez2025etale"
    assert citation_key(make(title="∑", authors=())) == "anon2025"


odd_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80).filter(str.strip)


@settings(max_examples=300, deadline=None)
@given(title=odd_text, authors=st.lists(odd_text, min_size=1, max_size=4), doi=st.text(max_size=20))
def test_any_title_and_names_give_entries_bibtexparser_reads_back_whole(title, authors, doi):
    papers = [make(title=title, authors=authors, doi=doi), make("hep-th/9901001", title=title, authors=authors)]
    text = bibtex_entries(papers)
    library = parse(text)
    assert len(library.entries) == 2 and len({e.key for e in library.entries}) == 2
    for entry in library.entries:
        assert entry.fields_dict["eprint"].value in {"2503.03213", "hep-th/9901001"}
        for field in entry.fields:
            assert braces_balance(field.value), field
            assert "\n" not in field.value
