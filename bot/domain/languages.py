"""A channel's language for the text the LLM writes (TL;DRs, comments): a BCP 47 tag checked against the
CLDR's language names (langcodes), so a typo is refused instead of reaching the prompt."""

from __future__ import annotations

import re

import langcodes

DEFAULT = "en"
MAX_CHARS = 40  # the longest tag or name worth looking up ("Portuguese (Brazil)", "zh-Hant-TW")
_TAG_LIKE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def parse_language(text: str) -> str:
    """``de`` / ``German`` / ``Deutsch`` / ``pt_BR`` → its standard tag (``de``, ``pt-BR``); ValueError otherwise."""
    words = " ".join(text.split())
    if not words or len(words) > MAX_CHARS:
        raise ValueError("Give a language code such as de, zh or ja, or a language's name")
    tag = _from_code(words) if _TAG_LIKE.fullmatch(words) else None
    if tag is None:
        tag = _from_name(words)
    if tag is None:
        raise ValueError("That is not a language code or name we know; try a code such as de, zh or ja")
    return tag


def _from_code(code: str) -> str | None:
    try:
        language = langcodes.Language.get(code.replace("_", "-"), normalize=True)
    except (ValueError, LookupError):
        return None
    if not language.is_valid() or not language.language or language.language in {"und", "zxx", "mis", "mul"}:
        return None
    if not langcodes.Language.get(language.language).has_name_data():
        return None  # a well-formed code no language has, like "xx"
    return language.simplify_script().to_tag()


def _from_name(name: str) -> str | None:
    # Only letters reach the CLDR's name index: its trie fails on control characters such as NUL.
    if not all(ch.isalpha() or ch in " -'()" for ch in name):
        return None
    try:
        return _from_code(str(langcodes.find(name)))
    except (ValueError, LookupError):
        return None


def language_name(tag: str) -> str:
    """``de`` → ``German (Deutsch)``; ``en`` → ``English``: how the bot names a language, in English and its own."""
    language = langcodes.Language.get(tag)
    english, own = language.display_name(), language.autonym()
    return english if own == english else f"{english} ({own})"


def is_english(tag: str) -> bool:
    """``en``, ``en-GB`` …: the language the LLM scores in, so its comments need no translation."""
    return langcodes.Language.get(tag).language == DEFAULT


def prompt_name(tag: str) -> str:
    """The language as the prompt names it: English names are what models follow best."""
    return langcodes.Language.get(tag).display_name()
