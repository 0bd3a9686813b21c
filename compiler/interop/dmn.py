"""DMN decision tables in and out: `compile-rules import-dmn` and `export-dmn`.

Teams arrive with tables drawn in Camunda Modeler, Drools or Trisotech. Import turns
the decision tables of a DMN 1.1 to 1.5 model into model `Table`s and writes them as a
workbook in our format; export writes tables of the project as DMN 1.5. What maps to
what:

    DMN (import reads 1.1-1.5, export writes 1.5)     workbook
    ---------------------------------------------     ------------------------------------
    decision with a decisionTable                     a `Decision table` sheet; name: the
                                                      decision name in snake_case; Title:
                                                      its label, else its name when that
                                                      is not already the identifier;
                                                      Source: its description
    decisionTable@hitPolicy, @aggregation             Hit policy (`COLLECT SUM`, ...)
    input whose inputExpression names an inputData    `input` column named after it
      (or is a plain name, Camunda style)
    input naming a decision converted to a table      `from <table>` column named after
      (`Decision`, or `Decision.output`)              that table's output
    inputExpression@typeRef, else the inputData's     Type: string, number, boolean, date
      (itemDefinitions with a base type resolve)      (Camunda 7: integer, long -> integer,
                                                      double -> number)
    inputValues, else the type's allowedValues        Values of an input
    output (@name; a single output: the decision)     `output` column
    outputValues / defaultOutputEntry                 Values (the priority order) / Default
    annotation + annotationEntry (1.2+)               `annotation` columns, names kept
    rule/description (1.1)                            an annotation column `Description`
    rule@label, else rule@id                          the rule id
    inputEntry: S-FEEL unary tests (`-`, literals,    cells in the format's grammar
      lists, not(...), < <= > >= = !=, ranges)
    outputEntry: a literal; empty means null          output cells

Names with spaces or punctuation become snake_case identifiers (`Approval Status` ->
`approval_status`, `isAffordable` -> `is_affordable`); collisions get `_2`, `_3` in
document order, and Python keywords or names the generated code reserves get a `_`.
The original names stay visible: the Title row, a comment on every header cell, and a
`DMN import` note sheet listing each column's DMN name and id.

Not converted, and reported with the element's id and name, never guessed: decisions
whose logic is not a decision table (literal expressions, contexts, invocations, ...),
business knowledge models, decision services, FEEL beyond unary tests and literals
(names of variables, arithmetic, function calls), structured and list inputs (paths
like `applicant.age`, collection types), and types other than the four above (time,
date and time, durations). A table with such a part is left out whole; a table that
reads a decision that was left out reads it as a plain input instead (a warning says
the caller now passes that value).

Export is the inverse for the format's tables: inputData per plain input, a decision
with informationRequirement per table, inputs with inputExpression, typeRef and
inputValues, outputs with outputValues and defaultOutputEntry, rules in FEEL (strings
quoted, dates as `date("...")`), annotation columns as annotations, the rule id as
the rule's id (or label, when it is not a unique XML id), Title as the decision's label
and Source as its description. DMN has no versions, code columns nor integers:
effective-dated tables are not exported, codes become strings (prefixes and code
ranges as `?` tests, which import does not read back) and integers numbers.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as SafeET
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.worksheet.worksheet import Worksheet

from compiler import pipeline
from compiler.checking import analyse
from compiler.diagnostics import Diagnostic, Location
from compiler.model import (
    Aggregation,
    Column,
    ColumnKind,
    Compare,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Interval,
    Prefix,
    Project,
    Rule,
    Table,
    Test,
    UnaryTests,
    Value,
)
from compiler.reading import cells
from compiler.reading.sheets import RESERVED_NAMES, check_identifier

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"
FEEL15 = "https://www.omg.org/spec/DMN/20230324/FEEL/"
DMNDI15 = "https://www.omg.org/spec/DMN/20230324/DMNDI/"
DC = "http://www.omg.org/spec/DMN/20180521/DC/"
DI = "http://www.omg.org/spec/DMN/20180521/DI/"
MAX_MODEL_BYTES = 64 * 1024 * 1024

_TYPES = {
    "string": DataType.STRING,
    "number": DataType.NUMBER,
    "boolean": DataType.BOOLEAN,
    "date": DataType.DATE,
    # Camunda 7 (Java) types: exact counterparts, not inferred.
    "integer": DataType.INTEGER,
    "long": DataType.INTEGER,
    "double": DataType.NUMBER,
}
_TEMPORAL_TYPES = {
    "time",
    "date and time",
    "datetime",
    "days and time duration",
    "daytimeduration",
    "years and months duration",
    "yearmonthduration",
}
_LOGIC = {
    "decisionTable": "a decision table",
    "literalExpression": "a literal expression",
    "context": "a context",
    "invocation": "an invocation",
    "relation": "a relation",
    "list": "a list",
    "functionDefinition": "a function definition",
    "conditional": "a conditional",
    "filter": "a filter",
    "for": "an iterator",
    "some": "a quantified expression",
    "every": "a quantified expression",
}
_HIT_POLICIES = {
    "UNIQUE": HitPolicy.UNIQUE,
    "FIRST": HitPolicy.FIRST,
    "PRIORITY": HitPolicy.PRIORITY,
    "ANY": HitPolicy.ANY,
    "COLLECT": HitPolicy.COLLECT,
    "RULE ORDER": HitPolicy.RULE_ORDER,
    "OUTPUT ORDER": HitPolicy.OUTPUT_ORDER,
}
# Names the generated evaluator uses for its own locals and helpers: a column named
# like one of them would shadow it, so imported columns never take them.
CODEGEN_NAMES = frozenset(
    {"as_of", "date", "hits", "today", "unique", "any_", "priority", "collect"}
    | {"output_order", "aggregate", "result", "outputs", "matched"}
)


# -- messages --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """Something import or export could not convert (error) or converted with a
    caveat (warning), naming the DMN element by kind, name and id."""

    severity: str  # "error": the element was left out; "warning": converted, read this
    element: str  # "decision", "input", "business knowledge model", "table", ...
    name: str
    id: str
    text: str
    topic: str = ""  # a short category, for summaries (`literal expression`)

    def format(self, model: str = "") -> str:
        where = f"{self.element} {self.name!r}" + (f" ({self.id})" if self.id else "")
        prefix = f"{model}: " if model else ""
        return f"{prefix}{self.severity}: {where}: {self.text}"


class Unsupported(Exception):
    """A DMN construct or FEEL text the workbook format cannot express."""

    def __init__(self, text: str, topic: str) -> None:
        super().__init__(text)
        self.text = text
        self.topic = topic


# -- names -----------------------------------------------------------------------------

_TRANSLITERATE = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O"})


def snake_case(name: str) -> str:
    """`Approval Status` -> `approval_status`, `isAffordable` -> `is_affordable`,
    `Student's name` -> `students_name`; always a lowercase ASCII identifier shape."""
    text = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"['`]", "", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not text:
        return "x"
    return f"x_{text}" if text[0].isdigit() else text


def _collapse(text: str) -> str:
    return " ".join(text.split())


class _Names:
    """Identifiers for DMN names: the same name always gets the same identifier, and
    different names different ones (`age`, `age_2`) in the order they are asked for."""

    def __init__(self, reserved: Iterable[str], taken: Iterable[str] = ()) -> None:
        self.reserved = frozenset(reserved)
        self.by_name: dict[str, str] = {}
        self.used: set[str] = set(taken)

    def __call__(self, name: str) -> str:
        key = _collapse(name)
        if key not in self.by_name:
            base = snake_case(key)
            if check_identifier(base) or base in self.reserved:
                base += "_"
            candidate, n = base, 2
            while candidate in self.used:
                candidate, n = f"{base}_{n}", n + 1
            self.used.add(candidate)
            self.by_name[key] = candidate
        return self.by_name[key]


# -- FEEL: the unary tests and literals of S-FEEL --------------------------------------

Literal = str | Decimal | bool | dt.date | None

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?|\.\d+)
    | (?P<range>\.\.)
    | (?P<op><=|>=|!=|<|>|=)
    | (?P<punct>[\[\]\(\),@\-])
    | (?P<word>[^\W\d][\w?]*)
    | (?P<other>\S)
    )""",
    re.X | re.S,
)
_TEMPORAL = re.compile(
    r"\b(date\s+and\s+time|time|duration|years\s+and\s+months\s+duration"
    r"|days\s+and\s+time\s+duration)\s*\(",
    re.I,
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{6}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, body)


@dataclass(frozen=True, slots=True)
class _RawTest:
    """One positive unary test before typing: `op` is `=`, `!=`, `<`, `<=`, `>`, `>=`
    or `..` (a range, with both ends in `values`)."""

    op: str
    values: tuple[Literal, ...]
    low_closed: bool = True
    high_closed: bool = True


@dataclass(frozen=True, slots=True)
class _RawTests:
    tests: tuple[_RawTest, ...] = ()
    negated: bool = False

    def literals(self) -> Iterator[Literal]:
        for test in self.tests:
            yield from test.values


class _Feel:
    """A tiny recursive-descent reader for S-FEEL unary tests and literals.

    Anything else (names, arithmetic, calls, `?`) raises `Unsupported`: the workbook
    format holds values, not expressions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        if _TEMPORAL.search(re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
            raise Unsupported(
                f"{text!r} uses a time, date-time or duration value; the format has "
                "string, number, boolean and date",
                "time or duration value",
            )
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is not None:
                self.tokens.append((kind, match.group(kind)))
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def unsupported(self) -> Unsupported:
        words = [t for k, t in self.tokens if k == "word"]
        plain = {"true", "false", "null", "not", "date"}
        names = [w for w in words if w not in plain]
        if names:
            return Unsupported(
                f"{self.text!r} uses names (of inputs, variables or functions); the "
                "format takes literal values only",
                "variable in a unary test",
            )
        return Unsupported(
            f"{self.text!r} is not an S-FEEL unary test or literal the format can hold",
            "FEEL expression",
        )

    def expect_end(self) -> None:
        if self.pos != len(self.tokens):
            raise self.unsupported()

    def unary_tests(self) -> _RawTests:
        if not self.tokens or self.tokens == [("punct", "-")]:
            return _RawTests()
        negated = self.peek() == ("word", "not") and self.tokens[1:2] == [
            ("punct", "(")
        ]
        if negated:
            self.pos = 2
        tests = [self.test()]
        while self.peek() == ("punct", ","):
            self.take()
            tests.append(self.test())
        if negated and self.take() != ("punct", ")"):
            raise self.unsupported()
        self.expect_end()
        return _RawTests(tuple(tests), negated)

    def test(self) -> _RawTest:
        kind, text = self.peek()
        if kind == "op":
            self.take()
            return _RawTest(text, (self.endpoint(),))
        if kind == "punct" and text in "[(]":
            self.take()
            low = self.endpoint()
            if self.take()[0] != "range":
                raise self.unsupported()
            high = self.endpoint()
            kind, close = self.take()
            if kind != "punct" or close not in "])[":
                raise self.unsupported()
            return _RawTest("..", (low, high), text == "[", close == "]")
        return _RawTest("=", (self.endpoint(),))

    def literal(self) -> Literal:
        value = self.endpoint()
        self.expect_end()
        return value

    def endpoint(self) -> Literal:
        kind, text = self.take()
        if kind == "string":
            return _unescape(text[1:-1])
        if kind == "number":
            return Decimal(text)
        if (kind, text) == ("punct", "-") and self.peek()[0] == "number":
            return -Decimal(self.take()[1])
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        if (kind, text) == ("word", "date") and self.peek() == ("punct", "("):
            self.take()
            inner_kind, inner = self.take()
            if inner_kind != "string" or self.take() != ("punct", ")"):
                raise self.unsupported()
            return _date(inner[1:-1], self.text)
        if (kind, text) == ("punct", "@") and self.peek()[0] == "string":
            return _date(self.take()[1][1:-1], self.text)
        raise self.unsupported()


def _date(text: str, source: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Unsupported(
            f"{source!r} is a time, date-time or duration, not a date",
            "time or duration value",
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Unsupported(
            f"{source!r} is not a calendar date", "invalid literal"
        ) from None


def parse_unary_tests(text: str) -> _RawTests:
    """S-FEEL unary tests (`-`, `"a","b"`, `not(< 5)`, `[1..9)`), not yet typed."""
    return _Feel(text.strip()).unary_tests()


def parse_literal(text: str) -> Literal:
    """An S-FEEL literal; empty text is null (as Camunda writes an empty output)."""
    text = text.strip()
    return None if not text else _Feel(text).literal()


def _kind_of(value: Literal) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "string" if isinstance(value, str) else "null"


def infer_type(literals: Iterable[Literal]) -> DataType | None:
    """The one type every non-null literal has, or None (none, or mixed)."""
    kinds = {_kind_of(v) for v in literals} - {"null"}
    return _TYPES[kinds.pop()] if len(kinds) == 1 else None


def typed(value: Literal, type_: DataType) -> Value:
    """A FEEL literal as a value of the column's type, or `Unsupported`."""
    if value is None:
        return None
    if type_ in (DataType.STRING, DataType.CODE) and isinstance(value, str):
        _check_cell_text(value)
        return value
    if isinstance(value, Decimal) and type_ is DataType.NUMBER:
        if Decimal(repr(float(value))) != value:
            raise Unsupported(
                f"{value} has more digits than a number column keeps (a float)",
                "number precision",
            )
        return float(value)
    if isinstance(value, Decimal) and type_ is DataType.INTEGER:
        if value == value.to_integral_value():
            return int(value)
    if isinstance(value, bool) and type_ is DataType.BOOLEAN:
        return value
    if isinstance(value, dt.date) and type_ is DataType.DATE:
        return value
    raise Unsupported(
        f"{feel_literal(value)} is a {_kind_of(value)}, but the column is {type_.value}",
        "type mismatch",
    )


def _check_cell_text(value: str) -> None:
    """Workbook cells normalise typographic quotes, special spaces and tabs: a string
    holding them cannot be written exactly."""
    if cells.clean_text(f'"{value}"')[0] != f'"{value}"' or re.search(
        r"[\x00-\x08\x0b-\x1f]", value
    ):
        raise Unsupported(
            f"the string {value!r} holds characters a workbook cell normalises "
            "(typographic quotes, tabs, special spaces or control characters)",
            "string not representable",
        )


def typed_tests(raw: _RawTests, type_: DataType) -> UnaryTests:
    """Raw unary tests as model tests of the column's type, or `Unsupported`."""
    if len(raw.tests) == 1 and raw.tests[0].op == "!=" and not raw.negated:
        return UnaryTests((Equals(typed(raw.tests[0].values[0], type_)),), negated=True)
    tests: list[Test] = []
    for test in raw.tests:
        values = [typed(v, type_) for v in test.values]
        if test.op == "=":
            tests.append(Equals(values[0]))
            continue
        if test.op == "!=":
            raise Unsupported(
                "'!=' inside a list of tests; write not(...)", "FEEL expression"
            )
        ordered = (DataType.INTEGER, DataType.NUMBER, DataType.DATE)
        if type_ not in ordered:
            raise Unsupported(
                f"comparisons and ranges of {type_.value} values are not in the format",
                "comparison of strings or booleans",
            )
        if any(v is None for v in values):
            raise Unsupported("a comparison with null is never true", "FEEL expression")
        if test.op != "..":
            tests.append(Compare(test.op, values[0]))  # type: ignore[arg-type]
            continue
        low, high = values
        if low > high or (low == high and not (test.low_closed and test.high_closed)):  # type: ignore[operator]
            raise Unsupported("the range is empty", "empty range")
        tests.append(Interval(low, high, test.low_closed, test.high_closed))  # type: ignore[arg-type]
    return UnaryTests(tuple(tests), raw.negated)


def as_values(tests: UnaryTests) -> UnaryTests:
    """Unary tests usable as a Values row (values and ranges), or `Unsupported`."""
    if tests.negated or any(isinstance(t, Compare) for t in tests.tests):
        raise Unsupported(
            "Values take values and ranges, not comparisons or not(...)", "values"
        )
    if any(isinstance(t, Equals) and t.value is None for t in tests.tests):
        raise Unsupported(
            "null cannot be listed in Values (it is always allowed)", "values"
        )
    return tests


# -- import ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a converted table came from: its decision, and each column's DMN name
    and id (identifier, DMN name, DMN id, role)."""

    decision_id: str
    decision_name: str
    columns: tuple[tuple[str, str, str, str], ...]

    def output_names(self) -> dict[str, str]:
        """DMN output name -> output column identifier."""
        return {dmn: ident for ident, dmn, _, role in self.columns if role == "output"}


@dataclass(frozen=True, slots=True)
class Conversion:
    """What import made of a DMN model: tables in our model, and what it left out."""

    model: str  # the file name, as messages show it
    tables: tuple[Table, ...]
    origins: Mapping[str, Origin]  # table name -> origin
    messages: tuple[Message, ...]
    inputs: Mapping[str, str]  # DMN input name -> column identifier
    decisions: Mapping[str, str]  # DMN decision name -> table name (converted only)
    namespace: str = ""  # the DMN namespace read (version)

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.severity == "error")


@dataclass
class _Input:
    """An input clause, its reference resolved to a name, before typing."""

    id: str
    label: str
    expression: str
    ref: str  # "input" (inputData or free name) or "decision"
    target: str  # the inputData / free / decision name
    output: str | None  # `Decision.output`
    type_ref: str | None
    values_text: str | None
    entries: list[_RawTests] = field(default_factory=list)


@dataclass
class _Output:
    id: str
    name: str  # the DMN name (decision name for a nameless single output)
    type_ref: list[str]  # candidates, most specific first
    values_text: str | None
    default_text: str | None
    entries: list[Literal] = field(default_factory=list)


@dataclass
class _Draft:
    """A decision table read from XML, before requirements are resolved."""

    decision: ET.Element
    id: str
    name: str
    label: str
    description: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: list[_Input]
    outputs: list[_Output]
    annotations: list[str]
    rules: list[tuple[str, list[str]]]  # (rule id, annotation texts)


class _Problems:
    """Why a table cannot be converted, grouped so that a column whose every rule has
    the same problem is reported once (with the first rule and a count)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], list[tuple[str, Unsupported]]] = {}

    def __bool__(self) -> bool:
        return bool(self.groups)

    def add(self, where: str, problem: Unsupported, rule: str = "") -> None:
        self.groups.setdefault((where, problem.topic), []).append((rule, problem))

    def summary(self) -> Iterator[tuple[str, str]]:
        for (where, topic), found in self.groups.items():
            rule, first = found[0]
            text = f"{where}: {first.text}" if where else first.text
            if rule:
                more = len(found) - 1
                text += f" (rule {rule!r}" + (f" and {more} more)" if more else ")")
            yield text, topic


class _Importer:
    """Reads one model: drafts every decision table (reporting what cannot be one),
    then builds the drafts into tables, requirements first."""

    def __init__(self, root: ET.Element, model: str) -> None:
        self.root = root
        self.ns = root.tag[1:].split("}")[0]
        self.model = model
        self.messages: list[Message] = []
        self.items = {
            e.get("name", ""): e for e in self.children(root, "itemDefinition")
        }
        self.input_data = {
            _collapse(e.get("name", "")): e for e in self.children(root, "inputData")
        }
        self.decisions = {
            _collapse(e.get("name", "")): e for e in self.children(root, "decision")
        }
        self.table_names = _Names(RESERVED_NAMES)
        self.input_names = _Names(CODEGEN_NAMES)
        for name in self.input_data:
            self.input_names(name)
        self.drafts: dict[str, _Draft] = {}
        self.built: dict[str, Table | None] = {}
        self.origins: dict[str, Origin] = {}
        self.building: set[str] = set()

    # -- XML helpers ------------------------------------------------------------------

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def children(self, element: ET.Element, name: str) -> list[ET.Element]:
        return element.findall(self.q(name))

    def child(self, element: ET.Element, name: str) -> ET.Element | None:
        return element.find(self.q(name))

    def text(self, element: ET.Element | None, name: str = "text") -> str | None:
        if element is None:
            return None
        found = element.find(self.q(name))
        return None if found is None else (found.text or "")

    def report(
        self,
        severity: str,
        element: str,
        node: ET.Element | None,
        text: str,
        topic: str = "",
        name: str = "",
    ) -> None:
        shown = name or (node.get("name", "") if node is not None else "")
        ident = node.get("id", "") if node is not None else ""
        self.messages.append(Message(severity, element, shown, ident, text, topic))

    def check_language(self, element: ET.Element | None) -> None:
        language = element.get("expressionLanguage") if element is not None else None
        if language and "feel" not in language.lower():
            raise Unsupported(
                f"the expression language is {language!r}, not FEEL", "not FEEL"
            )

    # -- the model ----------------------------------------------------------------------

    def run(self) -> Conversion:
        self.check_definitions()
        for decision in self.decisions.values():
            self.draft(decision)
        for name in self.drafts:
            self.build(name)
        tables = self.mark_partial([t for n in self.drafts if (t := self.built[n])])
        decisions = {
            d.name: self.table_names(d.name)
            for d in self.drafts.values()
            if self.built.get(_collapse(d.name))
        }
        return Conversion(
            model=self.model,
            tables=tables,
            origins=self.origins,
            messages=tuple(self.messages),
            inputs=dict(self.input_names.by_name),
            decisions=decisions,
            namespace=self.ns,
        )

    def mark_partial(self, tables: list[Table]) -> tuple[Table, ...]:
        """`Complete: no` on tables that leave inputs unanswered: DMN gives null there,
        which the format allows only in a table declared partial (else A303)."""
        decisions = tuple(Decision(t.name, (t,)) for t in tables)
        gaps = {
            d.location.sheet
            for d in analyse.check_gaps(Project(decisions, (), ()))
            if d.code == "A303"
        }
        marked = []
        for table in tables:
            if table.location.sheet in gaps:
                decision = self.drafts[self.origins[table.name].decision_name].decision
                text = "some inputs match no rule (DMN gives null there): marked `Complete: no`"
                self.report("warning", "decision", decision, text, "caveat")
                table = replace(table, complete=False)
            marked.append(table)
        return tuple(marked)

    def check_definitions(self) -> None:
        try:
            self.check_language(self.root)
        except Unsupported as exc:
            self.report(
                "error",
                "definitions",
                self.root,
                f"{exc.text}; nothing is converted",
                exc.topic,
            )
            self.decisions = {}
        for node in self.children(self.root, "import"):
            name = (
                node.get("name")
                or node.get("locationURI")
                or node.get("namespace")
                or ""
            )
            self.report(
                "warning",
                "import",
                node,
                "imported models are not read",
                "import",
                name,
            )
        for node in self.children(self.root, "businessKnowledgeModel"):
            self.report(
                "error",
                "business knowledge model",
                node,
                "not converted: only decision tables are",
                "business knowledge model",
            )
        for node in self.children(self.root, "decisionService"):
            self.report(
                "error",
                "decision service",
                node,
                "not converted: only decision tables are",
                "decision service",
            )

    def draft(self, decision: ET.Element) -> None:
        """Read a decision's table into a `_Draft`, or report why it cannot be one."""
        logic = [
            c
            for c in decision
            if c.tag.startswith(f"{{{self.ns}}}") and c.tag.split("}")[1] in _LOGIC
        ]
        if not logic:
            self.report(
                "error",
                "decision",
                decision,
                "has no decision logic: nothing to convert",
                "no decision logic",
            )
            return
        kind = logic[0].tag.split("}")[1]
        if kind != "decisionTable":
            what = _LOGIC[kind]
            self.report(
                "error",
                "decision",
                decision,
                f"its logic is {what}; only decision tables are converted",
                what.split(" ", 1)[1],
            )
            return
        table = logic[0]
        name = _collapse(decision.get("name", ""))
        problems = _Problems()
        try:
            self.check_language(table)
            hit_policy, aggregation = self.hit_policy(table)
        except Unsupported as exc:
            problems.add("", exc)
            hit_policy, aggregation = HitPolicy.UNIQUE, None
        variable = self.child(decision, "variable")
        decision_type = (
            variable.get("typeRef") if variable is not None else None
        ) or table.get("typeRef")
        inputs = [
            self.input_clause(node, problems) for node in self.children(table, "input")
        ]
        outputs = self.output_clauses(
            table, name, decision_type, self.components(decision_type)
        )
        if not outputs:
            problems.add("", Unsupported("the table has no output", "malformed table"))
        annotations = [
            _clean(a.get("name", "")) for a in self.children(table, "annotation")
        ]
        rules = self.rules(table, inputs, outputs, len(annotations), problems)
        if any(
            self.child(r, "description") is not None
            for r in self.children(table, "rule")
        ):
            annotations.append("Description")
        for text, topic in problems.summary():
            self.report("error", "decision", decision, text, topic)
        if problems:
            return
        self.table_names(name)
        self.drafts[name] = _Draft(
            decision=decision,
            id=decision.get("id", ""),
            name=name,
            label=_clean(
                decision.get("label") or (name if snake_case(name) != name else "")
            ),
            description=_clean(self.text(decision, "description") or ""),
            hit_policy=hit_policy,
            aggregation=aggregation,
            inputs=inputs,
            outputs=outputs,
            annotations=annotations,
            rules=rules,
        )

    def rules(
        self,
        table: ET.Element,
        inputs: list[_Input],
        outputs: list[_Output],
        annotations: int,
        problems: _Problems,
    ) -> list[tuple[str, list[str]]]:
        """Each rule's id and annotation texts; entries are parsed into the clauses."""
        rules_xml = self.children(table, "rule")
        described = any(self.child(r, "description") is not None for r in rules_xml)
        rules: list[tuple[str, list[str]]] = []
        for number, rule in enumerate(rules_xml, start=1):
            rule_id = _clean(rule.get("label") or rule.get("id") or f"R{number}")
            notes = [
                _clean(self.text(e) or "")
                for e in self.children(rule, "annotationEntry")
            ]
            notes = (notes + [""] * annotations)[:annotations]
            if described:
                notes.append(_clean(self.text(rule, "description") or ""))
            rules.append((rule_id, notes))
            entries = self.children(rule, "inputEntry")
            results = self.children(rule, "outputEntry")
            if len(entries) != len(inputs) or len(results) != len(outputs):
                counts = f"{len(entries)} input and {len(results)} output entries"
                text = f"{counts} for {len(inputs)} inputs and {len(outputs)} outputs"
                problems.add("", Unsupported(text, "malformed table"), rule_id)
                continue
            for clause, entry in zip(inputs, entries, strict=True):
                try:
                    self.check_language(entry)
                    clause.entries.append(parse_unary_tests(self.text(entry) or ""))
                except Unsupported as exc:
                    problems.add(f"input {clause.label!r}", exc, rule_id)
            for output, entry in zip(outputs, results, strict=True):
                try:
                    self.check_language(entry)
                    output.entries.append(parse_literal(self.text(entry) or ""))
                except Unsupported as exc:
                    problems.add(
                        f"output {output.name!r}",
                        Unsupported(exc.text, _output_topic(exc.topic)),
                        rule_id,
                    )
        return rules

    def hit_policy(self, table: ET.Element) -> tuple[HitPolicy, Aggregation | None]:
        text = _collapse(table.get("hitPolicy", "UNIQUE")).upper()
        if text not in _HIT_POLICIES:
            raise Unsupported(f"unknown hit policy {text!r}", "malformed table")
        aggregation_text = table.get("aggregation")
        if aggregation_text is None:
            return _HIT_POLICIES[text], None
        if text != "COLLECT" or aggregation_text.upper() not in Aggregation.__members__:
            raise Unsupported(
                f"aggregation {aggregation_text!r} with hit policy {text}",
                "malformed table",
            )
        return _HIT_POLICIES[text], Aggregation[aggregation_text.upper()]

    def input_clause(self, node: ET.Element, problems: _Problems) -> _Input:
        expression = self.child(node, "inputExpression")
        text = _collapse(self.text(expression) or "")
        label = node.get("label") or text
        clause = _Input(
            id=node.get("id", ""),
            label=label,
            expression=text,
            ref="input",
            target=text,
            output=None,
            type_ref=expression.get("typeRef") if expression is not None else None,
            values_text=self.text(self.child(node, "inputValues")),
        )
        try:
            self.check_language(expression)
            self.resolve_input(clause)
        except Unsupported as exc:
            problems.add(f"input {label!r}", exc)
        try:
            if clause.type_ref:
                self.resolve_type(clause.type_ref)
        except Unsupported as exc:
            problems.add(f"input {label!r}", exc)
        return clause

    def resolve_input(self, clause: _Input) -> None:
        text = clause.expression
        if text in self.decisions:
            clause.ref = "decision"
            return
        if text in self.input_data:
            return
        for dot in [m.start() for m in re.finditer(r"\.", text)]:
            head, tail = text[:dot].strip(), text[dot + 1 :].strip()
            if head in self.decisions:
                clause.ref, clause.target, clause.output = "decision", head, tail
                return
            if head in self.input_data:
                raise Unsupported(
                    f"{text!r} is a path into the structured input {head!r}; the format "
                    "takes plain inputs",
                    "structured input",
                )
        if not text:
            raise Unsupported("the input expression is empty", "malformed table")
        if not re.fullmatch(r"[^\W\d][\w' ]*", text) or text in (
            "true",
            "false",
            "null",
            "not",
        ):
            raise Unsupported(
                f"the input expression {text!r} is a FEEL expression, not the name of an input",
                "FEEL input expression",
            )

    def output_clauses(
        self,
        table: ET.Element,
        decision_name: str,
        decision_type: str | None,
        components: dict[str, str],
    ) -> list[_Output]:
        nodes = self.children(table, "output")
        outputs: list[_Output] = []
        for node in nodes:
            name = _collapse(node.get("name") or "") or (
                decision_name if len(nodes) == 1 else ""
            )
            if not name:
                name = (
                    _collapse(node.get("label") or "") or f"output {len(outputs) + 1}"
                )
            candidates = [node.get("typeRef") or ""]
            if len(nodes) == 1:
                candidates += [table.get("typeRef") or "", decision_type or ""]
            candidates.append(components.get(name, ""))
            outputs.append(
                _Output(
                    id=node.get("id", ""),
                    name=name,
                    type_ref=[c for c in candidates if c],
                    values_text=self.text(self.child(node, "outputValues")),
                    default_text=self.text(self.child(node, "defaultOutputEntry")),
                )
            )
        return outputs

    # -- types ----------------------------------------------------------------------

    def components(self, type_ref: str | None) -> dict[str, str]:
        """The component types of a structured (compound output) item definition."""
        item = self.items.get(_local(type_ref or ""))
        if item is None:
            return {}
        found = {}
        for component in self.children(item, "itemComponent"):
            ref = self.text(component, "typeRef")
            if ref:
                found[_collapse(component.get("name", ""))] = ref.strip()
        return found

    def resolve_type(
        self, type_ref: str, *, list_ok: bool = False, depth: int = 0
    ) -> tuple[DataType | None, str | None]:
        """A typeRef as (type, allowed values text); (None, None) for Any."""
        local = _local(type_ref)
        if local.lower() in _TYPES:
            return _TYPES[local.lower()], None
        if local.lower() == "any":
            return None, None
        if local.lower() in _TEMPORAL_TYPES:
            raise Unsupported(
                f"the type {local!r} is not in the format (string, number, boolean, date)",
                "time or duration value",
            )
        item = self.items.get(local)
        if item is None or depth > 20:
            raise Unsupported(f"unknown type {type_ref!r}", "unknown type")
        if item.get("isCollection") == "true" and not list_ok:
            raise Unsupported(
                f"the type {local!r} is a collection; the format takes single values",
                "list input",
            )
        if self.children(item, "itemComponent"):
            raise Unsupported(
                f"the type {local!r} is structured; the format takes plain values",
                "structured type",
            )
        base = self.text(item, "typeRef")
        if not base:
            raise Unsupported(f"the type {local!r} has no base type", "unknown type")
        type_, allowed = self.resolve_type(base.strip(), depth=depth + 1)
        own = self.text(self.child(item, "allowedValues"))
        return type_, own if own is not None else allowed

    # -- building tables ----------------------------------------------------------------

    def build(self, name: str) -> Table | None:
        if name in self.built:
            return self.built[name]
        if name in self.building:
            self.report(
                "error",
                "decision",
                self.drafts[name].decision,
                "its decision tables require each other in a cycle",
                "cycle",
            )
            return None
        self.building.add(name)
        draft = self.drafts[name]
        try:
            table = self.table(draft)
        except Unsupported as exc:
            self.report("error", "decision", draft.decision, exc.text, exc.topic)
            table = None
        self.building.discard(name)
        self.built[name] = table
        return table

    def table(self, draft: _Draft) -> Table:
        table_name = self.table_names(draft.name)
        where = Location(self.model, table_name)
        local = _Names(CODEGEN_NAMES)
        origin: list[tuple[str, str, str, str]] = []
        warnings: list[str] = []
        inputs: list[Column] = []
        for clause in draft.inputs:
            column = self.input_column(clause, where, warnings)
            if column.name in local.used:
                raise Unsupported(
                    f"two input columns read {column.name!r}; the format has one column per input",
                    "repeated input",
                )
            local.used.add(column.name)
            inputs.append(column)
            origin.append((column.name, clause.label, clause.id, "input"))
        outputs: list[Column] = []
        for output in draft.outputs:
            column = self.output_column(output, local(output.name), where, warnings)
            outputs.append(column)
            origin.append((column.name, output.name, output.id, "output"))
        notes: list[Column] = []
        taken = set(local.used)
        for text in draft.annotations:
            header = text or "Annotation"
            candidate, n = header, 2
            while candidate in taken:
                candidate, n = f"{header} ({n})", n + 1
            taken.add(candidate)
            notes.append(
                Column(candidate, ColumnKind.ANNOTATION, DataType.STRING, where)
            )
            origin.append((candidate, text, "", "annotation"))
        rules = []
        seen: set[str] = set()
        for index, (rule_id, texts) in enumerate(draft.rules):
            unique_id, n = rule_id, 2
            while unique_id in seen:
                unique_id, n = f"{rule_id}~{n}", n + 1
            if unique_id != rule_id:
                warnings.append(
                    f"the rule id {rule_id!r} repeats; this rule is {unique_id!r}"
                )
            seen.add(unique_id)
            try:
                entries = tuple(
                    typed_tests(c.entries[index], col.type)
                    for c, col in zip(draft.inputs, inputs, strict=True)
                )
                results = tuple(
                    typed(o.entries[index], col.type)
                    for o, col in zip(draft.outputs, outputs, strict=True)
                )
            except Unsupported as exc:
                raise Unsupported(f"rule {rule_id!r}: {exc.text}", exc.topic) from None
            rules.append(Rule(unique_id, entries, results, tuple(texts), where, (), ()))
        for warning in warnings:
            self.report("warning", "decision", draft.decision, warning, "caveat")
        self.origins[table_name] = Origin(draft.id, draft.name, tuple(origin))
        return Table(
            name=table_name,
            hit_policy=draft.hit_policy,
            aggregation=draft.aggregation,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            annotations=tuple(notes),
            rules=tuple(rules),
            location=where,
            title=draft.label,
            source=draft.description,
        )

    def input_column(
        self, clause: _Input, where: Location, warnings: list[str]
    ) -> Column:
        """An input clause as a column: its name, `from` table, type and Values.

        The type is the inputExpression's typeRef, else the inputData's, else the
        required table's output type, else the one its literals show (warned)."""
        type_, allowed = (
            self.resolve_type(clause.type_ref) if clause.type_ref else (None, None)
        )
        if clause.ref == "decision":
            source, name, given = self.requirement(clause, warnings)
        else:
            source, name, given = None, self.input_names(clause.target), None
        if given is not None:
            if type_ is not None and type_ is not given:
                warnings.append(
                    f"input {clause.label!r} says {type_.value}, but {source!r} gives {given.value}"
                )
            type_ = given
        elif clause.output is None:
            data = self.input_data.get(clause.target, self.decisions.get(clause.target))
            variable = self.child(data, "variable") if data is not None else None
            ref = variable.get("typeRef") if variable is not None else None
            if ref:
                data_type, data_allowed = self.resolve_type(ref)
                type_ = type_ or data_type
                allowed = allowed if allowed is not None else data_allowed
        values_raw = self.parse_values(clause.values_text, clause.label, warnings)
        if values_raw is None and allowed is not None:
            values_raw = self.parse_values(allowed, clause.label, warnings)
        if type_ is None:
            literals = [v for e in clause.entries for v in e.literals()]
            type_ = infer_type(
                [*literals, *(values_raw.literals() if values_raw else ())]
            )
            if type_ is None:
                raise Unsupported(
                    f"input {clause.label!r} has no type and its entries do not show one",
                    "unknown type",
                )
            warnings.append(
                f"input {clause.label!r} has no typeRef; its entries make it {type_.value}"
            )
        values = self.typed_values(values_raw, type_, clause.label, warnings)
        return Column(name, ColumnKind.INPUT, type_, where, source, values)

    def output_column(
        self, output: _Output, name: str, where: Location, warnings: list[str]
    ) -> Column:
        values_raw = self.parse_values(output.values_text, output.name, warnings)
        try:
            default_raw = (
                parse_literal(output.default_text)
                if output.default_text is not None
                else None
            )
        except Unsupported as exc:
            raise Unsupported(
                f"default output of {output.name!r}: {exc.text}",
                _output_topic(exc.topic),
            ) from None
        type_ = None
        for ref in output.type_ref:
            type_, _ = self.resolve_type(ref, list_ok=True)
            if type_ is not None:
                break
        if type_ is None:
            type_ = infer_type(
                [
                    *output.entries,
                    default_raw,
                    *(values_raw.literals() if values_raw else ()),
                ]
            )
            if type_ is None:
                raise Unsupported(
                    f"output {output.name!r} has no type and its entries do not show one",
                    "unknown type",
                )
            warnings.append(
                f"output {output.name!r} has no typeRef; its entries make it {type_.value}"
            )
        values = self.typed_values(values_raw, type_, output.name, warnings)
        if values is not None and not all(isinstance(t, Equals) for t in values.tests):
            warnings.append(
                f"the output values of {output.name!r} hold ranges, so they are dropped"
            )
            values = None
        try:
            default = typed(default_raw, type_)
        except Unsupported as exc:
            raise Unsupported(
                f"default output of {output.name!r}: {exc.text}", exc.topic
            ) from None
        has_default = output.default_text is not None
        return Column(
            name,
            ColumnKind.OUTPUT,
            type_,
            where,
            values=values,
            default=default,
            has_default=has_default,
        )

    def requirement(
        self, clause: _Input, warnings: list[str]
    ) -> tuple[str | None, str, DataType | None]:
        """(table, column name, type) of an input that reads another decision; table
        None when that decision is not converted (the input becomes a plain one)."""
        producer = self.build(clause.target) if clause.target in self.drafts else None
        if producer is None:
            warnings.append(
                f"input {clause.label!r} reads the decision {clause.target!r}, which is not converted: "
                "it becomes a plain input that callers pass"
            )
            return None, self.input_names(clause.expression), None
        by_dmn_name = self.origins[producer.name].output_names()
        if clause.output is not None:
            if clause.output not in by_dmn_name:
                raise Unsupported(
                    f"{clause.expression!r}: {clause.target!r} has no output {clause.output!r}",
                    "malformed table",
                )
            name = by_dmn_name[clause.output]
        elif len(producer.outputs) == 1:
            name = producer.outputs[0].name
        else:
            raise Unsupported(
                f"input {clause.label!r} reads the whole result of {clause.target!r}, which has several "
                "outputs (a context)",
                "structured input",
            )
        if producer.returns_list:
            raise Unsupported(
                f"input {clause.label!r} reads {clause.target!r}, which returns a list ({producer.hit_policy_text})",
                "list input",
            )
        if name in self.input_names.used:
            raise Unsupported(
                f"input {clause.label!r} reads the output {name!r} of {clause.target!r}, and an input "
                "of the model has that name too",
                "name clash",
            )
        column = next(c for c in producer.outputs if c.name == name)
        return producer.name, name, column.type

    def parse_values(
        self, text: str | None, label: str, warnings: list[str]
    ) -> _RawTests | None:
        if text is None or not text.strip():
            return None
        try:
            return parse_unary_tests(text)
        except Unsupported as exc:
            warnings.append(f"the allowed values of {label!r} are dropped: {exc.text}")
            return None

    def typed_values(
        self, raw: _RawTests | None, type_: DataType, label: str, warnings: list[str]
    ) -> UnaryTests | None:
        if raw is None or not raw.tests:
            return None
        try:
            return as_values(typed_tests(raw, type_))
        except Unsupported as exc:
            warnings.append(f"the allowed values of {label!r} are dropped: {exc.text}")
            return None


def _output_topic(topic: str) -> str:
    return (
        "FEEL expression in an output"
        if topic in ("variable in a unary test", "FEEL expression")
        else topic
    )


def _local(type_ref: str) -> str:
    """`feel:string` -> `string`; DMN 1.1 typeRefs are QNames."""
    return type_ref.strip().rpartition(":")[2] if ":" in type_ref else type_ref.strip()


def _clean(text: str) -> str:
    """Text as a workbook cell will read it back (annotation names and entries, titles)."""
    return cells.clean_text(text)[0]


def read_dmn(source: Path | bytes, model: str = "") -> Conversion:
    """Read a DMN 1.1-1.5 model (a file or its bytes) into tables and messages."""
    if isinstance(source, Path):
        model = model or source.name
        try:
            if source.stat().st_size > MAX_MODEL_BYTES:
                return _failed(
                    model, f"the model is larger than {MAX_MODEL_BYTES // 2**20} MiB"
                )
            data = source.read_bytes()
        except OSError as exc:
            return _failed(model, f"cannot read the model: {exc.strerror or exc}")
    else:
        data = source
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        return _failed(model, f"not a readable XML document: {exc}")
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if root.tag.split("}")[-1] != "definitions" or namespace not in DMN_NAMESPACES:
        return _failed(
            model,
            f"not a DMN 1.1-1.5 model (root element {root.tag!r}); known namespaces: "
            + ", ".join(DMN_NAMESPACES),
        )
    return _Importer(root, model).run()


def _failed(model: str, text: str) -> Conversion:
    return Conversion(
        model,
        (),
        {},
        (Message("error", "model", model, "", text, "unreadable"),),
        {},
        {},
    )


# -- writing the workbook ------------------------------------------------------------------


CellValue = str | int | float | bool | None


def value_text(value: Value, type_: DataType) -> str:
    """A value in the format's cell grammar: strings quoted, dates ISO, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def test_text(test: Test, type_: DataType) -> str:
    if isinstance(test, Equals):
        return value_text(test.value, type_)
    if isinstance(test, Compare):
        return f"{test.op} {value_text(test.value, type_)}"
    if isinstance(test, Prefix):
        return f"{test.prefix}*"
    low = "[" if test.low_closed else "("
    high = "]" if test.high_closed else ")"
    if type_ is DataType.CODE:
        return f"{low}{test.low}..{test.high}{high}"
    return f"{low}{value_text(test.low, type_)}..{value_text(test.high, type_)}{high}"


def tests_text(tests: UnaryTests, type_: DataType) -> str:
    """Unary tests in the cell grammar: `-`, `"a", "b"`, `not(< 5)`, `[1..9)`."""
    if tests.is_any:
        return "-"
    inner = ", ".join(test_text(t, type_) for t in tests.tests)
    return f"not({inner})" if tests.negated else inner


def _cell_value(value: Value, type_: DataType) -> str | int | float | bool:
    """A literal as a typed cell where Excel has the type (numbers, booleans), else text."""
    if isinstance(value, bool) or (
        isinstance(value, (int, float)) and type_ is not DataType.CODE
    ):
        return (
            int(value)
            if isinstance(value, float) and value.is_integer() and abs(value) < 2**53
            else value
        )
    return value_text(value, type_)


def _entry_cell(tests: UnaryTests, type_: DataType) -> str | int | float | bool:
    if (
        len(tests.tests) == 1
        and not tests.negated
        and isinstance(tests.tests[0], Equals)
    ):
        value = tests.tests[0].value
        if value is not None:
            return _cell_value(value, type_)
    return tests_text(tests, type_)


def _put(ws: Worksheet, row: int, column: int, value: CellValue) -> None:
    """Write a cell; text starting with `=` stays text (openpyxl would make a formula)."""
    if value is None or value == "":
        return
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _sheet_title(name: str, used: set[str]) -> str:
    title, n = name[:31], 2
    while title in used:
        suffix = f"_{n}"
        title, n = name[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def write_table(ws: Worksheet, table: Table, origin: Origin | None = None) -> None:
    """One `Decision table` sheet laid out as the format page shows it."""
    rows: list[tuple[str, CellValue]] = [
        ("Decision table", table.name),
        ("Hit policy", table.hit_policy_text),
    ]
    if table.title:
        rows.append(("Title", table.title))
    if table.source:
        rows.append(("Source", table.source))
    for date_label, date in (
        ("Effective from", table.effective_from),
        ("Effective to", table.effective_to),
    ):
        if date is not None:
            rows.append((date_label, date.isoformat()))
    if not table.complete:
        rows.append(("Complete", "no"))
    for r, (label, value) in enumerate(rows, start=1):
        _put(ws, r, 1, label)
        _put(ws, r, 2, value)
    if origin is not None:
        ws.cell(row=1, column=2).comment = Comment(
            f"DMN decision {origin.decision_name!r}\nid: {origin.decision_id}",
            "compile-rules",
        )
    columns = [*table.inputs, *table.outputs, *table.annotations]
    notes = (
        {ident: (dmn, ident_id, role) for ident, dmn, ident_id, role in origin.columns}
        if origin
        else {}
    )
    header = len(rows) + 2
    labels = ["Rule", "Kind", "Type"]
    if any(c.values is not None for c in columns):
        labels.append("Values")
    if any(c.has_default for c in columns):
        labels.append("Default")
    for offset, label in enumerate(labels):
        _put(ws, header + offset, 1, label)
    for index, column in enumerate(columns, start=2):
        _put(ws, header, index, column.name)
        if column.name in notes:
            dmn, dmn_id, role = notes[column.name]
            text = f"DMN {role} {dmn!r}" + (f"\nid: {dmn_id}" if dmn_id else "")
            ws.cell(row=header, column=index).comment = Comment(text, "compile-rules")
        kind = (
            f"from {column.source_table}" if column.source_table else column.kind.value
        )
        _put(ws, header + 1, index, kind)
        if column.kind is ColumnKind.ANNOTATION:
            continue
        _put(ws, header + 2, index, column.type.value)
        if column.values is not None:
            _put(
                ws,
                header + labels.index("Values"),
                index,
                tests_text(column.values, column.type),
            )
        if column.has_default:
            _put(
                ws,
                header + labels.index("Default"),
                index,
                _cell_value(column.default, column.type),
            )
    row = header + len(labels)
    for rule in table.rules:
        _put(ws, row, 1, rule.id)
        cells_: list[CellValue] = [
            _entry_cell(t, c.type)
            for t, c in zip(rule.inputs, table.inputs, strict=True)
        ]
        cells_ += [
            _cell_value(v, c.type)
            for v, c in zip(rule.outputs, table.outputs, strict=True)
        ]
        cells_ += list(rule.annotations)
        for index, value in enumerate(cells_, start=2):
            _put(ws, row, index, value)
        row += 1


def write_workbook(conversion: Conversion, path: Path) -> None:
    """The converted tables as one workbook: a sheet per table, then a `DMN import`
    note sheet (ignored by the compiler) with every column's DMN name and id and the
    messages."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in conversion.tables:
        ws = book.create_sheet(_sheet_title(table.name, used))
        write_table(ws, table, conversion.origins.get(table.name))
    notes = book.create_sheet(_sheet_title("DMN import", used))
    lines: list[tuple[CellValue, ...]] = [
        ("DMN import", conversion.model),
        ("Written by compile-rules import-dmn; this note sheet is not compiled.",),
        (),
        ("Table", "Column", "Role", "DMN name", "DMN id"),
    ]
    for table in conversion.tables:
        origin = conversion.origins[table.name]
        lines.append(
            (table.name, "", "decision", origin.decision_name, origin.decision_id)
        )
        lines.extend(
            (table.name, ident, role, dmn, dmn_id)
            for ident, dmn, dmn_id, role in origin.columns
        )
    if conversion.messages:
        lines += [(), ("Severity", "Element", "DMN name", "DMN id", "Message")]
        lines.extend(
            (m.severity, m.element, m.name, m.id, m.text) for m in conversion.messages
        )
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            _put(notes, r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def save_workbook(conversion: Conversion, path: Path) -> None:
    """`write_workbook` through a temporary file, so PATH is never left half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.import.xlsx")
    try:
        write_workbook(conversion, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_workbook(path: Path) -> tuple[Diagnostic, ...]:
    """Compile the written workbook alone (no formatting): import promises a workbook
    that compiles, and this shows what the source model itself gets wrong (UNIQUE
    tables whose rules overlap, ...)."""
    with tempfile.TemporaryDirectory(prefix="compile-rules-dmn-") as tmp:
        tables = Path(tmp) / "tables"
        tables.mkdir()
        shutil.copyfile(path, tables / path.name)
        compilation = pipeline.compile_tables(tables, formatted=False)
        return compilation.diagnostics


def names_in_use(
    tables: Path, conversion: Conversion, target: Path
) -> list[tuple[str, str]]:
    """Converted table names already used by other workbooks under TABLES."""
    if not tables.is_dir():
        return []
    project, _ = pipeline.load_tables(tables)
    if project is None:
        return []
    ours = {t.name for t in conversion.tables}
    shown = (
        pipeline.display_path(tables, target)
        if target.resolve().is_relative_to(tables.resolve())
        else ""
    )
    return [
        (d.name, str(d.first.location))
        for d in project.decisions
        if d.name in ours and d.first.location.path != shown
    ]


# -- export ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Export:
    xml: str
    tables: tuple[str, ...]  # exported table names
    messages: tuple[Message, ...]


def feel_literal(value: Literal | Value) -> str:
    """A value as FEEL: strings quoted and escaped, dates as date("..."), no exponents."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, int):
        return str(value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else value
        text = format(number, "f")
    except (InvalidOperation, ValueError):
        raise Unsupported(f"{value!r} is not a finite number", "number") from None
    return text.rstrip("0").rstrip(".") if "." in text else text


def feel_test(test: Test, type_: DataType) -> str:
    if isinstance(test, Equals):
        return feel_literal(test.value)
    if isinstance(test, Compare):
        return f"{test.op} {feel_literal(test.value)}"
    if isinstance(test, Prefix):
        return f"starts with(?, {feel_literal(test.prefix)})"
    if type_ is DataType.CODE:
        low = ">=" if test.low_closed else ">"
        high = "<=" if test.high_closed else "<"
        length = len(str(test.low))
        return (
            f"string length(?) = {length} and ? {low} {feel_literal(test.low)} "
            f"and ? {high} {feel_literal(test.high)}"
        )
    opening = "[" if test.low_closed else "("
    closing = "]" if test.high_closed else ")"
    return f"{opening}{feel_literal(test.low)}..{feel_literal(test.high)}{closing}"


def feel_tests(tests: UnaryTests, type_: DataType) -> str:
    if tests.is_any:
        return "-"
    inner = ", ".join(feel_test(t, type_) for t in tests.tests)
    return f"not({inner})" if tests.negated else inner


_FEEL_TYPES = {
    DataType.STRING: "string",
    DataType.CODE: "string",
    DataType.INTEGER: "number",
    DataType.NUMBER: "number",
    DataType.BOOLEAN: "boolean",
    DataType.DATE: "date",
}


def _xml_id(text: str) -> str:
    """An NCName from arbitrary text (ids must be XML names)."""
    cleaned = re.sub(r"[^\w.-]", "_", text, flags=re.ASCII)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


class _Exporter:
    """Writes the selected tables, and every table they require, as one model."""

    def __init__(self, project: Project, names: Sequence[str], model_name: str) -> None:
        self.project = project
        self.model_name = model_name
        self.messages: list[Message] = []
        self.selected = self.closure(names)
        self.ids: set[str] = set()
        self.decision_ids: dict[str, str] = {}
        self.input_ids: dict[str, str] = {}
        self.edges: list[tuple[str, str, str]] = []  # (requirement, from id, to id)

    def closure(self, names: Sequence[str]) -> list[str]:
        """The named tables and every table they require, in project order."""
        wanted: set[str] = set()
        stack = list(names or [d.name for d in self.project.decisions])
        while stack:
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                stack.extend(self.project.decision(name).requires)
        return [d.name for d in self.project.decisions if d.name in wanted]

    def new_id(self, wanted: str) -> str:
        base = _xml_id(wanted)
        candidate, n = base, 2
        while candidate in self.ids:
            candidate, n = f"{base}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def sub(
        self,
        parent: ET.Element,
        tag: str,
        text: str | None = None,
        *,
        ident: str = "",
        **attributes: str,
    ) -> ET.Element:
        """A DMN child element; IDENT asks for a fresh id, TEXT adds a `<text>`."""
        if ident:
            attributes = {"id": self.new_id(ident), **attributes}
        element = ET.SubElement(
            parent, f"{{{DMN15}}}{tag}", {k: v for k, v in attributes.items() if v}
        )
        if text is not None:
            ET.SubElement(element, f"{{{DMN15}}}text").text = text
        return element

    def note(
        self, severity: str, element: str, name: str, text: str, topic: str
    ) -> None:
        self.messages.append(Message(severity, element, name, "", text, topic))

    def exportable(self) -> list[Table]:
        """The selected tables DMN can hold: no versions, nor requirements on them."""
        skipped = set()
        for name in self.selected:
            if self.project.decision(name).versioned:
                skipped.add(name)
                text = "not exported: it has effective-dated versions; DMN has none"
                self.note("error", "table", name, text, "versions")
        grown = True
        while grown:
            grown = False
            for name in self.selected:
                requires = self.project.decision(name).requires
                if name not in skipped and any(r in skipped for r in requires):
                    skipped.add(name)
                    grown = True
                    text = "not exported: it requires a table that is not exported"
                    self.note("error", "table", name, text, "requirement")
        tables = []
        for name in self.selected:
            if name in skipped:
                continue
            table = self.project.decision(name).first
            if any(c.type is DataType.INTEGER for c in (*table.inputs, *table.outputs)):
                self.note(
                    "warning",
                    "table",
                    name,
                    "integer columns are written as number",
                    "caveat",
                )
            codes = [c for c in table.inputs if c.type is DataType.CODE]
            entries = [
                e
                for r in table.rules
                for c, e in zip(table.inputs, r.inputs, strict=True)
                if c in codes
            ]
            if any(isinstance(t, (Prefix, Interval)) for e in entries for t in e.tests):
                text = "code prefixes and ranges are written as FEEL `?` tests, which import does not read back"
                self.note("warning", "table", name, text, "caveat")
            tables.append(table)
        return tables

    def run(self) -> Export:
        tables = self.exportable()
        slug = snake_case(self.model_name)
        root = ET.Element(
            f"{{{DMN15}}}definitions",
            {
                "id": self.new_id(f"definitions_{slug}"),
                "name": self.model_name,
                "namespace": f"https://compile-rules/dmn/{slug}",
                "expressionLanguage": FEEL15,
                "typeLanguage": FEEL15,
                "exporter": "compile-rules",
            },
        )
        inputs: dict[str, Column] = {}
        for column in (c for t in tables for c in t.inputs if c.source_table is None):
            first = inputs.setdefault(column.name, column)
            if first.type is not column.type:
                text = f"is {first.type.value} in one table and {column.type.value} in another"
                self.note("warning", "input", column.name, text, "caveat")
        for name in sorted(set(inputs) & {t.name for t in tables}):
            text = "an input and a table share this name; DMN names must differ"
            self.note("warning", "input", name, text, "caveat")
        self.decision_ids = {t.name: self.new_id(f"decision_{t.name}") for t in tables}
        self.input_ids = {
            name: self.new_id(f"inputData_{name}") for name in sorted(inputs)
        }
        self.item_definitions(root, tables)
        for table in tables:
            self.decision(root, table)
        for name, ident in self.input_ids.items():
            node = self.sub(root, "inputData", id=ident, name=name)
            self.sub(
                node,
                "variable",
                ident=f"{ident}_variable",
                name=name,
                typeRef=_FEEL_TYPES[inputs[name].type],
            )
        self.diagram(root, tables)
        for prefix, uri in (("", DMN15), ("dmndi", DMNDI15), ("dc", DC), ("di", DI)):
            ET.register_namespace(prefix, uri)
        ET.indent(root)
        xml = ET.tostring(root, encoding="unicode")
        header = '<?xml version="1.0" encoding="UTF-8"?>\n'
        return Export(
            header + xml + "\n", tuple(t.name for t in tables), tuple(self.messages)
        )

    def result_type(self, table: Table) -> str:
        """The decision's type: a plain FEEL type, or `t_<table>` for lists and
        several outputs (COUNT counts, so it is a number)."""
        if len(table.outputs) == 1 and not table.returns_list:
            return self.output_type(table, table.outputs[0])
        return f"t_{table.name}"

    def output_type(self, table: Table, column: Column) -> str:
        return (
            "number"
            if table.aggregation is Aggregation.COUNT
            else _FEEL_TYPES[column.type]
        )

    def item_definitions(self, root: ET.Element, tables: list[Table]) -> None:
        """A structured or list type per table whose result is not one plain value."""
        for table in tables:
            if len(table.outputs) == 1 and not table.returns_list:
                continue
            item = self.sub(
                root,
                "itemDefinition",
                ident=f"itemDefinition_{table.name}",
                name=self.result_type(table),
            )
            if table.returns_list:
                item.set("isCollection", "true")
            if len(table.outputs) == 1:
                ET.SubElement(item, f"{{{DMN15}}}typeRef").text = _FEEL_TYPES[
                    table.outputs[0].type
                ]
                continue
            for column in table.outputs:
                component = self.sub(
                    item,
                    "itemComponent",
                    ident=f"{item.get('id')}_{column.name}",
                    name=column.name,
                )
                ET.SubElement(component, f"{{{DMN15}}}typeRef").text = self.output_type(
                    table, column
                )

    def decision(self, root: ET.Element, table: Table) -> None:
        """The decision: variable, information requirements and its decision table."""
        ident = self.decision_ids[table.name]
        node = self.sub(root, "decision", id=ident, name=table.name, label=table.title)
        if table.source:
            ET.SubElement(node, f"{{{DMN15}}}description").text = table.source
        self.sub(
            node,
            "variable",
            ident=f"{ident}_variable",
            name=table.name,
            typeRef=self.result_type(table),
        )
        required: dict[str, tuple[str, str]] = {}
        for column in table.inputs:
            if column.source_table:
                decision = ("requiredDecision", self.decision_ids[column.source_table])
                required.setdefault(column.source_table, decision)
            else:
                required.setdefault(
                    column.name, ("requiredInput", self.input_ids[column.name])
                )
        for key, (tag, target) in required.items():
            requirement = self.sub(
                node, "informationRequirement", ident=f"{ident}_requires_{key}"
            )
            self.sub(requirement, tag, href=f"#{target}")
            self.edges.append((requirement.get("id", ""), target, ident))
        attributes = {"hitPolicy": table.hit_policy.value, "outputLabel": table.name}
        if table.aggregation is not None:
            attributes["aggregation"] = table.aggregation.value
        self.decision_table(
            self.sub(
                node, "decisionTable", ident=f"decisionTable_{table.name}", **attributes
            ),
            table,
        )

    def decision_table(self, node: ET.Element, table: Table) -> None:
        base = node.get("id", "")
        for column in table.inputs:
            clause = self.sub(
                node, "input", ident=f"{base}_input_{column.name}", label=column.name
            )
            expression = column.name
            if column.source_table:
                producer = self.project.decision(column.source_table).first
                single = len(producer.outputs) == 1
                expression = (
                    column.source_table
                    if single
                    else f"{column.source_table}.{column.name}"
                )
            typed = _FEEL_TYPES[column.type]
            self.sub(
                clause,
                "inputExpression",
                expression,
                ident=f"{clause.get('id')}_expression",
                typeRef=typed,
            )
            if column.values is not None:
                values = feel_tests(column.values, column.type)
                self.sub(
                    clause, "inputValues", values, ident=f"{clause.get('id')}_values"
                )
        for column in table.outputs:
            typed = _FEEL_TYPES[column.type]
            clause = self.sub(
                node,
                "output",
                ident=f"{base}_output_{column.name}",
                name=column.name,
                typeRef=typed,
            )
            if column.values is not None:
                values = feel_tests(column.values, column.type)
                self.sub(
                    clause, "outputValues", values, ident=f"{clause.get('id')}_values"
                )
            if column.has_default:
                default = feel_literal(column.default)
                self.sub(
                    clause,
                    "defaultOutputEntry",
                    default,
                    ident=f"{clause.get('id')}_default",
                )
        for column in table.annotations:
            self.sub(node, "annotation", name=column.name)
        for rule in table.rules:
            own = _xml_id(rule.id) == rule.id and rule.id not in self.ids
            entry = self.sub(
                node,
                "rule",
                ident=rule.id if own else f"{base}_rule_{rule.id}",
                label="" if own else rule.id,
            )
            rule_id = entry.get("id", "")
            for n, (column, tests) in enumerate(
                zip(table.inputs, rule.inputs, strict=True), start=1
            ):
                self.sub(
                    entry,
                    "inputEntry",
                    feel_tests(tests, column.type),
                    ident=f"{rule_id}_i{n}",
                )
            for n, value in enumerate(rule.outputs, start=1):
                self.sub(
                    entry, "outputEntry", feel_literal(value), ident=f"{rule_id}_o{n}"
                )
            for text in rule.annotations:
                self.sub(entry, "annotationEntry", text)

    def diagram(self, root: ET.Element, tables: list[Table]) -> None:
        """A DRD laid out in rows (decisions by depth, inputs at the bottom), so that
        modelers that need diagram information show the model at once."""
        depth: dict[str, int] = {}

        def level(name: str) -> int:
            if name not in depth:
                requires = self.project.decision(name).requires
                depth[name] = 1 + max((level(r) for r in requires), default=0)
            return depth[name]

        top = max((level(t.name) for t in tables), default=1)
        rows: dict[int, list[str]] = {top: list(self.input_ids.values())}
        for table in tables:
            rows.setdefault(top - level(table.name), []).append(
                self.decision_ids[table.name]
            )
        width, height, gap_x, gap_y = 180, 80, 40, 100
        corners: dict[str, tuple[int, int]] = {}
        dmndi = ET.SubElement(root, f"{{{DMNDI15}}}DMNDI")
        diagram = ET.SubElement(
            dmndi, f"{{{DMNDI15}}}DMNDiagram", {"id": self.new_id("DMNDiagram_1")}
        )
        for row, ids in sorted(rows.items()):
            for column, element in enumerate(ids):
                x, y = 100 + column * (width + gap_x), 100 + row * (height + gap_y)
                corners[element] = (x, y)
                shape = ET.SubElement(
                    diagram,
                    f"{{{DMNDI15}}}DMNShape",
                    {
                        "id": self.new_id(f"DMNShape_{element}"),
                        "dmnElementRef": element,
                    },
                )
                box = {
                    "height": str(height),
                    "width": str(width),
                    "x": str(x),
                    "y": str(y),
                }
                ET.SubElement(shape, f"{{{DC}}}Bounds", box)
        for requirement, source, target in self.edges:
            edge = ET.SubElement(
                diagram,
                f"{{{DMNDI15}}}DMNEdge",
                {
                    "id": self.new_id(f"DMNEdge_{requirement}"),
                    "dmnElementRef": requirement,
                },
            )
            (sx, sy), (tx, ty) = corners[source], corners[target]
            ET.SubElement(
                edge, f"{{{DI}}}waypoint", {"x": str(sx + width // 2), "y": str(sy)}
            )
            ET.SubElement(
                edge,
                f"{{{DI}}}waypoint",
                {"x": str(tx + width // 2), "y": str(ty + height)},
            )


def export_dmn(
    project: Project, names: Sequence[str] = (), model_name: str = "compile-rules"
) -> Export:
    """Tables NAMES (all when empty), with every table they require, as DMN 1.5 XML."""
    return _Exporter(project, names, model_name).run()
