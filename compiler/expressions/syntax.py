"""The expression language's syntax: text to a tree of nodes, each with its position.

The language is a named subset of FEEL (DMN 1.5 chapter 10), "FEEL-CR", documented in
docs/expressions.md. The parser is hand-written (a Pratt parser: one function per
precedence level), like the cell grammar it extends: FEEL's names hold spaces
(`years and months duration`, `string length`), which a lexer can only tell from the
`and` operator by knowing the built-in names, and authors need messages that say
what was expected at which character. Every node keeps `start` and `end`, character
offsets into the cell's text, so an error points at the character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.diagnostics import CellError

# Built-in functions whose names hold spaces, longest first (matched before `and`).
SPACED_NAMES = (
    "years and months duration",
    "date and time",
    "string length",
    "list contains",
    "starts with",
    "ends with",
    "upper case",
    "lower case",
)
UNITS = {
    "week": "duration",
    "day": "duration",
    "hour": "duration",
    "minute": "duration",
    "second": "duration",
    "year": "ym",
    "month": "ym",
}
KEYWORDS = ("if", "then", "else", "and", "or", "true", "false", "null", "between")

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?|\.\d+)
    | (?P<op>\*\*|<=|>=|!=|\.\.|[-+*/<>=(),.\[\]])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)""",
    re.X | re.S,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, number, op, name, end
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number, string, boolean or null; `6 weeks` and `3 months` (UNIT set)."""

    value: object
    unit: str = ""  # `week`, `month`, ...: a duration literal written in words


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * / ** < <= > >= = != and or
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Path(Node):
    """`x.years`, `claim.member.age`."""

    value: Node
    field: str


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    """`any(M54.*, [70450..70498])` in a list column (version 2): whether some, every
    or no element of the list NAME passes TESTS (cell unary tests, `model.UnaryTests`,
    of the elements' type, TYPE). Built by the reader, not parsed here."""

    quantifier: str  # any, every, none
    name: str
    tests: object
    type: str


class ExpressionError(CellError):
    """A parse or type error at character POSITION of the expression."""

    def __init__(self, message: str, position: int, hint: str = "") -> None:
        super().__init__(message, hint, code="E207")
        self.position = position


def tokens(text: str) -> list[Token]:
    found: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        if kind == "other":
            raise ExpressionError(
                f"unexpected character {match.group()!r} at character "
                f"{match.start() + 1}",
                match.start(),
            )
        found.append(Token(kind, match.group(), match.start(), match.end()))
    found.append(Token("end", "", len(text), len(text)))
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
        self.at = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_(self, text: str) -> bool:
        token = self.token
        return token.kind in ("op", "name") and token.text == text

    def expect(self, text: str, hint: str = "") -> Token:
        if not self.is_(text):
            raise self.error(f"expected {text!r}", hint)
        return self.take()

    def error(self, message: str, hint: str = "") -> ExpressionError:
        token = self.token
        shown = "the end" if token.kind == "end" else repr(token.text)
        return ExpressionError(
            f"{message} at character {token.start + 1} ({shown})", token.start, hint
        )

    # precedence, lowest first

    def expression(self) -> Node:
        if self.is_("if"):
            start = self.take().start
            condition = self.expression()
            self.expect("then", "write if <condition> then <value> else <value>")
            then = self.expression()
            self.expect("else", "every if needs an else")
            otherwise = self.expression()
            return If(start, otherwise.end, condition, then, otherwise)
        return self.disjunction()

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.is_("or"):
            self.take()
            right = self.conjunction()
            node = Binary(node.start, right.end, "or", node, right)
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.is_("and"):
            self.take()
            right = self.comparison()
            node = Binary(node.start, right.end, "and", node, right)
        return node

    def comparison(self) -> Node:
        node = self.additive()
        if self.token.kind == "op" and self.token.text in (
            "<",
            "<=",
            ">",
            ">=",
            "=",
            "!=",
        ):
            op = self.take().text
            right = self.additive()
            return Binary(node.start, right.end, op, node, right)
        if self.is_("between"):
            self.take()
            low = self.additive()
            self.expect("and", "write x between low and high")
            high = self.additive()
            return Between(node.start, high.end, node, low, high)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.take().text
            right = self.multiplicative()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def multiplicative(self) -> Node:
        node = self.exponent()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            op = self.take().text
            right = self.exponent()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def exponent(self) -> Node:
        """`a ** b`, above `*` and `/`. FEEL readers differ on `-a ** b` and on
        `a ** b ** c`, so both want parentheses here (never a guess)."""
        negated = self.is_("-")
        node = self.unary()
        if not self.is_("**"):
            return node
        if negated:
            raise self.error(
                "write (-a) ** b or -(a ** b)", "the sign's reach is ambiguous"
            )
        self.take()
        right = self.unary()
        if self.is_("**"):
            raise self.error(
                "write (a ** b) ** c or a ** (b ** c)", "chained ** is ambiguous"
            )
        return Binary(node.start, right.end, "**", node, right)

    def unary(self) -> Node:
        if self.is_("-"):
            start = self.take().start
            operand = self.unary()
            return Unary(start, operand.end, "-", operand)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.is_("."):
            self.take()
            token = self.token
            if token.kind != "name":
                raise self.error("expected a field name after '.'", "e.g. age.years")
            self.take()
            node = Path(node.start, token.end, node, token.text)
        return node

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.take()
            number: object = float(token.text) if "." in token.text else int(token.text)
            unit = self.token
            if unit.kind == "name" and _unit(unit.text):
                self.take()
                return Literal(token.start, unit.end, number, _unit(unit.text))
            return Literal(token.start, token.end, number)
        if token.kind == "string":
            self.take()
            return Literal(token.start, token.end, _unescape(token.text[1:-1]))
        if self.is_("("):
            self.take()
            node = self.expression()
            self.expect(")", "close every (")
            return node
        if self.is_("["):
            start = self.take().start
            items: list[Node] = []
            if not self.is_("]"):
                items.append(self.expression())
                while self.is_(","):
                    self.take()
                    items.append(self.expression())
            end = self.expect("]", "a list is [a, b, c]").end
            return ListLiteral(start, end, tuple(items))
        if token.kind == "name":
            spaced = self._spaced_name()
            if spaced is not None:
                return self._call(spaced, token.start)
            if token.text in ("true", "false"):
                self.take()
                return Literal(token.start, token.end, token.text == "true")
            if token.text == "null":
                self.take()
                return Literal(token.start, token.end, None)
            if token.text in KEYWORDS:
                raise self.error(f"{token.text!r} cannot start a value")
            self.take()
            if self.is_("("):
                return self._call(token.text, token.start)
            return Name(token.start, token.end, token.text)
        raise self.error("expected a value")

    def _spaced_name(self) -> str | None:
        """A built-in name with spaces starting here, followed by `(`."""
        rest = self.text[self.token.start :]
        for name in SPACED_NAMES:
            pattern = r"\s+".join(map(re.escape, name.split())) + r"\s*\("
            match = re.match(pattern, rest)
            if match:
                end = self.token.start + match.end() - 1  # the `(`
                while self.token.start < end:
                    self.take()
                return name
        return None

    def _call(self, name: str, start: int) -> Node:
        self.expect("(")
        arguments: list[Node] = []
        if not self.is_(")"):
            arguments.append(self.expression())
            while self.is_(","):
                self.take()
                arguments.append(self.expression())
        end = self.expect(")", "close the call's (").end
        return Call(start, end, name, tuple(arguments))


def _unit(word: str) -> str:
    lowered = word.lower()
    singular = lowered[:-1] if lowered.endswith("s") else lowered
    return singular if singular in UNITS else ""


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def parse(text: str) -> Node:
    """The tree of TEXT; ExpressionError (E207) naming the character otherwise."""
    if not text.strip():
        raise ExpressionError("the expression is empty", 0, "write e.g. a - b")
    parser = _Parser(text)
    node = parser.expression()
    if parser.token.kind != "end":
        raise parser.error("unexpected text after the expression")
    return node
