"""BibTeX entries for arXiv papers, in the shape arXiv's own "Export BibTeX citation" gives.

Titles and names are stored as Unicode (bot/domain/tex.py decoded them); here they are encoded back to LaTeX
with pylatexenc, so ``&``, ``%``, ``$``, ``#``, ``_``, ``~``, ``^`` and ``\\`` are text, not TeX. Braces become
``\\textbraceleft{}``/``\\textbraceright{}``: BibTeX counts ``\\{`` as a brace, so an escaped brace would still
unbalance the field. Characters LaTeX has no name for (CJK, say) are kept: BibTeX and biber read UTF-8.
The tests parse every entry back with bibtexparser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from bot.domain.models import Paper

__all__ = ["bibtex_entries", "bibtex_entry", "citation_key", "paper_year"]

# Words a key skips to reach the title's first meaningful word (as Google Scholar's keys do).
_SKIP = frozenset({
    "a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards", "toward", "via", "from", "at", "by",
    "is", "are",
})  # fmt: skip
_NEW_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}$")
_OLD_ID = re.compile(r"/(\d{2})(\d{2})\d{3}$")


@lru_cache(maxsize=1)
def _encoder() -> UnicodeToLatexEncoder:
    braces = UnicodeToLatexConversionRule(
        RULE_DICT, {ord("{"): r"\textbraceleft{}", ord("}"): r"\textbraceright{}"}
    )
    return UnicodeToLatexEncoder(
        conversion_rules=[braces, "defaults"], unknown_char_policy="keep", unknown_char_warning=False,
    )


def _latex(text: str) -> str:
    """One line of Unicode as LaTeX text; control characters and line breaks become spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"} else ch for ch in text)
    encoded: str = _encoder().unicode_to_latex(" ".join(text.split()))
    return encoded


def _name(author: str) -> str:
    """A name as BibTeX reads it: one that contains the word "and" (a collaboration's) or a comma is braced
    whole, so BibTeX neither splits it into two people nor reads "Last, First" into it."""
    encoded = _latex(author)
    if re.search(r"\band\b", encoded, re.IGNORECASE) or "," in encoded:
        return "{" + encoded + "}"
    return encoded


def paper_year(arxiv_id: str) -> int | None:
    """The year of the first version, which the ID carries: 2503.03213 → 2025, hep-th/9901001 → 1999."""
    match = _NEW_ID.search(arxiv_id) or _OLD_ID.search(arxiv_id)
    if match is None:
        return None
    yy = int(match.group(1))
    return (1900 if yy >= 91 else 2000) + yy  # arXiv began in August 1991


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citation_key(paper: Paper) -> str:
    """firstauthorYEARfirstword, ASCII lower case: ``vaswani2017attention``."""
    first = paper.authors[0] if paper.authors else ""
    family = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
    surname = _ascii_word(family) or "anon"
    words = [_ascii_word(w) for w in paper.title.split()]
    word = next((w for w in words if w and w not in _SKIP), "") or next((w for w in words if w), "")
    year = paper_year(paper.arxiv_id)
    return f"{surname}{year or ''}{word[:20]}"


def _unique(keys: Iterable[str]) -> list[str]:
    """Suffix repeated keys a, b, …, z, aa, … in order (``he2016deep``, ``he2016deepa``), never clashing with a
    key that already ends that way."""
    taken: set[str] = set()
    out = []
    for key in keys:
        candidate, n = key, 0
        while candidate in taken:
            n += 1
            candidate = key + _letters(n)
        taken.add(candidate)
        out.append(candidate)
    return out


def _letters(n: int) -> str:
    """1 → a, 26 → z, 27 → aa."""
    text = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def _entry(paper: Paper, key: str) -> str:
    fields: list[tuple[str, str]] = [
        ("title", _latex(paper.title)),
        ("author", " and ".join(_name(a) for a in paper.authors if a.strip()) or "Anonymous"),
    ]
    year = paper_year(paper.arxiv_id)
    if year is not None:
        fields.append(("year", str(year)))
    fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
    primary = paper.primary_category or (paper.categories[0] if paper.categories else "")
    if primary:
        fields.append(("primaryClass", _latex(primary)))
    if paper.doi:
        fields.append(("doi", _latex(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal", _latex(paper.journal_ref)))
    fields.append(("url", paper.url))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
    return f"@misc{{{key},\n{body}}}\n"


def bibtex_entry(paper: Paper) -> str:
    """One ``@misc`` entry, as arXiv exports it, with DOI and journal when arXiv has them."""
    return _entry(paper, citation_key(paper))


def bibtex_entries(papers: Sequence[Paper]) -> str:
    """A .bib file's text: one entry per paper, keys unique within it."""
    keys = _unique(citation_key(p) for p in papers)
    return "\n".join(_entry(p, k) for p, k in zip(papers, keys, strict=True))
