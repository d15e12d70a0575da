"""arXiv metadata as people read it: TeX decoded to Unicode, author lists split into names and affiliations.

arXiv's titles, abstracts and author names are plain text sprinkled with TeX (``Przemys{\\l}aw``,
``R\\'emy``, ``$\\sim$44%``, ``\\emph{…}``). Both feed adapters decode them once, at ingestion, so every
renderer and every matcher sees the same Unicode text. Decoding is pylatexenc's, with three guards for
text that is not really TeX: a bare ``%`` is a percent sign (not a comment), a bare ``~`` or ``&`` is
itself, and a ``$`` only opens math where pandoc's rule says so (so "$5 and $10" keeps its dollars).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

__all__ = ["decode_tex", "split_creators"]

log = logging.getLogger(__name__)

_MATHY = re.compile(r"[\\^_{}]")
_TEXISH = re.compile(r"[\\{}$]|``|''")
# Bare characters TeX would eat (comment, non-breaking space, alignment): held in private-use code
# points while pylatexenc runs, then put back.
_PROTECT = {"%": "\ue000", "~": "\ue001", "&": "\ue002", "#": "\ue003"}
_RESTORE = {v: k for k, v in _PROTECT.items()}
# Authors' own shorthands, common in abstracts (pylatexenc knows none of them).
_SHORTHANDS = {
    "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "wrt": "w.r.t.", "vs": "vs.", "etc": "etc.",
    "LaTeX": "LaTeX", "TeX": "TeX",
}


@lru_cache(maxsize=1)
def _converter() -> tuple[latexwalker.LatexContextDb, LatexNodes2Text]:
    walker_db = latexwalker.get_default_latex_context_db()
    # pylatexenc's default parsing context lacks \href's two arguments (its text spec then fails).
    walker_db.add_context_category(
        "arxiv-digest", prepend=True, macros=[macrospec.MacroSpec("href", "{{"), macrospec.MacroSpec("url", "{")]
    )
    text_db = get_default_latex_context_db()
    text_db.add_context_category(
        "arxiv-digest",
        prepend=True,
        macros=[
            MacroTextSpec("href", simplify_repl="%(2)s (%(1)s)"),  # keep the link, not only its label
            MacroTextSpec("url", simplify_repl="%(1)s"),
            MacroTextSpec("sim", simplify_repl="~"),  # "$\sim$44%" reads "~44%" in chat, not "∼44%"
            MacroTextSpec("|", simplify_repl="‖"),
        ],
    )
    return walker_db, _Converter(math_mode="text", latex_context=text_db, strict_latex_spaces=False)


class _Converter(LatexNodes2Text):
    """pylatexenc drops macros it does not know; a reader is better served by ``\\name`` as written."""

    def macro_node_to_text(self, node: latexwalker.LatexMacroNode) -> str:
        has_args = bool(node.nodeargd and node.nodeargd.argnlist)
        # TeX eats the space after a macro name; "\\ie the" still reads "i.e. the".
        space = " " if node.macro_post_space and not has_args else ""
        if node.macroname in _SHORTHANDS:
            return _SHORTHANDS[node.macroname] + space
        if self.latex_context.get_macro_spec(node.macroname) is None:
            if not has_args:
                return "\\" + node.macroname + space
            return "".join(self._groupnodecontents_to_text(arg) for arg in node.nodeargd.argnlist if arg is not None)
        return super().macro_node_to_text(node)


def _escape_stray_dollars(text: str) -> str:
    """Escape every ``$`` that does not delimit math, by pandoc's rule: an opening ``$`` has a non-space
    right after it; its closing ``$`` has a non-space right before it and no digit right after it
    (unless the span holds TeX: arXiv writes ``$\\sim$44%``)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if text.startswith("$$", i):
            end = text.find("$$", i + 2)
            if end > i + 2:
                out.append(text[i : end + 2])
                i = end + 2
                continue
            out.append(r"\$\$")
            i += 2
            continue
        end = _closing_dollar(text, i)
        if end is None:
            out.append(r"\$")
            i += 1
        else:
            out.append(text[i : end + 1])
            i = end + 1
    return "".join(out)


def _closing_dollar(text: str, start: int) -> int | None:
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    j = start + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "$":
            before_digit = j + 1 < len(text) and text[j + 1].isdigit()
            # A digit after the closer means "$5-$10" (dollars) unless the span is plainly TeX ("$\sim$44%").
            if not text[j - 1].isspace() and (not before_digit or _MATHY.search(text, start + 1, j)):
                return j
            return None  # "$5 and $10": the next "$" cannot close, so the first one is a dollar sign
        j += 1
    return None


def decode_tex(text: str) -> str:
    """TeX accents, macros and math to readable Unicode, whitespace collapsed; plain text stays as it is."""
    if not _TEXISH.search(text):
        return " ".join(text.split())
    protected = re.sub(r"(?<!\\)[%~&#]", lambda m: _PROTECT[m.group()], text)
    prepared = _escape_stray_dollars(protected)
    walker_db, converter = _converter()
    try:
        walker = latexwalker.LatexWalker(prepared, latex_context=walker_db, tolerant_parsing=True)
        nodes, _, _ = walker.get_latex_nodes()
        decoded = converter.nodelist_to_text(nodes)
    except Exception:  # pylatexenc is tolerant, but a reader must never lose a paper to odd TeX
        log.debug("could not decode TeX, kept as written: %.80r", text, exc_info=True)
        decoded = text
    decoded = "".join(_RESTORE.get(ch, ch) for ch in decoded)
    return " ".join(decoded.split())


def _matched_ranges(text: str) -> list[bool]:
    """For each character: is it inside a balanced (…) or {…} pair? Unmatched brackets protect nothing."""
    inside = [False] * len(text)
    stack: list[tuple[str, int]] = []
    pairs = {")": "(", "}": "{"}
    for i, ch in enumerate(text):
        if ch in "({":
            stack.append((ch, i))
        elif ch in pairs:
            # Pop to the matching opener; openers left unclosed in between are dropped.
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == pairs[ch]:
                    start = stack[k][1]
                    del stack[k:]
                    for p in range(start, i + 1):
                        inside[p] = True
                    break
    return inside


def _top_level_split(text: str) -> list[str]:
    inside = _matched_ranges(text)
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch == "," and not inside[i]:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    if parts:  # older feeds: "A, B and C"; a final top-level " and " separates the last two names
        last, offset = parts[-1], len(text) - len(parts[-1])
        for match in reversed(list(re.finditer(r"\s+and\s+", last))):
            if not inside[offset + match.start()]:
                parts[-1:] = [last[: match.start()], last[match.end() :]]
                break
    return [p.strip() for p in parts if p.strip()]


def _groups(text: str, inside: list[bool]) -> str:
    """``(A, B) (C)`` → ``A, B; C``: the text of each balanced parenthesised group after a name."""
    groups, start = [], None
    for i, ch in enumerate(text):
        if ch == "(" and inside[i] and start is None:
            start = i + 1
        elif ch == ")" and inside[i] and start is not None and not (i + 1 < len(text) and inside[i + 1]):
            groups.append(text[start:i])
            start = None
    return "; ".join(g.strip() for g in groups if g.strip())


def split_creators(creator: str) -> list[tuple[str, str]]:
    """``dc:creator`` to ``(name, affiliation)`` pairs, decoded; affiliation "" when none is given.

    rss.arxiv.org writes ``Name (Affiliation 1, Affiliation 2), Name, …``: commas and " and " inside
    the parentheses belong to the affiliation, so only top-level ones separate authors.
    """
    authors: list[tuple[str, str]] = []
    for part in _top_level_split(creator):
        inside = _matched_ranges(part)
        cut = next((i for i, ch in enumerate(part) if ch == "(" and inside[i]), None)
        if cut is None or cut == 0:
            name, affiliation = part, ""
        else:
            name, affiliation = part[:cut], _groups(part[cut:], inside[cut:])
        name = decode_tex(name)
        if name:
            authors.append((name, decode_tex(affiliation)))
    return authors
