"""The route condition language, parsed into an AST and evaluated without ``eval``.

Grammar (lowest precedence first)::

    condition  := 'default' | or_expr
    or_expr    := and_expr ('or' and_expr)*
    and_expr   := not_expr ('and' not_expr)*
    not_expr   := 'not' not_expr | comparison
    comparison := operand (('==' | '!=' | '<' | '<=' | '>' | '>=') operand)?
    operand    := '{state.a.b}' | 'state.a.b' | string | number | 'true' | 'false' | 'null'
                | '(' or_expr ')'

Every AST node keeps the offset of its first character, so the validator can
point at the exact place of a bad reference inside the condition string.
Only declared state keys can be read: there is no attribute or index access.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agents_core.config.limits import MAX_CONDITION_DEPTH, MAX_NUMBER_LENGTH
from agents_core.config.templates import TemplateRenderError, resolve_path


class ConditionSyntaxError(ValueError):
    """A condition that does not parse; ``offset`` points into the text."""

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


class ConditionEvalError(ValueError):
    """A condition that cannot be evaluated on the given state."""


# -- AST -----------------------------------------------------------------------
@dataclass(frozen=True)
class StateRef:
    path: tuple[str, ...]
    offset: int
    text: str


@dataclass(frozen=True)
class Literal:
    value: Any
    offset: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    offset: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]
    offset: int


@dataclass(frozen=True)
class Not:
    operand: Node
    offset: int


@dataclass(frozen=True)
class Default:
    offset: int = 0


Node = StateRef | Literal | Compare | BoolOp | Not | Default

# -- tokenizer -----------------------------------------------------------------
_TOKENS = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\{state(?:\.[A-Za-z_][A-Za-z0-9_]*)+\})
  | (?P<bareref>state(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?![A-Za-z0-9_.]))
  | (?P<brace>\{[^}]*\}?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<paren>[()])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "default"}
_WORD_HINTS = {"True": "true", "False": "false", "None": "null", "AND": "and", "OR": "or", "NOT": "not"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    offset: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "bad"
        value = match.group()
        offset = match.start()
        if kind == "space":
            continue
        if kind == "brace":
            raise ConditionSyntaxError(
                f"{value} is not a state reference.",
                offset,
                "Refer to state fields as {state.field} or {state.field.sub}.",
            )
        if kind == "bad":
            hint = "Strings are quoted: 'text' or \"text\"." if value in "'\"" else ""
            if value == "=":
                hint = "Use '==' to compare."
            raise ConditionSyntaxError(f"unexpected character {value!r}.", offset, hint)
        if kind == "word" and value not in _KEYWORDS:
            if value in _WORD_HINTS:
                hint = f"Write {_WORD_HINTS[value]!r}."
            elif value == "state":
                hint = _state_word_hint(text, match.end())
            else:
                hint = f"Refer to a state field as {{state.{value}}}, or quote a string: '{value}'."
            raise ConditionSyntaxError(f"{value!r} is not a value or keyword.", offset, hint)
        if kind == "bareref":
            kind = "ref"  # the seed's form `state.score`, without braces
        tokens.append(_Token(kind if kind != "word" else value, value, offset))
    return tokens


_AFTER_STATE = re.compile(r"\s*(?:\.\s*|\[\s*['\"]?)([A-Za-z_][A-Za-z0-9_]*)")


def _state_word_hint(text: str, end: int) -> str:
    """The hint for a lone ``state`` word: name the field the user seems to mean (``state .x``, ``state['x']``)."""
    match = _AFTER_STATE.match(text, end)
    if match:
        field = match.group(1)
        return f"Refer to the field as {{state.{field}}} (or state.{field}), with no spaces or brackets."
    return "Name a field: {state.field} or state.field."


# -- parser --------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0  # open parentheses and 'not's around the current position

    def _deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_CONDITION_DEPTH:
            raise ConditionSyntaxError(
                f"the condition nests parentheses and 'not' more than {MAX_CONDITION_DEPTH} levels deep.",
                token.offset,
                "Simplify the expression: remove redundant parentheses and double negations.",
            )

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConditionSyntaxError("the condition ends too early.", len(self.text), "Complete the expression.")
        self.index += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionSyntaxError("the condition is empty.", 0, "Write an expression, or 'default'.")
        first = self.tokens[0]
        if first.kind == "default":
            if len(self.tokens) > 1:
                extra = self.tokens[1]
                raise ConditionSyntaxError(
                    "'default' must stand alone.", extra.offset, "Write just 'default' for the fallback route."
                )
            return Default(first.offset)
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise ConditionSyntaxError(
                f"unexpected {token.text!r}.", token.offset, "Join conditions with 'and' / 'or'."
            )
        return node

    def parse_or(self) -> Node:
        return self._bool("or", self.parse_and)

    def parse_and(self) -> Node:
        return self._bool("and", self.parse_not)

    def _bool(self, op: str, inner: Callable[[], Node]) -> Node:
        first = inner()
        operands = [first]
        while (token := self.peek()) is not None and token.kind == op:
            self.take()
            operands.append(inner())
        if len(operands) == 1:
            return first
        return BoolOp(op, tuple(operands), _offset(first))

    def parse_not(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.take()
            self._deeper(token)
            inner = self.parse_not()
            self.depth -= 1
            return Not(inner, token.offset)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_operand()
        token = self.peek()
        if token is not None and token.kind == "op":
            self.take()
            right = self.parse_operand()
            return Compare(token.text, left, right, _offset(left))
        return left

    def parse_operand(self) -> Node:
        token = self.take()
        kind = token.kind
        if kind == "ref":
            return StateRef(tuple(token.text.strip("{}").split(".")[1:]), token.offset, token.text)
        if kind == "string":
            return Literal(_unquote(token.text), token.offset)
        if kind == "number":
            if len(token.text) > MAX_NUMBER_LENGTH:
                raise ConditionSyntaxError(
                    f"this number is {len(token.text):,} characters long; the limit is {MAX_NUMBER_LENGTH}.",
                    token.offset,
                    "Write a shorter number.",
                )
            number = float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            return Literal(number, token.offset)
        if kind in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[kind], token.offset)
        if kind == "paren" and token.text == "(":
            self._deeper(token)
            inner = self.parse_or()
            self.depth -= 1
            closing = self.take()
            if closing.text != ")":
                raise ConditionSyntaxError(f"expected ')', found {closing.text!r}.", closing.offset, "Close the '('.")
            return inner
        if kind == "default":
            raise ConditionSyntaxError("'default' must stand alone.", token.offset, "Write just 'default'.")
        raise ConditionSyntaxError(
            f"expected a value, found {token.text!r}.", token.offset, "Compare {state.field} with a literal."
        )


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _offset(node: Node) -> int:
    return node.offset


def parse_condition(text: str) -> Node:
    """Parse a condition; raises :class:`ConditionSyntaxError` with an offset."""
    if not isinstance(text, str):
        raise ConditionSyntaxError("a condition must be a string.", 0, "Quote the expression.")
    return _Parser(text).parse()


def iter_nodes(node: Node) -> Iterator[Node]:
    """Every AST node, depth first (for static checks)."""
    yield node
    if isinstance(node, Compare):
        yield from iter_nodes(node.left)
        yield from iter_nodes(node.right)
    elif isinstance(node, BoolOp):
        for operand in node.operands:
            yield from iter_nodes(operand)
    elif isinstance(node, Not):
        yield from iter_nodes(node.operand)


def state_refs(node: Node) -> list[StateRef]:
    return [n for n in iter_nodes(node) if isinstance(n, StateRef)]


# -- evaluator -----------------------------------------------------------------
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def evaluate(node: Node, state: Mapping[str, Any]) -> bool:
    """Evaluate a parsed condition over a state mapping."""
    return bool(_value(node, state))


def _value(node: Node, state: Mapping[str, Any]) -> Any:
    if isinstance(node, Default):
        return True
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, StateRef):
        try:
            return resolve_path(state, node.path)
        except TemplateRenderError:
            return None
    if isinstance(node, Not):
        return not _value(node.operand, state)
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(_value(operand, state) for operand in node.operands)
        return any(_value(operand, state) for operand in node.operands)
    left, right = _value(node.left, state), _value(node.right, state)
    if node.op == "==":
        return left == right
    if node.op == "!=":
        return left != right
    if (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
        return _ORDER[node.op](left, right)
    raise ConditionEvalError(f"cannot compare {left!r} {node.op} {right!r}: ordering needs two numbers or two strings.")
