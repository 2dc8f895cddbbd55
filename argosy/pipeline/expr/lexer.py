"""Tokenizer for expr-lang (github.com/expr-lang/expr), the language of Argo's ``{{= }}`` tags.

It follows expr's lexer states so that the same texts are accepted and rejected: ``not in``
is one operator, ``1..3`` is a range, ``.5`` a number, ``#index`` a closure variable.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

IDENT: Final = "Identifier"
NUMBER: Final = "Number"
STRING: Final = "String"
OPERATOR: Final = "Operator"
BRACKET: Final = "Bracket"
EOF: Final = "EOF"

KEYWORD_OPERATORS = frozenset(
    {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "not"}
)
NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    pos: int

    def is_(self, kind: str, value: str | None = None) -> bool:
        return self.kind == kind and (value is None or self.value == value)

    def describe(self) -> str:
        """How errors name the token: ``')'``, ``'foo'`` or end of expression."""
        if self.kind == EOF:
            return "end of expression"
        return repr(self.value) if "'" not in self.value else f'"{self.value}"'


class LexError(Exception):
    """A lexical error at ``pos`` (offset into the source)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def is_space(ch: str) -> bool:
    """Go's ``unicode.IsSpace``."""
    if ord(ch) < 0x100:
        return ch in "\t\n\v\f\r \x85\xa0"
    return ch.isspace()


def is_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.category(ch).startswith("L")


def is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def is_alnum(ch: str) -> bool:
    """expr's ``IsAlphaNumeric``: letters, digits, ``_`` and ``$``."""
    return ch == "_" or ch == "$" or is_letter(ch) or is_digit(ch)


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _char_desc(ch: str) -> str:
    """Go's ``%#U`` of a rune: ``U+0040 '@'``."""
    code = ord(ch)
    return f"U+{code:04X} '{ch}'" if ch.isprintable() else f"U+{code:04X}"


class Lexer:
    """Single-pass scanner producing :class:`Token` objects."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.n = len(source)
        self.i = 0
        self.tokens: list[Token] = []

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.src[j] if j < self.n else ""

    def emit(self, kind: str, value: str, start: int) -> None:
        self.tokens.append(Token(kind, value, start))

    def run(self) -> list[Token]:
        src = self.src
        while self.i < self.n:
            start = self.i
            ch = src[start]
            if is_space(ch):
                self.i += 1
            elif ch in "'\"":
                self.emit(STRING, self.scan_string(ch), start)
            elif ch == "`":
                end = src.find("`", start + 1)
                if end < 0:
                    raise LexError("literal not terminated", self.n)
                self.emit(STRING, src[start + 1 : end], start)
                self.i = end + 1
            elif "0" <= ch <= "9":
                self.scan_number()
            elif ch == "?":
                self.i += 1
                if self.peek() in (".", "?") and self.peek():
                    self.i += 1
                self.emit(OPERATOR, src[start : self.i], start)
            elif ch == "/":
                self.scan_slash(start)
            elif ch == "#":
                self.i += 1
                if self.peek() == "#":
                    self.i += 1
                self.emit(OPERATOR, src[start : self.i], start)
                word_start = self.i
                while self.i < self.n and is_alnum(src[self.i]):
                    self.i += 1
                if self.i > word_start:
                    self.emit(IDENT, src[word_start : self.i], word_start)
            elif ch in "|:":
                self.i += 1
                if self.peek() == ch:
                    self.i += 1
                self.emit(OPERATOR, src[start : self.i], start)
            elif ch in "([{)]}":
                self.i += 1
                self.emit(BRACKET, ch, start)
            elif ch in ",;%+-^":
                self.i += 1
                self.emit(OPERATOR, ch, start)
            elif ch in "&!=*<>":
                self.i += 1
                if self.peek() and self.peek() in "&=*":
                    self.i += 1
                self.emit(OPERATOR, src[start : self.i], start)
            elif ch == ".":
                if "0" <= self.peek(1) <= "9" and self.peek(1):
                    self.scan_number()
                else:
                    self.i += 2 if self.peek(1) == "." else 1
                    self.emit(OPERATOR, src[start : self.i], start)
            elif is_alnum(ch):
                self.scan_identifier(start)
            else:
                raise LexError(f"unrecognized character: {_char_desc(ch)}", start)
        self.tokens.append(Token(EOF, "", max(self.n - 1, 0)))
        return self.tokens

    def scan_slash(self, start: int) -> None:
        nxt = self.peek(1)
        if nxt == "/":
            end = self.src.find("\n", start)
            self.i = self.n if end < 0 else end + 1
        elif nxt == "*":
            end = self.src.find("*/", start + 2)
            if end < 0:
                raise LexError("unclosed comment", self.n)
            self.i = end + 2
        else:
            self.i += 1
            self.emit(OPERATOR, "/", start)

    def scan_identifier(self, start: int) -> None:
        src = self.src
        while self.i < self.n and is_alnum(src[self.i]):
            self.i += 1
        word = src[start : self.i]
        if word == "not":
            self.emit(OPERATOR, word, start)
            j = self.i
            while j < self.n and src[j] == " ":
                j += 1
            k = j
            while k < self.n and is_alnum(src[k]):
                k += 1
            if src[j:k] in NEGATABLE:
                self.emit(OPERATOR, src[j:k], j)
                self.i = k
        elif word in KEYWORD_OPERATORS:
            self.emit(OPERATOR, word, start)
        else:
            self.emit(IDENT, word, start)

    def scan_number(self) -> None:
        src = self.src
        start = self.i
        digits = "0123456789_"
        if src[self.i] == "0" and self.peek(1) and self.peek(1) in "xXoObB":
            digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[self.peek(1).lower()]
            self.i += 2
        while self.i < self.n and src[self.i] in digits:
            self.i += 1
        if self.peek() == ".":
            if self.peek(1) == ".":
                self.emit(NUMBER, src[start : self.i], start)
                return
            self.i += 1
            while self.i < self.n and src[self.i] in digits:
                self.i += 1
        if self.peek() and self.peek() in "eE":
            self.i += 1
            if self.peek() and self.peek() in "+-":
                self.i += 1
            while self.i < self.n and src[self.i] in digits:
                self.i += 1
        if self.i < self.n and is_alnum(src[self.i]):
            self.i += 1
            word = src[start : self.i]
            raise LexError(f'bad number syntax: "{word}"', self.i - 1)
        self.emit(NUMBER, src[start : self.i], start)

    def scan_string(self, quote: str) -> str:
        src = self.src
        out: list[str] = []
        self.i += 1
        while True:
            if self.i >= self.n or src[self.i] == "\n":
                raise LexError("literal not terminated", min(self.i, self.n))
            ch = src[self.i]
            if ch == quote:
                self.i += 1
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                self.i += 1
                continue
            esc = self.peek(1)
            self.i += 2
            if esc in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[esc])
            elif esc == quote:
                out.append(quote)
            elif esc and esc in "01234567":
                out.append(self._code(src[self.i - 1 : self.i + 2], 8, 3, 255))
                self.i += 2
            elif esc in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[esc]
                out.append(self._code(src[self.i : self.i + width], 16, width, 0x10FFFF))
                self.i += width
            else:
                raise LexError("invalid char escape", self.i - 1)

    def _code(self, text: str, base: int, width: int, limit: int) -> str:
        valid = "01234567" if base == 8 else "0123456789abcdefABCDEF"
        if len(text) != width or any(c not in valid for c in text):
            raise LexError("invalid char escape", self.i)
        code = int(text, base)
        if code > limit or 0xD800 <= code <= 0xDFFF:
            raise LexError("invalid char escape", self.i)
        return chr(code)


def tokenize(source: str) -> list[Token]:
    return Lexer(source).run()
