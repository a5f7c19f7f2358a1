"""Prices (SPEC §9): genai-prices with its tiers, local at 0, the workspace's pricing.yaml over both, unpriced models."""

from __future__ import annotations

import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from agents_core.errors import exit_code
from agents_core.llm.pricing import (
    Cost,
    PriceBook,
    PricingFileError,
    UnpricedModelWarning,
    calculate_cost,
    format_usd,
    genai_prices_version,
    price_book,
    read_pricing_file,
)


def _genai(model: str, provider: str, tokens_in: int, tokens_out: int) -> Decimal:
    """What genai-prices itself says (the library is the reference, not numbers copied into the test)."""
    from genai_prices import Usage, calc_price

    return calc_price(Usage(input_tokens=tokens_in, output_tokens=tokens_out), model, provider_id=provider).total_price


def test_a_known_model_is_priced_by_genai_prices_with_its_version_and_rates():
    cost = calculate_cost("google", "gemini-2.5-flash", 1_000, 500)
    assert cost.usd == pytest.approx(float(_genai("gemini-2.5-flash", "google", 1_000, 500)))
    assert cost.usd > 0 and cost.source == f"genai-prices {genai_prices_version()}"
    assert cost.input_per_mtok > 0 and cost.output_per_mtok > cost.input_per_mtok
    assert cost.usd == pytest.approx((1_000 * cost.input_per_mtok + 500 * cost.output_per_mtok) / 1e6)


def test_gemini_25_pro_is_priced_at_its_higher_tier_above_200k_input_tokens():
    below = calculate_cost("google", "gemini-2.5-pro", 200_000, 1_000)
    above = calculate_cost("google", "gemini-2.5-pro", 200_001, 1_000)
    assert above.input_per_mtok > below.input_per_mtok and above.output_per_mtok > below.output_per_mtok
    assert above.usd == pytest.approx(float(_genai("gemini-2.5-pro", "google", 200_001, 1_000)))
    assert above.usd == pytest.approx((200_001 * above.input_per_mtok + 1_000 * above.output_per_mtok) / 1e6)
    assert above.usd > below.usd * 1.5  # the whole call moves to the tier, not just the tokens above it


def test_the_local_model_costs_zero_from_the_local_source():
    assert calculate_cost("local", "smollm2-135m-instruct", 10_000, 10_000) == Cost(0.0, "local", 0.0, 0.0)


def test_an_unknown_model_is_unpriced_with_one_warning_never_zero():
    book = PriceBook()
    with pytest.warns(UnpricedModelWarning, match="'no-such-model'.*unpriced") as caught:
        first = book.cost("google", "no-such-model", 100, 100)
        second = book.cost("google", "no-such-model", 100, 100)
    assert len(caught) == 1
    assert first.usd is None and second.usd is None and first.source == "unpriced"
    assert not first.priced and format_usd(first.usd) == "unpriced"
    with warnings.catch_warnings(record=True) as unknown_provider:
        warnings.simplefilter("always")
        assert book.cost("my-own-provider", "x", 1, 1).usd is None
    assert [w.category for w in unknown_provider] == [UnpricedModelWarning]


def _pricing(root: Path, text: str) -> Path:
    path = root / "pricing.yaml"
    path.write_text(text)
    return path


def test_pricing_yaml_overrides_a_known_model_and_extends_with_new_ones(tmp_path):
    _pricing(
        tmp_path,
        """\
date: 2026-11-01
prices:
  google:
    gemini-2.5-flash: {input_per_mtok: 1.0, output_per_mtok: 4.0}
  openai:
    llama3.1:8b: {input_per_mtok: 0.1, output_per_mtok: 0.2}
  local:
    "*": {input_per_mtok: 0.5, output_per_mtok: 0.5}
""",
    )
    flash = calculate_cost("google", "gemini-2.5-flash", 1_000_000, 1_000_000, workspace=tmp_path)
    assert flash == Cost(5.0, "pricing.yaml 2026-11-01", 1.0, 4.0)
    llama = calculate_cost("openai", "llama3.1:8b", 2_000_000, 1_000_000, workspace=tmp_path)
    assert llama.usd == pytest.approx(0.4) and llama.source == "pricing.yaml 2026-11-01"
    assert calculate_cost("local", "any.gguf", 2_000_000, 0, workspace=tmp_path).usd == pytest.approx(1.0)
    # a model the file does not name still comes from genai-prices
    pro = calculate_cost("google", "gemini-2.5-pro", 1_000, 1_000, workspace=tmp_path)
    assert pro.source.startswith("genai-prices ")


def test_the_workspace_book_is_read_again_when_pricing_yaml_changes(tmp_path):
    path = _pricing(tmp_path, "date: 2026-11-01\nprices: {google: {m1: {input_per_mtok: 1, output_per_mtok: 1}}}\n")
    assert price_book(tmp_path) is price_book(tmp_path)  # cached while the file is unchanged
    assert calculate_cost("google", "m1", 1_000_000, 0, workspace=tmp_path).usd == 1.0
    path.write_text("date: 2026-12-01\nprices: {google: {m1: {input_per_mtok: 2.5, output_per_mtok: 1}}}\n")
    changed = calculate_cost("google", "m1", 1_000_000, 0, workspace=tmp_path)
    assert changed.usd == 2.5 and changed.source == "pricing.yaml 2026-12-01"


def test_the_workspace_defaults_to_agents_workspace(isolated_workspace):
    _pricing(
        isolated_workspace,
        "date: 2026-11-01\nprices: {google: {house-model: {input_per_mtok: 3, output_per_mtok: 0}}}\n",
    )
    assert calculate_cost("google", "house-model", 1_000_000, 0).usd == 3.0


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("prices: {}\n", "date", "field required"),
        ("date: 2026-13-01\nprices: {}\n", "date (line 1, col 7)", "valid date"),
        (
            "date: 2026-11-01\nprices:\n  google:\n    m: {input_per_mtok: -1, output_per_mtok: 1}\n",
            "prices.google.m.input_per_mtok (line 4, col 25)",
            "greater than or equal to 0",
        ),
        (
            "date: 2026-11-01\nprices:\n  google:\n    m: {input_per_mtok: 1, output: 1}\n",
            "prices.google.m.output (line 4, col 28)",
            "unknown key 'output'",
        ),
        (
            "date: 2026-11-01\nprices:\n  google:\n    m: {input_per_mtok: 1, output_per_mtok: .inf}\n",
            "line 4",
            "finite",
        ),
        ("date: 2026-11-01\nprices: [oops\n", "line 2", ""),
        ("- just\n- a list\n", "", "not a mapping"),
    ],
)
def test_a_bad_pricing_file_is_a_clear_error_naming_file_line_and_key(tmp_path, text, where, words):
    path = _pricing(tmp_path, text)
    with pytest.raises(PricingFileError) as caught:
        read_pricing_file(path)
    error = caught.value
    assert error.message.startswith(f"{path}: ")
    described = " ".join(problem.describe() for problem in error.problems)
    assert where in described and words in described
    assert error.problems and error.problems[0].file == str(path)
    assert "input_per_mtok" in error.hint and exit_code(error) == 2
    with pytest.raises(PricingFileError):
        calculate_cost("google", "m", 1, 1, workspace=tmp_path)


def test_format_usd_never_shows_unknown_as_zero():
    assert format_usd(None) == "unpriced"
    assert format_usd(0.0) == "$0.00"
    assert format_usd(0.0012346) == "$0.001235"
    assert format_usd(0.00001234) == "$0.00001234"
    assert format_usd(0.5) == "$0.50"
    assert format_usd(12.5) == "$12.50"


def test_format_cost_is_unpriced_only_when_tokens_were_used() -> None:
    from agents_core.llm.pricing import format_cost

    assert format_cost(None, 10, 5) == "unpriced"  # tokens on a model no source prices: never $0
    assert format_cost(None, 0, 0) == "$0.00"  # nothing used, nothing spent
    assert format_cost(None, None, None) == "$0.00"
    assert format_cost(0.0123, 10, 5) == format_usd(0.0123) == "$0.0123"
