"""The FullTextSource port on arXiv: a paper's HTML rendering (``ARXIV_HTML_URL``), else its PDF
(``ARXIV_PDF_URL``), read with httpx.

What arXiv answers (arXiv/arxiv-browse, browse/controllers/files): a paper without an HTML rendering gets 404 with
an HTML page "No HTML for '<id>'"; an unknown paper 404 "No document for '<id>'"; a versionless /html/<id> is sent
on to the newest version's URL (arxiv-browse itself serves it in place), whose version we read, else the page's
``<base href>`` or watermark says it; a PDF names its version in Content-Disposition and its first page's stamp.

Requests to arXiv go one at a time, ``arxiv_api_delay`` seconds apart, across every caller in the process (arXiv's
rule for automated access). 429, 5xx, time-outs and dropped connections are retried with backoff, honouring
Retry-After; then FullTextError says what happened and what to do (an HTML URL that keeps failing is not taken
for a missing rendering: arXiv is then busy or down, and its PDF would fail the same way, twice as slowly). A
host that cannot be reached fails at once with one line saying so. Bodies are read in chunks up to a cap, so a
huge answer cannot fill memory; a PDF URL answering anything but a PDF (a rate-limit or check page, say) is
refused.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from adapters.http_client import USER_AGENT, retry_after
from adapters.latexml import NotLaTeXMLError, parse_latexml
from adapters.network import NETWORK_ADVICE, connection_failure
from adapters.pacing import ChannelPacer
from adapters.pdf_text import parse_pdf
from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText
from bot.domain.models import normalize_arxiv_id

if TYPE_CHECKING:
    from bot.domain.settings import Settings

__all__ = ["MAX_HTML_BYTES", "MAX_PDF_BYTES", "ArxivFullText"]

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 25 * 1024 * 1024  # a long paper's page with MathML is a few MB; 25 MB is none arXiv serves
MAX_PDF_BYTES = 50 * 1024 * 1024  # arXiv's own limit on what a submission may weigh
MAX_RETRY_AFTER = 60.0  # an answer is due within a minute: a longer Retry-After is not waited out in full
_CHUNK = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TITLE = re.compile(rb"(?is)<title[^>]*>(.*?)</title>")


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Answer:
    url: str  # after redirects
    content_type: str
    disposition: str
    body: bytes


# By delay, each keyed by host: every ArxivFullText in the process shares arXiv's pace.
_PACERS: dict[float, ChannelPacer] = {}


def _pacer(delay: float) -> ChannelPacer:
    return _PACERS.setdefault(delay, ChannelPacer(delay, failures_count=True))


class ArxivFullText:
    """A paper's newest text from arXiv: the HTML rendering, else the PDF, else None."""

    def __init__(
        self,
        html_url: str,
        pdf_url: str,
        *,
        delay_seconds: float = 3.0,
        retries: int = 4,
        base_delay: float = 2.0,
        timeout: float = 30.0,
        max_html_bytes: int = MAX_HTML_BYTES,
        max_pdf_bytes: int = MAX_PDF_BYTES,
    ) -> None:
        self.html_url = html_url if html_url.endswith("/") else html_url + "/"
        self.pdf_url = pdf_url if pdf_url.endswith("/") else pdf_url + "/"
        self.delay_seconds = delay_seconds
        self.retries = retries
        self.base_delay = base_delay
        self.timeout = timeout
        self.max_html_bytes = max_html_bytes
        self.max_pdf_bytes = max_pdf_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> ArxivFullText:
        return cls(
            settings.arxiv_html_url, settings.arxiv_pdf_url, delay_seconds=settings.arxiv_api_delay,
            retries=settings.fetch_retries, base_delay=settings.retry_base_delay, timeout=settings.fetch_timeout,
        )

    async def aclose(self) -> None:
        """Nothing stays open between papers: each look-up opens its own connections and closes them."""

    async def full_text(self, arxiv_id: str) -> FullText | None:
        bare = normalize_arxiv_id(arxiv_id)
        if bare is None:
            raise FullTextError(f"{arxiv_id!r} is not an arXiv ID (e.g. 2501.10120).")
        headers = {"User-Agent": USER_AGENT}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers, follow_redirects=True) as client:
            page = await self._get(client, self.html_url + bare, "HTML", self.max_html_bytes, "ARXIV_HTML_URL")
            if page is not None:
                text = await self._from_html(bare, page)
                if text is not None:
                    return text
            pdf = await self._get(client, self.pdf_url + bare, "PDF", self.max_pdf_bytes, "ARXIV_PDF_URL")
        if pdf is None:
            return None
        return await self._from_pdf(bare, pdf)

    # --- the two sources -------------------------------------------------------------------------------

    async def _from_html(self, arxiv_id: str, page: _Answer) -> FullText | None:
        """The paper from its HTML page; None when the page is not a LaTeXML paper (then the PDF is read)."""
        if not page.content_type.startswith(_HTML_TYPES):
            log.warning("arXiv's HTML URL for %s answered %s, not HTML; reading the PDF", arxiv_id, page.content_type)
            return None
        try:
            return await asyncio.to_thread(
                parse_latexml, page.body, arxiv_id, version=_url_version(page.url, arxiv_id)
            )
        except NotLaTeXMLError as exc:
            log.warning("arXiv's HTML page for %s is not a paper (%s); reading the PDF", arxiv_id, exc)
            return None

    async def _from_pdf(self, arxiv_id: str, pdf: _Answer) -> FullText:
        if not pdf.body.lstrip()[:5].startswith(b"%PDF-"):
            raise FullTextError(
                f"arXiv answered {_what(pdf)} instead of the PDF of {arxiv_id}; it may be limiting this machine's "
                "requests. Try again in a few minutes."
            )
        version = _url_version(pdf.url, arxiv_id) or _url_version(pdf.disposition, arxiv_id)
        return await asyncio.to_thread(parse_pdf, pdf.body, arxiv_id, version=version)

    # --- HTTP ------------------------------------------------------------------------------------------

    async def _get(
        self, client: httpx.AsyncClient, url: str, what: str, limit: int, setting: str
    ) -> _Answer | None:
        """The 200 answer at ``url``; None for 404/410 (arXiv has no such document)."""
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL as exc:
            raise _bad_setting(setting, url, exc) from exc
        if not host or not url.startswith(("http://", "https://")):
            raise _bad_setting(setting, url, "not an http(s) URL")
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=lambda state: self._log_retry(state, what, url),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with _pacer(self.delay_seconds).turn(host):
                        return await self._get_once(client, url, what, limit, setting)
        except httpx.ConnectError as exc:
            raise FullTextError(
                f"Could not reach arXiv for the paper's {what}: {connection_failure(host, exc)}. "
                f"{NETWORK_ADVICE}, or check {setting}."
            ) from exc
        except httpx.TooManyRedirects as exc:
            raise FullTextError(
                f"arXiv sent the request for the paper's {what} round in redirects; check {setting}."
            ) from exc
        except _Retryable as exc:
            raise FullTextError(
                f"arXiv did not give the paper's {what} after {self.retries + 1} attempts ({exc}): it may be busy "
                "or down. Ask again in a few minutes."
            ) from exc
        raise AssertionError("unreachable")  # tenacity either returns, retries or reraises

    async def _get_once(
        self, client: httpx.AsyncClient, url: str, what: str, limit: int, setting: str
    ) -> _Answer | None:
        try:
            async with client.stream("GET", url) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise _Retryable(f"HTTP {status}", retry_after(response, MAX_RETRY_AFTER))
                if status in (404, 410):
                    return None
                if status != 200:
                    raise FullTextError(
                        f"arXiv refused the paper's {what} (HTTP {status}). Try again later, or check {setting}."
                    )
                body = await _read_capped(response, limit, what)
                return _Answer(
                    url=str(response.url),
                    content_type=response.headers.get("content-type", "").lower(),
                    disposition=response.headers.get("content-disposition", ""),
                    body=body,
                )
        except (httpx.ConnectError, httpx.TooManyRedirects):
            raise  # no server there, or a loop: retrying will not help
        except httpx.TimeoutException as exc:
            raise _Retryable(f"no answer within {self.timeout:g} s") from exc
        except httpx.RequestError as exc:  # a dropped connection, a body cut short or garbled in transit
            raise _Retryable(f"the connection broke: {type(exc).__name__}") from exc

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(self.base_delay * 2 ** (state.attempt_number - 1))

    def _log_retry(self, state: RetryCallState, what: str, url: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "arXiv %s %s: attempt %d of %d failed (%s); retrying in %.2g s",
            what, url, state.attempt_number, self.retries + 1, exc, wait,
        )


async def _read_capped(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body, refused once it passes ``limit`` bytes (by its Content-Length, or as it arrives)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FullTextError(_too_big(what, int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise FullTextError(_too_big(what, size, limit, more=True))
        chunks.append(chunk)
    return b"".join(chunks)


def _bad_setting(setting: str, url: str, reason: object) -> FullTextError:
    example = "https://arxiv.org/html/" if setting == "ARXIV_HTML_URL" else "https://arxiv.org/pdf/"
    return FullTextError(f"{setting} is not a usable URL ({url!r}: {reason}); set it to {example} or unset it.")


def _too_big(what: str, size: int, limit: int, *, more: bool = False) -> str:
    weight = f"over {_mb(size)} MB" if more else f"{_mb(size)} MB"
    return f"The paper's {what} is too large to read ({weight}; the bot reads up to {_mb(limit)} MB)."


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _url_version(text: str, arxiv_id: str) -> int:
    """The version in a URL or file name: ".../html/2501.11120v1/", "2501.10120v1.pdf"; 0 when none."""
    name = re.escape(arxiv_id.replace("/", ""))  # old IDs' file names drop the slash: hep-th9901001v1.pdf
    match = re.search(rf"(?:{re.escape(arxiv_id)}|{name})v(\d+)", text)
    return int(match.group(1)) if match else 0


def _what(answer: _Answer) -> str:
    """What arrived instead of a PDF: "an HTML page ("Just a moment…")", "1,024 bytes that are not a PDF"."""
    looks_html = answer.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    if answer.content_type.startswith(_HTML_TYPES) or looks_html:
        title = _TITLE.search(answer.body[:4096])
        name = " ".join(title.group(1).decode("utf-8", "replace").split())[:80] if title else ""
        return f'an HTML page ("{name}")' if name else "an HTML page"
    return f"{len(answer.body):,} bytes that are not a PDF" if answer.body else "an empty answer"
