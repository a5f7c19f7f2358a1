"""The built-in tools: plain functions first, LangChain tools on demand.

The functions are usable and testable without LangChain; :func:`as_langchain_tool`
wraps one for a model that calls tools. ``calculator`` evaluates arithmetic by
walking a parsed AST of a whitelisted shape; nothing is ever ``eval``'d.
"""

from __future__ import annotations

import ast
import math
import operator
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agents_core.errors import ToolError

MAX_EXPRESSION_LENGTH = 500
MAX_POWER_EXPONENT = 1000
#: Whole-number results are bounded too (about 3,000 digits): nested powers must not run forever.
MAX_RESULT_BITS = 10_000
SERPER_URL = "https://google.serper.dev/search"
SERPER_URL_ENV = "SERPER_BASE_URL"

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as ``(17 * 23) + 4`` or ``sqrt(2) ** 2``.

    Supports + - * / // % **, parentheses, pi, e and sqrt, abs, round, min,
    max, log, exp, sin, cos, tan.
    """
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ToolError(f"calculator: the expression is longer than {MAX_EXPRESSION_LENGTH} characters.")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ToolError(f"calculator: {expression!r} is not an arithmetic expression.") from None
    try:
        value = _evaluate(tree.body)
        if isinstance(value, complex):
            raise ValueError("the result is not a real number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("the result is too large")
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        return str(value)
    except ZeroDivisionError:
        raise ToolError("calculator: division by zero.") from None
    except TypeError:
        raise ToolError(f"calculator: a function in {expression!r} got the wrong number of arguments.") from None
    except (OverflowError, ValueError) as exc:
        raise ToolError(f"calculator: {exc}.") from None


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_RESULT_BITS:
            raise ValueError("the result is too large")
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(arg) for arg in node.args))
    raise ToolError(f"calculator: {ast.unparse(node)!r} is not allowed; use numbers, + - * / ** % and math functions.")


def _check_power(base: Any, exponent: Any) -> None:
    """Refuse a power whose result would be huge before computing it."""
    if abs(exponent) > MAX_POWER_EXPONENT:
        raise ValueError(f"exponent {exponent} is too large")
    growing = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if growing and exponent * math.log2(abs(base)) > MAX_RESULT_BITS:
        raise ValueError("the result is too large")


def current_datetime() -> str:
    """The current date and time (UTC) in ISO 8601, e.g. 2026-11-24T21:05:00+00:00."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def serper_search(query: str) -> str:
    """Search the web with Serper and return the top results as text (title, link, snippet)."""
    import httpx

    key = os.environ.get("SERPER_API_KEY")
    if not key:
        raise ToolError(
            "serper_search needs SERPER_API_KEY, which is not set.",
            "Get a key at serper.dev and set SERPER_API_KEY, or remove the tool from the node.",
        )
    url = os.environ.get(SERPER_URL_ENV, SERPER_URL)
    try:
        response = httpx.post(url, json={"q": query}, headers={"X-API-KEY": key}, timeout=20, trust_env=False)
    except httpx.HTTPError as exc:
        raise ToolError(f"serper_search: the request failed ({type(exc).__name__}: {exc}).") from None
    if response.status_code != 200:
        raise ToolError(f"serper_search: Serper answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        results = response.json().get("organic", [])[:5]
    except (ValueError, AttributeError):
        raise ToolError("serper_search: Serper's answer was not the JSON it should be.") from None
    if not results:
        return "No results."
    return "\n\n".join(f"{r.get('title', '')}\n{r.get('link', '')}\n{r.get('snippet', '')}" for r in results)


BUILTIN_FUNCTIONS: dict[str, Callable[..., str]] = {
    "calculator": calculator,
    "current_datetime": current_datetime,
    "serper_search": serper_search,
}


def as_langchain_tool(name: str, function: Callable[..., str]) -> Any:
    """Wrap a function as a LangChain tool; tool errors go back to the model as text."""
    import functools

    from langchain_core.tools import StructuredTool

    @functools.wraps(function)  # keeps the signature, from which the tool's arguments are read
    def run(*args: Any, **kwargs: Any) -> str:
        try:
            return function(*args, **kwargs)
        except ToolError as exc:
            return f"Error: {exc}"

    return StructuredTool.from_function(func=run, name=name, description=(function.__doc__ or name).strip())
