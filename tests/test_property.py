"""Generated evaluators agree with the reference interpreter on random tables.

Hypothesis draws small decision tables (any hit policy, 1-3 inputs of the string,
integer, boolean, date and code types with entries in every unary-test form, 1-3
outputs, optional Defaults, some inputs required), writes each as a real workbook,
compiles it, and checks that the generated `evaluate` and `compiler.interpret` give
the same outputs and matched rule ids on random inputs (None included), or that both
reject the input as ambiguous, or as a required input that is missing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.checking import interpret
from compiler.emitting import codegen
from compiler.emitting.loader import load_table
from compiler.pipeline import load_tables

from .helpers import errors, write_tables
from .workbooks import decision_table

POLICIES = (
    "UNIQUE", "U", "FIRST", "F", "PRIORITY", "P", "ANY", "A", "COLLECT", "C",
    "COLLECT SUM", "C+", "COLLECT MIN", "C<", "COLLECT MAX", "C>", "COLLECT COUNT",
    "C#", "RULE ORDER", "R", "OUTPUT ORDER", "O",
)  # fmt: skip
STRINGS = ("CT", "MRI", "PET")
CODES = ("70450", "70455", "70460", "70470", "0042T", "M54.5", "M54.9", "M5410")
ODD_CODES = ("7045", "704500", "M54", "99999")  # other lengths, outside every range
DATES = tuple(dt.date(2025, 1, d) for d in range(1, 11))
LEVELS = ("high", "medium", "low")
OPENING = ("[", "(", "]")  # closed, open, reversed open
CLOSING = ("]", ")", "[")
COMPARISONS = ("<", "<=", ">", ">=")

Cell = Any


def quoted(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, f'"{text}"', f"\u201c{text}\u201d"])


def interval(points: st.SearchStrategy[Any], show: Any = str) -> st.SearchStrategy[str]:
    """A range in any bracket style with low <= high (closed when they are equal)."""

    def build(low: Any, high: Any, opening: str, closing: str) -> str:
        low, high = min(low, high), max(low, high)
        if low == high:
            opening, closing = "[", "]"
        return f"{opening}{show(low)}..{show(high)}{closing}"

    return st.builds(
        build, points, points, st.sampled_from(OPENING), st.sampled_from(CLOSING)
    )


def entries(
    test: st.SearchStrategy[str], whole: st.SearchStrategy[Cell]
) -> st.SearchStrategy[Cell]:
    """An input entry: `-`, empty, one test or a list of them, optionally negated,
    null anywhere, or a whole-cell value as Excel would store it."""
    item = st.one_of(test, test, test, st.just("null"))
    listed = st.lists(item, min_size=1, max_size=3).map(", ".join)
    return st.one_of(
        st.sampled_from([None, "-", " - "]),
        listed,
        listed.map(lambda text: f"not({text})"),
        whole,
        listed.map(lambda text: f"\u00a0{text} \n"),  # surrounding spaces are ignored
    )


def iso(day: dt.date) -> str:
    return day.isoformat()


INTEGERS = st.integers(0, 10)
INTEGER_TEST = st.one_of(
    INTEGERS.map(str),
    st.builds(lambda op, n: f"{op} {n}", st.sampled_from(COMPARISONS), INTEGERS),
    interval(INTEGERS),
)
DATE_TEST = st.one_of(
    st.sampled_from(DATES).map(iso),
    st.sampled_from(DATES).map(lambda d: f'date("{d.isoformat()}")'),
    st.builds(
        lambda op, d: f"{op} {d.isoformat()}",
        st.sampled_from(COMPARISONS),
        st.sampled_from(DATES),
    ),
    interval(st.sampled_from(DATES), iso),
)
CODE_TEST = st.one_of(
    st.sampled_from(CODES).flatmap(quoted),
    interval(st.sampled_from(CODES)),
    st.sampled_from(["M54*", "M54.*", "704*", "7045*", "0042*"]),
)


@dataclass(frozen=True)
class InputKind:
    type: str
    values: str | None
    entry: st.SearchStrategy[Cell]
    value: st.SearchStrategy[Any]  # an input value to evaluate with


INPUT_KINDS = (
    InputKind(
        "string",
        ", ".join(STRINGS),
        entries(st.sampled_from(STRINGS).flatmap(quoted), st.sampled_from(STRINGS)),
        st.sampled_from(STRINGS),
    ),
    InputKind("integer", None, entries(INTEGER_TEST, INTEGERS), st.integers(-1, 11)),
    InputKind(
        "boolean",
        None,
        entries(st.sampled_from(["true", "false", "TRUE", "False"]), st.booleans()),
        st.booleans(),
    ),
    InputKind(
        "date",
        None,
        entries(
            DATE_TEST,
            st.sampled_from(DATES).map(lambda d: dt.datetime(d.year, d.month, d.day)),
        ),
        st.sampled_from((*DATES, dt.date(2024, 12, 31), dt.date(2025, 1, 11))),
    ),
    InputKind(
        "code",
        None,
        entries(CODE_TEST, st.sampled_from([70450, 70460])),
        st.sampled_from(CODES + ODD_CODES),
    ),
)


@dataclass(frozen=True)
class OutputKind:
    type: str
    values: str | None
    literal: st.SearchStrategy[Cell]


def output_kinds(policy: str) -> tuple[OutputKind, ...]:
    """Output columns that suit POLICY (PRIORITY and OUTPUT ORDER rank by Values;
    SUM adds numbers; MIN and MAX compare)."""
    levels = OutputKind(
        "string", ", ".join(LEVELS), st.sampled_from(LEVELS).flatmap(quoted)
    )
    ranked = OutputKind("integer", "3, 2, 1", st.sampled_from([1, 2, 3, "2"]))
    integer = OutputKind("integer", None, st.one_of(st.integers(-3, 9), st.just("4")))
    text = OutputKind("string", None, st.sampled_from(["a", "b", '"c, d"']))
    boolean = OutputKind("boolean", None, st.sampled_from([True, False, "true"]))
    if policy in ("PRIORITY", "P", "OUTPUT ORDER", "O"):
        return (levels, ranked)
    if policy in ("COLLECT SUM", "C+"):
        return (integer,)
    if policy in ("COLLECT MIN", "C<", "COLLECT MAX", "C>"):
        return (integer, text)
    return (levels, integer, text, boolean)


def nullable(literal: st.SearchStrategy[Cell]) -> st.SearchStrategy[Cell]:
    return st.one_of(literal, literal, literal, st.just("null"))


@dataclass(frozen=True)
class Case:
    sheet: list[list[Cell]]
    inputs: list[dict[str, Any]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    policy = draw(st.sampled_from(POLICIES))
    inputs = draw(st.lists(st.sampled_from(INPUT_KINDS), min_size=1, max_size=3))
    outputs = draw(
        st.lists(st.sampled_from(output_kinds(policy)), min_size=1, max_size=3)
    )
    kinds = [
        draw(st.sampled_from(["input", "input", "required input"])) for _ in inputs
    ]
    columns = [
        (f"i{n}", kind, k.type, k.values)
        for n, (k, kind) in enumerate(zip(inputs, kinds, strict=True), 1)
    ]
    columns += [(f"o{n}", "output", k.type, k.values) for n, k in enumerate(outputs, 1)]
    rules = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        cells = [draw(k.entry) for k in inputs] + [
            draw(nullable(k.literal)) for k in outputs
        ]
        rules.append((f"R{number}", *cells))
    defaults = {
        f"o{n}": draw(nullable(k.literal))
        for n, k in enumerate(outputs, 1)
        if draw(st.booleans())
    }
    sheet = decision_table("t", columns, rules, hit_policy=policy, defaults=defaults)
    values = st.fixed_dictionaries(
        {
            f"i{n}": st.one_of(st.none(), k.value, k.value)
            for n, k in enumerate(inputs, 1)
        }
    )
    return Case(sheet, draw(st.lists(values, min_size=8, max_size=25)))


def typed(value: Any) -> Any:
    """VALUE with its exact types, so True never equals 1 and 2 never equals 2.0."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def generated(module: Any, inputs: dict[str, Any]) -> Any:
    try:
        result = module.evaluate(**inputs)
    except ValueError as exc:
        if type(exc).__name__ == "InputError" and "=None is not allowed" in str(exc):
            return "missing"
        assert type(exc).__name__ == "AmbiguousError", exc
        return "ambiguous"
    outputs = result.outputs
    if outputs and isinstance(outputs[0], tuple):
        shaped: Any = [o._asdict() for o in outputs]
    elif isinstance(outputs, tuple) and not hasattr(outputs, "_asdict"):
        shaped = []
    else:
        shaped = outputs._asdict()
    return typed((shaped, list(result.matched)))


def reference(project: Any, inputs: dict[str, Any]) -> Any:
    try:
        outputs, matched = interpret.evaluate(project, "t", inputs)
    except interpret.Ambiguous:
        return "ambiguous"
    except interpret.MissingInput:
        return "missing"
    return typed((outputs, matched))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_generated_code_agrees_with_the_interpreter(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="compile-rules-property-") as tmp:
        tables = write_tables(Path(tmp), {"random.xlsx": {"T": case.sheet}})
        project, diagnostics = load_tables(tables)
        shown = "\n".join(d.format() for d in diagnostics)
        assert project is not None and not errors(diagnostics), shown
    # Generated without the static analysis, which may reject overlapping UNIQUE and
    # ANY tables: their runtime guard is part of what is compared here.
    module = load_table(codegen.generate(project), "t")
    for inputs in case.inputs:
        assert generated(module, inputs) == reference(project, inputs), inputs
