"""A paper's text cut into passages that never cross a section, and the few that best match a question (BM25).

Retrieval is local and cheap (no GPU, no embedding service): only the passages picked here go to the LLM, so a
60-page paper costs what a short one does. A caption or a table is a passage of its own, under its label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from bot.domain.fulltext import FullText

MIN_WORDS, MAX_WORDS = 100, 250  # running text is gathered up to this size within a section
TARGET_WORDS = 200  # a longer paragraph is cut into pieces of about this size
TOP_PASSAGES = 6
TOKEN_BUDGET = 1800  # of passage text per question (about 4 characters a token)
_WORD = re.compile(r"[^\W_]+")
# Common English words and the words every question about a paper has: they say nothing about where to look.
# sklearn's list also drops words papers mean ("system", "computer", "interest"), so the list is ours.
STOP_WORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "done", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
    "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that",
    "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "would", "you", "your", "yours", "paper", "papers", "author", "authors", "work",
    "study", "article", "propose", "proposed", "tell", "explain", "describe", "please", "say", "said", "show",
    "shows", "use", "used", "uses", "using"
})


@dataclass(frozen=True)
class Passage:
    number: int  # 1, 2, … in the paper's order: the id the LLM cites
    section: str
    text: str
    label: str = ""  # "Table 3" for a caption or table

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def tokens(self) -> int:
        return len(self.text) // 4 + 1

    @property
    def source(self) -> str:
        """How an answer names it: "Table 3", "§4.2 Experiments", "Abstract"."""
        return self.label or section_name(self.section)


def section_name(section: str) -> str:
    """"4.2 Experiments" → "§4.2 Experiments"; "A.1 Proofs" → "§A.1 Proofs"; an unnumbered heading as it is."""
    section = " ".join(section.split())
    if re.match(r"^(?:[0-9]+|[A-Z])(?:\.[0-9]+)*\.?\s", section):
        return f"§{section}"
    return section or "Untitled section"


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers, stop words dropped: "Table 3 shows BLEU" → ["table", "3", "bleu"]."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def passages(text: FullText) -> list[Passage]:
    """The paper's passages in its order: running text gathered to MIN_WORDS–MAX_WORDS within a section (a
    longer paragraph is split), each caption or table on its own (a long table split under the same label)."""
    found: list[Passage] = []
    pending: list[str] = []
    pending_section = ""

    def add(section: str, body: str, label: str = "") -> None:
        found.append(Passage(len(found) + 1, section, body, label))

    def flush() -> None:
        if pending:
            add(pending_section, "\n".join(pending))
            pending.clear()

    for block in text.blocks:
        body = " ".join(block.text.split())
        if not body:
            continue
        if block.label:
            flush()
            for piece in _pieces(body):
                add(block.section, piece, block.label)
            continue
        if block.section != pending_section:
            flush()
            pending_section = block.section
        for piece in _pieces(body):
            if pending and _count(pending) + len(piece.split()) > MAX_WORDS:
                flush()
            pending.append(piece)
            if _count(pending) >= MIN_WORDS:
                flush()
    flush()
    return found


def _count(parts: Iterable[str]) -> int:
    return sum(len(part.split()) for part in parts)


def _pieces(body: str) -> list[str]:
    """``body`` whole when it fits MAX_WORDS, else cut at sentence ends into pieces of about equal size that do
    (a sentence longer than MAX_WORDS alone is cut between words)."""
    words = body.split()
    if len(words) <= MAX_WORDS:
        return [body]
    target = len(words) / -(-len(words) // TARGET_WORDS)  # equal shares of at most TARGET_WORDS
    pieces: list[str] = []
    current: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", body):
        said = sentence.split()
        while len(said) > MAX_WORDS:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(said[:TARGET_WORDS]))
            said = said[TARGET_WORDS:]
        if current and len(current) + len(said) > MAX_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.extend(said)
        if len(current) >= target:
            pieces.append(" ".join(current))
            current = []
    if current:
        pieces.append(" ".join(current))
    return pieces


@dataclass(frozen=True)
class Match:
    passage: Passage
    score: float


# A question that names a table, figure or section ("what does Table 3 show?", "in §4.2 …") gets those passages
# first: BM25 alone finds "table" and "3" everywhere.
_NAMED_LABEL = re.compile(r"\b(table|tab\.|figure|fig\.|algorithm|alg\.|listing|equation|eq\.)\s*([0-9]+[a-z]?)\b",
                          re.IGNORECASE)
_NAMED_SECTION = re.compile(r"(?:\bsection\s+|\bsec\.\s*|§\s*)([0-9]+(?:\.[0-9]+)*|[A-Z](?:\.[0-9]+)+)\b",
                            re.IGNORECASE)
_LABEL_WORDS = {"tab.": "table", "fig.": "figure", "alg.": "algorithm", "eq.": "equation"}


def named(found: Sequence[Passage], question: str) -> list[Passage]:
    """The passages the question names by label ("Table 3", "Fig. 2") or section number ("Section 4.2", "§B.1")."""
    labels = {f"{_LABEL_WORDS.get(word.lower(), word.lower())} {number.lower()}"
              for word, number in _NAMED_LABEL.findall(question)}
    sections = {number.upper() for number in _NAMED_SECTION.findall(question)}
    return [p for p in found
            if p.label.lower() in labels or (sections and p.section.split(" ", 1)[0].rstrip(".").upper() in sections)]


def best_passages(
    found: Sequence[Passage], question: str, *, top: int = TOP_PASSAGES, budget: int = TOKEN_BUDGET
) -> list[Match]:
    """The passages that best answer ``question``, best first: those it names by label or section number, then
    BM25 over their words (the section name and label count as words of the passage), at most ``top`` within
    ``budget`` tokens. Only passages named or sharing a word with the question count; none of them → [] (the
    text does not seem to cover it)."""
    asked = tokens(question)
    if not found or not asked:
        return []
    corpus = [tokens(f"{p.section} {p.label} {p.text}") for p in found]
    index = BM25Okapi(corpus)
    # A word in over half the passages gets a floor instead of a negative weight; in a tiny text that floor
    # (a share of the average weight) can itself be negative. Matching a word must never count against a passage.
    floor = min((w for w in index.idf.values() if w > 0), default=0.1) / 4
    index.idf = {word: max(weight, floor) for word, weight in index.idf.items()}
    scores = index.get_scores(asked)
    wanted = set(asked)
    first = {p.number for p in named(found, question)}
    best = max((float(score) for score in scores), default=0.0)
    ranked = sorted(
        (Match(p, float(score) + (best + 1 if p.number in first else 0.0))
         for p, score, words in zip(found, scores, corpus, strict=True)
         if p.number in first or (score > 0 and wanted & set(words))),
        key=lambda m: (-m.score, m.passage.number),
    )
    picked: list[Match] = []
    used = 0
    for match in ranked:
        if len(picked) == top:
            break
        if picked and used + match.passage.tokens > budget:
            continue
        picked.append(match)
        used += match.passage.tokens
    return picked
