"""Approximate scores without an LLM: TF-IDF similarity of each paper to the team's criteria.

Used when no OPENAI_API_KEY is set (the demo, a first try). Every judgment it makes is marked
``approximate`` and every output says so. Relevance comes from the closest criteria topic minus the
closest "irrelevant" description; novelty from wording cues, which is a weak signal by nature.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.domain.models import Judgment, Paper

MODEL_NAME = "local-tfidf"

_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.+)$")
_HEADING = re.compile(r"^\*\*([^*]{2,60})\*\*:?$")  # a bold line such as **Vision:**
_KEYWORDS = re.compile(r"^(?:key\s*words?|key\s*phrases?|tags)$", re.IGNORECASE)
_NEGATIVE = re.compile(r"^\s*[-*]?\s*(?:\*\*)?(irrelevant|application|avoid|exclude|not relevant)\b", re.IGNORECASE)
_NOVEL_CUES = ("we propose", "we introduce", "novel", "first", "new ", "theory", "theoretical", "prove", "paradigm")
_TANGENTIAL_CUES = ("survey", "benchmark", "dataset", "case study", "review", "empirical study", "we evaluate")
NEGATIVE_WEIGHT = 0.6


@dataclass(frozen=True)
class Topic:
    name: str
    text: str


def parse_topics(criteria: str) -> tuple[list[Topic], list[str]]:
    """Split criteria into topics (numbered sections, else paragraphs) and 'irrelevant' descriptions.

    A keywords block (a bold "**Keywords:**" line and the lines under it) is not a topic: at the left
    margin it sums up the whole criteria (the default criteria end with one), and its relevant words are
    already in the topics they belong to; indented under a numbered topic, it is part of that topic.
    """
    sections: list[Topic] = []
    loose: list[Topic] = []  # paragraphs outside numbered sections: topics only if there are no sections
    negatives: list[str] = []
    current_name, current_lines = "", list[str]()
    in_keywords = False  # inside a top-level keywords block

    def flush() -> None:
        if current_lines:
            sections.append(Topic(current_name, " ".join(current_lines)))

    for line in criteria.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _NEGATIVE.match(stripped):
            negatives.append(stripped.split(":", 1)[-1])
            continue
        numbered = _NUMBERED.match(stripped)
        heading = _HEADING.match(stripped)
        if heading and _KEYWORDS.match(heading.group(1).strip("*: ")):
            if current_name and line[:1].isspace():
                continue  # a topic's own keywords: the lines below stay with the topic
            flush()
            current_name, current_lines, in_keywords = "", [], True
        elif numbered or heading:
            flush()
            title = numbered.group(2) if numbered else heading.group(1) if heading else ""
            name = title.strip("*: ")
            current_name, current_lines, in_keywords = name, [name] if numbered else [], False
        elif current_name:
            current_lines.append(stripped)
        elif not in_keywords:
            loose.append(Topic(stripped.lstrip("-* ")[:60], stripped))
    flush()
    topics = sections or loose or [Topic("criteria", criteria)]
    return topics, negatives


def _novelty(text: str) -> int:
    lowered = text.lower()
    up = sum(cue in lowered for cue in _NOVEL_CUES)
    down = sum(cue in lowered for cue in _TANGENTIAL_CUES)
    return int(np.clip(5 + min(up, 4) - 2 * min(down, 2), 1, 10))


def score_locally(papers: Sequence[Paper], criteria: str) -> dict[str, Judgment]:
    if not papers:
        return {}
    topics, negatives = parse_topics(criteria)
    docs = [f"{p.title}. {p.title}. {p.abstract}" for p in papers]  # the title counts twice
    # Imported here: scikit-learn takes over a second to import, and the chat bot only needs it
    # when a run has no API key.
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=1)
    matrix = vectorizer.fit_transform(docs + [t.text for t in topics] + negatives)
    paper_vecs = matrix[: len(papers)]
    topic_vecs = matrix[len(papers) : len(papers) + len(topics)]
    negative_vecs = matrix[len(papers) + len(topics) :]
    topic_sim = (paper_vecs @ topic_vecs.T).toarray()
    negative_sim = (paper_vecs @ negative_vecs.T).toarray().max(axis=1) if negatives else np.zeros(len(papers))
    raw = topic_sim.max(axis=1) - NEGATIVE_WEIGHT * negative_sim
    # Scale against the day's strongest matches, with a floor so a day without any match stays low.
    reference = max(float(np.quantile(raw, 0.95)), 0.03)
    relevance = np.clip(np.rint(1 + 9 * raw / reference), 1, 10).astype(int)
    vocabulary = vectorizer.get_feature_names_out()

    judgments: dict[str, Judgment] = {}
    for i, paper in enumerate(papers):
        best = int(topic_sim[i].argmax())
        comment = ""
        if relevance[i] >= 5:
            shared = paper_vecs[i].multiply(topic_vecs[best]).toarray().ravel()
            terms = [vocabulary[j] for j in shared.argsort()[::-1][:3] if shared[j] > 0]
            comment = f"Approximate: closest to “{topics[best].name}”" + (
                f" (shared terms: {', '.join(terms)})." if terms else "."
            )
        judgments[paper.arxiv_id] = Judgment(
            arxiv_id=paper.arxiv_id,
            relevance=int(relevance[i]),
            novelty=_novelty(paper.abstract),
            comment=comment,
            approximate=True,
        )
    return judgments
