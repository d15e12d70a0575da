"""Local fake services (arXiv RSS/API, the OpenAI chat and Batch APIs) for tests; see each module's docstring."""

from .arxiv_server import ArxivStandIn
from .feeds import Paper, build_atom, build_error_rss, build_rss, make_paper, rfc822, versioned_id
from .http import Delay, Fault, Headers, Malformed, Recorded, Response, StandIn, Status
from .openai_server import (
    KEYWORDS,
    AsArray,
    AsObject,
    BatchPlan,
    Drop,
    Fenced,
    Invent,
    Judgement,
    OpenAIStandIn,
    OutOfRange,
    PaperBlock,
    Reply,
    judge,
    parse_papers,
)

__all__ = [
    "KEYWORDS",
    "ArxivStandIn",
    "AsArray",
    "AsObject",
    "BatchPlan",
    "Delay",
    "Drop",
    "Fault",
    "Fenced",
    "Headers",
    "Invent",
    "Judgement",
    "Malformed",
    "OpenAIStandIn",
    "OutOfRange",
    "Paper",
    "PaperBlock",
    "Recorded",
    "Reply",
    "Response",
    "StandIn",
    "Status",
    "build_atom",
    "build_error_rss",
    "build_rss",
    "judge",
    "make_paper",
    "parse_papers",
    "rfc822",
    "versioned_id",
]
