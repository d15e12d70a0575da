"""ArxivFullText (httpx) against the arXiv stand-in serving real documents (tests/fixtures/arxiv, SOURCES.md)."""

from __future__ import annotations

import asyncio
import io
import itertools
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.arxiv_fulltext import ArxivFullText
from bot.bootstrap import full_text_source
from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText
from bot.domain.settings import Settings
from bot.domain.statuses import TextSource
from tests.support import ArxivStandIn, Delay, Fault, Malformed, Status, Truncated

FIXTURES = Path(__file__).parents[1] / "fixtures" / "arxiv"
HTML = (FIXTURES / "html" / "2501.11120v1.html").read_bytes()
PDF = (FIXTURES / "pdf" / "2501.10120v1.pdf").read_bytes()
WITH_HTML, PDF_ONLY = "2501.11120", "2501.10120"


def _first_pages(data: bytes, count: int) -> bytes:
    """The real PDF's first pages as a PDF of their own: quicker to parse where the whole paper is not the point."""
    writer = pypdf.PdfWriter()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages[:count]:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SHORT_PDF = _first_pages(PDF, 2)


@pytest.fixture
def papers(arxiv: ArxivStandIn) -> ArxivStandIn:
    """2501.11120 has an HTML rendering (and a PDF); 2501.10120 only its PDF (its first two pages)."""
    arxiv.set_html(WITH_HTML, HTML)
    arxiv.set_pdf(WITH_HTML, SHORT_PDF)
    arxiv.set_pdf(PDF_ONLY, SHORT_PDF)
    return arxiv


def source(arxiv: ArxivStandIn, **options: Any) -> ArxivFullText:
    options = {"delay_seconds": 0.0, "base_delay": 0.01, "timeout": 5.0, **options}
    return ArxivFullText(arxiv.html_url, arxiv.pdf_url, **options)


def read(arxiv: ArxivStandIn, arxiv_id: str, **options: Any) -> FullText | None:
    return asyncio.run(source(arxiv, **options).full_text(arxiv_id))


def paths(arxiv: ArxivStandIn) -> list[tuple[str, int]]:
    return [(request.path, request.status) for request in arxiv.requests]


# --- where the text comes from ---------------------------------------------------------------------------


def test_a_paper_with_html_is_read_from_the_newest_versions_page(papers: ArxivStandIn) -> None:
    text = read(papers, WITH_HTML)

    assert text is not None and text.source is TextSource.HTML
    assert text.version == 1 and text.title.startswith("Tell me about yourself")
    assert paths(papers) == [("/html/2501.11120", 302), ("/html/2501.11120v1", 200)]
    assert papers.requests[0].headers["User-Agent"].startswith("arxiv-digest/")


def test_the_version_is_read_from_the_url_it_was_sent_to(papers: ArxivStandIn) -> None:
    papers.set_html(WITH_HTML, HTML, version=4)  # the page itself says v1 (its <base>); the URL wins

    text = read(papers, WITH_HTML)

    assert text is not None and text.version == 4
    assert paths(papers)[-1] == ("/html/2501.11120v4", 200)


def test_a_page_served_without_a_redirect_says_its_version_itself(papers: ArxivStandIn) -> None:
    papers.html_redirects = False  # as arXiv/arxiv-browse's own route serves /html/<id>

    text = read(papers, WITH_HTML)

    assert text is not None and text.version == 1  # <base href="/html/2501.11120v1/">
    assert paths(papers) == [("/html/2501.11120", 200)]


@pytest.mark.slow  # the whole 15-page PDF is parsed
def test_a_paper_without_html_is_read_from_its_pdf(papers: ArxivStandIn) -> None:
    papers.set_pdf(PDF_ONLY, PDF)

    text = read(papers, PDF_ONLY)

    assert text is not None and text.source is TextSource.PDF
    assert text.pages == 15 and text.version == 1
    assert "4.2 Crawler" in {block.section for block in text.blocks}
    assert paths(papers) == [("/html/2501.10120", 404), ("/pdf/2501.10120", 200)]


def test_the_stand_in_answers_in_arxivs_shapes(papers: ArxivStandIn) -> None:
    # arXiv/arxiv-browse browse/controllers/files (see tests/fixtures/arxiv/SOURCES.md)
    no_html = httpx.get(papers.html_url + PDF_ONLY)
    assert no_html.status_code == 404 and no_html.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>No HTML for '2501.10120v1'</h1>" in no_html.text

    unknown = httpx.get(papers.pdf_url + "2501.99999")
    assert unknown.status_code == 404 and "<h1>No document for '2501.99999'</h1>" in unknown.text

    pdf = httpx.get(papers.pdf_url + PDF_ONLY)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'inline; filename="2501.10120v1.pdf"'
    assert pdf.headers["link"] == "<https://arxiv.org/pdf/2501.10120>; rel='canonical'"
    assert pdf.content == SHORT_PDF

    page = httpx.get(papers.html_url + WITH_HTML + "v1")
    assert page.headers["content-type"] == "text/html; charset=utf-8" and page.content == HTML


def test_the_pdfs_version_comes_from_its_file_name(papers: ArxivStandIn) -> None:
    papers.set_pdf(PDF_ONLY, SHORT_PDF, version=3)  # the stamp inside says v1; arXiv's file name says v3

    text = read(papers, PDF_ONLY)

    assert text is not None and text.version == 3


def test_a_paper_with_neither_is_none(papers: ArxivStandIn) -> None:
    assert read(papers, "2501.99999") is None
    assert paths(papers) == [("/html/2501.99999", 404), ("/pdf/2501.99999", 404)]


def test_an_html_page_that_is_no_paper_falls_back_to_the_pdf(papers: ArxivStandIn) -> None:
    papers.set_html(PDF_ONLY, "<html><body><h1>Choose a file</h1><ul><li>a.html</li></ul></body></html>")

    text = read(papers, PDF_ONLY)

    assert text is not None and text.source is TextSource.PDF


def test_garbage_for_html_falls_back_to_the_pdf(papers: ArxivStandIn) -> None:
    papers.add_fault(Fault(), Malformed())  # the redirect, then garbage for the page

    text = read(papers, WITH_HTML)

    assert text is not None and text.source is TextSource.PDF


def test_an_old_style_id_and_a_versioned_id_are_read_bare(papers: ArxivStandIn) -> None:
    papers.set_pdf("hep-th/9901001", SHORT_PDF)

    assert read(papers, "arXiv:2501.10120v2") is not None
    assert read(papers, "hep-th/9901001") is not None
    assert ("/pdf/hep-th/9901001", 200) in paths(papers)


def test_a_string_that_is_no_arxiv_id_is_refused_without_a_request(papers: ArxivStandIn) -> None:
    with pytest.raises(FullTextError, match="is not an arXiv ID"):
        read(papers, "../../etc/passwd")
    assert papers.requests == []


# --- arXiv busy, slow, or answering the wrong thing ------------------------------------------------------


def test_a_503_then_200_is_retried(papers: ArxivStandIn) -> None:
    papers.add_fault(Status(503, headers={"Retry-After": "0"}))

    text = read(papers, WITH_HTML)

    assert text is not None and text.source is TextSource.HTML
    assert paths(papers)[:2] == [("/html/2501.11120", 503), ("/html/2501.11120", 302)]


def test_retry_after_is_waited_for(papers: ArxivStandIn) -> None:
    papers.add_fault(Status(429, headers={"Retry-After": "1"}))

    started = time.monotonic()
    assert read(papers, PDF_ONLY, base_delay=0.0) is not None

    first, second = papers.requests[:2]
    assert second.time - first.time >= 0.95
    assert time.monotonic() - started < 10


def test_503_every_time_ends_in_a_clear_error(papers: ArxivStandIn) -> None:
    papers.add_fault(*[Status(503)] * 3)

    with pytest.raises(FullTextError) as caught:
        read(papers, WITH_HTML, retries=2)

    message = str(caught.value)
    assert message == (
        "arXiv did not give the paper's HTML after 3 attempts (HTTP 503): it may be busy or down. "
        "Ask again in a few minutes."
    )
    assert len(papers.requests) == 3


def test_a_slow_answer_times_out_and_is_retried(papers: ArxivStandIn) -> None:
    papers.add_fault(Delay(1.5))

    text = read(papers, PDF_ONLY, timeout=0.5)

    assert text is not None
    assert paths(papers)[0][0] == "/html/2501.10120" and len(papers.requests_to("/html/2501.10120")) == 2


def test_a_body_cut_short_is_retried(papers: ArxivStandIn) -> None:
    papers.add_fault(Fault(), Truncated())  # the HTML 404, then a PDF cut in half

    text = read(papers, PDF_ONLY)

    assert text is not None and text.pages == 2
    assert len(papers.requests_to("/pdf/2501.10120")) == 2


def test_a_pdf_url_answering_an_html_page_is_refused(papers: ArxivStandIn) -> None:
    check = "<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
    papers.add_fault(Fault(), Status(200, body=check))

    with pytest.raises(FullTextError) as caught:
        read(papers, PDF_ONLY)

    assert str(caught.value) == (
        'arXiv answered an HTML page ("Just a moment...") instead of the PDF of 2501.10120; it may be limiting '
        "this machine's requests. Try again in a few minutes."
    )


def test_a_pdf_url_answering_garbage_is_refused(papers: ArxivStandIn) -> None:
    papers.add_fault(Fault(), Malformed())

    with pytest.raises(FullTextError, match=r"arXiv answered [\d,]+ bytes that are not a PDF instead of the PDF"):
        read(papers, PDF_ONLY)


def test_a_pdf_over_the_size_cap_is_refused_by_its_length(papers: ArxivStandIn) -> None:
    papers.set_pdf(PDF_ONLY, PDF)

    with pytest.raises(FullTextError) as caught:
        read(papers, PDF_ONLY, max_pdf_bytes=100_000)

    assert str(caught.value) == "The paper's PDF is too large to read (0.7 MB; the bot reads up to 0.1 MB)."


def test_a_chunked_pdf_over_the_cap_is_refused_while_it_streams(papers: ArxivStandIn) -> None:
    papers.set_pdf(PDF_ONLY, PDF)
    papers.chunked = True  # no Content-Length to go by

    with pytest.raises(FullTextError, match=r"too large to read \(over 0\.1 MB"):
        read(papers, PDF_ONLY, max_pdf_bytes=100_000)
    with pytest.raises(FullTextError, match=r"The paper's HTML is too large"):
        read(papers, WITH_HTML, max_html_bytes=100_000)
    papers.set_pdf(PDF_ONLY, SHORT_PDF)
    assert read(papers, PDF_ONLY, max_pdf_bytes=len(SHORT_PDF)) is not None  # at the cap, it reads whole


# --- the network ----------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_host_fails_at_once_with_one_clear_line() -> None:
    port = _closed_port()
    fetcher = ArxivFullText(f"http://127.0.0.1:{port}/html/", f"http://127.0.0.1:{port}/pdf/", retries=4,
                            base_delay=5.0, delay_seconds=0.0)

    started = time.monotonic()
    with pytest.raises(FullTextError) as caught:
        asyncio.run(fetcher.full_text(WITH_HTML))

    message = str(caught.value)
    assert time.monotonic() - started < 2  # not retried: no server will appear
    assert "\n" not in message
    assert message.startswith("Could not reach arXiv for the paper's HTML: could not connect to 127.0.0.1")
    assert message.endswith("or check ARXIV_HTML_URL.")


def test_a_host_that_does_not_resolve_says_so() -> None:
    fetcher = ArxivFullText("http://arxiv.invalid/html/", "http://arxiv.invalid/pdf/", delay_seconds=0.0)

    with pytest.raises(FullTextError, match=r"the host arxiv\.invalid could not be resolved"):
        asyncio.run(fetcher.full_text(WITH_HTML))


# --- pacing ---------------------------------------------------------------------------------------------


def test_concurrent_look_ups_go_to_arxiv_one_at_a_time_spaced_out(papers: ArxivStandIn) -> None:
    papers.latency = 0.1  # each answer takes a while: overlapping requests would show

    async def both() -> list[FullText | None]:
        first, second = source(papers, delay_seconds=0.3), source(papers, delay_seconds=0.3)
        return await asyncio.gather(first.full_text(PDF_ONLY), second.full_text("2501.99999"))

    results = asyncio.run(both())

    assert results[0] is not None and results[1] is None
    arrivals = [request.time for request in papers.requests]
    assert len(arrivals) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= 0.1 + 0.3 - 0.03 for gap in gaps)  # the previous answer's 0.1 s, then 0.3 s of pause


# --- built from settings (the bot and the bench) --------------------------------------------------------


def test_the_bootstrap_builder_reads_everything_from_settings(
    papers: ArxivStandIn, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(arxiv_html_url=papers.html_url, arxiv_pdf_url=papers.pdf_url, fetch_retries=1,
                             fetch_timeout=7.0)

    fetcher = full_text_source(settings)

    assert (fetcher.html_url, fetcher.pdf_url) == (papers.html_url, papers.pdf_url)
    assert (fetcher.retries, fetcher.timeout, fetcher.delay_seconds, fetcher.base_delay) == (1, 7.0, 0.0, 0.01)
    text = asyncio.run(fetcher.full_text(WITH_HTML))
    assert text is not None and text.source is TextSource.HTML
    asyncio.run(fetcher.aclose())


def test_the_long_paper_is_read_whole_through_the_stand_in(
    papers: ArxivStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    text = read(papers, WITH_HTML)
    elapsed = time.perf_counter() - started

    with capsys.disabled():
        print(f"\nlong HTML paper ({len(HTML) / 1e6:.2f} MB, 48 figures, 47 tables): fetched and parsed in "
              f"{elapsed:.2f} s, {text.chars if text else 0:,} characters")
    assert text is not None and len({block.label for block in text.blocks if block.label}) == 36 + 47


def test_a_refusal_other_than_not_found_is_reported_not_retried(papers: ArxivStandIn) -> None:
    papers.add_fault(Status(403, body="<html><title>Forbidden</title></html>"))

    with pytest.raises(FullTextError) as caught:
        read(papers, WITH_HTML)

    assert str(caught.value) == "arXiv refused the paper's HTML (HTTP 403). Try again later, or check ARXIV_HTML_URL."
    assert len(papers.requests) == 1


def test_a_redirect_loop_is_reported_not_followed_forever(papers: ArxivStandIn) -> None:
    papers.add_fault(*[Status(302, headers={"Location": "/html/2501.11120"})] * 25)

    with pytest.raises(FullTextError, match=r"round in redirects; check ARXIV_HTML_URL\.$"):
        read(papers, WITH_HTML)


@pytest.mark.parametrize("url", ["arxiv.org/html/", "ftp://arxiv.org/html/", "http://[::1/html/"])
def test_a_url_setting_that_is_no_http_url_says_which_setting(url: str) -> None:
    fetcher = ArxivFullText(url, "https://arxiv.org/pdf/", delay_seconds=0.0)

    with pytest.raises(FullTextError, match=r"^ARXIV_HTML_URL is not a usable URL .*set it to https://arxiv\.org/html/"):
        asyncio.run(fetcher.full_text(WITH_HTML))


# --- fuzz: whatever arXiv (or something in its place) answers, the result is a text, None or FullTextError -----


@pytest.mark.slow  # a few round trips to the stand-in per example
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from([200, 200, 200, 204, 301, 400, 403, 404, 410, 418, 429, 500, 502, 503]),
            st.one_of(st.binary(max_size=300), st.sampled_from([b"%PDF-1.7\n", HTML[:3000], b"<html></html>"])),
            st.sampled_from(["text/html; charset=utf-8", "application/pdf", "", "application/octet-stream"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_any_answers_end_in_a_text_none_or_full_text_error(
    papers: ArxivStandIn, answers: list[tuple[int, bytes, str]]
) -> None:
    papers.clear()
    papers.add_fault(*[
        Status(code, headers={"Content-Type": kind, "Retry-After": "0"}, body=body.decode("latin-1"))
        for code, body, kind in answers
    ])

    try:
        result = read(papers, PDF_ONLY, retries=1)
    except FullTextError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert result is None or result.blocks
