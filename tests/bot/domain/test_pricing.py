import pytest

from bot.domain.models import Usage
from bot.domain.pricing import cost_of, format_cost, price_for


def test_dated_model_names_take_the_family_price():
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini")


def test_unknown_model_has_no_price_and_shows_cost_unknown_never_zero():
    assert price_for("my-local-llama") is None
    assert cost_of(Usage(1000, 0, 100), None) is None
    assert format_cost(None) == "cost unknown"


def test_extra_prices_add_models():
    assert price_for("my-local-llama", {"my-local-llama": (1.0, 0.5, 2.0)}) == (1.0, 0.5, 2.0)


def test_cached_tokens_are_priced_at_the_cached_rate():
    price = (2.50, 1.25, 10.00)
    # 1M prompt tokens of which 400k cached, 100k completion.
    cost = cost_of(Usage(prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=100_000), price)
    assert cost == pytest.approx(0.6 * 2.50 + 0.4 * 1.25 + 0.1 * 10.00)
