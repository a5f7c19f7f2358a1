"""What a model call costs in USD, and who said so (SPEC §9).

Three sources, tried in this order for a ``(provider, model)``:

1. ``pricing.yaml`` in the workspace: the user's own prices (USD per 1M input
   and output tokens, as of a date), which override or extend the rest::

       date: 2026-11-01
       prices:
         google:
           gemini-2.5-flash: {input_per_mtok: 0.30, output_per_mtok: 2.50}
         openai:
           "*": {input_per_mtok: 0, output_per_mtok: 0}   # every model of a self-hosted server

2. ``local``: the embedded model runs on this machine and costs 0.
3. ``genai-prices``: a maintained price library that works offline from its
   bundled data and knows tiered prices (Gemini 2.5 Pro above 200k input tokens).

A model none of them knows is **unpriced**: its cost is ``None`` (shown as
"unpriced"), never 0, with one warning per model and process. Every
:class:`Cost` names its source (``genai-prices 0.2.3``, ``pricing.yaml
2026-11-01``, ``local``) and the per-1M-token prices it used.

:class:`PriceBook` is the reusable part (the run's meter, ``estimate`` and
``costs reprice`` price many calls with one book); a book caches its lookups
per ``(provider, model)``, and :func:`price_book` caches one book per pricing
file until the file changes. ``genai_prices`` is imported on the first lookup
that needs it, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents_core.errors import PricingFileError, Problem

__all__ = [
    "Cost",
    "PriceBook",
    "PricingFile",
    "PricingFileError",
    "UnpricedModelWarning",
    "calculate_cost",
    "format_usd",
    "price_book",
    "read_pricing_file",
]

PRICING_FILE = "pricing.yaml"
LOCAL_PROVIDER = "local"
LOCAL_SOURCE = "local"
UNPRICED = "unpriced"
#: A pricing.yaml entry under this model name prices every model of its provider.
ANY_MODEL = "*"
#: Our provider names -> genai-prices provider ids (others are passed as they are).
GENAI_PROVIDER_IDS = {"google": "google", "openai": "openai"}
MAX_PRICING_BYTES = 1024 * 1024


class UnpricedModelWarning(UserWarning):
    """A model no price source knows: its cost is reported as unknown ("unpriced"), never as 0."""


@dataclass(frozen=True)
class Cost:
    """The price of some tokens: ``usd`` (``None`` when unpriced), its ``source`` and the prices used (USD per 1M)."""

    usd: float | None
    source: str
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None

    @property
    def priced(self) -> bool:
        return self.usd is not None


# -- pricing.yaml ----------------------------------------------------------------------------


class Rate(BaseModel):
    """Prices of one model in USD per 1M tokens."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float = Field(ge=0, description="USD per 1M input (prompt) tokens.")
    output_per_mtok: float = Field(ge=0, description="USD per 1M output (generated) tokens.")

    @field_validator("input_per_mtok", "output_per_mtok")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class PricingFile(BaseModel):
    """The shape of ``pricing.yaml``: the date the prices are as of, and prices by provider and model."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date = Field(description="The date these prices are as of (YYYY-MM-DD).")
    prices: dict[str, dict[str, Rate]] = Field(
        default_factory=dict, description="provider -> model (or '*') -> {input_per_mtok, output_per_mtok}."
    )


_PYDANTIC_CODES = {"missing": "E-SHAPE-MISSING", "extra_forbidden": "E-SHAPE-UNKNOWN-KEY"}


def _problem_code(kind: str) -> str:
    if kind in _PYDANTIC_CODES:
        return _PYDANTIC_CODES[kind]
    return "E-SHAPE-TYPE" if kind.endswith(("_type", "_parsing")) else "E-SHAPE-VALUE"


def read_pricing_file(path: str | os.PathLike[str]) -> PricingFile:
    """Read and check a pricing file; ``PricingFileError`` names the file, line, column and key of each problem."""
    from agents_core.config.loader import format_path, load_text

    path = Path(path)
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PRICING_BYTES + 1)
    except OSError as exc:
        raise PricingFileError(
            f"{name} cannot be read ({exc.strerror or exc}).", "Check the file and its permissions."
        ) from None
    if len(raw) > MAX_PRICING_BYTES:
        raise PricingFileError(f"{name} is larger than 1 MiB; it was not read.", "A pricing file lists a few models.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PricingFileError(f"{name} is not UTF-8 text (byte {exc.start}).", "Save it as UTF-8.") from None
    document = load_text(text, name)
    # An unquoted date is what a pricing file is expected to hold; the loader keeps it as text.
    problems = [p for p in document.problems if p.is_error and p.code != "E-YAML-DATE"]
    if not problems and not isinstance(document.data, dict):
        problems = [Problem("E-SHAPE-NOT-MAPPING", "error", "the file is not a mapping of keys.", file=name)]
    if not problems:
        try:
            return PricingFile.model_validate(document.data)
        except ValidationError as exc:
            for error in exc.errors():
                where = tuple(error["loc"])
                line, column = document.source.value_position(where)
                message = f"{error['msg'][0].lower()}{error['msg'][1:]}."
                if error["type"] == "extra_forbidden":
                    line, column = document.source.key_position(where)
                    message = f"unknown key {str(where[-1])!r}; the keys here are {_known_keys(where)}."
                problems.append(
                    Problem(
                        _problem_code(error["type"]),
                        "error",
                        message,
                        _PRICING_HINT,
                        format_path(where),
                        name,
                        line,
                        column,
                    )
                )
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    raise PricingFileError(f"{name}: {first.location()}: {first.message}{more}", _PRICING_HINT, problems)


def _known_keys(where: tuple[Any, ...]) -> str:
    return "input_per_mtok, output_per_mtok" if len(where) > 1 else "date, prices"


_PRICING_HINT = (
    "pricing.yaml holds `date: YYYY-MM-DD` and `prices: {provider: {model: {input_per_mtok: N, output_per_mtok: N}}}` "
    "(USD per 1M tokens)."
)


# -- the book ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FlatRate:
    """A price from pricing.yaml (or the local model's 0): the same per-token price at any size."""

    source: str
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> Cost:
        usd = (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1_000_000
        return Cost(usd, self.source, self.input_per_mtok, self.output_per_mtok)


@dataclass(frozen=True)
class _GenaiRate:
    """A model genai-prices knows; it computes each cost (tiers included)."""

    source: str
    model_ref: str
    provider_id: str

    def cost(self, input_tokens: int, output_tokens: int) -> Cost:
        from genai_prices import Usage, calc_price

        price = calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens), self.model_ref, provider_id=self.provider_id
        )
        rates = price.model_price
        return Cost(
            float(price.total_price),
            self.source,
            _applied_rate(rates.input_mtok, input_tokens),
            _applied_rate(rates.output_mtok, input_tokens),
        )


def _applied_rate(price: Any, input_tokens: int) -> float | None:
    """The per-1M price that applied (for a tiered price: the tier the input size falls in)."""
    if price is None:
        return None
    tiers = getattr(price, "tiers", None)
    if tiers is None:
        return float(price)
    applied = price.base
    for tier in reversed(tiers):
        if input_tokens > tier.start:
            applied = tier.price
            break
    return float(applied)


def genai_prices_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover - requirements.txt installs it
        return "unknown"


class PriceBook:
    """Prices for any ``(provider, model)``: an optional pricing file over ``local`` = 0 over genai-prices.

    Lookups (hits and misses) are cached per ``(provider, model)``, so pricing every
    model call of a run costs a dictionary lookup and one multiplication.
    """

    def __init__(self, pricing: PricingFile | None = None, pricing_path: str | None = None) -> None:
        self.pricing = pricing
        self.pricing_path = pricing_path
        self._rates: dict[tuple[str, str], _FlatRate | _GenaiRate | None] = {}
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None) -> PriceBook:
        """A book with the prices of ``path`` (``None`` or a missing file: the built-in sources only)."""
        if path is None or not Path(path).exists():
            return cls()
        return cls(read_pricing_file(path), str(path))

    @property
    def pricing_source(self) -> str | None:
        return f"{PRICING_FILE} {self.pricing.date.isoformat()}" if self.pricing else None

    def rate(self, provider: str, model: str) -> _FlatRate | _GenaiRate | None:
        """The price of a model, or ``None`` when no source knows it (cached)."""
        key = (provider, model)
        with self._lock:
            if key in self._rates:
                return self._rates[key]
        found = self._find(provider, model)
        with self._lock:
            self._rates[key] = found
        return found

    def _find(self, provider: str, model: str) -> _FlatRate | _GenaiRate | None:
        if self.pricing is not None:
            models = self.pricing.prices.get(provider) or {}
            rate = models.get(model) or models.get(ANY_MODEL)
            if rate is not None:
                return _FlatRate(self.pricing_source or PRICING_FILE, rate.input_per_mtok, rate.output_per_mtok)
        if provider == LOCAL_PROVIDER:
            return _FlatRate(LOCAL_SOURCE, 0.0, 0.0)
        return _genai_rate(provider, model)

    def is_priced(self, provider: str, model: str) -> bool:
        return self.rate(provider, model) is not None

    def cost(self, provider: str, model: str, input_tokens: int, output_tokens: int, *, warn: bool = True) -> Cost:
        """What ``input_tokens`` in and ``output_tokens`` out cost on this model (``usd=None`` when unpriced)."""
        rate = self.rate(provider, model)
        if rate is None:
            if warn:
                self.warn_unpriced(provider, model)
            return Cost(None, UNPRICED)
        return rate.cost(max(int(input_tokens), 0), max(int(output_tokens), 0))

    def warn_unpriced(self, provider: str, model: str) -> None:
        """One warning per model and book: its costs are reported as unpriced."""
        with self._lock:
            if (provider, model) in self._warned:
                return
            self._warned.add((provider, model))
        warnings.warn(UnpricedModelWarning(unpriced_message(provider, model)), stacklevel=4)


def unpriced_message(provider: str, model: str) -> str:
    return (
        f"no price is known for the {provider} model {model!r}: its cost is reported as unpriced, not $0. "
        f"Add it to {PRICING_FILE} in the workspace (USD per 1M input and output tokens) to price it."
    )


_GENAI_MISS = object()
_genai_cache: dict[tuple[str, str], Any] = {}
_genai_lock = threading.Lock()


def _genai_rate(provider: str, model: str) -> _GenaiRate | None:
    """genai-prices' entry for a model, or ``None`` (it raises ``LookupError`` for models it does not know)."""
    key = (provider, model)
    with _genai_lock:
        cached = _genai_cache.get(key)
    if cached is not None:
        return None if cached is _GENAI_MISS else cached
    provider_id = GENAI_PROVIDER_IDS.get(provider, provider)
    try:
        from genai_prices import Usage, calc_price

        calc_price(Usage(input_tokens=0, output_tokens=0), model, provider_id=provider_id)
        found: Any = _GenaiRate(f"genai-prices {genai_prices_version()}", model, provider_id)
    except LookupError:
        found = _GENAI_MISS
    with _genai_lock:
        _genai_cache[key] = found
    return None if found is _GENAI_MISS else found


# -- the workspace's book ----------------------------------------------------------------------

_books: dict[Path, tuple[tuple[int, int] | None, PriceBook]] = {}
_books_lock = threading.Lock()


def pricing_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """``<workspace>/pricing.yaml``; the workspace is ``$AGENTS_WORKSPACE`` or the current directory by default."""
    cwd = os.getcwd()
    return _pricing_path(os.fspath(workspace or os.environ.get("AGENTS_WORKSPACE") or cwd), cwd)


@functools.lru_cache(maxsize=64)
def _pricing_path(root: str, cwd: str) -> Path:
    """Built once per folder (and working directory, which a relative one is under): every run
    start asks where the prices are, and paths are slow to build."""
    path = Path(root).expanduser() / PRICING_FILE
    return path if path.is_absolute() else Path(cwd) / path


def price_book(workspace: str | os.PathLike[str] | None = None) -> PriceBook:
    """The workspace's book (its pricing.yaml, if any), read again only when the file changes."""
    path = pricing_path(workspace)
    try:
        stat = path.stat()
        stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    with _books_lock:
        cached = _books.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    book = PriceBook.from_file(path if stamp is not None else None)
    with _books_lock:
        _books[path] = (stamp, book)
    return book


def calculate_cost(
    provider: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    *,
    workspace: str | os.PathLike[str] | None = None,
) -> Cost:
    """The cost of one model call (or a node's calls) in USD, with its source and the prices used.

    ``usd`` is ``None`` for a model no source prices (one ``UnpricedModelWarning``
    per model); a bad ``pricing.yaml`` raises ``PricingFileError``.
    """
    return price_book(workspace).cost(provider, model, input_tokens, output_tokens)


def format_usd(usd: float | None) -> str:
    """``$0.01235`` (4 significant digits below $1), ``$12.50``, ``$0.00`` for zero, ``unpriced`` for ``None``."""
    if usd is None:
        return UNPRICED
    if usd == 0:
        return "$0.00"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    digits = min(max(3 - math.floor(math.log10(abs(usd))), 2), 12)  # four significant digits, never 1e-05
    text = f"{usd:.{digits}f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def format_cost(usd: float | None, input_tokens: int | None = 0, output_tokens: int | None = 0) -> str:
    """:func:`format_usd` of what a node or a run cost, where one that used no tokens cost nothing.

    ``unpriced`` only when tokens were used on a model no source prices; with no
    tokens a missing price is ``$0.00`` (nothing was spent). Every face shows a
    node's or a run's cost through this one rule.
    """
    if usd is None and not (input_tokens or output_tokens):
        return format_usd(0.0)
    return format_usd(usd)
