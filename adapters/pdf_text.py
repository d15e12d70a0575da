"""A paper's PDF read into a FullText with pypdf, for papers arXiv has no HTML rendering of.

pypdf gives each page's text as lines. From them: arXiv's stamp ("arXiv:2501.10120v1 [cs.IR] 17 Jan 2025") and
bare page numbers are dropped, so are running heads and feet (a line repeated at the top or bottom of most pages);
words hyphenated across a line end are joined; numbered headings ("4.2 Experiments", "4 EXPERIMENTS", and after
the references "A Implementation Details") and the usual unnumbered ones ("Abstract", "References") give each
block its section, checked to follow the paper's numbering so a line such as "8 NVIDIA H100 GPUs …" is not
taken for one. Text before any heading is placed under "Page N". Captions ("Figure 2: …", "Table 3: …") are
blocks of their own, labelled. The reference list is left out, as the HTML reader leaves it out
(adapters/latexml.py says why). Tables are not rebuilt: their cells stay in the running text.

A PDF that cannot be read (damaged, encrypted, scanned without a text layer) raises FullTextError saying so.
Parsing is CPU work: the caller runs it off the event loop.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pypdf

from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.statuses import TextSource

__all__ = ["MAX_PAGES", "parse_pdf", "pdf_version"]

log = logging.getLogger(__name__)

MAX_PAGES = 400  # pages read; a longer PDF is a book or a thesis, and its first 400 pages are plenty
# arXiv's stamp down a PDF's first page: "arXiv:2501.10120v1  [cs.IR]  17 Jan 2025"
_STAMP = re.compile(
    r"arXiv:(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})v(?P<version>\d+)\s+\[[^\]]*\]\s+\d{1,2}\s+\w{3}\s+\d{4}"
)
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$|^[ivxlc]{1,6}$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?P<number>(?:\d{1,2}|[A-Z])(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z\d“\"(].{0,90})$")
_UNNUMBERED = {
    "abstract", "introduction", "related work", "background", "method", "methods", "methodology", "experiments",
    "results", "discussion", "conclusion", "conclusions", "limitations", "acknowledgments", "acknowledgements",
    "acknowledgment", "acknowledgement", "references", "bibliography", "appendix", "appendices",
    "ethics statement", "broader impact", "broader impacts", "impact statement",
}
_REFERENCES = {"references", "bibliography"}
# "Table 3: …", "Figure 2: …", "Fig. 2. …" (IEEE), "TABLE II: …"; "Table 12 in Appendix D" is running text.
_CAPTION = re.compile(
    r"^(?:(?P<kind>Figure|Table|TABLE|FIGURE|Algorithm)\s+(?P<number>\d{1,3}|[IVX]{1,6}|[A-Z]\.\d{1,2})\s*:"
    r"|(?P<fig>Fig\.)\s+(?P<fignumber>\d{1,3})\s*[:.])\s*"
)
_SENTENCE_END = tuple(".!?:;)\"”’]")


@dataclass
class _Reader:
    blocks: list[TextBlock] = field(default_factory=list)
    section: str = ""
    number: tuple[int, ...] = ()  # the last heading's number, (1, 2) for "1.2"; letters count from 1 ("A" = 1)
    after_references: bool = False
    skipping: bool = False  # inside the reference list
    lines: list[str] = field(default_factory=list)
    label: str = ""

    def flush(self, page: int) -> None:
        text = _join(self.lines)
        if text and not self.skipping:
            self.blocks.append(TextBlock(section=self.section or f"Page {page}", text=text, label=self.label))
        self.lines, self.label = [], ""


def parse_pdf(data: bytes, arxiv_id: str, *, version: int = 0) -> FullText:
    """The text of the PDF in ``data``; ``version`` 0: read it from arXiv's stamp on the first page if there."""
    reader = _open(data, arxiv_id)
    try:
        pages = reader.pages[:MAX_PAGES]
        texts = [_page_text(page, number) for number, page in enumerate(pages, start=1)]
        metadata = reader.metadata
        title = str(metadata.title or "").strip() if metadata is not None else ""
    except FullTextError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file (KeyError, ValueError, …)
        raise _damaged(arxiv_id, exc) from exc
    lines_per_page = [[line.strip() for line in text.splitlines()] for text in texts]
    found = version or pdf_version(texts[0] if texts else "", arxiv_id)
    lines_per_page = _drop_furniture(lines_per_page)
    if not any(any(line for line in lines) for lines in lines_per_page):
        raise FullTextError(
            f"The PDF of {arxiv_id} has no text layer (a scanned paper?), so its text cannot be read; "
            "questions can only be answered from its abstract."
        )
    if not title or title.lower() in {"untitled", "title"}:
        title = next((line for lines in lines_per_page for line in lines if line), "")
    blocks = _blocks(lines_per_page)
    return FullText(
        arxiv_id=arxiv_id, version=found, source=TextSource.PDF, blocks=tuple(blocks), title=title[:300],
        pages=len(reader.pages),
    )


def pdf_version(first_page: str, arxiv_id: str) -> int:
    """The version in arXiv's stamp on a PDF's first page ("arXiv:2501.10120v1 [cs.IR] 17 Jan 2025"); 0 if none."""
    for match in _STAMP.finditer(first_page):
        if match.group("id") == arxiv_id:
            return int(match.group("version"))
    return 0


# --- reading the file ------------------------------------------------------------------------------------


def _damaged(arxiv_id: str, exc: BaseException) -> FullTextError:
    log.warning("the PDF of %s could not be parsed: %s: %s", arxiv_id, type(exc).__name__, str(exc)[:200])
    return FullTextError(
        f"The PDF of {arxiv_id} could not be read (the file is damaged or not a PDF arXiv would serve)."
    )


def _open(data: bytes, arxiv_id: str) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FullTextError(f"The PDF of {arxiv_id} is encrypted, so its text cannot be read.")
        len(reader.pages)  # reads the page tree: a damaged one fails here rather than later
    except FullTextError:
        raise
    except pypdf.errors.DependencyError as exc:  # encrypted with AES and no cryptography package
        raise FullTextError(f"The PDF of {arxiv_id} is encrypted, so its text cannot be read.") from exc
    except Exception as exc:  # untrusted bytes: pypdf's parser fails in many ways on them, none of them ours
        raise _damaged(arxiv_id, exc) from exc
    return reader


def _page_text(page: pypdf.PageObject, number: int) -> str:
    try:
        return page.extract_text() or ""
    except Exception as exc:  # one bad page (a broken font or stream) costs that page, not the paper
        log.info("page %d of a PDF has no readable text: %s: %s", number, type(exc).__name__, str(exc)[:200])
        return ""


# --- page furniture --------------------------------------------------------------------------------------


def _shape(line: str) -> str:
    """A line with its digits blurred, so "Page 3" and "Page 4" count as the same running head."""
    return re.sub(r"\d+", "#", line.lower())


def _drop_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Without arXiv's stamp, page numbers, and lines repeated at the top or bottom of most pages."""
    edge = 3  # lines at each end of a page where running heads and feet sit
    seen: Counter[str] = Counter()
    for lines in pages:
        kept = [line for line in lines if line]
        seen.update({_shape(line) for line in kept[:edge] + kept[-edge:]})
    threshold = max(3, (len(pages) + 1) // 2)
    running = {shape for shape, count in seen.items() if count >= threshold}
    cleaned = []
    for lines in pages:
        kept = [_STAMP.sub("", line).strip() for line in lines]
        kept = [line for line in kept if line]
        ends = set(range(min(edge, len(kept)))) | set(range(max(len(kept) - edge, 0), len(kept)))
        cleaned.append([
            line for index, line in enumerate(kept)
            if not (index in ends and (_PAGE_NUMBER.match(line) or _shape(line) in running))
        ])
    return cleaned


# --- blocks ----------------------------------------------------------------------------------------------


def _blocks(pages: list[list[str]]) -> list[TextBlock]:
    lengths = [len(line) for lines in pages for line in lines if len(line) >= 20]
    typical = statistics.median(lengths) if lengths else 60.0
    reader = _Reader()
    for page, lines in enumerate(pages, start=1):
        for line in lines:
            heading = _heading(line, reader)
            if heading is not None:
                reader.flush(page)
                _enter(reader, *heading)
                continue
            caption = _CAPTION.match(line)
            if caption:
                reader.flush(page)
                kind = "Figure" if caption["fig"] else caption["kind"].title()
                reader.label = f"{kind} {caption['number'] or caption['fignumber']}"
                line = line[caption.end():]
            reader.lines.append(line)
            if line.endswith(_SENTENCE_END) and len(line) < 0.8 * typical:
                reader.flush(page)  # a short line that ends a sentence ends its paragraph
        reader.flush(page)  # a page break: the next page's first paragraph is a block of its own
    return reader.blocks


def _heading(line: str, reader: _Reader) -> tuple[str, tuple[int, ...] | None] | None:
    """(section name, number) when ``line`` is a heading that may follow the last one; else None."""
    plain = line.strip().rstrip(".").strip()
    if plain.lower() in _UNNUMBERED:
        return plain, None
    match = _NUMBERED.match(line.strip())
    if not match:
        return None
    title = match["title"].strip()
    words = title.split()
    letters = sum(char.isalpha() for char in title)
    if (
        len(words) > 12
        or title.endswith((".", ",", ";", ":"))
        or ". " in title
        or letters < len(title.replace(" ", "")) / 2
    ):
        return None
    number = _number(match["number"])
    if number is None:
        return None
    if match["number"][0].isalpha() and not reader.after_references:
        return None  # "A Implementation Details" is an appendix; before the references "A" starts a sentence
    if match["number"][0].isdigit() and _is_letter_numbered(reader):
        return None  # inside lettered appendices a leading number starts a list item or a table row
    if not _follows(reader.number, number, lettered=match["number"][0].isalpha(), reader=reader):
        return None
    return f"{match['number']} {title}", number


def _is_letter_numbered(reader: _Reader) -> bool:
    return bool(reader.section) and reader.section[0].isalpha() and reader.section[1:2] in {" ", "."}


def _number(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    try:
        first = ord(parts[0]) - ord("A") + 1 if parts[0].isalpha() else int(parts[0])
        return (first, *(int(part) for part in parts[1:]))
    except ValueError:
        return None


def _follows(previous: tuple[int, ...], number: tuple[int, ...], *, lettered: bool, reader: _Reader) -> bool:
    """May a heading numbered ``number`` come after one numbered ``previous``? The next sibling at any depth,
    or a first child, allowing one heading in between to have been missed; "3.1" may open 3 when "3" was missed."""
    if lettered and not _is_letter_numbered(reader):
        previous = ()  # the first appendix: lettering starts afresh
    if not previous:
        return number[0] <= 2 and all(part <= 2 for part in number[1:])
    for depth in range(len(number)):
        if number[:depth] != previous[:depth]:
            return False
        if depth < len(previous) and number[depth] != previous[depth]:
            step = number[depth] - previous[depth]
            return 1 <= step <= 2 and all(part <= 2 for part in number[depth + 1 :])
        if depth == len(previous):  # deeper than the last heading: its first child (or second)
            return all(part <= 2 for part in number[depth:])
    return False  # the same number again


def _enter(reader: _Reader, name: str, number: tuple[int, ...] | None) -> None:
    if name.lower() in _REFERENCES:
        reader.section, reader.skipping, reader.after_references = name, True, True
        return
    if name.lower() in {"appendix", "appendices"}:
        reader.after_references = True
    reader.skipping = False
    reader.section = name
    if number is not None:
        reader.number = number


def _join(lines: list[str]) -> str:
    """Lines into one paragraph: a word hyphenated at a line end is joined ("ul-" + "timately")."""
    text = ""
    for line in lines:
        if not line:
            continue
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return " ".join(text.split())
