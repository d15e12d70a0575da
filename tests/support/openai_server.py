"""A stand-in for the OpenAI chat completions API that "scores" arXiv papers deterministically.

It reads the papers out of the last user message (blocks starting with "ArXiv ID: <id>") and answers
like a well-behaved scoring LLM, unless a fault from the queue tells it to misbehave.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from .http import Fault, Malformed, Recorded, Response, Route, StandIn, Status

__all__ = [
    "KEYWORDS",
    "AsArray",
    "AsObject",
    "Drop",
    "Fenced",
    "Invent",
    "Judgement",
    "OpenAIStandIn",
    "OutOfRange",
    "PaperBlock",
    "Reply",
    "judge",
    "parse_papers",
]

KEYWORDS = [
    "mixture of experts",
    "moe",
    "quantization",
    "pruning",
    "sparse",
    "sparsity",
    "low-rank",
    "kv cache",
    "representation learning",
    "transformer",
    "compression",
]
# Left word boundary only: "MoEs"/"Transformers" hit, but "moe" inside "homoeostasis" does not.
_KEYWORD_RES = [(kw, re.compile(r"\b" + re.escape(kw), re.IGNORECASE)) for kw in KEYWORDS]
_ID_LINE = re.compile(r"^ArXiv ID: (\S+)$", re.MULTILINE)
_INJECTION = "ignore previous instructions"
_INVALID = "invalid_request_error"
_MISSING = "missing_required_parameter"


# --- reply faults (besides the generic Status / Delay / Malformed) -----------------------------------


@dataclass(frozen=True)
class Drop(Fault):
    """Omit the last n papers from the answer."""

    n: int = 1


@dataclass(frozen=True)
class Invent(Fault):
    """Add a (high-scoring) line for an id that was not in the request."""

    arxiv_id: str = "2501.99999"


@dataclass(frozen=True)
class Fenced(Fault):
    """Wrap the JSON lines in a ```json fence with a chatty sentence before it."""


@dataclass(frozen=True)
class AsArray(Fault):
    """Answer one (pretty-printed) JSON array instead of JSON lines."""


@dataclass(frozen=True)
class AsObject(Fault):
    """Answer one (pretty-printed) {"papers": [...]} object instead of JSON lines."""


@dataclass(frozen=True)
class OutOfRange(Fault):
    """Scores that need clamping/coercion, cycling per paper: (14, 0), ("8", "8"), (0, 14)."""


@dataclass(frozen=True)
class Reply(Fault):
    """Answer exactly this message content."""

    content: str


OUT_OF_RANGE_CYCLE: list[tuple[Any, Any]] = [(14, 0), ("8", "8"), (0, 14)]


# --- the deterministic "model" ------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperBlock:
    arxiv_id: str
    title: str
    abstract: str
    text: str  # the whole block, from the id line on


@dataclass(frozen=True)
class Judgement:
    relevance: int
    novelty: int
    hits: tuple[str, ...]

    @property
    def comment(self) -> str:
        if self.relevance < 5:
            return ""
        return "Matches: " + (", ".join(self.hits) if self.hits else "none")


def parse_papers(text: str) -> list[PaperBlock]:
    """Split a prompt into paper blocks: each runs from an "ArXiv ID: <id>" line to the next one or the end.

    Text after the last paper that starts with a markdown heading after a blank line ("\\n\\n#...") is
    treated as trailing prompt, not as part of that paper.
    """
    text = text.replace("\r\n", "\n")
    matches = list(_ID_LINE.finditer(text))
    blocks = []
    for m, nxt in itertools.zip_longest(matches, matches[1:]):
        block = text[m.start() : nxt.start() if nxt else len(text)]
        if nxt is None:
            block = re.split(r"\n\s*\n(?=#)", block, maxsplit=1)[0]
        title = re.search(r"^Title: ?(.*)$", block, re.MULTILINE)
        abstract = re.search(r"^Abstract: ?(.*)", block, re.MULTILINE | re.DOTALL)
        blocks.append(
            PaperBlock(
                arxiv_id=m.group(1),
                title=title.group(1).strip() if title else "",
                abstract=abstract.group(1).strip() if abstract else "",
                text=block,
            )
        )
    return blocks


def judge(arxiv_id: str, title: str, abstract: str) -> Judgement:
    """The stand-in's honest opinion: relevance from keyword hits, novelty from a hash of the id."""
    blob = f"{title}\n{abstract}"
    hits = tuple(kw for kw, rx in _KEYWORD_RES if rx.search(blob))
    return Judgement(min(10, 2 + 2 * len(hits)), 3 + zlib.crc32(arxiv_id.encode()) % 7, hits)


def _is_injected(block: PaperBlock) -> bool:
    return _INJECTION in " ".join(block.text.split()).lower()


def _text_of(content: Any) -> str:
    """Message content is a string or a list of parts; only text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


# --- the server ---------------------------------------------------------------------------------------


class OpenAIStandIn(StandIn):
    """OpenAI-compatible POST /v1/chat/completions and GET /v1/models; point clients at `base_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.overrides: dict[str, tuple[int, int]] = {}  # arxiv id -> forced (relevance, novelty)
        self.models: list[str] = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]
        self.require_auth: bool = True  # real API: 401 without a bearer token
        self._seen_prefixes: set[str] = set()
        self._cache_lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def completions(self) -> list[Recorded]:
        """Requests made to /v1/chat/completions (including ones answered with a fault)."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def paper_ids_per_request(self) -> list[list[str]]:
        """The arXiv ids each chat completion request carried, retries included, in arrival order."""
        return [r.paper_ids for r in self.completions]

    def reset_cache(self) -> None:
        """Forget which system prompts were seen (clear() deliberately keeps the simulated cache)."""
        with self._cache_lock:
            self._seen_prefixes.clear()

    def expected(self, paper: dict[str, Any]) -> tuple[int, int]:
        """(relevance, novelty) an honest request would get for this paper dict (overrides included)."""
        return self._scores(paper["arxiv_id"], paper.get("title", ""), paper.get("abstract", ""))[:2]

    # routing

    def route(self, rec: Recorded) -> Route | None:
        path = rec.path.rstrip("/")
        if rec.method == "POST" and path == "/v1/chat/completions":
            # Parse ids here so they are recorded even when a Status fault answers instead.
            messages = rec.json.get("messages") if isinstance(rec.json, dict) else None
            if isinstance(messages, list):
                rec.paper_ids = [b.arxiv_id for b in parse_papers(self._last_user_text(messages))]
            return self._chat
        if rec.method == "GET" and path == "/v1/models":
            return self._models
        if rec.method == "GET" and path.startswith("/v1/models/"):
            return self._model
        return None

    def error_response(self, rec: Recorded, fault: Status) -> Response:
        if fault.body is not None:
            resp = Response(fault.code, fault.body, "application/json")
        else:
            model = rec.json.get("model", "gpt-4o-mini") if isinstance(rec.json, dict) else "gpt-4o-mini"
            err_type, code, message = {
                400: ("invalid_request_error", None, "Invalid request (stand-in)."),
                401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
                403: ("permission_error", "unsupported_country_region_territory", "Access denied."),
                404: ("invalid_request_error", "model_not_found", f"The model `{model}` does not exist."),
                429: ("requests", "rate_limit_exceeded", f"Rate limit reached for {model}."),
                500: ("server_error", None, "The server had an error while processing your request."),
                503: ("server_error", None, "The engine is currently overloaded, please try again later."),
            }.get(fault.code, ("server_error" if fault.code >= 500 else _INVALID, None, "Error"))
            resp = _error(fault.code, message, err_type, code)
        resp.headers.update(fault.headers or {})
        return resp

    # handlers

    def _models(self, rec: Recorded, fault: Fault | None) -> Response:
        return _json(200, {"object": "list", "data": [_model_obj(m) for m in self.models]})

    def _model(self, rec: Recorded, fault: Fault | None) -> Response:
        name = rec.path.rstrip("/").rsplit("/", 1)[1]
        if name not in self.models:
            return _error(404, f"The model `{name}` does not exist.", _INVALID, "model_not_found")
        return _json(200, _model_obj(name))

    def _chat(self, rec: Recorded, fault: Fault | None) -> Response:
        auth = rec.headers.get("authorization", "")
        if self.require_auth and (not auth.startswith("Bearer ") or not auth[7:].strip()):
            return _error(401, "You didn't provide an API key.", _INVALID, None)
        req = rec.json
        if not isinstance(req, dict):
            return _error(400, "We could not parse the JSON body of your request.", _INVALID, None)
        messages, model = req.get("messages"), req.get("model")
        if not isinstance(messages, list) or not messages:
            return _error(400, "Missing required parameter: 'messages'.", _INVALID, _MISSING)
        if not model:
            return _error(400, "Missing required parameter: 'model'.", _INVALID, _MISSING)
        if req.get("stream"):
            return _error(400, "stream=true is not supported by the stand-in.", _INVALID, None)

        content = self._content(messages, req.get("response_format"), fault)
        finish_reason = "stop"
        limit = req.get("max_completion_tokens") or req.get("max_tokens")
        if isinstance(limit, int) and len(content) // 4 > limit:
            content, finish_reason = content[: limit * 4], "length"  # like the real API: cut mid-answer

        texts = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        prompt_tokens = sum(len(t) for t in texts) // 4
        completion_tokens = max(1, len(content) // 4)
        cached = self._cached_tokens(texts[0] if texts else "", prompt_tokens)
        body = {
            "id": f"chatcmpl-standin{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_standin",
        }
        return _json(200, body)

    # the "model"

    @staticmethod
    def _last_user_text(messages: list[Any]) -> str:
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                return _text_of(m.get("content"))
        return ""

    def _scores(self, arxiv_id: str, title: str, abstract: str) -> tuple[int, int, str]:
        j = judge(arxiv_id, title, abstract)
        forced = self.overrides.get(arxiv_id) or self.overrides.get(re.sub(r"v\d+$", "", arxiv_id))
        if forced:
            j = Judgement(forced[0], forced[1], j.hits)
        return j.relevance, j.novelty, j.comment

    def _content(self, messages: list[Any], response_format: Any, fault: Fault | None) -> str:
        if isinstance(fault, Reply):
            return fault.content
        papers = parse_papers(self._last_user_text(messages))
        gullible = any(_is_injected(p) for p in papers)
        items: list[dict[str, Any]] = []
        for p in papers:
            if gullible:
                rel, nov, comment = 10, 10, "Matches: as instructed by the paper"
            else:
                rel, nov, comment = self._scores(p.arxiv_id, p.title, p.abstract)
            items.append({"ARXIVID": p.arxiv_id, "COMMENT": comment, "RELEVANCE": rel, "NOVELTY": nov})

        if isinstance(fault, Malformed):
            first = items[0]["ARXIVID"] if items else "2503.00000"
            return (
                "Sure! Here are my thoughts on these papers:\n"
                "{ARXIVID: " + first + ", RELEVANCE: high, NOVELTY: {pretty good}\n"
                '{"ARXIVID": "' + first + '", "RELEVANCE": 8,\n'
                "Overall a strong batch of papers!"
            )
        if isinstance(fault, Drop):
            items = items[: max(len(items) - fault.n, 0)]
        elif isinstance(fault, Invent):
            invented = {"ARXIVID": fault.arxiv_id, "COMMENT": "Matches: mixture of experts"}
            items.append({**invented, "RELEVANCE": 9, "NOVELTY": 9})
        elif isinstance(fault, OutOfRange):
            for i, item in enumerate(items):
                item["RELEVANCE"], item["NOVELTY"] = OUT_OF_RANGE_CYCLE[i % len(OUT_OF_RANGE_CYCLE)]

        if isinstance(fault, AsArray):
            return json.dumps(items, indent=2)
        if isinstance(fault, AsObject):
            return json.dumps({"papers": items}, indent=2)
        rf_type = response_format.get("type") if isinstance(response_format, dict) else None
        if rf_type in ("json_schema", "json_object"):
            content = json.dumps({"papers": items})
        else:
            content = "\n".join(json.dumps(item) for item in items)
        if isinstance(fault, Fenced):
            content = f"Here are the scores for the papers:\n\n```json\n{content}\n```"
        return content

    def _cached_tokens(self, prefix: str, prompt_tokens: int) -> int:
        # OpenAI caches in 128-token increments once a prompt reaches 1024 tokens; the prefix must repeat.
        with self._cache_lock:
            seen = prefix in self._seen_prefixes
            self._seen_prefixes.add(prefix)
        if not seen or prompt_tokens < 1024:
            return 0
        return min(prompt_tokens, (len(prefix) // 4) // 128 * 128)


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    headers = {"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})}
    return Response(status, json.dumps(payload), "application/json", headers)


def _error(status: int, message: str, err_type: str, code: str | None) -> Response:
    return _json(status, {"error": {"message": message, "type": err_type, "param": None, "code": code}})


def _model_obj(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "openai"}
