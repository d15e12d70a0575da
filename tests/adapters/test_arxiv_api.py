"""ArxivLookup (the `arxiv` package, requests underneath) against the arXiv stand-in's /api/query."""

from __future__ import annotations

import asyncio
from pathlib import Path

import arxiv as arxiv_package
import pytest

from adapters.arxiv_api import ArxivLookup
from bot.domain.bibtex import bibtex_entry
from bot.domain.errors import DigestError
from bot.domain.models import Paper
from tests.support import ArxivStandIn, Malformed, Status, make_paper

MOE = make_paper(
    "2503.03213",
    "Convergence Rates for Softmax Gating Mixture of Experts",
    "Mixture of experts (MoE) has recently emerged as a sparse & efficient architecture.",
    authors=["Huy Nguyen", "Nhat Ho", "Alexandre Anderson"],
    categories=["stat.ML", "cs.LG"],
    version=2,
)


def lookup(arxiv: ArxivStandIn, ids: list[str], **options: float) -> dict[str, Paper]:
    options.setdefault("delay_seconds", 0)
    return ArxivLookup(arxiv.api_url, **options).lookup_sync(ids)  # type: ignore[arg-type]


def test_finds_a_paper_by_id(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])

    found = lookup(arxiv, ["2503.03213"])

    assert found == {
        "2503.03213": Paper(
            arxiv_id="2503.03213",
            title="Convergence Rates for Softmax Gating Mixture of Experts",
            authors=("Huy Nguyen", "Nhat Ho", "Alexandre Anderson"),
            abstract="Mixture of experts (MoE) has recently emerged as a sparse & efficient architecture.",
            categories=("stat.ML", "cs.LG"),
            announce_type="lookup",
        )
    }


def test_async_lookup_gives_the_same_answer(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])
    client = ArxivLookup(arxiv.api_url, delay_seconds=0)

    found = asyncio.run(client.lookup(["2503.03213"]))

    assert list(found) == ["2503.03213"]
    assert found["2503.03213"].title == MOE["title"]


def test_title_and_abstract_whitespace_is_collapsed(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([make_paper("2503.00001", "A  title\n  over lines", "An abstract\n   wrapped\tby arXiv.")])

    paper = lookup(arxiv, ["2503.00001"])["2503.00001"]

    assert (paper.title, paper.abstract) == ("A title over lines", "An abstract wrapped by arXiv.")


def test_unknown_id_gives_an_empty_dict(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])

    assert lookup(arxiv, ["2501.99999"]) == {}
    assert len(arxiv.requests_to("/api/query")) == 1


def test_known_and_unknown_ids_together_give_only_the_known(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE, make_paper("2503.00002")])

    found = lookup(arxiv, ["2501.99999", "2503.00002", "2503.03213"])

    assert sorted(found) == ["2503.00002", "2503.03213"]


def test_strings_that_are_not_ids_make_no_request(arxiv: ArxivStandIn) -> None:
    assert lookup(arxiv, ["", "not an id", "https://example.com/abs/1"]) == {}
    assert arxiv.requests == []


ID_FORMS = [
    "2503.03213",
    "2503.03213v2",
    "2503.03213v1",
    "arXiv:2503.03213",
    "arXiv:2503.03213v2",
    "https://arxiv.org/abs/2503.03213",
    "https://arxiv.org/abs/2503.03213v2",
    "http://export.arxiv.org/abs/2503.03213/",
    "https://arxiv.org/pdf/2503.03213v2.pdf",
]


def test_normalized_ids_are_looked_up_without_version(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])
    client = ArxivLookup(arxiv.api_url, delay_seconds=0)

    found = {raw: list(client.lookup_sync([raw])) for raw in ID_FORMS}

    assert found == {raw: ["2503.03213"] for raw in ID_FORMS}
    assert [r.query["id_list"] for r in arxiv.requests] == ["2503.03213"] * len(ID_FORMS)


def test_old_style_ids_are_found(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([make_paper("hep-th/9901001", "Old style")])

    found = lookup(arxiv, ["hep-th/9901001v1"])

    assert found["hep-th/9901001"].title == "Old style"


def test_query_goes_to_arxiv_api_url_with_id_list(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE, make_paper("2503.00002")])

    lookup(arxiv, ["2503.03213", "2503.00002"])

    (request,) = arxiv.requests
    assert request.method == "GET"
    assert request.path == "/api/query"
    assert request.query["id_list"] == "2503.03213,2503.00002"
    assert request.query["search_query"] == ""


def test_api_url_with_trailing_question_mark_is_accepted(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])

    found = ArxivLookup(arxiv.api_url + "?", delay_seconds=0).lookup_sync(["2503.03213"])

    assert list(found) == ["2503.03213"]
    assert arxiv.requests[0].path == "/api/query"


def test_query_url_is_set_on_our_client_only(arxiv: ArxivStandIn) -> None:
    ArxivLookup(arxiv.api_url, delay_seconds=0)

    assert arxiv_package.Client.query_url_format == "https://export.arxiv.org/api/query?{}"
    assert arxiv_package.Client().query_url_format.startswith("https://export.arxiv.org/")


def test_consecutive_lookups_respect_the_delay_between_requests(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE, make_paper("2503.00002")])
    client = ArxivLookup(arxiv.api_url, delay_seconds=0.5)

    client.lookup_sync(["2503.03213"])
    client.lookup_sync(["2503.00002"])

    first, second = arxiv.requests
    assert second.time - first.time >= 0.49


def test_concurrent_lookups_are_serialised_and_spaced(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE, make_paper("2503.00002")])
    client = ArxivLookup(arxiv.api_url, delay_seconds=0.2)

    async def both() -> list[dict[str, Paper]]:
        return list(await asyncio.gather(client.lookup(["2503.03213"]), client.lookup(["2503.00002"])))

    results = asyncio.run(both())

    assert sorted(k for r in results for k in r) == ["2503.00002", "2503.03213"]
    first, second = arxiv.requests
    assert second.time - first.time >= 0.19


def test_503_once_is_retried_by_the_package(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])
    arxiv.add_fault(Status(503))

    found = lookup(arxiv, ["2503.03213"], num_retries=1)

    assert list(found) == ["2503.03213"]
    assert [r.status for r in arxiv.requests] == [503, 200]


def test_persistent_503_raises_digest_error_with_a_clear_message(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MOE])
    arxiv.add_fault(*[Status(503)] * 3)

    with pytest.raises(DigestError) as caught:
        lookup(arxiv, ["2503.03213"], num_retries=2)

    assert_gave_up_after_three_503s(caught, arxiv, "arXiv API could not be read", "try again in a minute")


def assert_gave_up_after_three_503s(
    caught: pytest.ExceptionInfo[DigestError], stand_in: ArxivStandIn, *wording: str
) -> None:
    """The error after three 503s in a row (two retries): it carries ``wording``, the HTTP status and
    where the API's address is set, and keeps the package's error as its cause."""
    message = str(caught.value)
    for words in (*wording, "HTTP 503", "ARXIV_API_URL"):
        assert words in message
    assert isinstance(caught.value.__cause__, arxiv_package.HTTPError)
    assert len(stand_in.requests) == 3


def test_malformed_answer_for_one_id_looks_like_an_unknown_id(arxiv: ArxivStandIn) -> None:
    """arxiv 4.0.2 parses with lxml recover=True: a truncated answer is not an error, it just holds no entry.

    So the lookup returns {} after one request, no retry, no DigestError; callers (``arxiv-digest show``)
    then report "arXiv has no paper …" for a paper that exists.
    """
    arxiv.add_papers([MOE])
    arxiv.add_fault(Malformed())

    assert lookup(arxiv, ["2503.03213"], num_retries=2) == {}
    assert len(arxiv.requests) == 1


def test_malformed_answer_for_several_ids_is_completed_by_paging(arxiv: ArxivStandIn) -> None:
    """The recovered first page keeps the entries before the cut and the header's totalResults, so the
    package asks for the rest from that offset: every ID comes back, in two requests."""
    papers = [make_paper(f"2503.{i:05d}") for i in range(1, 7)]
    arxiv.add_papers(papers)
    arxiv.add_fault(Malformed())

    found = lookup(arxiv, [p["arxiv_id"] for p in papers])

    assert sorted(found) == [p["arxiv_id"] for p in papers]
    assert all(p.categories and p.abstract for p in found.values())
    assert isinstance(arxiv.requests[0].fault, Malformed)
    assert len(arxiv.requests) <= 3  # the package's paging, then our one re-ask for a garbled entry


def test_malformed_answer_never_yields_a_paper_with_missing_fields(arxiv: ArxivStandIn) -> None:
    papers = [make_paper("2503.00001", categories=["cs.LG"]), make_paper("2503.00002", categories=["cs.LG"])]
    arxiv.add_papers(papers)
    arxiv.add_fault(Malformed())

    found = lookup(arxiv, ["2503.00001", "2503.00002"])

    assert {k: p.categories for k, p in found.items()} == {"2503.00001": ("cs.LG",), "2503.00002": ("cs.LG",)}


def test_unreachable_api_raises_digest_error() -> None:
    with ArxivStandIn() as gone:
        url = gone.api_url
    # The stand-in is stopped: its port now refuses connections.

    with pytest.raises(DigestError, match="ARXIV_API_URL"):
        ArxivLookup(url, delay_seconds=0, num_retries=1).lookup_sync(["2503.03213"])


# --- real-world text and networks (issue 13) -----------------------------------------------------------

# 2508.09752 as the export API serves it: TeX in the title, the names and the abstract.
MU_P = make_paper(
    "2508.09752",
    "$\\mu$-Parametrization for Mixture of Experts",
    "We introduce $\\mu$-Parametrization ($\\mu$P) for MoE, with \\emph{theoretical} guarantees and $\\sim$44% gains.",
    authors=["Jan Ma{\\l}a\\'snicki", "Kamil Ciebiera", "Mateusz Boru\\'n", "Micha{\\l} Krutul"],
    categories=["cs.LG"],
)


def test_tex_in_api_answers_is_decoded_once_at_ingestion(arxiv: ArxivStandIn) -> None:
    arxiv.add_papers([MU_P])

    paper = lookup(arxiv, ["2508.09752"])["2508.09752"]

    assert paper.title == "μ-Parametrization for Mixture of Experts"
    assert paper.authors == ("Jan Małaśnicki", "Kamil Ciebiera", "Mateusz Boruń", "Michał Krutul")
    assert paper.abstract == (
        "We introduce μ-Parametrization (μP) for MoE, with theoretical guarantees and ~44% gains."
    )


def test_unresolvable_api_host_says_so() -> None:
    with pytest.raises(DigestError) as caught:
        ArxivLookup("http://export.arxiv.invalid/api/query", delay_seconds=0, num_retries=0).lookup_sync(
            ["2503.03213"]
        )

    message = str(caught.value)
    assert "export.arxiv.invalid could not be resolved" in message
    assert "network" in message and "ARXIV_API_URL" in message


def test_refused_api_connection_says_the_network_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    with ArxivStandIn() as gone:
        url = gone.api_url

    with caplog.at_level("WARNING", logger="adapters.arxiv_api"), pytest.raises(DigestError) as caught:
        ArxivLookup(url, delay_seconds=0, num_retries=1).lookup_sync(["2503.03213"])

    assert "could not connect to 127.0.0.1" in str(caught.value)
    failures = [r.getMessage() for r in caplog.records if r.name == "adapters.arxiv_api"]
    assert len(failures) == 2  # one line per attempt, as it happens
    assert "attempt 1 of 2 failed (could not connect to 127.0.0.1" in failures[0]
    assert failures[0].endswith("retrying in 0 s")
    assert "attempt 2 of 2 failed" in failures[1] and failures[1].endswith("giving up")


def test_a_recorded_api_answer_gives_clean_names_without_affiliations(arxiv: ArxivStandIn) -> None:
    """The manual's example answer: each <author> has <arxiv:affiliation>, which must not reach the names."""
    recorded = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv" / "api_cond-mat_0102536.xml"
    arxiv.raw_api = recorded.read_text(encoding="utf-8")

    paper = lookup(arxiv, ["cond-mat/0102536"])["cond-mat/0102536"]

    assert paper.title == "Impact of Electron-Electron Cusp on Configuration Interaction Energies"
    assert paper.authors == ("David Prendergast", "M. Nolan", "Claudia Filippi", "Stephen Fahy", "J. C. Greer")
    assert paper.abstract.startswith("The effect of the electron-electron cusp on the convergence of configuration")
    assert paper.categories == ("cond-mat.str-el",)


def test_a_recorded_api_answer_gives_the_doi_journal_and_primary_category_for_bibtex(arxiv: ArxivStandIn) -> None:
    recorded = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv" / "api_cond-mat_0102536.xml"
    arxiv.raw_api = recorded.read_text(encoding="utf-8")

    paper = lookup(arxiv, ["cond-mat/0102536"])["cond-mat/0102536"]

    assert (paper.doi, paper.journal_ref, paper.primary_category) == (
        "10.1063/1.1383585", "J. Chem. Phys. 115, 1626 (2001)", "cond-mat.str-el"
    )
    assert "doi = {10.1063/1.1383585}" in bibtex_entry(paper)
