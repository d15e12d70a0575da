"""arXiv's HTML rendering (LaTeXML markup) read into a FullText: headings numbered as the paper numbers them,
paragraphs, captions, tables as rows, math as its TeX.

What is left out, and why:
- the page's chrome: scripts, styles, the table of contents, arXiv's header, banner, licence box and footer, the
  report-an-issue dialog (none of it is the paper);
- the authors block (names and e-mail addresses answer nothing the paper's metadata does not already say);
- the bibliography. A reference list is a long run of names, titles and venues whose words ("model", "learning",
  "dataset") match nearly any question, so its entries would crowd the few passages picked for an answer out of
  the paper's own text. Citations stay in the running text as written ("(Hubinger et al., 2024)", "[12]").

Footnotes are kept inline, clipped, in parentheses. Every text is whitespace-normalised. Parsing is CPU work: the
caller runs it off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree, html

from bot.domain.errors import FullTextError
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.statuses import TextSource

__all__ = ["NotLaTeXMLError", "html_version", "parse_latexml"]


class NotLaTeXMLError(FullTextError):
    """The page is HTML but not a LaTeXML paper (an error page, an author's own HTML, garbage)."""


FOOTNOTE_LIMIT = 300  # characters of a footnote kept inline
_SECTION_CLASSES = {
    "ltx_part", "ltx_chapter", "ltx_section", "ltx_subsection", "ltx_subsubsection", "ltx_appendix",
}
_RUN_IN_CLASSES = {"ltx_paragraph", "ltx_subparagraph"}  # titled paragraphs: the title leads the text
# Elements that are never the paper: arXiv's chrome around it and LaTeXML's page furniture.
_DROP_CLASSES = {
    "ltx_page_navbar", "ltx_TOC", "ltx_page_header", "ltx_page_footer", "ltx_page_logo", "ltx_authors",
    "ltx_bibliography", "ltx_index", "ltx_keywords", "ltx_classification", "ltx_ERROR", "ltx_listing_data",
    "ltx_role_footnotetext", "ltx_dates",
    "arxiv-html-header", "arxiv-html-footer", "ds-announcement", "ds-site-footer", "infobox", "sr-only",
    "html-header-nav", "keyboard-glossary", "modal-form",
}
_DROP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "dialog", "button", "form", "svg", "img",
              "iframe", "object", "embed", "template", "head"}
_DROP_IDS = {"infobox", "watermark-tr", "license-tr", "modal-form", "announcement-banner"}
_BLOCK_TAGS = {"p", "div", "section", "article", "figure", "table", "ul", "ol", "dl", "blockquote", "pre",
               "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "figcaption", "tr", "tbody", "thead"}
_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")
_VERSIONED = r"/(?:html|abs|pdf)/{id}v(\d+)"


def _classes(element: html.HtmlElement) -> set[str]:
    return set(str(element.get("class") or "").split())


def _tag(element: html.HtmlElement) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""  # comments and processing instructions have no str tag


def _norm(text: str) -> str:
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACE.sub(" ", text)).strip()


@dataclass
class _Reader:
    blocks: list[TextBlock] = field(default_factory=list)
    run_in: str = ""  # a titled paragraph's or theorem's title, waiting for the text it leads

    def add(self, section: str, text: str, label: str = "", *, lines: bool = False) -> None:
        """A block of ``text``; ``lines``: keep its line breaks (a table's rows, a listing's lines)."""
        text = "\n".join(kept for kept in map(_norm, text.splitlines()) if kept) if lines else _norm(text)
        if self.run_in:
            text, self.run_in = f"{self.run_in}. {text}" if text else self.run_in, ""
        if text:
            self.blocks.append(TextBlock(section=section, text=text, label=label))


def parse_latexml(document: bytes | str, arxiv_id: str, *, version: int = 0) -> FullText:
    """The paper in ``document`` (arXiv's HTML page); ``version`` 0: read it from the page if it says.

    Raises NotLaTeXMLError when the page holds no LaTeXML document, FullTextError when it cannot be parsed.
    """
    tree = _parse(document)
    root = _first(tree, "ltx_document")
    if root is None:
        raise NotLaTeXMLError(f"arXiv's HTML page for {arxiv_id} holds no LaTeXML paper.")
    found = version or html_version(tree, arxiv_id)
    title_element = _first(root, "ltx_title_document")
    title = _inline(title_element, notes=False) if title_element is not None else _norm(tree.findtext(".//title") or "")
    _strip(root)
    reader = _Reader()
    for child in root:
        _walk(child, "", reader)
    if not reader.blocks:
        raise NotLaTeXMLError(f"arXiv's HTML page for {arxiv_id} has no text.")
    return FullText(
        arxiv_id=arxiv_id, version=found, source=TextSource.HTML, blocks=tuple(reader.blocks), title=title
    )


def html_version(tree: html.HtmlElement, arxiv_id: str) -> int:
    """The version the page is of, from ``<base href="/html/2501.11120v1/">``, arXiv's watermark
    ("arXiv:2501.11120v1 [cs.CL] …") or its own links; 0 when it does not say."""
    pattern = re.compile(_VERSIONED.format(id=re.escape(arxiv_id)))
    for base in tree.iter("base"):
        if match := pattern.search(str(base.get("href") or "")):
            return int(match.group(1))
    watermark = tree.find(".//*[@id='watermark-tr']")
    said = watermark.text_content() if watermark is not None else ""
    if match := re.search(rf"{re.escape(arxiv_id)}v(\d+)", said):
        return int(match.group(1))
    for anchor in tree.iter("a", "link"):
        if match := pattern.search(str(anchor.get("href") or "")):
            return int(match.group(1))
    return 0


# --- parsing and cleaning -------------------------------------------------------------------------------


def _parse(document: bytes | str) -> html.HtmlElement:
    # arXiv serves its HTML papers in UTF-8 only; saying so keeps a stray <meta charset> from misleading lxml.
    parser = html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    data = document.encode("utf-8", "replace") if isinstance(document, str) else document
    try:
        tree = html.document_fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError) as exc:  # empty or unparseable: lxml says "Document is empty"
        raise NotLaTeXMLError(f"the page is not readable HTML ({exc})") from exc
    if tree is None:
        raise NotLaTeXMLError("the page is not readable HTML")
    return tree


def _first(tree: html.HtmlElement, cls: str) -> html.HtmlElement | None:
    for element in tree.iter():
        if cls in _classes(element):
            return element
    return None


def _strip(root: html.HtmlElement) -> None:
    doomed = [
        element for element in root.iter()
        if _tag(element) in _DROP_TAGS
        or not _tag(element)  # comments (remove_comments misses none, but a parser may keep some)
        or _classes(element) & _DROP_CLASSES
        or element.get("id") in _DROP_IDS
        or (_tag(element) == "h1" and "ltx_title_document" in _classes(element))
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the element's tail text in place


# --- blocks ----------------------------------------------------------------------------------------------


def _walk(element: html.HtmlElement, section: str, reader: _Reader) -> None:
    tag, classes = _tag(element), _classes(element)
    if classes & _SECTION_CLASSES:
        heading = _heading(element)
        name = _section_name(heading) if heading is not None else section
        for child in element:
            if child is not heading:
                _walk(child, name, reader)
        return
    if "ltx_abstract" in classes:
        for child in element:
            if "ltx_title" not in _classes(child):
                _walk(child, "Abstract", reader)
        return
    if classes & _RUN_IN_CLASSES or classes & {"ltx_theorem", "ltx_proof"}:
        for child in element:
            if "ltx_title" in _classes(child) and _tag(child).startswith("h"):
                reader.run_in = _norm(_inline(child).rstrip("."))
            else:
                _walk(child, section, reader)
        return
    if tag == "figure" or classes & {"ltx_figure", "ltx_table", "ltx_float"}:
        _figure(element, section, reader)
        return
    if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:  # a heading outside a section's ("Acknowledgements")
        reader.run_in = _inline(element, notes=False).rstrip(".")
        return
    if tag == "table" and classes & {"ltx_equation", "ltx_equationgroup", "ltx_eqn_table"}:
        reader.add(section, _equation(element))
        return
    if tag == "table" or "ltx_tabular" in classes:
        reader.add(section, _rows(element), lines=True)
        return
    if tag in {"ul", "ol"}:
        for item in element:
            if _tag(item) == "li":
                reader.add(section, _inline(item))  # its own marker leads: "•", "1.", "(a)"
        return
    if tag == "dl":
        term = ""
        for item in element:
            if _tag(item) == "dt":
                term = _inline(item)
            elif _tag(item) == "dd":
                reader.add(section, f"{term} {_inline(item)}")
                term = ""
        reader.add(section, term)
        return
    if "ltx_listing" in classes:
        lines = _listing(element)
        reader.add(section, "\n".join(line for line in lines if line) or _inline(element), lines=True)
        return
    if _has_blocks(element):
        if element.text and element.text.strip():
            reader.add(section, element.text)
        for child in element:
            _walk(child, section, reader)
            if child.tail and child.tail.strip():
                reader.add(section, child.tail)
        return
    reader.add(section, _inline(element))


def _has_blocks(element: html.HtmlElement) -> bool:
    return any(
        _tag(child) in _BLOCK_TAGS or _classes(child) & {"ltx_para", "ltx_listing", "ltx_equation", "ltx_tabular"}
        for child in element
    )


def _heading(section: html.HtmlElement) -> html.HtmlElement | None:
    for child in section:
        if _tag(child) in {"h1", "h2", "h3", "h4", "h5", "h6"} and "ltx_title" in _classes(child):
            return child
    return None


def _section_name(heading: html.HtmlElement) -> str:
    """"4.2 Experiments", "II-A Threat Model", "Appendix A Author contributions", "Acknowledgements"."""
    return _inline(heading, notes=False)


def _figure(figure: html.HtmlElement, section: str, reader: _Reader) -> None:
    """A figure, table or algorithm float: one block, its caption first, then its table rows or code lines."""
    label, caption, panels = "", "", []
    for element in figure.iter("figcaption"):
        tag_text = next((_norm(t.text_content()) for t in element.iter() if "ltx_tag" in _classes(t)), "")
        text = _inline(element, skip_tags=True)
        if _owner(element) is figure:
            label, caption = tag_text.rstrip(":").strip(), text
        else:  # a panel's own caption: "(a) …"
            panels.append(f"{tag_text} {text}".strip())
    body: list[str] = []
    for element in figure.iter():
        classes = _classes(element)
        if "ltx_tabular" in classes or (_tag(element) == "table" and not classes & {"ltx_equation", "ltx_eqn_table"}):
            if not _inside(element, figure, "ltx_tabular", "table"):
                body.append(_rows(element))
        elif "ltx_listing" in classes and not _inside(element, figure, "ltx_listing"):
            body.append("\n".join(line for line in _listing(element) if line))
    text = "\n".join(part for part in [" ".join([caption, *panels]).strip(), *body] if part)
    if text:
        reader.blocks.append(TextBlock(section=section, text=text, label=label))


def _listing(listing: html.HtmlElement) -> list[str]:
    """A code listing's lines; "␣", the visible space listings print in strings, back to a space."""
    return [_inline(line).replace("\u2423", " ") for line in listing.iter() if "ltx_listingline" in _classes(line)]


def _owner(caption: html.HtmlElement) -> html.HtmlElement | None:
    """The figure a caption belongs to: its nearest figure ancestor."""
    parent = caption.getparent()
    while parent is not None and not (_tag(parent) == "figure" or _classes(parent) & {"ltx_figure", "ltx_table"}):
        parent = parent.getparent()
    return parent


def _inside(element: html.HtmlElement, stop: html.HtmlElement, *kinds: str) -> bool:
    """Is ``element`` nested in another element of one of ``kinds`` (a class or a tag) below ``stop``?"""
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if _tag(parent) in kinds or _classes(parent) & set(kinds):
            return True
        parent = parent.getparent()
    return False


def _rows(table: html.HtmlElement) -> str:
    """Each row as "cell | cell | cell"; empty rows and cells left out."""
    lines = []
    for row in table.iter("tr"):
        if _inside(row, table, "table"):
            continue  # a table nested in a cell is read as that cell's text
        cells = [_inline(cell) for cell in row if _tag(cell) in {"td", "th"}]
        cells = [cell for cell in cells if cell]
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _equation(table: html.HtmlElement) -> str:
    """A displayed equation (LaTeXML lays them out as a table): its TeX, then its number "(3)"."""
    parts = []
    for row in table.iter("tr"):
        cells = [_inline(cell) for cell in row if _tag(cell) in {"td", "th"}]
        parts.append(" ".join(cell for cell in cells if cell))
    return " ".join(part for part in parts if part)


# --- inline text -----------------------------------------------------------------------------------------


def _inline(element: html.HtmlElement, *, skip_tags: bool = False, notes: bool = True) -> str:
    """The text of ``element`` on one line: math as TeX, footnotes in parentheses (unless ``notes`` is False),
    the LaTeXML number tags ("Figure 2:") left out when ``skip_tags``."""
    return _norm("".join(_pieces(element, skip_tags=skip_tags, notes=notes, top=True)))


def _pieces(element: html.HtmlElement, *, skip_tags: bool, notes: bool = True, top: bool = False) -> Iterator[str]:
    tag, classes = _tag(element), _classes(element)
    if tag == "math":
        yield _math(element)
    elif tag == "br":
        yield " "
    elif "ltx_note" in classes:
        note = _footnote(element) if notes and "ltx_role_footnote" in classes else ""
        if note:
            yield f" (footnote: {note})"
    elif classes & {"ltx_note_mark", "ltx_note_type"} or (skip_tags and "ltx_tag" in classes) or not tag:
        pass
    else:
        if element.text:
            yield element.text
        for child in element:
            yield from _pieces(child, skip_tags=skip_tags, notes=notes)
            if tag in {"td", "th", "li", "p", "div"} and _tag(child) in _BLOCK_TAGS:
                yield " "
    if not top and element.tail:
        yield element.tail


def _math(element: html.HtmlElement) -> str:
    """Math as its TeX: LaTeXML's alttext, else the TeX annotation, else whatever text the MathML shows."""
    tex = element.get("alttext")
    if not tex:
        for annotation in element.iter("annotation"):
            if annotation.get("encoding") == "application/x-tex":
                tex = annotation.text_content()
                break
    if not tex:
        tex = "".join(
            node.text or "" for node in element.iter() if _tag(node) in {"mi", "mn", "mo", "mtext", "ms"}
        )
    tex = _SPACE.sub(" ", tex or "").strip()
    return f"${tex}$" if tex else ""


def _footnote(note: html.HtmlElement) -> str:
    """A footnote's own text (its mark and number left out), clipped to FOOTNOTE_LIMIT characters."""
    content = next((element for element in note.iter() if "ltx_note_content" in _classes(element)), None)
    if content is None:
        return ""
    text = _norm("".join(_pieces(content, skip_tags=True, notes=False, top=True)))
    return text if len(text) <= FOOTNOTE_LIMIT else text[: FOOTNOTE_LIMIT - 1].rstrip() + "…"
