"""``when:`` conditions, evaluated exactly as Argo's ``shouldExecute`` does with govaluate v3.

Argo parses the substituted text with github.com/Knetic/govaluate, turns every bare word
(a VARIABLE token) into a string, and requires a boolean. So ``heads == heads`` is true,
``a-b == c`` is a subtraction of strings and fails, ``5 < 10`` compares float64s and a
quoted date is a number of seconds. This module re-implements that lexer, grammar and
evaluation (including its error texts) so local runs skip and run the same steps.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argosy.errors import ExpressionError

from . import gotime
from .gofmt import GoError, format_time, sprint
from .lexer import is_digit, is_letter, is_space
from .runtime import compile_regex, deep_equal

# Token kinds (govaluate's TokenKind names, used verbatim in its error messages).
PREFIX, NUMERIC, BOOLEAN, STRING, PATTERN, TIME = "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN", "TIME"
VARIABLE, FUNCTION, SEPARATOR, ACCESSOR = "VARIABLE", "FUNCTION", "SEPARATOR", "ACCESSOR"
COMPARATOR, LOGICALOP, MODIFIER, CLAUSE, CLAUSE_CLOSE, TERNARY = (
    "COMPARATOR",
    "LOGICALOP",
    "MODIFIER",
    "CLAUSE",
    "CLAUSE_CLOSE",
    "TERNARY",
)
UNKNOWN = "UNKNOWN"

# kind -> (may end the expression, may hold nil, kinds allowed next)
_STATES: dict[str, tuple[bool, bool, frozenset[str]]] = {
    UNKNOWN: (
        False,
        True,
        frozenset({PREFIX, NUMERIC, BOOLEAN, VARIABLE, PATTERN, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE}),
    ),
    CLAUSE: (
        False,
        True,
        frozenset(
            {
                PREFIX,
                NUMERIC,
                BOOLEAN,
                VARIABLE,
                PATTERN,
                FUNCTION,
                ACCESSOR,
                STRING,
                TIME,
                CLAUSE,
                CLAUSE_CLOSE,
            }
        ),
    ),
    CLAUSE_CLOSE: (
        True,
        True,
        frozenset(
            {
                COMPARATOR,
                MODIFIER,
                NUMERIC,
                BOOLEAN,
                VARIABLE,
                STRING,
                PATTERN,
                TIME,
                CLAUSE,
                CLAUSE_CLOSE,
                LOGICALOP,
                TERNARY,
                SEPARATOR,
            }
        ),
    ),
    NUMERIC: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    BOOLEAN: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    STRING: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    TIME: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR})),
    PATTERN: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR})),
    VARIABLE: (True, False, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    MODIFIER: (
        False,
        False,
        frozenset({PREFIX, NUMERIC, VARIABLE, FUNCTION, ACCESSOR, STRING, BOOLEAN, CLAUSE, CLAUSE_CLOSE}),
    ),
    COMPARATOR: (
        False,
        False,
        frozenset(
            {
                PREFIX,
                NUMERIC,
                BOOLEAN,
                VARIABLE,
                FUNCTION,
                ACCESSOR,
                STRING,
                TIME,
                CLAUSE,
                CLAUSE_CLOSE,
                PATTERN,
            }
        ),
    ),
    LOGICALOP: (
        False,
        False,
        frozenset(
            {PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE, CLAUSE_CLOSE}
        ),
    ),
    PREFIX: (False, False, frozenset({NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, CLAUSE_CLOSE})),
    TERNARY: (
        False,
        False,
        frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, SEPARATOR}),
    ),
    FUNCTION: (False, False, frozenset({CLAUSE})),
    ACCESSOR: (
        True,
        False,
        frozenset({CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR}),
    ),
    SEPARATOR: (
        False,
        True,
        frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE}),
    ),
}

_PREFIX_SYMBOLS = {"-": "NEGATE", "!": "INVERT", "~": "BITWISE_NOT"}
_MODIFIER_SYMBOLS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL_SYMBOLS = {"&&", "||"}
_COMPARATOR_SYMBOLS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY_SYMBOLS = {"?", ":", "??"}

_TIME_LAYOUTS = (
    "Mon Jan _2 15:04:05 2006",
    "Mon Jan _2 15:04:05 MST 2006",
    "Mon Jan 02 15:04:05 -0700 2006",
    "3:04PM",
    "2006-01-02T15:04:05Z07:00",
    "2006-01-02T15:04:05.999999999Z07:00",
    "2006-01-02",
    "2006-01-02 15:04",
    "2006-01-02 15:04:05",
    "2006-01-02 15:04:05-07:00",
    "2006-01-02T15Z0700",
    "2006-01-02T15:04Z0700",
    "2006-01-02T15:04:05Z0700",
    "2006-01-02T15:04:05.999999999Z0700",
)


class GovaluateError(Exception):
    """An error with govaluate's own text (Argo wraps it with the ``when`` expression)."""


@dataclass(slots=True)
class GToken:
    kind: str
    value: Any
    text: str = ""  # how %v prints the value in govaluate's messages


# --------------------------------------------------------------------------- lexer


class _Stream:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def can_read(self) -> bool:
        return self.pos < len(self.src)

    def read(self) -> str:
        if self.pos >= len(self.src):  # Go would panic with an index out of range here
            raise GovaluateError("Unexpected end of expression")
        ch = self.src[self.pos]
        self.pos += 1
        return ch


def _read_until_false(
    stream: _Stream, include_ws: bool, break_ws: bool, escaping: bool, cond: Callable[[str], bool]
) -> tuple[str, bool]:
    buf: list[str] = []
    conditioned = False
    while stream.can_read():
        ch = stream.read()
        if escaping and ch == "\\":
            buf.append(stream.read())
            continue
        if is_space(ch):
            if break_ws and buf:
                conditioned = True
                break
            if not include_ws:
                continue
        if cond(ch):
            buf.append(ch)
        else:
            conditioned = True
            stream.pos -= 1
            break
    return "".join(buf), conditioned


def _read_token_until_false(stream: _Stream, cond: Callable[[str], bool]) -> str:
    stream.pos -= 1
    text, _ = _read_until_false(stream, False, True, True, cond)
    return text


def _is_numeric(ch: str) -> bool:
    return is_digit(ch) or ch == "."


def _is_not_quote(ch: str) -> bool:
    return ch not in "'\""


def _is_not_alnum(ch: str) -> bool:
    return not (is_digit(ch) or is_letter(ch) or ch in "()[]'\"")


def _is_variable_name(ch: str) -> bool:
    return is_letter(ch) or is_digit(ch) or ch in "_."


def _go_upper_rune(ch: str) -> str:
    up = ch.upper()
    return up if len(up) == 1 else ch


@functools.lru_cache(maxsize=1024)
def _parse_time(text: str) -> tuple[float, str] | None:
    for layout in _TIME_LAYOUTS:
        try:
            parsed = gotime.parse_time(layout, text)
        except GoError:
            continue
        guess = parsed.unix(0)
        offset = gotime.local_offset(guess) if parsed.offset is None else parsed.offset
        seconds = parsed.unix(offset)
        try:
            shown = format_time(parsed.to_datetime(gotime.local_tz()))
        except GoError:
            shown = text
        return float(seconds), shown
    return None


def _parse_float(text: str) -> float | None:
    if not re.fullmatch(r"[0-9]*\.?[0-9]*", text) or not re.search(r"[0-9]", text):
        return None
    value = float(text)
    return None if math.isinf(value) else value


def _read_token(stream: _Stream, state: str) -> GToken | None:
    while stream.can_read():
        ch = stream.read()
        if is_space(ch):
            continue
        if _is_numeric(ch):
            text = _read_token_until_false(stream, _is_numeric)
            value = _parse_float(text)
            if value is None:
                raise GovaluateError(f"Unable to parse numeric value '{text}' to float64\n")
            return GToken(NUMERIC, value, sprint(value))
        if ch == ",":
            return GToken(SEPARATOR, ",", ",")
        if ch == "[":
            text, completed = _read_until_false(stream, True, False, True, lambda c: c != "]")
            if not completed:
                raise GovaluateError("Unclosed parameter bracket")
            stream.pos += 1
            return GToken(VARIABLE, text, text)
        if is_letter(ch):
            text = _read_token_until_false(stream, _is_variable_name)
            if text in ("true", "false"):
                return GToken(BOOLEAN, text == "true", text)
            if text in ("in", "IN"):
                return GToken(COMPARATOR, "in", "in")
            if text.find(".") > 0:
                if text.endswith("."):
                    raise GovaluateError(f"Hanging accessor on token '{text}'")
                parts = text.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first and _go_upper_rune(first) != first:
                        raise GovaluateError(f"Unable to access unexported field '{part}' in token '{text}'")
                return GToken(ACCESSOR, parts, "[" + " ".join(parts) + "]")
            return GToken(VARIABLE, text, text)
        if not _is_not_quote(ch):
            text, completed = _read_until_false(stream, True, False, True, _is_not_quote)
            if not completed:
                raise GovaluateError("Unclosed string literal")
            stream.pos += 1
            parsed = _parse_time(text)
            if parsed is not None:
                return GToken(TIME, parsed[0], parsed[1])
            return GToken(STRING, text, text)
        if ch == "(":
            return GToken(CLAUSE, "(", "40")
        if ch == ")":
            return GToken(CLAUSE_CLOSE, ")", "41")
        text = _read_token_until_false(stream, _is_not_alnum)
        if PREFIX in _STATES[state][2] and text in _PREFIX_SYMBOLS:
            return GToken(PREFIX, text, text)
        if text in _MODIFIER_SYMBOLS:
            return GToken(MODIFIER, text, text)
        if text in _LOGICAL_SYMBOLS:
            return GToken(LOGICALOP, text, text)
        if text in _COMPARATOR_SYMBOLS:
            return GToken(COMPARATOR, text, text)
        if text in _TERNARY_SYMBOLS:
            return GToken(TERNARY, text, text)
        raise GovaluateError(f"Invalid token: '{text}'")
    return None


def tokenize(expression: str) -> list[GToken]:
    """govaluate's ``parseTokens`` (including its parenthesis balance check)."""
    stream = _Stream(expression)
    tokens: list[GToken] = []
    state = UNKNOWN
    while stream.can_read():
        token = _read_token(stream, state)
        if token is None:
            break
        state = token.kind
        tokens.append(token)
    _check_balance(tokens)
    return tokens


def _check_balance(tokens: list[GToken]) -> None:
    depth = 0
    for token in tokens:
        if token.kind == CLAUSE:
            depth += 1
        elif token.kind == CLAUSE_CLOSE:
            depth -= 1
    if depth != 0:
        raise GovaluateError("Unbalanced parenthesis")


def check_syntax(tokens: list[GToken]) -> None:
    """govaluate's ``checkExpressionSyntax``: each token kind may only follow certain kinds."""
    state = UNKNOWN
    last: GToken | None = None
    for token in tokens:
        if token.kind not in _STATES[state][2]:
            if last is not None and last.kind == VARIABLE and token.kind == CLAUSE:
                raise GovaluateError(f"Undefined function {last.value}")
            last_text = "<nil>" if last is None else last.text
            raise GovaluateError(
                f"Cannot transition token types from {state} [{last_text}] to {token.kind} [{token.text}]"
            )
        state = token.kind
        if not _STATES[state][1] and token.value is None:
            raise GovaluateError(f"Token kind '{token.kind}' cannot have a nil value")
        last = token
    if not _STATES[state][0]:
        raise GovaluateError("Unexpected end of expression")


def optimize(tokens: list[GToken]) -> list[GToken]:
    """Precompile the string right of ``=~``/``!~`` into a PATTERN token."""
    out = list(tokens)
    for i, token in enumerate(out[:-1]):
        if token.kind == COMPARATOR and token.value in ("=~", "!~") and out[i + 1].kind == STRING:
            following = out[i + 1]
            try:
                pattern = compile_regex(following.value)
            except GoError as exc:
                raise GovaluateError(str(exc)) from None
            out[i + 1] = GToken(PATTERN, pattern, following.text)
    return out


# --------------------------------------------------------------------------- planner


@dataclass(slots=True)
class Stage:
    symbol: str
    left: Stage | None = None
    right: Stage | None = None
    value: Any = None
    error_format: str = ""


_LOGICAL_FMT = "Value '%s' cannot be used with the logical operator '%s', it is not a bool"
_MODIFIER_FMT = "Value '%s' cannot be used with the modifier '%s', it is not a number"
_COMPARATOR_FMT = "Value '%s' cannot be used with the comparator '%s', it is not a number"
_TERNARY_FMT = "Value '%s' cannot be used with the ternary operator '%s', it is not a bool"
_PREFIX_FMT = "Value '%s' cannot be used with the prefix '%s'"

# Precedence levels, lowest first: (token kinds, symbol -> stage symbol, error format).
_LEVELS: list[tuple[frozenset[str], dict[str, str], str]] = [
    (frozenset({SEPARATOR}), {",": ","}, ""),
    (frozenset({TERNARY}), {"?": "?", ":": ":", "??": "??"}, _TERNARY_FMT),
    (frozenset({LOGICALOP}), {"||": "||"}, _LOGICAL_FMT),
    (frozenset({LOGICALOP}), {"&&": "&&"}, _LOGICAL_FMT),
    (frozenset({COMPARATOR}), {s: s for s in _COMPARATOR_SYMBOLS}, _COMPARATOR_FMT),
    (frozenset({MODIFIER}), {"&": "&", "|": "|", "^": "^"}, _MODIFIER_FMT),
    (frozenset({MODIFIER}), {"<<": "<<", ">>": ">>"}, _MODIFIER_FMT),
    (frozenset({MODIFIER}), {"+": "+", "-": "-"}, _MODIFIER_FMT),
    (frozenset({MODIFIER}), {"*": "*", "/": "/", "%": "%"}, _MODIFIER_FMT),
    (frozenset({MODIFIER}), {"**": "**"}, _MODIFIER_FMT),
]


class _Planner:
    def __init__(self, tokens: list[GToken]) -> None:
        self.tokens = tokens
        self.pos = 0

    def has_next(self) -> bool:
        return self.pos < len(self.tokens)

    def plan(self) -> Stage | None:
        return self.level(0) if self.has_next() else None

    def level(self, index: int) -> Stage | None:
        if index == len(_LEVELS):
            return self.function()
        kinds, symbols, fmt = _LEVELS[index]
        left = self.level(index + 1)
        while self.has_next():
            token = self.tokens[self.pos]
            if token.kind not in kinds or not isinstance(token.value, str) or token.value not in symbols:
                break
            self.pos += 1
            right = self.level(index + 1)
            left = Stage(symbols[token.value], left, right, error_format=fmt)
        return left

    def function(self) -> Stage | None:
        if not self.has_next():
            return None
        token = self.tokens[self.pos]
        if token.kind == ACCESSOR:
            self.pos += 1
            args = None
            if self.has_next() and self.tokens[self.pos].kind == CLAUSE:
                args = self.plan()
            return Stage("ACCESS", right=args, value=token.value)
        return self.value()

    def value(self) -> Stage | None:
        if not self.has_next():
            return None
        token = self.tokens[self.pos]
        self.pos += 1
        kind = token.kind
        if kind == CLAUSE:
            inner = self.plan()
            self.pos += 1  # the closing parenthesis (balance was checked)
            return Stage("NOOP", right=inner)
        if kind == CLAUSE_CLOSE:
            self.pos -= 1
            return None
        if kind == VARIABLE:
            return Stage("VALUE", value=token.value)
        if kind in (NUMERIC, STRING, PATTERN, BOOLEAN, TIME):
            return Stage("LITERAL", value=token.value)
        if kind == PREFIX:
            return Stage(_PREFIX_SYMBOLS[token.value], right=self.function(), error_format=_PREFIX_FMT)
        raise GovaluateError(f"Unable to plan token kind: '{kind}', value: '{token.text}'")


# --------------------------------------------------------------------------- evaluation


def _is_float(v: Any) -> bool:
    return isinstance(v, float)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_regex_or_str(v: Any) -> bool:
    return isinstance(v, (str, re.Pattern))


def _is_array(v: Any) -> bool:
    return isinstance(v, list)


_SIDE_CHECKS: dict[str, tuple[Callable[[Any], bool] | None, Callable[[Any], bool] | None]] = {
    "=~": (_is_str, _is_regex_or_str),
    "!~": (_is_str, _is_regex_or_str),
    "&&": (_is_bool, _is_bool),
    "||": (_is_bool, _is_bool),
    "in": (None, _is_array),
    "&": (_is_float, _is_float),
    "|": (_is_float, _is_float),
    "^": (_is_float, _is_float),
    "<<": (_is_float, _is_float),
    ">>": (_is_float, _is_float),
    "-": (_is_float, _is_float),
    "*": (_is_float, _is_float),
    "/": (_is_float, _is_float),
    "%": (_is_float, _is_float),
    "**": (_is_float, _is_float),
    "NEGATE": (None, _is_float),
    "INVERT": (None, _is_bool),
    "BITWISE_NOT": (None, _is_float),
    "?": (_is_bool, None),
}
_SYMBOL_TEXT = {"NEGATE": "-", "INVERT": "!", "BITWISE_NOT": "~", "==": "=", "NOOP": "NOOP"}
_SKIP = object()


def _comparable(a: Any, b: Any) -> bool:
    return (_is_float(a) and _is_float(b)) or (_is_str(a) and _is_str(b))


def _addable(a: Any, b: Any) -> bool:
    return (_is_float(a) and _is_float(b)) or _is_str(a) or _is_str(b)


def _to_i64(x: float) -> int:
    if math.isnan(x) or math.isinf(x):
        return -(1 << 63)
    value = int(x)
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _to_u64(x: float) -> int:
    return _to_i64(x) & ((1 << 64) - 1)


def _go_pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.inf if a == 0 and b < 0 else math.nan


def _go_div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _go_fmod(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _regex_match(left: Any, right: Any) -> bool:
    if isinstance(right, str):
        try:
            pattern = compile_regex(right)
        except GoError as exc:
            raise GovaluateError(f"Unable to compile regexp pattern '{right}': {exc}") from None
    else:
        pattern = right
    return pattern.search(left) is not None


def _operate(symbol: str, left: Any, right: Any) -> Any:
    match symbol:
        case "NOOP":
            return right
        case "==":
            return deep_equal(left, right)
        case "!=":
            return not deep_equal(left, right)
        case ">" | "<" | ">=" | "<=":
            return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[symbol]
        case "=~":
            return _regex_match(left, right)
        case "!~":
            return not _regex_match(left, right)
        case "&&":
            return left and right
        case "||":
            return left or right
        case "in":
            return any(type(v) is type(left) and v == left for v in right)
        case "+":
            if _is_str(left) or _is_str(right):
                return sprint(left) + sprint(right)
            return left + right
        case "-":
            return left - right
        case "*":
            return left * right
        case "/":
            return _go_div(left, right)
        case "%":
            return _go_fmod(left, right)
        case "**":
            return _go_pow(left, right)
        case "&":
            return float(_to_i64(left) & _to_i64(right))
        case "|":
            return float(_to_i64(left) | _to_i64(right))
        case "^":
            return float(_to_i64(left) ^ _to_i64(right))
        case "<<":
            shift = _to_u64(right)
            return float((_to_u64(left) << shift) & ((1 << 64) - 1)) if shift < 64 else 0.0
        case ">>":
            shift = _to_u64(right)
            return float(_to_u64(left) >> shift) if shift < 64 else 0.0
        case "NEGATE":
            return -right
        case "INVERT":
            return not right
        case "BITWISE_NOT":
            return float(~_to_i64(right))
        case "?":
            return right if left else None
        case ":" | "??":
            return left if left is not None else right
        case ",":
            return [*left, right] if isinstance(left, list) else [left, right]
    raise GovaluateError(f"unknown operator {symbol}")  # pragma: no cover


def evaluate_stage(stage: Stage | None) -> Any:
    """Evaluate a planned stage tree with govaluate's short-circuits and type checks."""
    if stage is None:
        return None
    symbol = stage.symbol
    if symbol == "LITERAL":
        return stage.value
    if symbol == "VALUE":
        raise GovaluateError(f"No parameter '{stage.value}' found.")
    if symbol == "ACCESS":
        if stage.right is not None:
            evaluate_stage(stage.right)
        raise GovaluateError(f"No parameter '{stage.value[0]}' found.")
    left = evaluate_stage(stage.left) if stage.left is not None else None
    right: Any = None
    if symbol == "&&" and left is False:
        return False
    if symbol == "||" and left is True:
        return True
    if symbol == "??" and left is not None:
        return left
    if (symbol == "?" and left is False) or (symbol == ":" and left is not None):
        right = _SKIP
    if right is not _SKIP and stage.right is not None:
        right = evaluate_stage(stage.right)
    if right is _SKIP:
        right = None
    text = _SYMBOL_TEXT.get(symbol, symbol)
    if symbol in (">", "<", ">=", "<=", "+"):
        ok = _comparable(left, right) if symbol != "+" else _addable(left, right)
        if not ok:
            raise GovaluateError(stage.error_format % (sprint(left), text))
    else:
        left_check, right_check = _SIDE_CHECKS.get(symbol, (None, None))
        if left_check is not None and not left_check(left):
            raise GovaluateError(stage.error_format % (sprint(left), text))
        if right_check is not None and not right_check(right):
            raise GovaluateError(stage.error_format % (sprint(right), text))
    return _operate(symbol, left, right)


# --------------------------------------------------------------------------- Argo's shouldExecute


@functools.lru_cache(maxsize=2048)
def _compile_when(when: str) -> Stage | None:
    try:
        tokens = tokenize(when)
        check_syntax(tokens)
        tokens = optimize(tokens)
        _Planner(tokens).plan()
    except RecursionError:
        raise ExpressionError(f"Invalid 'when' expression '{when}': expression too deeply nested") from None
    except GovaluateError as exc:
        message = str(exc)
        hint = (
            ' (hint: try wrapping the affected expression in quotes ("))'
            if "Invalid token" in message
            else ""
        )
        raise ExpressionError(f"Invalid 'when' expression '{when}': {message}{hint}") from None
    # Argo: "convert govaluate variables (which we don't use) into strings"
    converted = [GToken(STRING, t.value, t.text) if t.kind == VARIABLE else t for t in tokens]
    try:
        check_syntax(converted)
        converted = optimize(converted)
        return _Planner(converted).plan()
    except GovaluateError as exc:
        raise ExpressionError(f"Failed to parse 'when' expression '{when}': {exc}") from None
    except RecursionError:
        raise ExpressionError(
            f"Failed to parse 'when' expression '{when}': expression too deeply nested"
        ) from None


def evaluate_when(when: str) -> bool:
    """Decide a substituted ``when`` like Argo: ``""`` runs; bare words are strings.

    Raises :class:`ExpressionError` with Argo's messages, e.g.
    ``Invalid 'when' expression 'a = b': Invalid token: '=' (hint: ...)`` or
    ``Expected boolean evaluation for '1 + 1'. Got 2``.
    """
    if when == "":
        return True
    stage = _compile_when(when)
    try:
        result = evaluate_stage(stage)
    except GovaluateError as exc:
        raise ExpressionError(f"Failed to evaluate 'when' expresion '{when}': {exc}") from None
    except RecursionError:
        raise ExpressionError(
            f"Failed to evaluate 'when' expresion '{when}': expression too deeply nested"
        ) from None
    if not isinstance(result, bool):
        raise ExpressionError(f"Expected boolean evaluation for '{when}'. Got {sprint(result)}")
    return result


__all__ = ["GovaluateError", "check_syntax", "evaluate_stage", "evaluate_when", "tokenize"]
