"""A stand-in for rss.arxiv.org (daily RSS), export.arxiv.org/api/query (Atom) and arxiv.org's papers
(/html/<id>, /pdf/<id>), on one local port."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.domain.taxonomy import CATEGORIES

from .feeds import Paper, build_atom, build_error_rss, build_rss, published_at
from .http import Fault, Malformed, Recorded, Response, Route, StandIn, Status

__all__ = ["ArxivStandIn", "Truncated"]

DEFAULT_DAY = dt.date(2025, 3, 6)
_VERSION = re.compile(r"v\d+$")


def _bare_id(arxiv_id: str) -> str:
    """'2503.03213v2' / 'arxiv:2503.03213' -> '2503.03213' (the API matches ids without versions)."""
    return _VERSION.sub("", arxiv_id.strip().removeprefix("arXiv:").removeprefix("arxiv:"))


@dataclass(frozen=True)
class Truncated(Fault):
    """Answer 200 with the whole document's Content-Length, send half of it, and hang up."""


class _Partial(Response):
    """An answer cut off after half its body (the Truncated fault)."""


_PAPER_PATH = re.compile(
    r"^/(?P<kind>html|pdf)/(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?/?$"
)
_ANY_PAPER_PATH = re.compile(r"^/(?:html|pdf)/")


def _arxiv_page(title: str, *paragraphs: str) -> str:
    """arXiv's error pages for papers (arXiv/arxiv-browse browse/templates/dissemination/*.html): an <h1> and
    a few paragraphs in the site's layout (the layout's header and footer left out here)."""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><main><div id="content"><h1>{title}</h1>{body}</div></main></body></html>'
    )


def _garbage(size: int) -> bytes:
    """Bytes that are neither HTML nor a PDF, the same every time."""
    return bytes((i * 7919 + 13) % 256 for i in range(size))


def _broken(xml: str) -> str:
    # Cut mid-document and leave an unterminated element + entity: not well-formed for any parser.
    return xml[: max(len(xml) // 2, 1)] + "<item><title>Unterminated &amp tit"


class ArxivStandIn(StandIn):
    """GET /rss/<cats> serves the day set by set_day(); GET /api/query answers id_list and search queries.

    The API knows every paper given to add_papers() plus the current day's papers. It understands
    ``id_list``, ``start`` / ``max_results`` paging, ``sortBy`` (relevance = insertion order,
    submittedDate, lastUpdatedDate) with ``sortOrder``, and a ``search_query`` subset: ``field:value``
    terms, ``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` ranges (GMT, both ends inclusive, compared
    with each paper's ``published`` to the minute), AND / OR / ANDNOT and parentheses.
    """

    def __init__(self, day: dt.date = DEFAULT_DAY, papers: Iterable[Paper] = ()) -> None:
        super().__init__()
        self._data_lock = threading.Lock()
        self.day: dt.date = day
        self.day_papers: list[dict[str, Any]] = []
        self.known: dict[str, dict[str, Any]] = {}  # bare id -> paper, insertion ordered
        self.raw_feed: str | None = None
        self.raw_status = 200
        self.raw_api: str | None = None  # served verbatim on /api/query when set (a recorded answer)
        # Real arXiv only lists papers of the requested categories and refuses unknown ones with its error
        # feed; off by default so tests stay simple.
        self.filter_categories: bool = False
        # Papers' documents by bare id and version: what /html/<id> and /pdf/<id> serve (set_html, set_pdf).
        self.html_documents: dict[str, dict[int, bytes]] = {}
        self.pdf_documents: dict[str, dict[int, bytes]] = {}
        # A versionless /html/<id> is redirected to the newest version's URL (as the brief says arXiv does);
        # False serves it in place with a canonical Link, as arXiv/arxiv-browse's own route does.
        self.html_redirects: bool = True
        self.chunked: bool = False  # send documents chunked, without a Content-Length
        if papers:
            self.set_day(day, papers)

    # test-facing setup

    @property
    def rss_url(self) -> str:
        return self.url + "/rss/"

    @property
    def api_url(self) -> str:
        return self.url + "/api/query"

    @property
    def html_url(self) -> str:
        return self.url + "/html/"

    @property
    def pdf_url(self) -> str:
        return self.url + "/pdf/"

    def set_html(self, arxiv_id: str, document: bytes | str, *, version: int = 1) -> None:
        """Serve ``document`` (a LaTeXML page) at /html/<id>v<version>; the newest version answers /html/<id>."""
        data = document.encode("utf-8") if isinstance(document, str) else document
        with self._data_lock:
            self.html_documents.setdefault(_bare_id(arxiv_id), {})[version] = data

    def set_pdf(self, arxiv_id: str, data: bytes, *, version: int = 1) -> None:
        """Serve ``data`` at /pdf/<id>v<version>; the newest version answers /pdf/<id>."""
        with self._data_lock:
            self.pdf_documents.setdefault(_bare_id(arxiv_id), {})[version] = data

    def set_day(self, date: dt.date, papers: Iterable[Paper]) -> None:
        """Make /rss/* serve `papers` as the announcement of `date`; the API learns them too."""
        stored = []
        for p in papers:
            paper = dict(p)
            # Announced papers were submitted the previous day (UTC evening), unless told otherwise.
            paper.setdefault("published", f"{date - dt.timedelta(days=1)}T18:00:00Z")
            stored.append(paper)
        with self._data_lock:
            self.day = date
            self.day_papers = stored
            self.raw_feed, self.raw_status = None, 200
            for paper in stored:
                self.known[_bare_id(paper["arxiv_id"])] = paper

    def add_papers(self, papers: Iterable[Paper]) -> None:
        """Papers the API should know about without them being in today's RSS.

        Past days' papers for submittedDate searches carry the moment version 1 was submitted, in UTC::

            arxiv.add_papers([
                make_paper("2503.18001", categories=["cs.LG"], published="2025-03-24T15:30:00Z"),
                make_paper("2503.18002", categories=["stat.ML", "cs.LG"], published="2025-03-24T17:59:00Z"),
            ])
            # ?search_query=(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202503241800 TO 202503251800]
            # finds neither (both before 18:00); [202503211800 TO 202503241800] finds both.

        Without ``published`` a paper counts as submitted on the 1st of its id's month.
        """
        with self._data_lock:
            for p in papers:
                self.known[_bare_id(p["arxiv_id"])] = dict(p)

    def set_raw_feed(self, xml: str | None, *, status: int = 200) -> None:
        """Serve this text verbatim on /rss/* with this status (None goes back to the built feed).

        rss.arxiv.org answers a bad category with its error feed and HTTP 400:
        ``set_raw_feed(build_error_rss("cs.XY", "Bad subject class 'XY'. …", date=day), status=400)``.
        """
        with self._data_lock:
            self.raw_feed = xml
            self.raw_status = status

    # routing

    def route(self, rec: Recorded) -> Route | None:
        if rec.method not in ("GET", "HEAD"):
            return None
        if rec.path.startswith("/rss/") and len(rec.path) > len("/rss/"):
            return self._rss
        if rec.path.rstrip("/") == "/api/query":
            return self._api
        if _ANY_PAPER_PATH.match(rec.path):
            return self._paper
        return None

    def error_response(self, rec: Recorded, fault: Status) -> Response:
        body = fault.body
        if body is None:
            body = f"<html><body><h1>Error {fault.code}</h1></body></html>"
        return Response(fault.code, body, "text/html; charset=utf-8", dict(fault.headers or {}))

    def _paper(self, rec: Recorded, fault: Fault | None) -> Response:
        """/html/<id>[vN] and /pdf/<id>[vN], answered as arXiv/arxiv-browse answers them
        (browse/controllers/files: no_html, not_found, bad_id are 404 pages in text/html)."""
        match = _PAPER_PATH.match(rec.path)
        if match is None:
            wrong = rec.path.split("/", 2)[-1]
            return _html_404(f"Bad paper identifier: {wrong}", "The identifier is not valid.")
        kind, arxiv_id = match["kind"], match["id"]
        with self._data_lock:
            html, pdf = dict(self.html_documents.get(arxiv_id, {})), dict(self.pdf_documents.get(arxiv_id, {}))
        known = html or pdf
        documents = html if kind == "html" else pdf
        if not known or (match["v"] and int(match["v"]) not in known):
            return _html_404(
                f"No document for '{arxiv_id}{'v' + match['v'] if match['v'] else ''}'",
                "Please inform help@arxiv.org if you believe that the identifier should correspond to a valid "
                "paper in arXiv.",
            )
        version = int(match["v"]) if match["v"] else max(known)
        if version not in documents:
            if kind == "html":
                return _html_404(
                    f"No HTML for '{arxiv_id}v{version}'",
                    "HTML is not available for the source.",
                    "This could be due to the source files not being HTML, LaTeX, or a conversion failure.",
                    'If you are an author, learn how you can help <a href="https://info.arxiv.org/about/'
                    'accessibility_html_error_messages.html">HTML conversions for your papers</a>.',
                )
            return _html_404(f"No document for '{arxiv_id}v{version}'", "The PDF is unavailable.")
        if kind == "html" and not match["v"] and self.html_redirects:
            return Response(302, "", "text/html; charset=utf-8", {"Location": f"/html/{arxiv_id}v{version}"})
        body = documents[version]
        if kind == "html":
            content_type = "text/html; charset=utf-8"
            headers = {"Link": f"<https://arxiv.org/html/{arxiv_id}>; rel='canonical'"}
        else:
            content_type = "application/pdf"
            headers = {
                "Content-Disposition": f'inline; filename="{arxiv_id.replace("/", "")}v{version}.pdf"',
                "Link": f"<https://arxiv.org/pdf/{arxiv_id}>; rel='canonical'",
            }
        if isinstance(fault, Malformed):
            body = _garbage(max(len(body) // 10, 64))
        if isinstance(fault, Truncated):
            return _Partial(200, body, content_type, headers)
        return Response(200, body, content_type, headers)

    def _write(self, h: Any, resp: Response, data: bytes) -> None:  # type: ignore[override]
        if isinstance(resp, _Partial):
            h.send_response(resp.status)
            for name, value in {"Content-Type": resp.content_type, **resp.headers}.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        if self.chunked and resp.status == 200 and h.path.startswith(("/html/", "/pdf/")):
            h.send_response(resp.status)
            for name, value in {"Content-Type": resp.content_type, **resp.headers}.items():
                h.send_header(name, value)
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for start in range(0, len(data), 16384):
                piece = data[start : start + 16384]
                h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
            return
        StandIn._write(h, resp, data)

    def _rss(self, rec: Recorded, fault: Fault | None) -> Response:
        # rec.path is already percent-decoded, so "cs.LG%2Bcs.AI" arrives as "cs.LG+cs.AI".
        categories = [c for c in rec.path[len("/rss/") :].strip("/").split("+") if c]
        with self._data_lock:
            raw, status, day, papers = self.raw_feed, self.raw_status, self.day, list(self.day_papers)
        if raw is not None:
            xml = raw
        elif self.filter_categories and (refusal := _refusal(categories)) is not None:
            # Real arXiv validates the query and answers its error feed with a 400.
            return Response(400, build_error_rss("+".join(categories), refusal, date=day), "application/rss+xml")
        else:
            if self.filter_categories:
                wanted = set(categories)
                papers = [p for p in papers if wanted & set(p.get("categories") or [])]
            xml = build_rss(papers, date=day, categories=categories)
        if isinstance(fault, Malformed):
            xml = _broken(xml)
        return Response(status if raw is not None else 200, xml, "application/rss+xml; charset=utf-8")

    def _api(self, rec: Recorded, fault: Fault | None) -> Response:
        with self._data_lock:
            raw_api = self.raw_api
        if raw_api is not None:
            return Response(200, raw_api, "application/atom+xml; charset=utf-8")
        q = rec.query
        ids = [_bare_id(i) for i in q.get("id_list", "").split(",") if i.strip()]
        with self._data_lock:
            known = dict(self.known)
        if ids:
            # Like the real API: id_list order, unknown ids silently absent.
            matches = [known[i] for i in dict.fromkeys(ids) if i in known]
        else:
            matches = list(known.values()) if q.get("search_query", "").strip() else []
        matches = [p for p in matches if _matches_query(p, q.get("search_query", ""))]
        matches = _sorted(matches, q.get("sortBy", "relevance"), q.get("sortOrder", "descending"))
        start = max(int(q.get("start") or 0), 0)
        per_page = max(int(q.get("max_results") or 10), 0)
        page = matches[start : start + per_page]
        query_url = "http://arxiv.org/api/query?" + "&".join(f"{k}={v}" for k, v in q.items())
        xml = build_atom(
            page, query_url=query_url, total_results=len(matches), start_index=start, items_per_page=per_page
        )
        if isinstance(fault, Malformed):
            xml = _broken(xml)
        return Response(200, xml, "application/atom+xml; charset=utf-8")


def _html_404(title: str, *paragraphs: str) -> Response:
    return Response(404, _arxiv_page(title, *paragraphs), "text/html; charset=utf-8")


def _refusal(categories: list[str]) -> str | None:
    """arXiv's message for the first unknown category of a feed query (arXiv/arxiv-feed feed/fetch_data.py)."""
    archives = sorted(c for c in CATEGORIES if "." not in c)
    for category in categories:
        archive, _, subject = category.partition(".")
        if archive.lower() not in archives:
            return f"Bad archive '{archive.lower()}'. Valid archive names are: {', '.join(archives)}."
        if subject and category not in CATEGORIES and f"{archive}.{subject.upper()}" not in CATEGORIES:
            valid = sorted(c for c in CATEGORIES if c.startswith(archive.lower() + "."))
            return (
                f"Bad subject class '{subject}'. Valid subject classes for the archive '{archive.lower()}' "
                f"are: {', '.join(valid)}."
            )
    return None


def _sorted(papers: list[dict[str, Any]], sort_by: str, order: str) -> list[dict[str, Any]]:
    if sort_by == "submittedDate":
        key = published_at
    elif sort_by == "lastUpdatedDate":
        key = _updated_at
    else:
        return papers  # "relevance": keep id_list / insertion order
    return sorted(papers, key=key, reverse=order != "ascending")  # stable: ties keep insertion order


def _updated_at(paper: dict[str, Any]) -> dt.datetime:
    if paper.get("updated"):
        return published_at({**paper, "published": paper["updated"]})
    return published_at(paper)


# --- search_query: a small subset of arXiv's query language --------------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|\w+:\[[^\]]*\]|\w+:"[^"]*"|[^\s()]+)')
_RANGE = re.compile(r"^\[\s*(\d{8,14})\s+TO\s+(\d{8,14})\s*\]$", re.IGNORECASE)
_OPERATORS = ("AND", "OR", "ANDNOT")


def _matches_query(paper: dict[str, Any], search_query: str) -> bool:
    """Does ``paper`` match ``search_query``? Empty queries match everything.

    Terms are ``field:value`` (cat, ti, au, abs, all, id; ``cat:cs.*`` is a prefix) or
    ``submittedDate:[A TO B]`` / ``lastUpdatedDate:[A TO B]``; unknown fields and bare words match
    anything. Terms next to each other are ANDed; AND and ANDNOT bind tighter than OR; parentheses group.
    """
    tokens = _TOKEN.findall(search_query)
    if not tokens:
        return True
    parser = _Parser(tokens, paper)
    result = parser.disjunction()
    if parser.pos != len(tokens):
        raise ValueError(f"unbalanced search_query {search_query!r}")
    return result


class _Parser:
    """Recursive descent over the tokens, evaluating against one paper as it goes."""

    def __init__(self, tokens: list[str], paper: dict[str, Any]) -> None:
        self.tokens = tokens
        self.paper = paper
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def disjunction(self) -> bool:
        result = self.conjunction()
        while self._peek() == "OR":
            self.pos += 1
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.operand()
        while (token := self._peek()) is not None and token not in (")", "OR"):
            negate = False
            if token in ("AND", "ANDNOT"):
                negate = token == "ANDNOT"
                self.pos += 1
            right = self.operand()
            result = result and (not right if negate else right)
        return result

    def operand(self) -> bool:
        token = self._peek()
        if token is None or token in _OPERATORS or token == ")":
            raise ValueError(f"search_query: expected a term at token {self.pos} ({token!r})")
        self.pos += 1
        if token == "(":
            result = self.disjunction()
            if self._peek() != ")":
                raise ValueError("search_query: missing ')'")
            self.pos += 1
            return result
        return _term_matches(self.paper, token)


def _minute(text: str) -> dt.datetime:
    """'202503241800' (or YYYYMMDD, or with seconds) -> an aware UTC datetime."""
    digits = (text + "0000")[:12] if len(text) == 8 else text[:12]
    return dt.datetime.strptime(digits, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)


def _term_matches(paper: dict[str, Any], token: str) -> bool:
    field_name, sep, raw = token.partition(":")
    if not sep:
        return True  # a bare word: not modelled
    if field_name in ("submittedDate", "lastUpdatedDate"):
        bounds = _RANGE.match(raw)
        if bounds is None:
            raise ValueError(f"search_query: {token!r} is not a [YYYYMMDDHHMM TO YYYYMMDDHHMM] range")
        moment = published_at(paper) if field_name == "submittedDate" else _updated_at(paper)
        moment = moment.replace(second=0, microsecond=0)  # the API compares to the minute
        return _minute(bounds.group(1)) <= moment <= _minute(bounds.group(2))
    value = raw.strip('"').lower()
    if field_name == "cat":
        cats = [c.lower() for c in paper.get("categories") or []]
        return any(c.startswith(value[:-1]) if value.endswith("*") else c == value for c in cats)
    if field_name == "ti":
        return value in str(paper.get("title", "")).lower()
    if field_name == "abs":
        return value in str(paper.get("abstract", "")).lower()
    if field_name == "au":
        return any(value.replace("_", " ") in a.lower() for a in paper.get("authors") or [])
    if field_name == "all":
        blob = " ".join([str(paper.get("title", "")), str(paper.get("abstract", "")), *paper.get("authors", [])])
        return value in blob.lower()
    if field_name == "id":
        return _bare_id(value) == _bare_id(str(paper["arxiv_id"])).lower()
    return True  # unknown field: ignored
