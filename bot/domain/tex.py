"""arXiv metadata as people read it: TeX decoded to Unicode.

arXiv's titles, abstracts and author names are plain text sprinkled with TeX (``Przemys{\\l}aw``,
``R\\'emy``, ``$\\sim$44%``, ``\\emph{…}``). Both feed adapters decode them once, at ingestion, so every
renderer and every matcher sees the same Unicode text; storage's migration 0005 decodes the papers stored
before that (so it lives in bot/: storage may import bot/, never adapters/). Decoding is pylatexenc's, with
three guards for text that is not really TeX: a bare ``%`` is a percent sign (not a comment), a bare ``~`` or
``&`` is itself, and a ``$`` only opens math where pandoc's rule says so (so "$5 and $10" keeps its dollars).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

__all__ = ["decode_tex"]

log = logging.getLogger(__name__)

_MATHY = re.compile(r"[\\^_{}]")
_TEXISH = re.compile(r"[\\{}$]|``|''")
# Bare characters TeX would eat (comment, non-breaking space, alignment): held in private-use code
# points while pylatexenc runs, then put back.
_PROTECT = {"%": "\ue000", "~": "\ue001", "&": "\ue002", "#": "\ue003"}
_RESTORE = str.maketrans({v: k for k, v in _PROTECT.items()})
_SIGNIFICANT = re.compile(r"\\.|\$\$|[{}$]|\s+", re.DOTALL)
# Font and size switches ("{\it target similarity}"): no text of their own.
_SWITCHES = (
    "it", "bf", "em", "rm", "sf", "tt", "sc", "sl", "itshape", "bfseries", "ttfamily", "rmfamily", "sffamily",
    "scshape", "upshape", "mdseries", "normalfont", "tiny", "scriptsize", "footnotesize", "small", "normalsize",
    "large", "Large", "LARGE", "huge", "Huge", "noindent", "centering", "label", "cal", "left", "right",
    "big", "Big", "bigg", "Bigg",
)
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
        "arxiv-digest", prepend=True, macros=[
            macrospec.MacroSpec("href", "{{"),
            macrospec.MacroSpec("url", "{"),
            macrospec.MacroSpec("unicode", "{"),
            macrospec.MacroSpec("sfrac", "{{"),
            *(macrospec.MacroSpec(name, "{") for name in ("boldsymbol", "bm", "textsuperscript")),
        ]
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
            MacroTextSpec("color", discard=True),  # "\color[RGB]{175,36,67}{LCLM}" reads "LCLM"
            *(MacroTextSpec(name, discard=True) for name in _SWITCHES),
            MacroTextSpec("unicode", simplify_repl=_unicode_char),  # MathJax's "$\unicode{x2014}$"
            MacroTextSpec("textsuperscript", simplify_repl="^%(1)s"),
            MacroTextSpec("sfrac", simplify_repl="%(1)s/%(2)s"),
            MacroTextSpec("deg", simplify_repl="°"),
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
            if _converter()[0].get_macro_spec(node.macroname) is None:
                return "\\" + node.macroname + space  # nobody knows it: show it as written
            # A macro TeX knows but with no text rendering (\it, \texttt{…}): keep its braced arguments' text.
            args = node.nodeargd.argnlist if has_args else []
            return "".join(self._groupnodecontents_to_text(a) for a in args if _is_braced(a))
        return super().macro_node_to_text(node)


def _unicode_char(node: latexwalker.LatexMacroNode, l2tobj: LatexNodes2Text) -> str:
    """``\\unicode{x2014}`` / ``\\unicode{8212}`` → "—"; anything else keeps its text."""
    arg = node.nodeargd.argnlist[0] if node.nodeargd and node.nodeargd.argnlist else None
    code = l2tobj.nodelist_to_text([arg]).strip() if arg is not None else ""
    try:
        return chr(int(code[1:], 16) if code[:1] in "xX" else int(code))
    except (ValueError, OverflowError):
        return code


def _is_braced(node: latexwalker.LatexNode | None) -> bool:
    return isinstance(node, latexwalker.LatexGroupNode) and node.delimiters[0] == "{"


def _escape_stray_dollars(text: str) -> str:
    """Escape every ``$`` that does not delimit math (see :func:`_closing_dollar`)."""
    if "$" not in text:
        return text
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
        closing = _closing_dollar(text, i)
        if closing is None:
            out.append(r"\$")
            i += 1
        else:
            out.append(text[i : closing + 1])
            i = closing + 1
    return "".join(out)


def _closing_dollar(text: str, start: int) -> int | None:
    """Where the math opened at ``start`` closes, or None when this ``$`` is a dollar sign."""
    j = start + 1
    while j < len(text) and text[j] != "$":
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        return None
    span = text[start + 1 : j]
    if not span.strip():
        return None
    currency = span[0].isdigit() and (span[-1].isspace() or (j + 1 < len(text) and text[j + 1].isdigit()))
    if currency:  # "$5 and $10", "$5-$10"
        return None
    if _MATHY.search(span):  # "$\sim$44%", "$ O(\epsilon^2) $": plainly TeX
        return j
    # Pandoc's rule for the rest: no space just inside either dollar ("$>$3%" is math, "$ 5" is not).
    return None if span[0].isspace() or span[-1].isspace() else j


def decode_tex(text: str) -> str:
    """TeX accents, macros and math to readable Unicode, whitespace collapsed; plain text stays as it is."""
    if not _TEXISH.search(text):
        return " ".join(text.split())
    protected = re.sub(r"(?<!\\)[%~&#]", lambda m: _PROTECT[m.group()], text)
    prepared = _escape_stray_dollars(protected)
    # pylatexenc reads character by character (~0.1 ms each): only the words that hold TeX go through it.
    words = (_decode_chunk(chunk) if _TEXISH.search(chunk) else chunk for chunk in _chunks(prepared))
    decoded = " ".join(word for word in words if word)
    return " ".join(decoded.translate(_RESTORE).split())


def _chunks(text: str) -> list[str]:
    """Split at whitespace outside braces and math, so each chunk is TeX complete in itself."""
    chunks: list[str] = []
    start, depth, math = 0, 0, False
    for match in _SIGNIFICANT.finditer(text):
        token = match.group()
        if token[0] == "\\":
            continue
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif token[0] == "$":
            math = not math
        elif depth == 0 and not math:
            chunks.append(text[start : match.start()])
            start = match.end()
    chunks.append(text[start:])
    return [chunk for chunk in chunks if chunk]


def _decode_chunk(chunk: str) -> str:
    walker_db, converter = _converter()
    try:
        walker = latexwalker.LatexWalker(chunk, latex_context=walker_db, tolerant_parsing=True)
        nodes, _, _ = walker.get_latex_nodes()
        return " ".join(converter.nodelist_to_text(nodes).split())
    except Exception:  # pylatexenc is tolerant, but a reader must never lose a paper to odd TeX
        log.debug("could not decode TeX, kept as written: %.80r", chunk, exc_info=True)
        return chunk
