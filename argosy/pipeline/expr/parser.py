"""Pratt parser for expr-lang producing a small AST.

Precedences, associativity, ``not in``, chained comparisons (``1 < x < 3`` means
``1 < x && x < 3``), the ``??`` mixing rule and the ``|`` pipe follow expr's parser so a
workflow that Argo accepts parses here, and one Argo rejects fails at lint time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .lexer import BRACKET, EOF, IDENT, NEGATABLE, NUMBER, OPERATOR, STRING, LexError, Token, tokenize


class ParseError(Exception):
    """A syntax error at ``pos`` (offset into the source)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


# --------------------------------------------------------------------------- AST


@dataclass(slots=True)
class Node:
    pos: int


@dataclass(slots=True)
class Literal(Node):
    value: Any


@dataclass(slots=True)
class Ident(Node):
    name: str


@dataclass(slots=True)
class Pointer(Node):
    """``#`` (current element), ``#index`` or ``#acc`` inside a closure."""

    name: str


@dataclass(slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(slots=True)
class Member(Node):
    obj: Node
    prop: Node
    optional: bool = False


@dataclass(slots=True)
class Slice(Node):
    obj: Node
    start: Node | None
    end: Node | None


@dataclass(slots=True)
class Call(Node):
    callee: Node
    args: list[Node]


@dataclass(slots=True)
class Builtin(Node):
    name: str
    args: list[Node]


@dataclass(slots=True)
class Closure(Node):
    body: Node


@dataclass(slots=True)
class Array(Node):
    items: list[Node]


@dataclass(slots=True)
class MapLit(Node):
    pairs: list[tuple[Node, Node]] = field(default_factory=list)


@dataclass(slots=True)
class Conditional(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(slots=True)
class Chain(Node):
    """Boundary of an optional chain: a nil before ``?.`` makes the whole chain nil."""

    node: Node


@dataclass(slots=True)
class Let(Node):
    name: str
    value: Node
    body: Node


# --------------------------------------------------------------------------- tables

UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY: dict[str, tuple[int, bool]] = {  # precedence, right-associative
    "|": (0, False),
    "or": (10, False),
    "||": (10, False),
    "and": (15, False),
    "&&": (15, False),
    "==": (20, False),
    "!=": (20, False),
    "<": (20, False),
    ">": (20, False),
    ">=": (20, False),
    "<=": (20, False),
    "in": (20, False),
    "matches": (20, False),
    "contains": (20, False),
    "startsWith": (20, False),
    "endsWith": (20, False),
    "..": (25, False),
    "+": (30, False),
    "-": (30, False),
    "*": (60, False),
    "/": (60, False),
    "%": (60, False),
    "**": (100, True),
    "^": (100, True),
    "??": (500, False),
}
COMPARISON_PRECEDENCE = 20

# Builtins whose arguments include closures: name -> argument kinds ("e" expr, "p" predicate,
# a trailing "?" marks an optional argument).
PREDICATES: dict[str, tuple[str, ...]] = {
    "all": ("e", "p"),
    "none": ("e", "p"),
    "any": ("e", "p"),
    "one": ("e", "p"),
    "filter": ("e", "p"),
    "map": ("e", "p"),
    "count": ("e", "p?"),
    "sum": ("e", "p?"),
    "find": ("e", "p"),
    "findIndex": ("e", "p"),
    "findLast": ("e", "p"),
    "findLastIndex": ("e", "p"),
    "groupBy": ("e", "p"),
    "sortBy": ("e", "p", "e?"),
    "reduce": ("e", "p", "e?"),
}

# Set by functions.py: names of the non-closure builtins.
BUILTIN_NAMES: set[str] = set()

KEYWORD_LIKE = {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "not", "let"}


class Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.cur: Token = self.tokens[0]
        self.depth = 0

    # -- helpers
    def error(self, message: str, token: Token | None = None) -> ParseError:
        tok = token or self.cur
        return ParseError(message, tok.pos)

    def unexpected(self, token: Token | None = None) -> ParseError:
        tok = token or self.cur
        if tok.kind == EOF:
            return ParseError("unexpected end of expression", tok.pos)
        return ParseError(f"unexpected token {tok.describe()}", tok.pos)

    def advance(self) -> None:
        self.pos += 1
        if self.pos >= len(self.tokens):
            raise self.error("unexpected end of expression")
        self.cur = self.tokens[self.pos]

    def expect(self, kind: str, value: str | None = None) -> Token:
        tok = self.cur
        if not tok.is_(kind, value):
            raise self.unexpected()
        self.advance()
        return tok

    # -- grammar
    def parse(self) -> Node:
        node = self.expression(0)
        if self.cur.kind != EOF:
            raise self.unexpected()
        return node

    def expression(self, precedence: int) -> Node:
        if precedence == 0 and self.cur.is_(OPERATOR, "let"):
            return self.let()
        left = self.primary()
        prev_op = ""
        while self.cur.kind == OPERATOR:
            op_tok = self.cur
            negate = op_tok.value == "not"
            not_tok = op_tok
            if negate:
                saved = self.pos
                self.advance()
                if self.cur.kind == OPERATOR and self.cur.value in NEGATABLE:
                    if BINARY[self.cur.value][0] >= precedence:
                        op_tok = self.cur
                    else:
                        self.pos, self.cur = saved, self.tokens[saved]
                        break
                else:
                    raise self.unexpected()
            info = BINARY.get(op_tok.value)
            if info is None or info[0] < precedence:
                break
            op_prec, right_assoc = info
            self.advance()
            if op_tok.value == "|":
                name_tok = self.expect(IDENT)
                left = self.call(name_tok, [left])
                prev_op = "|"
                continue
            if prev_op == "??" and op_tok.value != "??":
                raise self.error(
                    f"Operator ({op_tok.value}) and coalesce expressions (??) cannot be mixed. "
                    "Wrap either by parentheses.",
                    op_tok,
                )
            if op_prec == COMPARISON_PRECEDENCE:
                left = self.comparison(left, op_tok)
            else:
                right = self.expression(op_prec if right_assoc else op_prec + 1)
                left = Binary(op_tok.pos, op_tok.value, left, right)
            if negate:
                left = Unary(not_tok.pos, "not", left)
            prev_op = op_tok.value
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: Node, op_tok: Token) -> Node:
        root: Node | None = None
        while True:
            right = self.expression(COMPARISON_PRECEDENCE + 1)
            cmp_node = Binary(op_tok.pos, op_tok.value, left, right)
            root = cmp_node if root is None else Binary(op_tok.pos, "&&", root, cmp_node)
            left = right
            op_tok = self.cur
            if not (
                op_tok.kind == OPERATOR and BINARY.get(op_tok.value, (-1, False))[0] == COMPARISON_PRECEDENCE
            ):
                return root
            self.advance()

    def let(self) -> Node:
        start = self.expect(OPERATOR, "let")
        name = self.expect(IDENT)
        self.expect(OPERATOR, "=")
        value = self.expression(0)
        self.expect(OPERATOR, ";")
        body = self.expression(0)
        return Let(start.pos, name.value, value, body)

    def conditional(self, node: Node) -> Node:
        while self.cur.is_(OPERATOR, "?"):
            q = self.cur
            self.advance()
            if self.cur.is_(OPERATOR, ":"):
                self.advance()
                then: Node = node
                other = self.expression(0)
            else:
                then = self.expression(0)
                self.expect(OPERATOR, ":")
                other = self.expression(0)
            node = Conditional(q.pos, node, then, other)
        return node

    def primary(self) -> Node:
        tok = self.cur
        if tok.kind == OPERATOR and tok.value in UNARY:
            self.advance()
            operand = self.expression(UNARY[tok.value])
            return self.postfix(Unary(tok.pos, tok.value, operand))
        if tok.is_(BRACKET, "("):
            self.advance()
            inner = self.expression(0)
            self.expect(BRACKET, ")")
            return self.postfix(inner)
        if tok.kind == OPERATOR and tok.value in ("#", "."):
            if self.depth == 0:
                raise self.error("cannot use pointer accessor outside predicate")
            name = ""
            if tok.value == "#":
                self.advance()
                if self.cur.kind == IDENT:
                    name = self.cur.value
                    self.advance()
            return self.postfix(Pointer(tok.pos, name))
        if tok.is_(OPERATOR, "::"):
            self.advance()
            name_tok = self.expect(IDENT)
            return self.postfix(self.call(name_tok, []))
        return self.secondary()

    def secondary(self) -> Node:
        tok = self.cur
        node: Node
        if tok.kind == IDENT:
            self.advance()
            if tok.value in ("true", "false"):
                return Literal(tok.pos, tok.value == "true")
            if tok.value == "nil":
                return Literal(tok.pos, None)
            if self.cur.is_(BRACKET, "("):
                node = self.call(tok, [])
            else:
                node = Ident(tok.pos, tok.value)
        elif tok.kind == NUMBER:
            self.advance()
            node = Literal(tok.pos, self.number(tok))
            return node
        elif tok.kind == STRING:
            self.advance()
            node = Literal(tok.pos, tok.value)
        elif tok.is_(BRACKET, "["):
            node = self.array()
        elif tok.is_(BRACKET, "{"):
            node = self.map_literal()
        else:
            raise self.unexpected()
        return self.postfix(node)

    def number(self, tok: Token) -> Any:
        text = tok.value.replace("_", "")
        lower = text.lower()
        try:
            if lower.startswith(("0x", "0o", "0b")):
                value: Any = int(text, 0)
            elif "." in lower or "e" in lower:
                value = float(text)
                if value == float("inf"):
                    raise self.error("float literal is too large", tok)
                return value
            else:
                value = int(text, 10)
        except ValueError:
            raise self.error(f'invalid number literal: "{tok.value}"', tok) from None
        if value > (1 << 63) - 1:
            raise self.error("integer literal is too large", tok)
        return value

    def call(self, name_tok: Token, args: list[Node]) -> Node:
        name = name_tok.value
        spec = PREDICATES.get(name)
        if spec is not None:
            self.expect(BRACKET, "(")
            for i, kind in enumerate(spec[len(args) :], start=len(args)):
                optional = kind.endswith("?")
                if self.cur.is_(BRACKET, ")"):
                    if optional:
                        break
                    raise self.error(
                        f"expected at least {len([k for k in spec if not k.endswith('?')])} arguments"
                    )
                if i > 0:
                    self.expect(OPERATOR, ",")
                if kind.startswith("p"):
                    args.append(self.predicate())
                else:
                    args.append(self.expression(0))
            if self.cur.is_(OPERATOR, ","):
                self.advance()
            self.expect(BRACKET, ")")
            return Builtin(name_tok.pos, name, args)
        args = self.arguments(args)
        if name in BUILTIN_NAMES:
            return Builtin(name_tok.pos, name, args)
        return Call(name_tok.pos, Ident(name_tok.pos, name), args)

    def arguments(self, args: list[Node]) -> list[Node]:
        offset = len(args)
        self.expect(BRACKET, "(")
        while not self.cur.is_(BRACKET, ")"):
            if len(args) > offset:
                self.expect(OPERATOR, ",")
            if self.cur.is_(BRACKET, ")"):
                break
            args.append(self.expression(0))
        self.expect(BRACKET, ")")
        return args

    def predicate(self) -> Node:
        start = self.cur
        braced = start.is_(BRACKET, "{")
        if braced:
            self.advance()
        self.depth += 1
        body = self.expression(0)
        self.depth -= 1
        if braced:
            self.expect(BRACKET, "}")
        return Closure(start.pos, body)

    def array(self) -> Node:
        start = self.expect(BRACKET, "[")
        items: list[Node] = []
        while not self.cur.is_(BRACKET, "]"):
            if items:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "]"):
                    break
            items.append(self.expression(0))
        self.expect(BRACKET, "]")
        return Array(start.pos, items)

    def map_literal(self) -> Node:
        start = self.expect(BRACKET, "{")
        pairs: list[tuple[Node, Node]] = []
        while not self.cur.is_(BRACKET, "}"):
            if pairs:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "}"):
                    break
                if self.cur.is_(OPERATOR, ","):
                    raise self.unexpected()
            key: Node
            if self.cur.kind in (NUMBER, STRING, IDENT):
                key = Literal(self.cur.pos, self.cur.value)
                self.advance()
            elif self.cur.is_(BRACKET, "("):
                key = self.expression(0)
            else:
                raise self.error(
                    "a map key must be a quoted string, a number, a identifier, or an expression "
                    f"enclosed in parentheses (unexpected token {self.cur.describe()})"
                )
            self.expect(OPERATOR, ":")
            pairs.append((key, self.expression(0)))
        self.expect(BRACKET, "}")
        return MapLit(start.pos, pairs)

    def postfix(self, node: Node) -> Node:
        while self.cur.kind in (OPERATOR, BRACKET):
            tok = self.cur
            optional = tok.value == "?."
            if tok.value in (".", "?."):
                self.advance()
                if optional and self.cur.is_(BRACKET, "["):
                    node = self.index(node, self.cur, optional=True)
                    continue
                prop_tok = self.cur
                self.advance()
                if not (
                    prop_tok.kind == IDENT or (prop_tok.kind == OPERATOR and prop_tok.value in KEYWORD_LIKE)
                ):
                    raise self.error("expected name", prop_tok)
                inner = node.node if isinstance(node, Chain) else node
                member: Node = Member(prop_tok.pos, inner, Literal(prop_tok.pos, prop_tok.value), optional)
                if self.cur.is_(BRACKET, "("):
                    member = Call(prop_tok.pos, member, self.arguments([]))
                node = Chain(member.pos, member) if (isinstance(node, Chain) or optional) else member
            elif tok.is_(BRACKET, "["):
                node = self.index(node, tok, optional=False)
            else:
                break
        return node

    def index(self, node: Node, tok: Token, optional: bool) -> Node:
        self.advance()
        inner = node.node if isinstance(node, Chain) else node
        if self.cur.is_(OPERATOR, ":"):
            self.advance()
            end = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return Slice(tok.pos, node, None, end)
        start = self.expression(0)
        if self.cur.is_(OPERATOR, ":"):
            self.advance()
            end = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return Slice(tok.pos, node, start, end)
        self.expect(BRACKET, "]")
        member = Member(tok.pos, inner, start, optional)
        return Chain(tok.pos, member) if (optional or isinstance(node, Chain)) else member


def parse(source: str) -> Node:
    """Parse ``source`` into an AST; raises :class:`ParseError`."""
    try:
        return Parser(source).parse()
    except LexError as exc:
        raise ParseError(exc.message, exc.pos) from None


__all__ = [
    "Array",
    "Binary",
    "Builtin",
    "Call",
    "Chain",
    "Closure",
    "Conditional",
    "Ident",
    "Let",
    "Literal",
    "MapLit",
    "Member",
    "Node",
    "ParseError",
    "Pointer",
    "Slice",
    "Unary",
    "parse",
    "BUILTIN_NAMES",
]
