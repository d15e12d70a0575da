"""arXiv's category taxonomy, to refuse a typo before it becomes an empty feed, and the name of a feed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_ARCHIVES: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI OH OS PF PL "
    "RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph flu-dyn gen-ph "
    "geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
_STANDALONE = ("gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph")

# Whole archives ("cs") are valid feeds too.
CATEGORIES: frozenset[str] = frozenset(
    [f"{archive}.{sub}" for archive, subs in _ARCHIVES.items() for sub in subs.split()]
    + list(_ARCHIVES)
    + list(_STANDALONE)
)
_BY_LOWER = {c.lower(): c for c in CATEGORIES}


def validate_categories(categories: Iterable[str]) -> list[str]:
    """The categories in arXiv's spelling, in order and without repeats; ValueError names the unknown ones."""
    result: list[str] = []
    unknown: list[str] = []
    for raw in categories:
        name = _BY_LOWER.get(raw.strip().lower())
        if name is None:
            close = difflib.get_close_matches(raw.strip().lower(), _BY_LOWER, n=1, cutoff=0.6)
            unknown.append(f"{raw!r}" + (f" (did you mean {_BY_LOWER[close[0]]}?)" if close else ""))
        elif name not in result:
            result.append(name)
    if unknown:
        raise ValueError(
            "unknown arXiv categor"
            + ("y " if len(unknown) == 1 else "ies ")
            + ", ".join(unknown)
            + "; see https://arxiv.org/category_taxonomy"
        )
    if not result:
        raise ValueError("no arXiv category given (e.g. cs.LG)")
    return result


def feed_key(categories: Iterable[str]) -> str:
    """A category set's identity, independent of order: the feed the set is read from."""
    return "+".join(sorted(set(categories)))
