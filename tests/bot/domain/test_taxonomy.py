import pytest

from bot.domain.settings import Settings
from bot.domain.taxonomy import validate_categories


def test_known_categories_are_returned_in_arxivs_spelling_without_repeats():
    assert validate_categories(["cs.lg", "CS.AI", "cs.LG", "hep-th", "cond-mat.stat-mech", "math"]) == [
        "cs.LG",
        "cs.AI",
        "hep-th",
        "cond-mat.stat-mech",
        "math",
    ]


def test_a_typo_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match=r"'cs.LGG' \(did you mean cs.LG\?\)"):
        validate_categories(["cs.LGG"])
    with pytest.raises(ValueError, match=r"did you mean cs\.LG"):
        validate_categories(["cs.lgg"])
    with pytest.raises(ValueError, match="no arXiv category"):
        validate_categories([])


def test_settings_refuse_an_unknown_category(monkeypatch):
    monkeypatch.setenv("DIGEST_CATEGORIES", "cs.LG,cs.XX")
    with pytest.raises(ValueError, match=r"cs\.XX"):
        Settings(_env_file=None)
