"""Followed authors: which author strings on a paper are a followed person.

The rule, chosen for precision (a followed author's paper is always posted, so a false match costs the
channel a slot every day):

- Names are compared folded: TeX decoded (``Przemys{\\l}aw``), accents and case dropped (``Przemysław`` =
  ``przemyslaw``, ``ł`` → ``l``, ``ø`` → ``o``), dots, commas and spacing ignored, a hyphen joins
  (``Hernandez-Garcia`` = ``Hernandez Garcia``), a trailing ``Jr.``/``III`` dropped.
- The given name must be written out and equal: a followed "Kaiming He" does not match "K. He" on a
  paper, since "K. He" is as likely Kun He or Kai He. Followed names are refused when their given name
  is an initial ("K. He") or missing ("He"); see :func:`parse_followed`.
- Middle names are optional and initials are compatible: "Brandon Feng" matches "Brandon Y. Feng" and
  "Brandon Yu Feng"; "Brandon Y. Feng" matches those and "Brandon Feng", never "Brandon X. Feng".
- The surname must be equal; a surname in several words equals the same letters written as one
  ("Yann Le Cun" = "Yann LeCun").

Two people with the same written name cannot be told apart from a paper's author list; neither could the
seed, which matched by name too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.domain.tex import decode_tex

__all__ = [
    "AuthorNameError", "FollowedName", "author_words", "expansions", "fold", "followed_in", "matches", "parse_followed",
]

MAX_NAME_CHARS = 80
# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({
    "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
    "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "ħ": "h", "Ħ": "h",
})
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_SEPARATORS = re.compile(r"[\s.,]+")


class AuthorNameError(ValueError):
    """A followed name we refuse, with what to type instead."""


@dataclass(frozen=True)
class FollowedName:
    """A person's name as typed (``shown``) and as compared (folded words: given, middles…, surname)."""

    shown: str
    words: tuple[str, ...]

    @property
    def key(self) -> str:
        """One person, one key: "Przemysław Biecek" and "przemyslaw  biecek" are the same follow."""
        return " ".join(self.words)


def fold(text: str) -> str:
    """Accents, TeX and case dropped: ``Przemys{\\l}aw`` → ``przemyslaw``."""
    decoded = decode_tex(text) if "\\" in text or "{" in text else text
    letters = unicodedata.normalize("NFKD", decoded.translate(_LETTERS))
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65_536)
def author_words(name: str) -> tuple[str, ...]:
    """A name's folded words; a hyphen joins ("Jean-Pierre" → "jeanpierre"), a trailing suffix is dropped."""
    words = [w.replace("-", "").replace("'", "").replace("’", "") for w in _SEPARATORS.split(fold(name))]
    words = [w for w in words if w]
    while len(words) > 2 and words[-1] in _SUFFIXES:
        words.pop()
    return tuple(words)


def _initial(word: str) -> bool:
    return len(word) == 1


def _compatible(a: str, b: str) -> bool:
    """Two middle names: equal, or one is the other's initial."""
    return a == b or (_initial(a) and b.startswith(a)) or (_initial(b) and a.startswith(b))


def _middles_agree(followed: Sequence[str], author: Sequence[str]) -> bool:
    """Middle names are optional: when both give some, the shorter list agrees, in order, with the longer."""
    if not followed or not author:
        return True
    short, long = (followed, author) if len(followed) <= len(author) else (author, followed)
    i = 0
    for word in long:
        if i < len(short) and _compatible(short[i], word):
            i += 1
    return i == len(short)


def matches(followed: FollowedName, author: str) -> bool:
    """Whether the author string on a paper is the followed person (see the module's rule)."""
    words = author_words(author)
    f = followed.words
    if len(words) < 2 or words[0] != f[0]:
        return False
    if "".join(words[1:]) == "".join(f[1:]):  # "Le Cun" = "LeCun", identical middles included
        return True
    return words[-1] == f[-1] and _middles_agree(f[1:-1], words[1:-1])


def followed_in(authors: Iterable[str], followed: Iterable[FollowedName]) -> tuple[str, ...]:
    """The followed names (as typed) that appear among a paper's authors, in the order followed."""
    authors = tuple(authors)
    return tuple(f.shown for f in followed if any(matches(f, a) for a in authors))


def expansions(raw: str, authors: Iterable[str]) -> list[str]:
    """Among ``authors``, the full names an ambiguous short form such as "K. He" could stand for."""
    words = author_words(raw)
    if not words or len(words) > 2 or (not _initial(words[0]) and len(words) == 2):
        return []
    surname, initial = words[-1], words[0] if len(words) == 2 else ""
    found: dict[tuple[str, ...], str] = {}
    for author in authors:
        theirs = author_words(author)
        if len(theirs) >= 2 and not _initial(theirs[0]) and theirs[-1] == surname and theirs[0].startswith(initial):
            found.setdefault(theirs, decode_tex(author))
    return list(found.values())


def parse_followed(raw: str) -> FollowedName:
    """A name typed at ``follow`` time, or AuthorNameError saying what to type instead.

    Refused: no letters, too long, a lone surname ("He") and a given name written as an initial
    ("K. He", "K He") — they would match every K. He on arXiv.
    """
    shown = " ".join(decode_tex(raw).split()) if raw.strip() else ""
    if not shown or not any(c.isalpha() for c in shown):
        raise AuthorNameError("Give an author's name as arXiv lists it, e.g. “Kaiming He”.")
    if len(shown) > MAX_NAME_CHARS:
        raise AuthorNameError(f"An author's name is at most {MAX_NAME_CHARS} characters.")
    if "," in shown or ";" in shown:
        raise AuthorNameError("Give one name, given name first, as arXiv lists it: “Kaiming He”, not “He, Kaiming”.")
    if any(not (c.isalpha() or c.isspace() or c in ".-'’") or unicodedata.category(c) == "Cf" for c in shown):
        raise AuthorNameError("An author's name holds letters, spaces, dots, hyphens and apostrophes only, "
                        "e.g. “Kaiming He” or “Jean-Pierre Falet”.")
    words = author_words(shown)
    if len(words) < 2:
        raise AuthorNameError(f"“{shown}” alone would match every author of that surname. Give the given name in full "
                        "too, as arXiv lists it, e.g. “Kaiming He”.")
    if _initial(words[0]):
        raise AuthorNameError(f"“{shown}” is ambiguous: an initial matches many people (K. He is Kaiming He, Kun He, "
                        "Kai He…). Give the given name in full as arXiv lists it, e.g. “Kaiming He”.")
    if _initial(words[-1]):
        raise AuthorNameError(f"“{shown}” ends with an initial; give the surname last, e.g. “Kaiming He”.")
    return FollowedName(shown, words)
