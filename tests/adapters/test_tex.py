"""TeX in arXiv metadata, on strings arXiv really serves (../shared/data/arxiv_digest_testsets, issue 13)."""

from __future__ import annotations

import pytest

from adapters.tex import decode_tex, split_creators


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Przemys{\\l}aw", "Przemysław"),
        ("R\\'emy Gribonval", "Rémy Gribonval"),
        ('Aapo Hyv\\"arinen', "Aapo Hyvärinen"),
        ("O\\u{g}uzhan Ersoy", "Oğuzhan Ersoy"),
        ("{\\L}ukasz Staniszewski", "Łukasz Staniszewski"),
        ("Marin Solja\\v{c}i\\'c", "Marin Soljačić"),
        ("S{\\o}ren Hauberg", "Søren Hauberg"),
        ("Samuel Rota Bul\\`o", "Samuel Rota Bulò"),
        ("Jan Ma{\\l}a\\'snicki", "Jan Małaśnicki"),
    ],
)
def test_accents_in_names_become_unicode(raw: str, expected: str) -> None:
    assert decode_tex(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # 2503.18216: math that reads as text in chat
        ("improves perplexity by $\\sim$44% while", "improves perplexity by ~44% while"),
        ("with $O(n^2)$ cost", "with O(n^2) cost"),
        ("L$^2$M: Mutual Information Scaling Law", "L^2M: Mutual Information Scaling Law"),
        ("$\\mu$-Parametrization for Mixture of Experts", "μ-Parametrization for Mixture of Experts"),
        ("nearly $2\\times$ speedup", "nearly 2× speedup"),
        ("(5.7\\% $\\rightarrow$ 25.4\\%)", "(5.7% → 25.4%)"),
        ("surpasses Gemma 2B-2B by $>$3%.", "surpasses Gemma 2B-2B by >3%."),
        ("KL divergence of order $ O(\\epsilon^2) $ using", "KL divergence of order O(ϵ^2) using"),
        ("a superclass label$\\unicode{x2014}$shared by", "a superclass label—shared by"),
        # text formatting keeps its words
        ("A \\emph{completion} test is often", "A completion test is often"),
        ("two metrics: {\\it target similarity} and", "two metrics: target similarity and"),
        ("\\textbf{C}urvature-\\textbf{A}ware", "Curvature-Aware"),
        ("(\\eg, average pool)", "(e.g., average pool)"),
        ("at~\\url{https://huggingface.co/inclusionAI/Ling-Coder-lite}.", "at~https://huggingface.co/inclusionAI/Ling-Coder-lite."),
        (
            "at: \\href{https://github.com/LCLM-Horizon/A}{\\color[RGB]{175,36,67}{LCLM-Horizon}}.",
            "at: LCLM-Horizon (https://github.com/LCLM-Horizon/A).",
        ),
    ],
)
def test_titles_and_abstracts_stay_readable(raw: str, expected: str) -> None:
    assert decode_tex(raw) == expected


@pytest.mark.parametrize(
    "plain",
    [
        "It costs $5 and $10 a month.",  # dollars, not math
        "Prices range $5-$10.",
        "costs by >2000x to roughly $1 and training time by >450x; only around $1 additional cost.",
        "A 50% gain, ~3x faster, Q&A #1 and 100% recall.",  # TeX's comment, tie, alignment, parameter
        "Models emit <think> tokens; we show x < y.",
        "snake_case names and x^2 outside math",
    ],
)
def test_plain_text_is_not_mangled(plain: str) -> None:
    assert decode_tex(plain) == plain


def test_whitespace_is_collapsed_and_broken_tex_loses_nothing_readable() -> None:
    assert decode_tex("Reasoning  to\n  Learn") == "Reasoning to Learn"
    assert decode_tex("an {unbalanced brace and \\unknownmacro here") == "an unbalanced brace and \\unknownmacro here"


def test_creators_split_at_top_level_commas_only() -> None:
    creator = (
        "Ana Araujo (University of Brasilia Brazil, The University of Melbourne Australia), "
        "Breno Costa (Department of Physics and Astronomy, UnB), Przemys{\\l}aw Nowak"
    )

    assert split_creators(creator) == [
        ("Ana Araujo", "University of Brasilia Brazil, The University of Melbourne Australia"),
        ("Breno Costa", "Department of Physics and Astronomy, UnB"),
        ("Przemysław Nowak", ""),
    ]


@pytest.mark.parametrize(
    ("creator", "names"),
    [
        ("A. Person, B. Person and C. Person", ["A. Person", "B. Person", "C. Person"]),
        ("Alexandre Anderson, Sandy Randall", ["Alexandre Anderson", "Sandy Randall"]),
        ("Smith (MIT, Bob Jones", ["Smith (MIT", "Bob Jones"]),  # unbalanced: nothing swallowed
        ("  Ana   Araujo ,  ", ["Ana Araujo"]),
        ("", []),
    ],
)
def test_creator_edge_cases(creator: str, names: list[str]) -> None:
    assert [name for name, _ in split_creators(creator)] == names


def test_several_affiliation_groups_are_joined() -> None:
    assert split_creators("Jane Doe (MIT) (Harvard)") == [("Jane Doe", "MIT; Harvard")]
