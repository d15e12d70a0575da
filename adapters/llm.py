"""The LLM edge: the official ``openai`` client against any OpenAI-compatible endpoint.

The client itself retries 408/409/429/5xx and timeouts with backoff and honours ``Retry-After``; we
only translate its answers and its final failures into our own types.
"""

from __future__ import annotations

from typing import Any

import openai

from bot.errors import LLMError, LLMUnusableError
from bot.models import Completion, Usage
from bot.settings import Settings


class OpenAIChat:
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
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIChat:
        if settings.openai_api_key is None:
            raise LLMUnusableError("no OPENAI_API_KEY is set")
        return cls(
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.model,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    async def complete(self, system: str, user: str, response_format: dict[str, Any] | None = None) -> Completion:
        extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                temperature=0,
                **extra,
            )
        except openai.APITimeoutError as exc:
            raise LLMError("the LLM did not answer in time (after retries)") from exc
        except openai.APIConnectionError as exc:
            raise LLMUnusableError(f"cannot reach the LLM endpoint ({exc}): check OPENAI_BASE_URL") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LLMUnusableError("the LLM endpoint refused the API key: check OPENAI_API_KEY") from exc
        except openai.NotFoundError as exc:
            raise LLMUnusableError(
                f"the LLM endpoint does not know model {self.model!r} ({exc.message}): check DIGEST_MODEL"
            ) from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the LLM endpoint answered HTTP {exc.status_code}: {exc.message}") from exc
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

    async def aclose(self) -> None:
        await self._client.close()
