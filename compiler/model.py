"""The data model every stage shares: frozen, slotted dataclasses holding tuples.

`sheets` builds it from workbook cells, `validate` and `analyse` read it, `codegen`
renders it. Values are plain Python: `str` (string, code), `int`, `float`, `bool`,
`datetime.date`, or `None` for null; version 2 adds `datetime.timedelta`, `time`,
`datetime` and `YearsMonths` (a years-and-months duration, a whole number of months).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.diagnostics import Location
from compiler.emitting.runtime._runtime import YearsMonths as YearsMonths

if TYPE_CHECKING:
    from compiler.expressions.typed import Typed

Value = str | int | float | bool | dt.date | dt.timedelta | dt.time | YearsMonths | None
Bound = int | float | dt.date | dt.timedelta | dt.time | YearsMonths | str


class DataType(enum.Enum):
    STRING = "string"
    CODE = "code"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    # version 2 of the workbook format (compiler/timetypes.py)
    DURATION = "duration"
    TIME = "time"
    DATETIME = "datetime"
    YEARS_MONTHS = "years and months duration"

    @property
    def ordered(self) -> bool:
        """Types that comparisons and ranges apply to."""
        return self in (
            DataType.INTEGER,
            DataType.NUMBER,
            DataType.DATE,
            DataType.CODE,
            *TIME_TYPES,
            DataType.YEARS_MONTHS,
        )

    @property
    def comparable(self) -> bool:
        """Types that `<`, `<=`, `>`, `>=` apply to (codes take ranges only)."""
        return self.ordered and self is not DataType.CODE

    @property
    def python(self) -> str:
        """The Python annotation for a value of this type."""
        return _PYTHON_TYPES[self]


_PYTHON_TYPES = {
    DataType.STRING: "str",
    DataType.CODE: "str",
    DataType.INTEGER: "int",
    DataType.NUMBER: "float",
    DataType.BOOLEAN: "bool",
    DataType.DATE: "date",
    DataType.DURATION: "timedelta",
    DataType.TIME: "time",
    DataType.DATETIME: "datetime",
    DataType.YEARS_MONTHS: "YearsMonths",
}
TIME_TYPES = (DataType.DURATION, DataType.TIME, DataType.DATETIME)
"""The version-2 types whose values are `datetime` values (microsecond-ordered)."""


class HitPolicy(enum.Enum):
    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"


class Aggregation(enum.Enum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


class ColumnKind(enum.Enum):
    INPUT = "input"
    OUTPUT = "output"
    ANNOTATION = "annotation"


# -- unary tests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Equals:
    """`MRI`, `18`, `true`, `null` (value None: the input is missing)."""

    value: Value


@dataclass(frozen=True, slots=True)
class Compare:
    """`< 18`, `>= 2025-12-01`: op is one of `<`, `<=`, `>`, `>=`."""

    op: str
    value: Bound


@dataclass(frozen=True, slots=True)
class Interval:
    """`[18..64]`, `(0..30)`; for codes, a range of same-length codes."""

    low: Bound
    high: Bound
    low_closed: bool = True
    high_closed: bool = True


@dataclass(frozen=True, slots=True)
class Prefix:
    """`M54.*` or `M54*` in a code column: codes starting with `M54.` or `M54`."""

    prefix: str


Test = Equals | Compare | Interval | Prefix


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """An input entry: matches when any test matches, or (negated) when none does.

    No tests and not negated is `-` (any value).
    """

    tests: tuple[Test, ...] = ()
    negated: bool = False

    @property
    def is_any(self) -> bool:
        return not self.tests and not self.negated


ANY = UnaryTests()


# -- tables ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a decision table (input, output or annotation)."""

    name: str
    kind: ColumnKind
    type: DataType
    location: Location
    source_table: str | None = None  # `from <table>`: the value is that table's output
    values: UnaryTests | None = (
        None  # allowed values (inputs: a domain; outputs: literals)
    )
    default: Value = None
    has_default: bool = False
    kind_cell: str = ""  # A1 ref of its Kind cell (where `from <table>` is written)
    required: bool = False  # `required input`: a missing value (None) is an InputError
    # never None although not required: a `from` input whose source table never
    # gives null (set by the analysis), or (version 2) a derived comparison of two
    # required inputs, `xray_date_vs_episode_start_date` (set by the reader)
    source_never_null: bool = False

    @property
    def nullable(self) -> bool:
        """Whether the input can be missing (None) when the table decides: not when
        declared required, nor a `from` input whose source always gives a value, nor a
        derived comparison of two required inputs."""
        return not (self.required or self.source_never_null)

    # version 2: a computed input (Kind `computed`), or one the compiler derived from
    # entries that name other inputs (`derived`): its value is this expression over
    # the table's other inputs, computed before the rules are tested
    expression: Typed | None = None
    derived: bool = False
    many: bool = False  # version 2: `list of <type>`, a list of values of `type`
    per_rule: bool = False  # version 2: `computed output`, each cell an expression
    # version 2: an input whose header is a path (`claim.member.age`): the fields read
    # from the mapping passed as the root (`claim`); `name` is the identifier the
    # generated code and the messages use for it (`claim__member__age`)
    path: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        """The column as its header writes it: the path for a path input."""
        return ".".join(self.path) if self.path else self.name

    @property
    def computed(self) -> bool:
        return self.expression is not None

    @property
    def enumerated(self) -> bool:
        """Whether the Values list every allowed value one by one (no ranges)."""
        return self.values is not None and all(
            isinstance(t, Equals) for t in self.values.tests
        )

    @property
    def value_list(self) -> tuple[Value, ...]:
        """The Values as a list of literals, in order (outputs, priority order)."""
        if self.values is None:
            return ()
        return tuple(t.value for t in self.values.tests if isinstance(t, Equals))


def nest_paths(
    values: Iterable[tuple[str, object]], paths: Mapping[str, tuple[str, ...]]
) -> dict[str, object]:
    """VALUES by input name as `evaluate`'s keyword arguments: the value of a path
    input (PATHS: its name -> its path) goes into its structured input's mapping,
    `claim__member__age` -> `{"claim": {"member": {"age": 12}}}`, in order."""
    nested: dict[str, object] = {}
    for name, value in values:
        path = paths.get(name)
        if not path:
            nested[name] = value
            continue
        node = nested
        for step in path[:-1]:
            inner = node.setdefault(step, {})
            assert isinstance(inner, dict)
            node = inner
        node[path[-1]] = value
    return nested


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule row. `inputs`/`outputs` follow the table's input and output columns."""

    id: str
    inputs: tuple[UnaryTests, ...]
    outputs: tuple[Value, ...]
    annotations: tuple[str, ...]
    location: Location  # the whole row, `A13:F13`
    input_cells: tuple[str, ...]  # A1 refs of the input entries
    output_cells: tuple[str, ...]
    # version 2: per output, the expression of a `computed output` cell (else None);
    # empty when the table has none. Its entry in `outputs` is then None.
    output_expressions: tuple[Typed | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    """One decision table sheet: one version of a decision."""

    name: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    annotations: tuple[Column, ...]
    rules: tuple[Rule, ...]
    location: Location  # the sheet
    title: str = ""
    source: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None  # inclusive
    complete: bool = True  # `Complete: no` declares a partial table
    metadata_cells: tuple[tuple[str, str], ...] = ()  # label -> A1 ref of its value
    # Rule rows left out for a cell error: (id, row). Checks of ids count them, so
    # an author sees a duplicate or a missing id in the same run as the cell error.
    unread_rules: tuple[tuple[str, Location], ...] = ()

    def metadata_location(self, label: str) -> Location:
        """Where the metadata row LABEL (`effective from`) has its value; the sheet
        when the row is absent."""
        refs = dict(self.metadata_cells)
        return self.location.at(refs[label]) if label in refs else self.location

    @property
    def returns_list(self) -> bool:
        """Multi-hit policies without an aggregation return a list of outputs."""
        multi = self.hit_policy in (
            HitPolicy.COLLECT,
            HitPolicy.RULE_ORDER,
            HitPolicy.OUTPUT_ORDER,
        )
        return multi and self.aggregation is None

    def rank(self, rule: Rule) -> tuple[int, ...]:
        """A rule's output priority (PRIORITY, OUTPUT ORDER): the position of each of
        its output values in the output's Values list; lower wins."""
        positions = []
        for column, value in zip(self.outputs, rule.outputs, strict=True):
            listed = column.value_list
            positions.append(listed.index(value) if value in listed else len(listed))
        return tuple(positions)

    @property
    def hit_policy_text(self) -> str:
        if self.aggregation is None:
            return self.hit_policy.value
        return f"{self.hit_policy.value} {self.aggregation.value}"


@dataclass(frozen=True, slots=True)
class Decision:
    """All versions of one table name, sorted by effective date."""

    name: str
    versions: tuple[Table, ...]

    @property
    def versioned(self) -> bool:
        return any(t.effective_from or t.effective_to for t in self.versions)

    @property
    def first(self) -> Table:
        return self.versions[0]

    @property
    def requires(self) -> tuple[str, ...]:
        """Tables whose outputs feed this one (`from` inputs), in column order."""
        names = (
            c.source_table for t in self.versions for c in t.inputs if c.source_table
        )
        return tuple(dict.fromkeys(names))


# -- tests sheets ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestCase:
    """One row of a Tests sheet. Expected multi-hit outputs are tuples of values."""

    id: str
    inputs: tuple[tuple[str, Value], ...]
    expected: tuple[tuple[str, Value | tuple[Value, ...]], ...]
    location: Location
    as_of: dt.date | None = None
    expected_rules: tuple[str, ...] | None = None
    note: str = ""
    cells: tuple[tuple[str, str], ...] = ()  # column name -> A1 ref of its cell

    def cell(self, name: str) -> Location:
        """The location of this case's cell in column NAME (the row when unknown)."""
        refs = dict(self.cells)
        return self.location.at(refs[name]) if name in refs else self.location


@dataclass(frozen=True, slots=True)
class TestSuite:
    table: str
    cases: tuple[TestCase, ...]
    location: Location  # the sheet
    module: str  # generated module name, `test_<table>` (numbered when several)
    # Rows left out for a cell error: their id, location, cells and expected rules
    # (when readable), for the checks of ids; they are neither run nor generated.
    unread: tuple[TestCase, ...] = ()


@dataclass(frozen=True, slots=True)
class Project:
    """Everything read from `tables/`, ready for code generation."""

    decisions: tuple[Decision, ...]  # sorted by name
    suites: tuple[TestSuite, ...]
    workbooks: tuple[str, ...]
    # Tables whose sheets had errors: some of their rules (or the whole table) are
    # missing here, so checks that look for them elsewhere stay quiet about them.
    partial: tuple[str, ...] = ()
    # Tables with a sheet that could not be read at all: not every rule id is known.
    lost: tuple[str, ...] = ()

    def decision(self, name: str) -> Decision:
        for decision in self.decisions:
            if decision.name == name:
                return decision
        raise KeyError(name)

    def chain_inputs(self, name: str) -> tuple[Column, ...]:
        """The inputs a caller passes to evaluate NAME: its own plain inputs, then
        those of every table it requires (transitively), each name once."""
        seen: dict[str, Column] = {}

        def visit(table_name: str) -> None:
            decision = self.decision(table_name)
            for column in decision.first.inputs:
                if column.source_table or column.computed:
                    continue
                seen.setdefault(column.name, column)
            for required in decision.requires:
                visit(required)

        visit(name)
        return tuple(seen.values())

    def chain_versioned(self, name: str) -> bool:
        """Whether NAME or anything it requires takes `as_of`."""
        decision = self.decision(name)
        return decision.versioned or any(
            self.chain_versioned(r) for r in decision.requires
        )
