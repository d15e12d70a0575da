"""A stand-in for the OpenAI chat completions API that "scores" arXiv papers deterministically.

It reads the papers out of the last user message (blocks starting with "ArXiv ID: <id>") and answers
like a well-behaved scoring LLM, unless a fault from the queue tells it to misbehave.

It also offers the Batch API the openai client uses (POST /v1/files, POST /v1/batches, GET
/v1/batches/{id}, POST /v1/batches/{id}/cancel, GET /v1/files/{id}/content): every line of a batch is
answered by the very code that answers /v1/chat/completions, and a `BatchPlan` says how a batch
progresses (in progress for N polls, then completed, failed or expired; faults for single lines).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .http import Delay, Fault, Headers, Malformed, Recorded, Response, Route, StandIn, Status


class _Closing(Protocol):
    async def aclose(self) -> None: ...


C = TypeVar("C", bound=_Closing)
T = TypeVar("T")

__all__ = [
    "GARBLED_ASK_REPLY",
    "KEYWORDS",
    "AsArray",
    "AsObject",
    "BatchPlan",
    "Drop",
    "Fenced",
    "Invent",
    "Judgement",
    "OpenAIStandIn",
    "OutOfRange",
    "PaperBlock",
    "Reply",
    "StandInBatch",
    "StandInFile",
    "ask_answer",
    "is_ask_request",
    "is_tldr_request",
    "judge",
    "parse_papers",
    "tldr_of",
    "translated_comments",
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


# --- the Batch API ------------------------------------------------------------------------------------

BATCH_ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations")
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_WINDOW = 24 * 3600
ENQUEUED_LIMIT_ERROR = {
    "code": "token_limit_exceeded",
    "message": "Enqueued token limit reached for gpt-4o-mini in organization org-standin. Limit: 2,000,000 "
    "enqueued tokens. Please try submitting a smaller batch or waiting for your in-progress batches to complete.",
    "param": None,
    "line": None,
}
_EXPIRED_LINE = ("batch_expired", "This request could not be executed before the completion window expired.")
_CANCELLED_LINE = ("batch_cancelled", "This request could not be executed before the batch was cancelled.")


@dataclass(frozen=True)
class BatchPlan:
    """How a batch runs; set `OpenAIStandIn.batch_plan` before the batch is created (each keeps its own).

    polls: retrieves answered "in_progress" before the batch ends (the first retrieve after those ends it).
    end: "completed", "failed" (errors below; no files) or "expired".
    answered: expired or cancelled batches answer only their first `answered` lines (the rest go to the
        error file as batch_expired / batch_cancelled).
    line_faults: 0-based input line → fault for that one request: any reply fault (Malformed, Drop,
        Invent, Reply, …) or a Status (the line lands in the error file with that HTTP error).
    lost_lines: 0-based input lines that appear in neither file (a request the batch loses).
    errors: a failed batch's `errors.data` (default: the enqueued-token-limit error).
    """

    polls: int = 0
    end: str = "completed"
    answered: int = 0
    line_faults: Mapping[int, Fault] = field(default_factory=dict)
    lost_lines: frozenset[int] = frozenset()
    errors: tuple[dict[str, Any], ...] = (ENQUEUED_LIMIT_ERROR,)


@dataclass
class StandInFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class StandInBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    plan: BatchPlan
    headers: Headers  # of the create request: its lines are answered with the same credentials
    metadata: dict[str, str] | None
    rows: list[dict[str, Any]]  # the parsed input lines
    invalid: list[dict[str, Any]]  # validation errors of the input file (the batch fails with them)
    created_at: int
    status: str = "validating"
    polls: int = 0  # retrieves so far
    lines: list[Recorded] = field(default_factory=list)  # requests answered, as /v1/chat/completions saw them
    errors: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    times: dict[str, int] = field(default_factory=dict)  # in_progress_at, completed_at, …

    @property
    def model(self) -> str | None:
        bodies = [r.get("body") for r in self.rows]
        return next((b.get("model") for b in bodies if isinstance(b, dict) and b.get("model")), None)

    def as_json(self) -> dict[str, Any]:
        stamps = ("in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at")
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + BATCH_WINDOW,
            **{name: self.times.get(name) for name in (*stamps, "cancelling_at", "cancelled_at")},
            "request_counts": {"total": len(self.rows), "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
        }


def _new_file(filename: str, purpose: str, content: bytes) -> StandInFile:
    return StandInFile(f"file-standin{uuid.uuid4().hex[:20]}", filename, purpose, content, int(time.time()))


def _validate_batch_input(rows: list[str], endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parsed lines and the validation errors the real API reports for them (a failed batch)."""

    def error(code: str, message: str, line: int | None, param: str | None = None) -> dict[str, Any]:
        return {"code": code, "message": message, "param": param, "line": line}

    parsed: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    if not rows:
        errors.append(error("empty_file", "The batch input file is empty.", None))
    for n, raw in enumerate(rows, 1):
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            errors.append(error("invalid_json_line", "This line is not parseable as valid JSON.", n))
            continue
        parsed.append(obj)
        missing = [name for name in ("custom_id", "method", "url", "body") if not obj.get(name)]
        if missing:
            errors.append(error("missing_required_parameter", f"Missing required parameter: '{missing[0]}'.", n))
            continue
        if obj["method"] != "POST":
            errors.append(error("invalid_method", f"The method '{obj['method']}' is not supported.", n, "method"))
        if obj["url"] != endpoint:
            message = f"The provided URL '{obj['url']}' does not match the batch endpoint '{endpoint}'."
            errors.append(error("url_mismatch", message, n, "url"))
        if obj["custom_id"] in seen:
            message = (
                "The custom_id for this request is a duplicate of another request. "
                "The custom_id parameter must be unique for each request in a batch."
            )
            errors.append(error("duplicate_custom_id", message, n, "custom_id"))
        seen.add(str(obj["custom_id"]))
        model = obj["body"].get("model") if isinstance(obj["body"], dict) else None
        if model and models and model not in models:
            message = (
                f"The provided model '{model}' does not match the model of the other requests in the batch. "
                "All requests in a batch must use the same model."
            )
            errors.append(error("model_mismatch", message, n, "body.model"))
        if model:
            models.add(model)
    return parsed, errors


def _multipart(rec: Recorded) -> dict[str, tuple[str | None, bytes]]:
    """Fields of a multipart/form-data body: name → (filename or None, value)."""
    ctype = rec.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + rec.body
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


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


def is_tldr_request(system: str) -> bool:
    """A request for TL;DRs (bot/scoring/tldr.py's prompt) rather than scores: its answer format names TLDR."""
    return '"TLDR"' in system


def is_ask_request(system: str) -> bool:
    """A question about a paper (bot/asking): its system prompt is prompts/ask_prompt.txt."""
    return system.startswith("You answer questions about one research paper")


# Words every question shares with any text: a sentence sharing only these does not answer anything.
_ASK_FILLER = frozenset({
    "a", "an", "and", "are", "at", "be", "by", "did", "do", "does", "for", "from", "how", "in", "is", "it", "of",
    "on", "or", "that", "the", "their", "them", "they", "this", "to", "was", "we", "were", "what", "when", "where",
    "which", "who", "why", "with",
})
GARBLED_ASK_REPLY = "\nSOURCES: 99\n"  # Malformed: no answer, and a passage number that was never sent


def ask_answer(user: str) -> str:
    """What the stand-in answers a question with: the sentence of the passages it was given that shares the most
    words with the question (filler words aside), citing its passage; when no sentence shares one, it says the
    passages do not say, with "SOURCES: none"."""
    question = set(re.findall(r"\w+", user.rsplit("Question:", 1)[-1].lower())) - _ASK_FILLER
    best: tuple[int, str, str] | None = None
    for number, body in re.findall(r"^<<<PASSAGE (\d+) \|[^\n]*\n(.*?)\n<<<END PASSAGE \1$", user,
                                   re.MULTILINE | re.DOTALL):
        for sentence in re.split(r"(?<=[.!?])\s", body.strip()):
            shared = len(question & set(re.findall(r"\w+", sentence.lower())))
            if shared and (best is None or shared > best[0]):
                best = (shared, number, sentence)
    if best is None:
        return "The passages do not say.\nSOURCES: none"
    return f"According to the paper: {best[2]}\nSOURCES: {best[1]}"


def translated_comments(system: str, user: str) -> dict[str, str]:
    """The stand-in's translations when a TL;DR request asks for them (a "COMMENT" in its answer format): each
    paper's "Comment:" line, tagged with the language the prompt names ("[German] Matches topic 1.")."""
    language = re.search(r"Translate it into ([^,]+),", system)
    if '"COMMENT"' not in system or language is None:
        return {}
    found = {}
    for block in parse_papers(user):
        comment = re.search(r"^Comment: ?(.*)$", block.text, re.MULTILINE)
        if comment:
            found[block.arxiv_id] = f"[{language.group(1)}] {comment.group(1).strip()}"
    return found


def tldr_of(title: str, abstract: str) -> str:
    """The stand-in's TL;DR: what a model says of a paper in one sentence, from its title and first claim."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(abstract.split()), maxsplit=1)[0].rstrip(".")
    words = " ".join(title.split()) or "a new method"
    return f"They present {words[0].lower() + words[1:]}; in short, {first[:1].lower() + first[1:]}."


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
    """OpenAI-compatible chat completions, models and Batch API; point clients at `base_url`.

    Batches and files survive `clear()` (like the prompt cache): a test can clear the log, then resume.
    """

    def __init__(self) -> None:
        super().__init__()
        self.overrides: dict[str, tuple[int, int]] = {}  # arxiv id -> forced (relevance, novelty)
        self.models: list[str] = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]
        self.require_auth: bool = True  # real API: 401 without a bearer token
        self._seen_prefixes: set[str] = set()
        self._cache_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.batch_plan = BatchPlan()  # how batches created from now on run
        self.files: dict[str, StandInFile] = {}
        self.batches: dict[str, StandInBatch] = {}
        self._batch_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def run_client(self, client_type: Callable[..., C], use: Callable[[C], Awaitable[T]], **options: Any) -> T:
        """Build ``client_type(**options)`` (an adapter over the openai client) pointed here, run ``use``
        with it and close it, all in one event loop."""
        options.setdefault("base_url", self.base_url)

        async def main() -> T:
            client = client_type(**options)
            try:
                return await use(client)
            finally:
                await client.aclose()

        return asyncio.run(main())

    @property
    def completions(self) -> list[Recorded]:
        """Requests made to /v1/chat/completions (including ones answered with a fault)."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def paper_ids_per_request(self) -> list[list[str]]:
        """The arXiv ids each scoring request carried, retries included, in arrival order (TL;DR requests are in
        tldr_completions)."""
        tldrs = {id(r) for r in self.tldr_completions}
        return [r.paper_ids for r in self.completions if id(r) not in tldrs]

    @property
    def tldr_completions(self) -> list[Recorded]:
        """Chat completion requests that asked for TL;DRs (bot/scoring/tldr.py) rather than scores."""
        return [r for r in self.completions if is_tldr_request(self._system_text(_messages(r)))]

    @property
    def batch_api_requests(self) -> list[Recorded]:
        """Requests made to the Batch API's endpoints (/v1/files…, /v1/batches…)."""
        return [r for r in self.requests if r.path.startswith(("/v1/files", "/v1/batches"))]

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
            self._note_paper_ids(rec)
            return self._chat
        if rec.method == "GET" and path == "/v1/models":
            return self._models
        if rec.method == "GET" and path.startswith("/v1/models/"):
            return self._model
        if rec.method == "POST" and path == "/v1/files":
            return self._upload
        if rec.method == "GET" and re.fullmatch(r"/v1/files/[^/]+/content", path):
            return self._file_content
        if rec.method == "POST" and path == "/v1/batches":
            return self._create_batch
        if rec.method == "GET" and re.fullmatch(r"/v1/batches/[^/]+", path):
            return self._retrieve_batch
        if rec.method == "POST" and re.fullmatch(r"/v1/batches/[^/]+/cancel", path):
            return self._cancel_batch
        return None

    def _note_paper_ids(self, rec: Recorded) -> None:
        messages = rec.json.get("messages") if isinstance(rec.json, dict) else None
        if isinstance(messages, list):
            rec.paper_ids = [b.arxiv_id for b in parse_papers(self._last_user_text(messages))]

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

    def _unauthenticated(self, rec: Recorded) -> Response | None:
        auth = rec.headers.get("authorization", "")
        if self.require_auth and (not auth.startswith("Bearer ") or not auth[7:].strip()):
            return _error(401, "You didn't provide an API key.", _INVALID, None)
        return None

    def _chat(self, rec: Recorded, fault: Fault | None) -> Response:
        refused = self._unauthenticated(rec)
        if refused is not None:
            return refused
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

    # the Batch API

    def _upload(self, rec: Recorded, fault: Fault | None) -> Response:
        refused = self._unauthenticated(rec)
        if refused is not None:
            return refused
        fields = _multipart(rec)
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        if "file" not in fields or fields["file"][0] is None:
            return _error(400, "Missing required parameter: 'file'.", _INVALID, _MISSING)
        if not purpose:
            return _error(400, "Missing required parameter: 'purpose'.", _INVALID, _MISSING)
        if purpose not in FILE_PURPOSES:
            return _error(400, f"'{purpose}' is not one of {list(FILE_PURPOSES)} - 'purpose'", _INVALID, None)
        filename, content = fields["file"]
        if purpose == "batch" and not (filename or "").endswith(".jsonl"):
            return _error(400, "Invalid file format for Batch API. Must be .jsonl", _INVALID, None)
        stored = _new_file(filename or "", purpose, content)
        with self._batch_lock:
            self.files[stored.id] = stored
        return _json(200, stored.as_json())

    def _file_content(self, rec: Recorded, fault: Fault | None) -> Response:
        refused = self._unauthenticated(rec)
        if refused is not None:
            return refused
        file_id = rec.path.rstrip("/").split("/")[3]
        with self._batch_lock:
            stored = self.files.get(file_id)
        if stored is None:
            return _error(404, f"No such File object: {file_id}", _INVALID, None)
        return Response(200, stored.content, "application/octet-stream", {"x-request-id": f"req_{uuid.uuid4().hex}"})

    def _create_batch(self, rec: Recorded, fault: Fault | None) -> Response:
        refused = self._unauthenticated(rec)
        if refused is not None:
            return refused
        req = rec.json if isinstance(rec.json, dict) else {}
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not req.get(name):
                return _error(400, f"Missing required parameter: '{name}'.", _INVALID, _MISSING)
        if req["endpoint"] not in BATCH_ENDPOINTS:
            return _error(400, f"Invalid value for 'endpoint': {req['endpoint']!r}.", _INVALID, "invalid_value")
        if req["completion_window"] != "24h":
            message = f"Invalid value for 'completion_window': {req['completion_window']!r}. Only '24h' is supported."
            return _error(400, message, _INVALID, "invalid_value")
        with self._batch_lock:
            source = self.files.get(req["input_file_id"])
        if source is None:
            return _error(404, f"No such File object: {req['input_file_id']}", _INVALID, None)
        if source.purpose != "batch":
            message = f"The input file {source.id} must be uploaded with purpose 'batch', not '{source.purpose}'."
            return _error(400, message, _INVALID, None)
        text = source.content.decode("utf-8", "replace")
        rows, invalid = _validate_batch_input([line for line in text.splitlines() if line.strip()], req["endpoint"])
        batch = StandInBatch(
            id=f"batch_standin{uuid.uuid4().hex[:20]}",
            input_file_id=source.id,
            endpoint=req["endpoint"],
            completion_window=req["completion_window"],
            plan=self.batch_plan,
            headers=rec.headers,
            metadata=req.get("metadata"),
            rows=rows,
            invalid=invalid,
            created_at=int(time.time()),
        )
        with self._batch_lock:
            self.batches[batch.id] = batch
        return _json(200, batch.as_json())

    def _batch_of(self, rec: Recorded) -> StandInBatch | Response:
        batch_id = rec.path.rstrip("/").split("/")[3]
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, f"No batch found with id '{batch_id}'.", _INVALID, None)
        return batch

    def _retrieve_batch(self, rec: Recorded, fault: Fault | None) -> Response:
        with self._batch_lock:
            batch = self._unauthenticated(rec) or self._batch_of(rec)
            if isinstance(batch, Response):
                return batch
            batch.polls += 1
            now = int(time.time())
            if batch.status in ("validating", "in_progress"):
                if batch.invalid:
                    batch.status, batch.errors, batch.times["failed_at"] = "failed", batch.invalid, now
                elif batch.polls <= batch.plan.polls:
                    batch.status = "in_progress"
                    batch.times.setdefault("in_progress_at", now)
                else:
                    self._finish(batch, batch.plan.end)
            elif batch.status == "cancelling":
                self._finish(batch, "cancelled")
            return _json(200, batch.as_json())

    def _cancel_batch(self, rec: Recorded, fault: Fault | None) -> Response:
        with self._batch_lock:
            batch = self._unauthenticated(rec) or self._batch_of(rec)
            if isinstance(batch, Response):
                return batch
            if batch.status not in ("validating", "in_progress"):
                return _error(409, f"Cannot cancel a batch with status '{batch.status}'.", _INVALID, None)
            batch.status = "cancelling"
            batch.times["cancelling_at"] = int(time.time())
            return _json(200, batch.as_json())

    def _finish(self, batch: StandInBatch, end: str) -> None:
        """End a batch (caller holds the batch lock): answer its lines and write the output and error files."""
        now = int(time.time())
        batch.times.setdefault("in_progress_at", now)
        if end == "failed":
            batch.status, batch.errors, batch.times["failed_at"] = "failed", list(batch.plan.errors), now
            return
        answered = len(batch.rows) if end == "completed" else batch.plan.answered
        unanswered = _EXPIRED_LINE if end == "expired" else _CANCELLED_LINE
        output: list[str] = []
        errors: list[str] = []
        for index, row in enumerate(batch.rows):
            if index in batch.plan.lost_lines:
                continue
            line: dict[str, Any] = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": row.get("custom_id")}
            if index >= answered:
                line |= {"response": None, "error": {"code": unanswered[0], "message": unanswered[1]}}
                errors.append(json.dumps(line))
                continue
            resp = self._answer_line(batch, row, batch.plan.line_faults.get(index))
            body = json.loads(resp.body)
            request_id = resp.headers.get("x-request-id")
            line |= {"response": {"status_code": resp.status, "request_id": request_id, "body": body}, "error": None}
            (output if resp.status == 200 else errors).append(json.dumps(line))
        batch.completed, batch.failed = len(output), len(errors)
        batch.output_file_id = self._store_file(f"{batch.id}_output.jsonl", output)
        batch.error_file_id = self._store_file(f"{batch.id}_error.jsonl", errors)
        batch.status = {"completed": "completed", "expired": "expired", "cancelled": "cancelled"}[end]
        batch.times["finalizing_at"] = now
        batch.times[f"{batch.status}_at"] = now

    def _answer_line(self, batch: StandInBatch, row: dict[str, Any], fault: Fault | None) -> Response:
        """One batch request, answered exactly as POST /v1/chat/completions would answer it."""
        body = row.get("body")
        rec = Recorded(
            method="POST",
            path=str(row.get("url")),
            query={},
            headers=batch.headers,
            body=json.dumps(body).encode(),
            json=body,
            time=time.time(),
            fault=fault,
        )
        self._note_paper_ids(rec)
        if isinstance(fault, Delay):
            fault = None  # a batch has no client waiting on a line
        if isinstance(fault, Status):
            resp = self.error_response(rec, fault)
        elif isinstance(body, dict) and body.get("model") not in self.models:
            resp = self.error_response(rec, Status(404))
        else:
            resp = self._chat(rec, fault)
        rec.status = resp.status
        batch.lines.append(rec)
        return resp

    def _store_file(self, filename: str, lines: list[str]) -> str | None:
        if not lines:
            return None
        content = ("\n".join(lines) + "\n").encode()
        stored = _new_file(filename, "batch_output", content)
        self.files[stored.id] = stored
        return stored.id

    # the "model"

    @staticmethod
    def _last_user_text(messages: list[Any]) -> str:
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                return _text_of(m.get("content"))
        return ""

    @staticmethod
    def _system_text(messages: list[Any]) -> str:
        roles = ("system", "developer")
        return "".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") in roles)

    @staticmethod
    def _tldrs(papers: list[PaperBlock], fault: Fault | None, comments: dict[str, str]) -> str:
        """TL;DR lines (with the comments translated when asked) as a model writes them, or garbled (Malformed)
        or short (Drop) as a model sometimes does."""
        items = [{"ARXIVID": p.arxiv_id, "TLDR": tldr_of(p.title, p.abstract)} for p in papers]
        for item in items:
            if item["ARXIVID"] in comments:
                item["COMMENT"] = comments[item["ARXIVID"]]
        if isinstance(fault, Malformed):
            first = items[0]["ARXIVID"] if items else "2503.00000"
            return "Sure! Here are the TL;DRs:\n{ARXIVID: " + first + ', TLDR: "They show\n'
        if isinstance(fault, Drop):
            items = items[: max(len(items) - fault.n, 0)]
        content = "\n".join(json.dumps(item, ensure_ascii=False) for item in items)
        return f"```json\n{content}\n```" if isinstance(fault, Fenced) else content

    def _scores(self, arxiv_id: str, title: str, abstract: str) -> tuple[int, int, str]:
        j = judge(arxiv_id, title, abstract)
        forced = self.overrides.get(arxiv_id) or self.overrides.get(re.sub(r"v\d+$", "", arxiv_id))
        if forced:
            j = Judgement(forced[0], forced[1], j.hits)
        return j.relevance, j.novelty, j.comment

    def _content(self, messages: list[Any], response_format: Any, fault: Fault | None) -> str:
        if isinstance(fault, Reply):
            return fault.content
        if is_ask_request(self._system_text(messages)):
            return GARBLED_ASK_REPLY if isinstance(fault, Malformed) else ask_answer(self._last_user_text(messages))
        papers = parse_papers(self._last_user_text(messages))
        if is_tldr_request(self._system_text(messages)):
            system = self._system_text(messages)
            return self._tldrs(papers, fault, translated_comments(system, self._last_user_text(messages)))
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


def _messages(rec: Recorded) -> list[Any]:
    messages = rec.json.get("messages") if isinstance(rec.json, dict) else None
    return messages if isinstance(messages, list) else []


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    headers = {"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})}
    return Response(status, json.dumps(payload), "application/json", headers)


def _error(status: int, message: str, err_type: str, code: str | None) -> Response:
    return _json(status, {"error": {"message": message, "type": err_type, "param": None, "code": code}})


def _model_obj(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "openai"}
