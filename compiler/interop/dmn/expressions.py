"""FEEL expressions of a model (literal-expression decisions, output entries that
compute) split at the model's names, so that the builder can write them in FEEL-CR
(`docs/expressions.md`) over the columns' identifiers.

FEEL names may hold spaces, apostrophes and hyphens (`Extra days case 1`,
`Pre-bureau risk category`), which only the model's own names tell apart from
operators; so a name is recognised by matching the names in scope, longest first,
at a word boundary outside string literals. What is left is FEEL text that FEEL-CR
either reads with FEEL's meaning or refuses (E207's message becomes the import's
reason): import never guesses at an expression it cannot type.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from compiler.diagnostics import CellError
from compiler.expressions.typed import Typed, compile_expression
from compiler.interop.dmn.messages import Unsupported
from compiler.model import DataType

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)
_NAME_CHAR = re.compile(r"[\w]")
# FEEL-CR expression types -> column types (`integer` is a DMN number).
_COLUMN_TYPES = {
    "string": DataType.STRING,
    "integer": DataType.NUMBER,
    "number": DataType.NUMBER,
    "boolean": DataType.BOOLEAN,
    "date": DataType.DATE,
    "duration": DataType.DURATION,
    "time": DataType.TIME,
    "datetime": DataType.DATETIME,
}


@dataclass(frozen=True, slots=True)
class Expression:
    """FEEL text split into plain text and the model names it reads."""

    text: str  # as written
    pieces: tuple[tuple[str, str], ...]  # ("text", raw) or ("name", DMN name)

    @property
    def names(self) -> tuple[str, ...]:
        """The model names read, in order of first use."""
        return tuple(dict.fromkeys(n for kind, n in self.pieces if kind == "name"))

    def render(self, identifiers: Mapping[str, str]) -> str:
        """The text with each model name replaced by its column identifier."""
        return "".join(
            identifiers[text] if kind == "name" else text for kind, text in self.pieces
        )


def _pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({n for n in names if n.strip()}, key=len, reverse=True)
    if not ordered:
        return None
    alternatives = [
        r"\s+".join(re.escape(word) for word in name.split()) for name in ordered
    ]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def split_names(text: str, names: Iterable[str]) -> Expression:
    """TEXT with the occurrences of NAMES (outside strings, at word boundaries, not
    after a `.`, longest first) marked; other text is kept as written, but for runs
    of white space outside strings, which become one space."""
    known = list(names)
    by_words = {" ".join(n.split()): n for n in known}
    pattern = _pattern(known)
    pieces: list[tuple[str, str]] = []
    plain: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            match = _STRING.match(text, i)
            assert match is not None
            plain.append(match.group())
            i = match.end()
            continue
        before = text[i - 1] if i else " "
        at_start = not _NAME_CHAR.match(before) and before != "."
        found = pattern.match(text, i) if pattern and at_start else None
        if found is not None:
            end = found.end()
            if end < len(text) and _NAME_CHAR.match(text[end]):
                found = None
        if found is not None:
            if plain:
                pieces.append(("text", "".join(plain)))
                plain = []
            pieces.append(("name", by_words[" ".join(found.group().split())]))
            i = found.end()
            continue
        if char.isspace():  # runs of white space outside strings: one space
            if not (plain and plain[-1] == " "):
                plain.append(" ")
        else:
            plain.append(char)
        i += 1
    if plain:
        pieces.append(("text", "".join(plain)))
    return Expression(text, tuple(pieces))


_FIELDS = re.compile(r"(?:\s*\.\s*[^\W\d]\w*)+")


def join_paths(expression: Expression, roots: Container[str]) -> Expression:
    """EXPRESSION with each name of ROOTS (structured inputs) that a path follows
    (`Person.Name`, `Applicant data.Monthly.Income`) read as one name, the path:
    the builder gives it a path input column (version 2)."""
    pieces: list[tuple[str, str]] = []
    items = list(expression.pieces)
    i = 0
    while i < len(items):
        kind, raw = items[i]
        following = items[i + 1] if i + 1 < len(items) else None
        if kind == "name" and raw in roots and following and following[0] == "text":
            match = _FIELDS.match(following[1])
            if match:
                path = raw + "".join(match.group().split())
                pieces.append(("name", path))
                rest = following[1][match.end() :]
                if rest:
                    pieces.append(("text", rest))
                i += 2
                continue
        pieces.append((kind, raw))
        i += 1
    return Expression(expression.text, tuple(pieces))


def to_feel_cr(
    expression: Expression,
    identifiers: Mapping[str, str],
    env: Mapping[str, str],
    what: str,
) -> Typed:
    """EXPRESSION over the columns ENV (identifier -> expression type) as a checked
    FEEL-CR expression; `Unsupported` with FEEL-CR's message when it is not one."""
    rendered = expression.render(identifiers).strip()
    try:
        return compile_expression(rendered, env)
    except CellError as error:
        hint = f" ({error.hint})" if error.hint else ""
        raise Unsupported(
            f"{what} {' '.join(expression.text.split())!r} is not in FEEL-CR: "
            f"{error.message}{hint}",
            "FEEL expression",
        ) from None


def column_type(typed: Typed, what: str) -> DataType:
    """The column type of an expression's result, for outputs without a typeRef."""
    if typed.type not in _COLUMN_TYPES:
        shown = {"ym": "years and months duration", "null": "null"}.get(
            typed.type, typed.type
        )
        raise Unsupported(
            f"{what} gives {shown}, which no column type holds", "unknown type"
        )
    return _COLUMN_TYPES[typed.type]
