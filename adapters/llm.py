"""The LLM edge: the official ``openai`` client against any OpenAI-compatible endpoint.

The client itself retries 408/409/429/5xx and timeouts with backoff and honours ``Retry-After``; we
only translate its answers and its final failures into our own types. The construction of the client,
the translation of its failures and the reading of a chat completion are shared with the Batch API
client (adapters/llm_batch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import openai
from openai.types.chat import ChatCompletion

from bot.domain.errors import LLMError, LLMUnusableError
from bot.domain.models import Completion, Usage
from bot.domain.settings import Settings

REFUSED_KEY = "the LLM endpoint refused the API key: check OPENAI_API_KEY"


def client_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``make_client`` (and of the clients' constructors) a deployment sets."""
    if settings.openai_api_key is None:
        raise LLMUnusableError("no OPENAI_API_KEY is set")
    return {
        "api_key": settings.openai_api_key.get_secret_value(),
        "base_url": settings.openai_base_url,
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
    }


def make_client(
    *, api_key: str, base_url: str | None = None, timeout: float = 60.0, max_retries: int = 4
) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)


def unknown_model(model: str, detail: str) -> str:
    return f"the LLM endpoint does not know model {model!r} ({detail}): check DIGEST_MODEL"


def llm_error(exc: openai.APIError, *, not_found: Callable[[openai.NotFoundError], LLMError]) -> LLMError:
    """Our error for the client's final failure; what a 404 means depends on the request (``not_found``)."""
    if isinstance(exc, openai.APITimeoutError):  # a subclass of APIConnectionError: test it first
        return LLMError("the LLM did not answer in time (after retries)")
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnusableError(f"cannot reach the LLM endpoint ({exc}): check OPENAI_BASE_URL")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMUnusableError(REFUSED_KEY)
    if isinstance(exc, openai.NotFoundError):
        return not_found(exc)
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"the LLM endpoint answered HTTP {exc.status_code}: {exc.message}")
    return LLMError(f"the LLM endpoint's answer could not be read ({exc})")


def completion_of(response: ChatCompletion) -> Completion:
    """Text and token usage of a chat completion (``prompt_tokens`` includes the cached ones)."""
    usage = Usage(requests=1)
    if response.usage is not None:
        details = response.usage.prompt_tokens_details
        usage = Usage(
            prompt_tokens=response.usage.prompt_tokens or 0,
            cached_tokens=(details.cached_tokens or 0) if details else 0,
            completion_tokens=response.usage.completion_tokens or 0,
            requests=1,
        )
    text = response.choices[0].message.content if response.choices else None
    return Completion(text=text or "", usage=usage)


class OpenAIClientOwner:
    """Holds one AsyncOpenAI client for a model: the live chat path and the Batch API path share it."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
    ) -> None:
        self.model = model
        self._client = make_client(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(model=settings.model, **client_options(settings))


class OpenAIChat(OpenAIClientOwner):

    async def complete(
        self, system: str, user: str, response_format: dict[str, Any] | None = None, max_tokens: int | None = None
    ) -> Completion:
        extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
        if max_tokens is not None:
            extra["max_completion_tokens"] = max_tokens
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                temperature=0,
                **extra,
            )
        except openai.APIError as exc:
            raise llm_error(exc, not_found=lambda e: LLMUnusableError(unknown_model(self.model, e.message))) from exc
        return completion_of(response)

    async def aclose(self) -> None:
        await self._client.close()
