"""The Batch API edge: a thin client over the official ``openai`` AsyncOpenAI (DIGEST_USE_BATCH_API).

A batch is a JSONL file of chat completion requests, uploaded with ``purpose="batch"``, run by the
endpoint within 24 hours at half the price. Its replies come back as two JSONL files: the output file
(answered requests) and the error file (requests answered with an HTTP error, and requests the batch
never ran: ``batch_expired`` / ``batch_cancelled``). The client is built, and its failures translated,
exactly as for live chat completions (adapters/llm.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import openai
import pydantic
from openai.types import Batch
from openai.types.chat import ChatCompletion

from adapters.llm import REFUSED_KEY, OpenAIClientOwner, completion_of, llm_error, unknown_model
from bot.domain.errors import LLMError, LLMUnusableError
from bot.domain.models import Completion
from bot.scoring.batch_scoring import BatchRequest, BatchState, RequestCounts, UnknownBatchError

ENDPOINT: Final = "/v1/chat/completions"
INPUT_FILENAME = "arxiv-digest-batch.jsonl"  # the Batch API takes .jsonl files only


class OpenAIBatch(OpenAIClientOwner):

    def request_line(self, request: BatchRequest) -> dict[str, Any]:
        """One line of the input file: the body is what OpenAIChat.complete sends live."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": request.user}],
            "temperature": 0,
        }
        if request.response_format:
            body["response_format"] = request.response_format
        return {"custom_id": request.custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def submit(self, requests: Sequence[BatchRequest]) -> str:
        """Upload the requests as a JSONL file and start a batch over it; returns the batch ID."""
        data = "".join(json.dumps(self.request_line(r), ensure_ascii=False) + "\n" for r in requests).encode()
        try:
            uploaded = await self._client.files.create(
                file=(INPUT_FILENAME, data, "application/jsonl"), purpose="batch"
            )
            batch = await self._client.batches.create(
                endpoint=ENDPOINT,
                completion_window="24h",
                input_file_id=uploaded.id,
                metadata={"source": "arxiv-digest"},
            )
        except openai.APIError as exc:
            raise llm_error(exc, not_found=_no_batch_api) from exc
        return batch.id

    async def poll(self, batch_id: str) -> BatchState:
        return await _on_batch(self._client.batches.retrieve, batch_id)

    async def cancel(self, batch_id: str) -> BatchState:
        return await _on_batch(self._client.batches.cancel, batch_id)

    async def results(self, state: BatchState) -> dict[str, Completion | str]:
        """custom_id → the completion, or why the request has none, from the output and error files.

        Raises LLMUnusableError when no request succeeded and every failure says the key or the model
        is wrong: no request of this deployment can succeed, live or batched.
        """
        replies: dict[str, Completion | str] = {}
        unusable: list[str] = []
        for file_id in (state.output_file_id, state.error_file_id):
            if not file_id:
                continue
            for line in await self._lines(file_id):
                custom_id = line.get("custom_id")
                if not isinstance(custom_id, str) or isinstance(replies.get(custom_id), Completion):
                    continue
                reply, refused = self._reply(line)
                replies[custom_id] = reply
                if refused and isinstance(reply, str):
                    unusable.append(reply)
        errors = [r for r in replies.values() if isinstance(r, str)]
        if unusable and len(unusable) == len(errors) == len(replies):
            raise LLMUnusableError(unusable[0])
        return replies

    async def aclose(self) -> None:
        await self._client.close()

    async def _lines(self, file_id: str) -> list[dict[str, Any]]:
        try:
            content = await self._client.files.content(file_id)
        except openai.APIError as exc:
            raise llm_error(
                exc, not_found=lambda e: LLMError(f"the batch file {file_id} is gone ({e.message})")
            ) from exc
        lines: list[dict[str, Any]] = []
        for raw in content.text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # a broken line scores nothing; its papers are reported missing
            if isinstance(line, dict):
                lines.append(line)
        return lines

    def _reply(self, line: dict[str, Any]) -> tuple[Completion | str, bool]:
        """A line's completion or error message, and whether the error means no request can succeed."""
        error = line.get("error")
        if isinstance(error, dict):  # the request never ran (batch_expired, batch_cancelled, …)
            return f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}", False
        response = line.get("response")
        if not isinstance(response, dict):
            response = {}
        status, body = response.get("status_code"), response.get("body")
        if status == 200 and isinstance(body, dict):
            try:
                return completion_of(ChatCompletion.model_validate(body)), False
            except pydantic.ValidationError:
                return "the reply is not a chat completion", False
        detail = body.get("error") if isinstance(body, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        message = str(detail.get("message") or "no message")
        if status in (401, 403):
            return REFUSED_KEY, True
        if status == 404 and detail.get("code") == "model_not_found":
            return unknown_model(self.model, message), True
        return f"HTTP {status}: {message}", False


async def _on_batch(call: Callable[[str], Awaitable[Batch]], batch_id: str) -> BatchState:
    """One call about an existing batch, as its state; a 404 means the endpoint does not know the ID."""
    try:
        batch = await call(batch_id)
    except openai.APIError as exc:
        raise llm_error(exc, not_found=lambda e: UnknownBatchError(_unknown_batch(batch_id, e))) from exc
    return _state(batch)


def _state(batch: Batch) -> BatchState:
    counts = batch.request_counts
    errors = tuple(
        f"{e.code or 'error'}: {e.message or 'no message'}" + (f" (input line {e.line})" if e.line else "")
        for e in (batch.errors.data or [] if batch.errors else [])
    )
    return BatchState(
        id=batch.id,
        status=batch.status,
        request_counts=RequestCounts(counts.total, counts.completed, counts.failed) if counts else RequestCounts(),
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors=errors,
    )


def _no_batch_api(exc: openai.NotFoundError) -> LLMError:
    return LLMUnusableError(
        f"the LLM endpoint offers no Batch API ({exc.message}): check OPENAI_BASE_URL or unset DIGEST_USE_BATCH_API"
    )


def _unknown_batch(batch_id: str, exc: openai.NotFoundError) -> str:
    return f"the LLM endpoint does not know batch {batch_id!r} ({exc.message})"
