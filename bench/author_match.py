"""How well followed names match real author lists (``../shared/data/arxiv_digest_testsets``).

Twenty people are followed by name as someone would type them (Unicode, no TeX); the data's author
strings are as arXiv wrote them (TeX accents such as ``Sch\\"olkopf``, ``Micha{\\l}``). The truth is the
exact string: an author is the followed person when its text, TeX decoded, equals the name up to case and
accents ("Christopher Re" is Christopher Ré). On top of the
real strings, each true occurrence is rewritten the ways people and feeds vary it (case, accents dropped,
TeX accents, NFD, extra spaces) and must still match, and each followed name's initial form ("Y. Bengio")
and every other given name with the same surname in the data must not.

A match whose text is not exactly the name (a middle initial: "Brandon Y. Feng" for "Brandon Feng") is a
false match for the figures, and listed so a person can judge it.

    python -m bench.author_match        (DIGEST_SHARED_DATA=<folder> when ../shared is not beside the checkout)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache

from bench import shared_data
from bot.domain.authors import FollowedName, author_words, matches, parse_followed
from bot.domain.tex import decode_tex

FOLLOWED = (
    # frequent in the data
    "Yoshua Bengio", "Yang Liu", "Dacheng Tao", "Razvan Pascanu", "Tianyi Zhou", "Wanli Ouyang", "Tongliang Liu",
    "Xiangyu Zhao", "Kaiming He", "Yann LeCun", "Samy Bengio",
    # written with TeX accents in the data
    "Bernhard Schölkopf", "Klaus-Robert Müller", "Marin Soljačić", "Søren Hauberg", "Aapo Hyvärinen",
    "Christopher Ré", "Benoît Sagot", "Michał Koziarski", "Alex Hernandez-Garcia",
)
_TEX_ACCENTS = {"\u0301": "\\'", "\u0308": '\\"', "\u0302": "\\^", "\u030c": "\\v", "\u0300": "\\`", "\u0303": "\\~"}


@dataclass
class Figures:
    true_matches: int = 0
    false_matches: int = 0
    missed: int = 0
    negatives_tested: int = 0
    loose: list[tuple[str, str]] = field(default_factory=list)  # (followed, author string) matched but not exact
    misses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_matches + self.false_matches
        return self.true_matches / found if found else 1.0

    @property
    def recall(self) -> float:
        truth = self.true_matches + self.missed
        return self.true_matches / truth if truth else 1.0

    def summary(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f} ({self.true_matches} true matches, "
                f"{self.false_matches} false, {self.missed} missed; {self.negatives_tested} constructed "
                f"non-matches tested)")


@cache
def _exact(text: str) -> str:
    return unicodedata.normalize("NFC", decode_tex(text))


@cache
def _same_name(text: str) -> str:
    """The truth's comparison, independent of the matcher's: TeX decoded, combining accents and case
    dropped, spacing collapsed ("Christopher Re" is Christopher Ré, "Yang liu" is Yang Liu)."""
    letters = unicodedata.normalize("NFD", _exact(text))
    return " ".join("".join(c for c in letters if not unicodedata.combining(c)).casefold().split())


def _tex(text: str) -> str:
    """The name as arXiv's TeX would write it: "Schölkopf" → ``Sch\\"olkopf``, "ł" → ``{\\l}``."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _TEX_ACCENTS and out:
            out[-1] = f"{_TEX_ACCENTS[char]}{{{out[-1]}}}"
        else:
            out.append({"ł": "{\\l}", "ø": "{\\o}"}.get(char, char))
    return "".join(out)


def variants(author: str) -> list[str]:
    """Ways the same person's name is written: case, accents, TeX, Unicode normal forms, spacing."""
    text = _exact(author)
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return [text.upper(), text.lower(), stripped, _tex(text), unicodedata.normalize("NFD", text),
            "  ".join(text.split()) + " "]


def negatives(name: FollowedName, authors: set[str]) -> list[str]:
    """Strings that must not match: the initial form, and the data's other people with the same surname."""
    given, surname = name.shown.split()[0], name.shown.split()[-1]
    out = [f"{given[0]}. {surname}", f"{given[0]} {surname}", surname]
    for author in authors:
        words = author_words(author)
        if len(words) >= 2 and words[-1] == name.words[-1] and words[0] != name.words[0]:
            out.append(author)
    return out


def measure(papers: list[dict] | None = None) -> Figures:
    papers = papers if papers is not None else shared_data.all_papers()
    authors = {a for p in papers for a in p["authors"]}
    figures = Figures()
    for raw in FOLLOWED:
        name = parse_followed(raw)
        exact = _same_name(raw)
        for paper in papers:
            for author in paper["authors"]:
                truth = _same_name(author) == exact
                found = matches(name, author)
                if truth and found:
                    figures.true_matches += 1
                    for variant in variants(author):
                        if matches(name, variant):
                            figures.true_matches += 1
                        else:
                            figures.missed += 1
                            figures.misses.append((raw, variant))
                elif found:
                    figures.false_matches += 1
                    figures.loose.append((raw, author))
                elif truth:
                    figures.missed += 1
                    figures.misses.append((raw, author))
        for negative in negatives(name, authors):
            figures.negatives_tested += 1
            if matches(name, negative):
                figures.false_matches += 1
                figures.loose.append((raw, negative))
    return figures


def main() -> None:
    figures = measure()
    print(f"{len(FOLLOWED)} followed authors on {len(shared_data.all_papers()):,} papers: {figures.summary()}")
    for followed, author in sorted(set(figures.loose)):
        print(f"  matched, not exact: {followed!r} ~ {author!r}")
    for followed, author in sorted(set(figures.misses)):
        print(f"  missed: {followed!r} ~ {author!r}")


if __name__ == "__main__":
    main()
