"""Errors the core reports to people: each message says what happened and what to do next."""


class DigestError(RuntimeError):
    """A failure with a message fit for the terminal or a chat reply."""


class FeedError(DigestError):
    """The arXiv feed could not be read (after retries)."""


class LLMError(DigestError):
    """An LLM request failed for good (after the client's own retries)."""


class LLMUnusableError(LLMError):
    """No request can succeed (wrong key, unreachable endpoint, unknown model): stop the run at once."""


class BudgetError(DigestError):
    """A budget is set that cannot be enforced (no price for the model)."""


class CriteriaError(DigestError):
    """Criteria text refused (empty or over the limit)."""


class NotFoundError(DigestError):
    """An arXiv ID that arXiv does not know."""


class PostError(DigestError):
    """A chat platform refused a message (the bot is not in the channel, the channel is archived, …)."""


class StorageError(DigestError):
    """The database cannot be used as it is (migrated by a newer arxiv-digest, half-made by a dev build, …)."""
