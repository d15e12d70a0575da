from __future__ import annotations

import pytest

from bench import author_match, shared_data
from bot.domain.authors import AuthorNameError, followed_in, matches, parse_followed


def follows(name: str, author: str) -> bool:
    return matches(parse_followed(name), author)


@pytest.mark.parametrize("author", [
    "Przemysław Biecek", "Przemys{\\l}aw Biecek", "PRZEMYSLAW BIECEK", "przemyslaw  biecek", "Przemysław Biecek ",
])
def test_accents_tex_case_and_spacing_fold(author: str) -> None:
    assert follows("Przemysław Biecek", author)
    assert follows("Przemys{\\l}aw Biecek", author)  # a typed name may carry TeX too


def test_middle_names_are_optional_and_initials_compatible() -> None:
    assert follows("Brandon Feng", "Brandon Y. Feng")
    assert follows("Brandon Y. Feng", "Brandon Feng")
    assert follows("Brandon Y. Feng", "Brandon Yu Feng")
    assert not follows("Brandon Y. Feng", "Brandon X. Feng")
    assert follows("William T. Freeman", "William T Freeman")


def test_a_given_name_must_be_written_out_and_equal() -> None:
    assert not follows("Kaiming He", "K. He")
    assert not follows("Kaiming He", "Kun He")
    assert not follows("Yoshua Bengio", "Samy Bengio")
    assert not follows("Yoshua Bengio", "Yoshua")


def test_surnames_in_several_words_and_hyphens_compare_as_letters() -> None:
    assert follows("Yann Le Cun", "Yann LeCun")
    assert follows("Alex Hernandez Garcia", "Alex Hernandez-Garcia")
    assert follows("Jean-Pierre Falet", "Jean-Pierre Falet")
    assert not follows("Alex Hernandez-Garcia", "Alex Garcia-Lopez")
    assert follows("Martin Luther King Jr.", "Martin Luther King")


def test_the_followed_names_on_a_paper_keep_the_order_they_were_followed() -> None:
    followed = [parse_followed("Kaiming He"), parse_followed("William Freeman")]
    authors = ("Congyue Deng", "William T. Freeman", "Leonidas Guibas", "Kaiming He")
    assert followed_in(authors, followed) == ("Kaiming He", "William Freeman")
    assert followed_in(("K. He",), followed) == ()


@pytest.mark.parametrize(("typed", "said"), [
    ("K. He", "ambiguous"), ("K He", "ambiguous"), ("He", "alone would match"), ("Kaiming H.", "initial"),
    ("", "Give an author's name"), ("1234", "Give an author's name"), ("Kaiming <@U123> He", "letters, spaces"),
    ("x" * 81 + " He", "at most 80"),
])
def test_ambiguous_or_odd_names_are_refused_with_what_to_type(typed: str, said: str) -> None:
    with pytest.raises(AuthorNameError, match=said) as refused:
        parse_followed(typed)
    assert "e.g." in str(refused.value) or "at most" in str(refused.value)


def test_same_person_typed_differently_is_one_follow() -> None:
    assert parse_followed("Przemys{\\l}aw  Biecek").key == parse_followed("przemysław biecek").key
    assert parse_followed("Przemys{\\l}aw Biecek").shown == "Przemysław Biecek"


def test_precision_and_recall_on_real_author_lists() -> None:
    if not (shared_data.DATA / shared_data.DAIZEDONG).exists():
        pytest.skip(f"the shared test data is not at {shared_data.DATA} (set DIGEST_SHARED_DATA to its folder)")
    figures = author_match.measure()
    message = f"{len(author_match.FOLLOWED)} followed authors: {figures.summary()}; loose: {figures.loose}"
    assert figures.true_matches > 800, message
    assert figures.precision >= 0.99, message
    assert figures.recall >= 0.99, message
