"""What tokens cost. Prices in USD per one million tokens: (input, cached input, output)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.models import Usage

Price = tuple[float, float, float]

# Public list prices of OpenAI's models; DIGEST_PRICES adds or overrides entries (other providers).
PRICES: dict[str, Price] = {
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "o4-mini": (1.10, 0.275, 4.40),
    "o3": (2.00, 0.50, 8.00),
}


def price_for(model: str, extra: Mapping[str, Price] | None = None) -> Price | None:
    """Exact name first, then the longest known prefix (``gpt-4o-2024-08-06`` → ``gpt-4o``)."""
    table = {**PRICES, **(extra or {})}
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def cost_of(usage: Usage, price: Price | None) -> float | None:
    """Cost in USD, or None when the price is unknown (shown as "cost unknown", never $0)."""
    if price is None:
        return None
    input_price, cached_price, output_price = price
    uncached = max(usage.prompt_tokens - usage.cached_tokens, 0)  # prompt_tokens includes cached ones
    return (
        uncached * input_price + usage.cached_tokens * cached_price + usage.completion_tokens * output_price
    ) / 1_000_000


# The Batch API (DIGEST_USE_BATCH_API) bills every token, cached ones included, at half the live price in
# exchange for results within 24 hours: OpenAI's published Batch API discount. The only place it is set.
BATCH_API_PRICE_FACTOR = 0.5


def batch_cost_of(usage: Usage, price: Price | None) -> float | None:
    """Cost in USD of tokens spent through the Batch API, or None when the price is unknown."""
    cost = cost_of(usage, price)
    return None if cost is None else cost * BATCH_API_PRICE_FACTOR


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "cost unknown"
    if cost == 0:
        return "$0.00"
    return f"${cost:.4f}" if cost < 0.01 else f"${cost:.2f}"
