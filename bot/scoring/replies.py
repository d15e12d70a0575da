"""Reading the LLM's reply: one ``ARXIVID RELEVANCE NOVELTY [COMMENT]`` line per paper, or the seed's contract,
one ``{ARXIVID, COMMENT, RELEVANCE, NOVELTY}`` object per paper.

The plain line is what the prompt asks for (a fifth of the tokens of a JSON object); the JSON forms are what
structured output, older prompts and models that prefer JSON write. Models answer in JSON lines, a JSON
array, an object holding a list, inside code fences, or with prose around it. We take every JSON object and
every plain line we can find, keep only IDs we asked about, and clamp scores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from bot.domain.models import Judgment, normalize_arxiv_id

_FENCE = re.compile(r"```(?:jsonl?|JSON)?\s*\n?(.*?)```", re.DOTALL)
_decoder = json.JSONDecoder()
# "2503.01234 9 8 Proposes …": the ID (perhaps arXiv:-prefixed or versioned), two scores, an optional comment.
_LINE = re.compile(
    r"^[ \t>*-]*(?:arXiv:)?(\d{4}\.\d{4,5})(?:v\d+)?[ \t|,;:]+(\d{1,2})[ \t|,;:/]+(\d{1,2})\b(?:[ \t|,;:-]+(.*))?$",
    re.MULTILINE | re.IGNORECASE,
)


def _json_values(text: str) -> Iterator[Any]:
    """Every top-level JSON value that starts with ``{`` or ``[`` in ``text``, left to right."""
    pos = 0
    while True:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = _decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        yield value
        pos = end


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """Flatten arrays and wrapper objects (``{"papers": [...]}``) down to per-paper objects."""
    if isinstance(value, list):
        for item in value:
            yield from _objects(item)
    elif isinstance(value, dict):
        if any(key.upper() in ("ARXIVID", "ARXIV_ID", "ID") for key in value):
            yield value
        else:
            for item in value.values():
                if isinstance(item, list | dict):
                    yield from _objects(item)


def _field(obj: dict[str, Any], *names: str) -> Any:
    upper = {key.upper().replace(" ", "_"): val for key, val in obj.items()}
    for name in names:
        if name in upper:
            return upper[name]
    return None


def _clamp_score(value: Any) -> int | None:
    try:
        number = float(str(value).strip().split("/")[0])
    except (TypeError, ValueError):
        return None
    if number != number:  # NaN
        return None
    return max(1, min(10, round(number)))


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every per-paper JSON object in a reply (inside code fences when it has any), left to right."""
    fenced = _FENCE.findall(text)
    for source in fenced if fenced else [text]:
        for value in _json_values(source):
            yield from _objects(value)


def field_of(obj: dict[str, Any], *names: str) -> Any:
    """The value of the first of ``names`` the object has, whatever its case or spaces (``"arxiv id"``)."""
    return _field(obj, *names)


def parse_reply(text: str, expected_ids: Iterable[str]) -> tuple[dict[str, Judgment], list[str]]:
    """Judgments for the IDs we asked about, and notes on what was ignored (invented IDs, bad scores).

    Missing IDs are simply absent from the result; the caller retries them.
    """
    expected = set(expected_ids)
    fenced = _FENCE.findall(text)
    sources = fenced if fenced else [text]
    found: dict[str, Judgment] = {}
    notes: list[str] = []
    for source in sources:
        for value in _json_values(source):
            for obj in _objects(value):
                raw_id = _field(obj, "ARXIVID", "ARXIV_ID", "ID")
                arxiv_id = normalize_arxiv_id(str(raw_id)) if raw_id is not None else None
                if arxiv_id not in expected:
                    notes.append(f"ignored a judgment for {raw_id!r}, which was not in the request")
                    continue
                relevance = _clamp_score(_field(obj, "RELEVANCE"))
                novelty = _clamp_score(_field(obj, "NOVELTY"))
                if relevance is None or novelty is None:
                    notes.append(f"ignored a judgment for {arxiv_id} without numeric scores")
                    continue
                if arxiv_id in found:
                    continue  # the first judgment of a paper counts
                comment = _field(obj, "COMMENT")
                found[arxiv_id] = Judgment(
                    arxiv_id=arxiv_id,
                    relevance=relevance,
                    novelty=novelty,
                    comment=" ".join(str(comment).split()) if comment else "",
                )
    for match in _LINE.finditer(text):
        arxiv_id, relevance_text, novelty_text, comment = match.groups()
        if arxiv_id not in expected:
            notes.append(f"ignored a judgment for {arxiv_id!r}, which was not in the request")
        elif arxiv_id not in found:
            relevance, novelty = _clamp_score(relevance_text), _clamp_score(novelty_text)
            if relevance is not None and novelty is not None:
                found[arxiv_id] = Judgment(arxiv_id, relevance, novelty, " ".join((comment or "").split()))
    return found, notes


def json_schema_response_format() -> dict[str, Any]:
    """Structured-output request for endpoints that support it: a list of the seed's objects."""
    item = {
        "type": "object",
        "properties": {
            "ARXIVID": {"type": "string"},
            "COMMENT": {"type": "string"},
            "RELEVANCE": {"type": "integer"},
            "NOVELTY": {"type": "integer"},
        },
        "required": ["ARXIVID", "COMMENT", "RELEVANCE", "NOVELTY"],
        "additionalProperties": False,
    }
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "paper_scores",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"papers": {"type": "array", "items": item}},
                "required": ["papers"],
                "additionalProperties": False,
            },
        },
    }
