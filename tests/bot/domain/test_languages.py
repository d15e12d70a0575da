"""/arxiv language takes a BCP 47 code or a language's name and refuses what no language is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.languages import language_name, parse_language, prompt_name


@pytest.mark.parametrize(("given_text", "tag"), [
    ("de", "de"), ("ZH", "zh"), ("ja", "ja"), ("pt_BR", "pt-BR"), ("zh-Hans", "zh-Hans"), ("German", "de"),
    ("Deutsch", "de"), ("日本語", "ja"), ("français", "fr"), ("  en  ", "en"),
])
def test_codes_and_names_become_standard_tags(given_text, tag):
    assert parse_language(given_text) == tag


@pytest.mark.parametrize("bad", ["xx", "zz", "und", "x-foo", "qaa", "klingonese", "", "de DE", "a" * 200, "\x00𐀀"])
def test_what_no_language_is_is_refused_with_a_hint(bad):
    with pytest.raises(ValueError, match="code such as de, zh or ja"):
        parse_language(bad)


def test_a_language_is_named_in_english_and_in_itself():
    assert language_name("de") == "German (Deutsch)"
    assert language_name("en") == "English"
    assert prompt_name("ja") == "Japanese"


@given(st.text(max_size=60))
def test_any_text_gives_a_tag_or_a_clear_refusal_that_does_not_echo_it(text):
    try:
        tag = parse_language(text)
    except ValueError as exc:
        assert str(exc).startswith(("Give a language code", "That is not a language"))
    else:
        assert parse_language(tag) == tag
