"""What scoring papers costs, request by request, priced before (or without) sending them.

The requests are the ones :class:`~bot.scoring.llm_scorer.LLMScorer` sends: the static system prompt and
one batch of papers each (``plan_batches``). Tokens are counted by a counter the caller gives (the
model's tokenizer in the benchmark; nothing in the core depends on one). The reply is the line the
prompt asks for per paper, which the caller writes from the judgment it expects.

The provider's prompt cache is modelled as OpenAI documents it: only a prefix of at least 1,024 tokens
is cached, in steps of 128 tokens, and only once a request carrying it has been served, so the first
wave of requests in flight (``concurrency`` of them, or only the first when the cache is warmed) pays
the full price.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain.models import Paper, Usage
from bot.scoring import prompt
from bot.scoring.llm_scorer import plan_batches

TokenCounter = Callable[[str], int]
Reply = Callable[[Paper], str]  # the reply line the LLM is expected to write for a paper

# Chat formatting around each message (role and separators) and before the reply (OpenAI's cookbook).
TOKENS_PER_MESSAGE = 4
REPLY_PRIMING = 3
CACHE_MIN_TOKENS = 1024
CACHE_STEP = 128


def cached_prefix(system_tokens: int) -> int:
    """Tokens of a repeated request the cache serves: the system message, in whole steps, when long enough."""
    prefix = system_tokens + TOKENS_PER_MESSAGE
    return prefix // CACHE_STEP * CACHE_STEP if prefix >= CACHE_MIN_TOKENS else 0


def request_usages(
    papers: Sequence[Paper], criteria: str, *, batch_size: int, first_wave: int, count: TokenCounter, reply: Reply,
) -> list[Usage]:
    """One Usage per request that scoring ``papers`` sends; the first ``first_wave`` requests miss the cache."""
    system_tokens = count(prompt.system_prompt(criteria))
    cached = cached_prefix(system_tokens)
    usages = []
    for n, batch in enumerate(plan_batches(papers, batch_size)):
        user_tokens = count(prompt.papers_message(batch))
        usages.append(Usage(
            prompt_tokens=system_tokens + user_tokens + 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING,
            cached_tokens=cached if n >= first_wave else 0,
            completion_tokens=count("\n".join(reply(p) for p in batch)) + 1,  # + the end-of-reply token
            requests=1,
        ))
    return usages
