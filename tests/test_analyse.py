"""Static analysis: overlaps, gaps, unreachable rules, versions, chains, examples.

The property tests are the trust argument: on random small tables the sweep finds
exactly what brute-force enumeration of the input grid finds with `cells.tests_match`
and the reference interpreter. The workbook tests check the end-to-end path and the
wording an author sees.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import analyse, interpret
from compiler.checking.analyse import findings
from compiler.checking.atoms import build_axis, code_between
from compiler.cli import main
from compiler.diagnostics import Location, Severity
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
    YearsMonths,
)
from compiler.reading.cells import tests_match as accepts

from .helpers import compile_books, compiled_module, load_books, write_tables
from .workbooks import Row, decision_table, tests_sheet

WHERE = Location("tables/t.xlsx", "T")

# -- model builders --------------------------------------------------------------


def column(
    name: str,
    type_: DataType,
    values: tuple[Test, ...] | None = None,
    kind: ColumnKind = ColumnKind.INPUT,
    required: bool = False,
) -> Column:
    listed = None if values is None else UnaryTests(values)
    return Column(name, kind, type_, WHERE.at("B4"), values=listed, required=required)


def table(
    inputs: list[Column],
    rules: list[tuple[list[UnaryTests], Value]],
    policy: HitPolicy = HitPolicy.UNIQUE,
    aggregation: Aggregation | None = None,
    default: bool = False,
) -> Table:
    """A table with one integer output `out`, Values 1, 2, 3 (1 has the top priority)."""
    out = Column(
        "out",
        ColumnKind.OUTPUT,
        DataType.INTEGER,
        WHERE.at("Z4"),
        values=UnaryTests((Equals(1), Equals(2), Equals(3))),
        default=1 if default else None,
        has_default=default,
    )
    built = tuple(
        Rule(
            f"R{i}",
            tuple(entries),
            (output,),
            (),
            WHERE.at(f"A{i + 8}:Z{i + 8}"),
            tuple(f"{chr(66 + c)}{i + 8}" for c in range(len(entries))),
            (f"Z{i + 8}",),
        )
        for i, (entries, output) in enumerate(rules, start=1)
    )
    return Table("t", policy, aggregation, tuple(inputs), (out,), (), built, WHERE)


def project_of(*tables: Table) -> Project:
    decisions = tuple(Decision(t.name, (t,)) for t in tables)
    return Project(decisions, (), ())


# -- atoms: each entry is constant on each atom ----------------------------------

CODE_CHARS = "01A."


def codes(min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[str]:
    return st.text(CODE_CHARS, min_size=min_size, max_size=max_size)


@st.composite
def code_test(draw: st.DrawFn) -> Test:
    kind = draw(st.sampled_from(["equals", "range", "prefix"]))
    if kind == "equals":
        return Equals(draw(codes()))
    if kind == "prefix":
        return Prefix(draw(codes(max_size=2)))
    low = draw(codes())
    high = draw(codes(len(low), len(low)))
    low, high = sorted((low, high))
    closed = (True, True) if low == high else (draw(st.booleans()), draw(st.booleans()))
    return Interval(low, high, *closed)


def ordered_test(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Test]:
    def interval(pair: tuple[Any, Any, bool, bool]) -> Test:
        low, high, low_closed, high_closed = pair
        low, high = sorted((low, high))
        if low == high:
            return Interval(low, high)
        return Interval(low, high, low_closed, high_closed)

    return st.one_of(
        values.map(Equals),
        st.tuples(st.sampled_from(["<", "<=", ">", ">="]), values).map(
            lambda t: Compare(*t)
        ),
        st.tuples(values, values, st.booleans(), st.booleans()).map(interval),
    )


DAY = dt.date(2024, 1, 1)
INTEGERS = st.integers(-3, 6)
NUMBERS = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.5, 4.0])
DATES = st.integers(-3, 6).map(lambda n: DAY + dt.timedelta(days=n))
MONTHS = st.integers(-3, 6).map(YearsMonths)  # version 2: whole months, like integers
PROBES: dict[DataType, st.SearchStrategy[Any]] = {
    DataType.INTEGER: st.integers(-6, 9),
    DataType.NUMBER: st.sampled_from(
        [-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 2.5, 3.0, 4.0, 5.5]
    ),
    DataType.DATE: st.integers(-6, 9).map(lambda n: DAY + dt.timedelta(days=n)),
    DataType.YEARS_MONTHS: st.integers(-6, 9).map(YearsMonths),
    DataType.CODE: codes(1, 4),
    DataType.STRING: st.sampled_from(["a", "b", "c", "zz"]),
    DataType.BOOLEAN: st.booleans(),
}
TESTS: dict[DataType, st.SearchStrategy[Test]] = {
    DataType.INTEGER: ordered_test(INTEGERS),
    DataType.NUMBER: ordered_test(NUMBERS),
    DataType.DATE: ordered_test(DATES),
    DataType.YEARS_MONTHS: ordered_test(MONTHS),
    DataType.CODE: code_test(),
    DataType.STRING: st.sampled_from(["a", "b", "c"]).map(Equals),
    DataType.BOOLEAN: st.booleans().map(Equals),
}


@st.composite
def axis_case(draw: st.DrawFn) -> tuple[Column, list[UnaryTests], list[Any]]:
    type_ = draw(st.sampled_from(list(TESTS)))
    tests = st.one_of(TESTS[type_], st.just(Equals(None)))
    entries = draw(
        st.lists(
            st.builds(
                UnaryTests,
                st.lists(tests, min_size=0, max_size=3).map(tuple),
                st.booleans(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    values = None
    if draw(st.booleans()):
        allowed = draw(st.lists(TESTS[type_], min_size=1, max_size=3))
        values = tuple(t for t in allowed if not isinstance(t, Compare)) or None
    probes = draw(
        st.lists(st.one_of(PROBES[type_], st.none()), min_size=1, max_size=12)
    )
    return column("x", type_, values, required=draw(st.booleans())), entries, probes


@settings(max_examples=400, deadline=None)
@given(axis_case())
def test_every_entry_is_constant_on_every_atom(
    case: tuple[Column, list[UnaryTests], list[Any]],
) -> None:
    col, entries, probes = case
    axis = build_axis(col, entries)
    for index, atom in enumerate(axis.atoms):
        assert axis.locate(atom.witness) == index
    for entry in entries:
        axis.describe(axis.mask(entry))  # words every set without failing
    for value in probes:
        atom = axis.locate(value)
        if value is None:  # null is in the domain unless the input is required
            allowed = not col.required
        else:
            allowed = col.values is None or accepts(col.values, value)
        assert (atom is not None) == allowed, (value, axis.atoms)
        if atom is None:
            continue
        for entry in entries:
            accepted = bool(axis.mask(entry) >> atom & 1)
            assert accepted == accepts(entry, value), (entry, value, axis.atoms)


@given(codes(0, 3), codes(0, 3), st.integers(1, 4))
def test_code_between_finds_a_code_whenever_one_exists(
    low: str, high: str, length: int
) -> None:
    found = code_between(low or None, high or None, length)
    brute = [
        "".join(chars)
        for chars in itertools.product(CODE_CHARS + "\x00\x7f", repeat=length)
        if (not low or "".join(chars) > low) and (not high or "".join(chars) < high)
    ]
    if brute:
        assert found is not None
    if found is not None:
        assert len(found) == length
        assert (not low or found > low) and (not high or found < high)


# -- the sweep against brute force --------------------------------------------------


@st.composite
def small_column(draw: st.DrawFn, name: str) -> tuple[Column, list[Value]]:
    """A column and the grid of values to try: its whole domain, or for an open
    column every value the entries can tell apart (plus one unmentioned value)."""
    kind = draw(st.sampled_from(["string", "boolean", "integer", "months"]))
    if kind == "string":
        listed = draw(st.booleans())
        if listed:
            values = tuple(
                Equals(v) for v in ("a", "b", "c")[: draw(st.integers(1, 3))]
            )
            return column(name, DataType.STRING, values), [t.value for t in values]
        return column(name, DataType.STRING), ["a", "b", "c", "zz"]
    if kind == "boolean":
        if draw(st.booleans()):
            return column(name, DataType.BOOLEAN), [True, False]
        return column(name, DataType.BOOLEAN, (Equals(True),)), [True]
    if kind == "months":  # version 2: a years-and-months duration, every month
        if draw(st.booleans()):
            low = draw(st.integers(0, 2))
            high = draw(st.integers(low, 5))
            bounds = Interval(YearsMonths(low), YearsMonths(high))
            grid = [YearsMonths(m) for m in range(low, high + 1)]
            return column(name, DataType.YEARS_MONTHS, (bounds,)), grid
        grid = [YearsMonths(m) for m in range(-3, 9)]
        return column(name, DataType.YEARS_MONTHS), grid
    if draw(st.booleans()):
        low = draw(st.integers(0, 2))
        high = draw(st.integers(low, 5))
        return column(name, DataType.INTEGER, (Interval(low, high),)), list(
            range(low, high + 1)
        )
    return column(name, DataType.INTEGER), list(range(-3, 9))


def small_entry(col: Column, grid: list[Value]) -> st.SearchStrategy[UnaryTests]:
    if col.type is DataType.STRING:
        simple = st.sampled_from(["a", "b", "c"]).map(Equals)
    elif col.type is DataType.BOOLEAN:
        simple = st.booleans().map(Equals)
    elif col.type is DataType.YEARS_MONTHS:
        simple = ordered_test(st.integers(-1, 6).map(YearsMonths))
    else:
        simple = ordered_test(st.integers(-1, 6))
    listed = st.lists(st.one_of(simple, st.just(Equals(None))), min_size=1, max_size=2)
    listed = listed.map(tuple)
    return st.one_of(
        st.just(UnaryTests()),
        simple.map(lambda t: UnaryTests((t,))),
        listed.map(UnaryTests),
        listed.map(lambda tests: UnaryTests(tests, negated=True)),
    )


POLICIES = [
    (HitPolicy.UNIQUE, None),
    (HitPolicy.FIRST, None),
    (HitPolicy.PRIORITY, None),
    (HitPolicy.ANY, None),
    (HitPolicy.COLLECT, None),
    (HitPolicy.COLLECT, Aggregation.SUM),
    (HitPolicy.COLLECT, Aggregation.COUNT),
    (HitPolicy.RULE_ORDER, None),
    (HitPolicy.OUTPUT_ORDER, None),
]


@st.composite
def small_table(draw: st.DrawFn) -> tuple[Table, list[tuple[Value, ...]]]:
    width = draw(st.integers(2, 3))
    columns = [draw(small_column(f"c{i}")) for i in range(width)]
    rules = draw(
        st.lists(
            st.tuples(
                st.tuples(*(small_entry(c, g) for c, g in columns)).map(list),
                st.integers(1, 3),
            ),
            min_size=0,
            max_size=8,
        )
    )
    policy, aggregation = draw(st.sampled_from(POLICIES))
    built = table(
        [c for c, _ in columns], rules, policy, aggregation, default=draw(st.booleans())
    )
    required = draw(st.lists(st.booleans(), min_size=width, max_size=width))
    columns = [
        (replace(c, required=True) if r else c, g)
        for (c, g), r in zip(columns, required, strict=True)
    ]
    built = replace(built, inputs=tuple(c for c, _ in columns))
    for c, values in columns:
        if not c.required:
            values.append(None)  # a missing input is part of the domain
    grid = list(itertools.product(*(g for _, g in columns)))
    return built, grid


def matching(t: Table, point: tuple[Value, ...]) -> list[int]:
    return [
        i
        for i, rule in enumerate(t.rules)
        if all(accepts(e, v) for e, v in zip(rule.inputs, point, strict=True))
    ]


def inside(
    facts: analyse.Facts, region: tuple[int, ...], point: tuple[Value, ...]
) -> bool:
    for axis, mask, value in zip(facts.axes, region, point, strict=True):
        atom = axis.locate(value)
        if atom is None or not mask >> atom & 1:
            return False
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_table())
def test_the_sweep_finds_what_brute_force_finds(
    case: tuple[Table, list[tuple[Value, ...]]],
) -> None:
    t, grid = case
    facts = analyse.study(t)
    hits = {point: matching(t, point) for point in grid}
    everywhere = {r for found in hits.values() for r in found}

    assert set(facts.dead) == set(range(len(t.rules))) - everywhere

    empty = {p for p, found in hits.items() if not found}
    assert empty == {
        p for p in grid if any(inside(facts, r, p) for r in facts.uncovered)
    }
    for a, b in itertools.combinations(facts.uncovered, 2):  # gaps never overlap
        assert not any(inside(facts, a, p) and inside(facts, b, p) for p in grid)

    # Null-only gaps (A313): empty points where an input is missing, each of them
    # when some value of its missing inputs would be answered; left out only where a
    # gap over complete inputs holds every such value.
    missing = {p for p in empty if None in p}
    reported = {
        p
        for p in grid
        if any(inside(facts, r, p) for r in findings.missing_regions(facts))
    }
    assert reported <= missing
    values = [
        [v for v in {q[c] for q in grid} if v is not None] for c in range(len(t.inputs))
    ]
    for p in missing:
        completions = itertools.product(
            *([v] if v is not None else values[c] for c, v in enumerate(p))
        )
        if any(hits.get(q) for q in completions):
            assert p in reported, p

    pairs = set()
    complete_pairs = set()  # overlapping at a point where no input is missing
    if t.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY):
        for point, found in hits.items():
            for a, b in itertools.combinations(found, 2):
                if (
                    t.hit_policy is HitPolicy.UNIQUE
                    or t.rules[a].outputs != t.rules[b].outputs
                ):
                    pairs.add((a, b))
                    if None not in point:
                        complete_pairs.add((a, b))
    assert set(facts.overlaps) == pairs

    deciders = set()
    if t.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
        for point, found in hits.items():
            if found:
                _, matched = interpret.decide(
                    t, dict(zip(["c0", "c1", "c2"], point, strict=False))
                )
                deciders.add(
                    next(i for i, r in enumerate(t.rules) if r.id == matched[0])
                )
        assert set(facts.unreachable()) == everywhere - deciders
    else:
        assert facts.unreachable() == []

    # Every diagnostic kind appears exactly when the finding exists.
    found_codes = {d.code for d in analyse.analyse(project_of(t))}
    expect = {
        "A301": bool(complete_pairs) and t.hit_policy is HitPolicy.UNIQUE,
        "A302": bool(complete_pairs) and t.hit_policy is HitPolicy.ANY,
        "A314": bool(pairs - complete_pairs),
        "A303": facts.checks_gaps and bool(empty - missing),
        "A313": facts.checks_gaps and bool(reported),
        "A305": t.hit_policy is HitPolicy.FIRST and bool(everywhere - deciders),
        "A306": t.hit_policy is HitPolicy.PRIORITY and bool(everywhere - deciders),
        "A307": bool(facts.dead),
    }
    assert {code for code, present in expect.items() if present} == found_codes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_table())
def test_every_reachable_rule_gets_an_example_that_makes_it_decide(
    case: tuple[Table, list[tuple[Value, ...]]],
) -> None:
    t, _ = case
    project = project_of(t)
    found = analyse.analyse(project)
    if any(d.severity is Severity.ERROR for d in found):
        return  # such tables never reach code generation
    if any(d.code == "A314" for d in found):
        return  # a rule may match only where it overlaps another: ambiguous there
    facts = analyse.study(t)
    examples = analyse.examples(project)["t"]
    reachable = {
        t.rules[r].id
        for r in range(len(t.rules))
        if r not in facts.dead and r in facts.wins
    }
    rule_examples = [e.expected_rules for e in examples if e.kind == "rule"]
    if t.hit_policy in (HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY):
        assert all(len(rules) == 1 for rules in rule_examples)
    assert {r for rules in rule_examples for r in rules} == reachable
    for example in examples:
        outputs, matched = interpret.evaluate(
            project, "t", dict(example.inputs), example.as_of
        )
        assert tuple(matched) == example.expected_rules
        if isinstance(outputs, dict):
            assert tuple(outputs.items()) == example.expected_outputs


def test_examples_of_multi_hit_tables_name_the_rule() -> None:
    x = column("x", DataType.INTEGER, (Interval(0, 9),))
    t = table(
        [x],
        [([UnaryTests((Compare("<", 5),))], 1), ([UnaryTests()], 2)],
        HitPolicy.COLLECT,
    )
    examples = analyse.examples(project_of(t))["t"]
    rules = {e.description: e.expected_rules for e in examples if e.kind == "rule"}
    assert rules == {"rule R1 decides": ("R1", "R2"), "rule R2 decides": ("R2",)}
    cases = {(e.inputs, e.expected_outputs) for e in examples}
    assert ((("x", 4),), (("out", (1, 2)),)) in cases  # both sides of `< 5`
    assert ((("x", 5),), (("out", (2,)),)) in cases


# -- a table of 10,000 rules stays exact --------------------------------------------


def test_a_large_grid_table_is_complete_and_exclusive() -> None:
    a = column("a", DataType.INTEGER, (Interval(0, 99),))
    b = column("b", DataType.INTEGER, (Interval(0, 99),))
    rules = [
        ([UnaryTests((Equals(i),)), UnaryTests((Interval(j, j + 1, True, False),))], 1)
        for i in range(100)
        for j in range(0, 100, 1)
    ]
    rules.pop(4321)  # a = 43, b = 21
    facts = analyse.study(table([a, b], rules), missing=False)
    assert facts.overlaps == {}
    assert [analyse.describe(facts, r) for r in facts.uncovered] == ["a = 43, b = 21"]


# -- workbooks, end to end ---------------------------------------------------------

# Required inputs: most tests are about complete inputs. The tests of missing inputs
# use the optional ones (`sheet(..., optional=True)`).
MODALITY = ("modality", "required input", "string", '"CT", "MRI", "US"')
AGE = ("age", "required input", "integer", "[0..130]")
OPTIONAL_MODALITY = ("modality", "input", "string", '"CT", "MRI", "US"')
OPTIONAL_AGE = ("age", "input", "integer", "[0..130]")
OK = ("ok", "output", "boolean", None)


def sheet(
    rules: list[tuple[Any, ...]],
    policy: str = "UNIQUE",
    optional: bool = False,
    **kwargs: Any,
) -> list[Row]:
    """Rules start at row 8: columns B (modality), C (age), D (ok)."""
    inputs = [OPTIONAL_MODALITY, OPTIONAL_AGE] if optional else [MODALITY, AGE]
    return decision_table(
        kwargs.pop("name", "imaging"),
        [*inputs, OK],
        rules,
        hit_policy=policy,
        **kwargs,
    )


COMPLETE = [
    ("R1", "CT", "< 18", True),
    ("R2", "CT", ">= 18", False),
    ("R3", "MRI, US", "-", True),
]


def run(tables: Path, *args: str) -> Any:
    return CliRunner().invoke(main, [*args[:1], "--tables", str(tables), *args[1:]])


def test_a_unique_overlap_stops_compilation_with_exit_code_3(tmp_path: Path) -> None:
    rules = [*COMPLETE, ("R4", "CT", "[10..20]", True)]
    tables = write_tables(tmp_path, {"x.xlsx": {"T": sheet(rules)}})
    result = run(tables, "compile", "--out", str(tmp_path / "out"))
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "out").exists()
    assert (
        "tables/x.xlsx:T!B11:C11: error A301: rules R1 (B8:C8) and R4 (B11:C11) can both "
        "apply to one case, but hit policy UNIQUE allows only one: both apply when "
        "modality = CT, age in [10..17]; for example modality = CT, age = 10"
    ) in result.output
    assert "rules R2 (B9:C9) and R4 (B11:C11)" in result.output


def test_an_any_table_may_overlap_where_rules_agree(tmp_path: Path) -> None:
    rules = [*COMPLETE, ("R4", "CT", "[10..20]", True)]
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": sheet(rules, "ANY")}})
    [problem] = [d for d in compilation.diagnostics if d.code.startswith("A")]
    assert problem.code == "A302"
    assert "R2 (B9:C9) and R4 (B11:C11)" in problem.message
    assert "give different results (R2: ok = false; R4: ok = true)" in problem.message
    assert "age in [18..20]" in problem.message


def test_a_gap_is_an_error_named_as_a_compact_region(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", True), ("R2", "CT, MRI", ">= 18", False)]
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": sheet(rules)}})
    gaps = [d for d in compilation.diagnostics if d.code == "A303"]
    assert compilation.files is None
    assert [(str(d.location), d.severity) for d in gaps] == [
        ("tables/x.xlsx:T", Severity.ERROR)
    ] * 2
    assert sorted(d.message.split(" (for")[0] for d in gaps) == [
        "no rule applies when modality = MRI, age in [0..17]",
        "no rule applies when modality = US",
    ]


def test_a_table_marked_incomplete_only_warns_about_gaps(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", True)]
    book = {"x.xlsx": {"T": sheet(rules, metadata={"Complete": "no"})}}
    compilation = compile_books(tmp_path, book)
    assert compilation.ok
    gaps = [d for d in compilation.diagnostics if d.code == "A304"]
    assert {d.severity for d in gaps} == {Severity.WARNING}
    assert sorted(d.message.split(" (for")[0] for d in gaps) == [
        "no rule applies when modality = CT, age in [18..130]",
        "no rule applies when modality is not CT",
    ]


def test_a_default_means_no_gap(tmp_path: Path) -> None:
    rules = [("R1", "CT", "< 18", True)]
    book = {"x.xlsx": {"T": sheet(rules, defaults={"ok": False})}}
    assert compile_books(tmp_path, book).ok


UNREACHABLE = [
    ("R1", "-", "< 18", True),
    ("R2", "-", ">= 18", False),
    ("R3", "CT", "[20..30]", True),
    ("R4", "-", "-", False),
    ("R5", "-", "not([0..130])", False),
    ("R6", "null", "-", False),
]


def test_unreachable_rules_are_warnings_that_name_the_hiding_rules(
    tmp_path: Path,
) -> None:
    book = {"x.xlsx": {"T": sheet(UNREACHABLE, "FIRST")}}
    compilation = compile_books(tmp_path, book)
    assert compilation.ok
    found = [d for d in compilation.diagnostics if d.code.startswith("A")]
    assert [(d.code, str(d.location)) for d in found] == [
        ("A305", "tables/x.xlsx:T!B10:C10"),
        ("A305", "tables/x.xlsx:T!B11:C11"),
        ("A307", "tables/x.xlsx:T!C12"),  # not([0..130]): a required age is in it
        ("A307", "tables/x.xlsx:T!B13"),  # null: a required modality is never null
    ]
    assert found[0].message.startswith("rule R3 never applies: the rules above it (R2)")
    assert "(R1, R2)" in found[1].message


def test_a_missing_input_can_make_a_rule_reachable(tmp_path: Path) -> None:
    # Optional inputs: a missing age passes `-` and `not([0..130])`, not `< 18` or
    # `>= 18`, so R4 decides when age is missing; R5 and R6 come after it.
    book = {"x.xlsx": {"T": sheet(UNREACHABLE, "FIRST", optional=True)}}
    compilation = compile_books(tmp_path, book)
    found = [d for d in compilation.diagnostics if d.code.startswith("A")]
    assert [(d.code, str(d.location)) for d in found] == [
        ("A305", "tables/x.xlsx:T!B10:C10"),
        ("A305", "tables/x.xlsx:T!B12:C12"),
        ("A305", "tables/x.xlsx:T!B13:C13"),
    ]
    assert "(R4)" in found[1].message


def test_a_rule_for_a_missing_flag_is_not_unreachable(tmp_path: Path) -> None:
    # The case: R2 looks hidden by R1, but decides when flag is missing.
    flag = ("flag", "input", "boolean", None)
    t = decision_table(
        "adult",
        [OPTIONAL_AGE, flag, OK],
        [("R1", ">= 18", "true, false", True), ("R2", ">= 18", "-", False)],
        hit_policy="FIRST",
        defaults={"ok": False},
    )
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": t}})
    assert not [d for d in compilation.diagnostics if d.code.startswith("A")]
    module = compiled_module(compilation, "adult")
    assert module.evaluate(age=30).matched == ("R2",)


def test_null_is_in_the_domain_of_every_optional_input(tmp_path: Path) -> None:
    rules = [
        ("R1", "null", "-", False),
        ("R2", "CT", "< 18", True),
        ("R3", "-", "-", False),
    ]
    book = {"x.xlsx": {"T": sheet(rules, "FIRST", optional=True)}}
    compilation = compile_books(tmp_path, book)
    assert compilation.ok, compilation.diagnostics
    assert not [d for d in compilation.diagnostics if d.code.startswith("A")]
    from compiler.pipeline import load_tables

    project, _ = load_tables(tmp_path / "tables")
    assert project is not None
    examples = analyse.examples(project)["imaging"]
    first = next(e for e in examples if e.expected_rules == ("R1",))
    assert dict(first.inputs)["modality"] is None

    # Without the catch-all: gaps over complete inputs are errors (A303); those
    # only when an input is missing are warnings (A313) naming it.
    book = {"x.xlsx": {"T": sheet(rules[:2], "FIRST", optional=True)}}
    found = compile_books(tmp_path, book).diagnostics
    gaps = [d for d in found if d.code == "A303"]
    assert sorted(d.message.split(" (for")[0] for d in gaps) == [
        "no rule applies when modality = CT, age in [18..130]",
        "no rule applies when modality is not CT",
    ]
    [missing] = [d for d in found if d.code == "A313"]
    assert missing.severity is Severity.WARNING
    assert missing.message == (
        "no rule applies when 'age' is missing and modality = CT (for example "
        "modality = CT, age = null), and the table has no Default"
    )
    assert missing.hint == (
        "declare it required (Kind 'required input'), or add a rule or a Default "
        "for when it is missing"
    )


def test_a_gap_when_an_input_is_missing_warns_and_required_removes_it(
    tmp_path: Path,
) -> None:
    # The imaging_guideline_set: a minor with the condition flag missing.
    flag = ("condition", "input", "boolean", None)
    rules = [
        ("R1", "< 18", True, "Pediatric"),
        ("R2", "< 18", False, "General"),
        ("R3", ">= 18", "-", "General"),
    ]
    out = ("guideline_set", "output", "string", '"Pediatric", "General"')
    t = decision_table("set", [OPTIONAL_AGE, flag, out], rules)
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": t}})
    assert compilation.ok
    found = sorted(
        d.message.split(" (for")[0] for d in compilation.diagnostics if d.code == "A313"
    )
    assert found == [
        "no rule applies when 'age' is missing",
        "no rule applies when 'condition' is missing and age in [0..17]",
    ]
    module = compiled_module(compilation, "set")
    assert module.evaluate(age=10).matched == ()  # the gap, as the analysis says

    required = [(n, "required input", *rest) for n, _, *rest in (OPTIONAL_AGE, flag)]
    t = decision_table("set", [*required, out], rules)  # type: ignore[list-item]
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": t}})
    assert not [d for d in compilation.diagnostics if d.code.startswith("A")]
    module = compiled_module(compilation, "set")
    with pytest.raises(module.InputError, match="condition=None is not allowed"):
        module.evaluate(age=10)


def test_an_overlap_when_an_input_is_missing_warns(tmp_path: Path) -> None:
    rules = [
        ("R1", "CT", "-", True),
        ("R2", "MRI", "-", True),
        ("R3", "US", "-", True),
        ("R4", "not(CT, MRI, US)", "< 18", True),  # only a missing modality
        ("R5", "null", "-", False),
    ]
    book = {"x.xlsx": {"T": sheet(rules, optional=True)}}
    compilation = compile_books(tmp_path, book)
    assert compilation.ok
    found = [d for d in compilation.diagnostics if d.code.startswith("A")]
    assert [d.code for d in found] == ["A314"]
    assert found[0].severity is Severity.WARNING
    assert found[0].message == (
        "rules R4 (B11:C11) and R5 (B12:C12) both apply when 'modality' is missing "
        "and age in [0..17], but hit policy UNIQUE allows only one (for example "
        "modality = null, age = 0)"
    )
    module = compiled_module(compilation, "imaging")
    with pytest.raises(
        ValueError, match="UNIQUE hit policy violated: rules R4, R5 all match"
    ):
        module.evaluate(age=5)


def test_priority_rules_whose_output_never_wins(tmp_path: Path) -> None:
    level = ("level", "output", "string", '"high", "low"')
    rules = [
        ("R1", "CT", "-", "low"),
        ("R2", "-", "-", "high"),
        ("R3", "US", "-", "low"),
    ]
    t = decision_table("p", [MODALITY, AGE, level], rules, hit_policy="PRIORITY")
    compilation = compile_books(tmp_path, {"x.xlsx": {"T": t}})
    assert [
        d.message.split(":")[0] for d in compilation.diagnostics if d.code == "A306"
    ] == [
        "rule R1 never decides",
        "rule R3 never decides",
    ]


def test_a_date_gap_between_versions_warns(tmp_path: Path) -> None:
    first = sheet(
        COMPLETE,
        metadata={"Effective from": "2024-01-01", "Effective to": "2024-06-30"},
    )
    second = sheet(COMPLETE, metadata={"Effective from": "2024-07-02"})
    compilation = compile_books(tmp_path, {"x.xlsx": {"V1": first, "V2": second}})
    [gap] = [d for d in compilation.diagnostics if d.code == "A308"]
    assert str(gap.location) == "tables/x.xlsx:V2!B3"  # its Effective from
    assert gap.message.startswith("no version of 'imaging' is in force on 2024-07-01")


def test_chains_check_values_against_what_the_source_gives(tmp_path: Path) -> None:
    band = decision_table(
        "band",
        [AGE, ("risk", "output", "string", None)],
        [
            ("R1", "< 18", "low"),
            ("R2", "[18..64]", "medium"),
            ("R3", ">= 65", "severe"),
        ],
    )
    use = decision_table(
        "use",
        [("risk", "from band", "string", '"low", "medium", "high"'), OK],
        [("R1", "low, medium", True), ("R2", "high", False)],
        hit_policy="FIRST",
    )
    _, diagnostics = load_books(tmp_path, {"x.xlsx": {"Band": band, "Use": use}})
    # Validation passes; the analysis sees the chain.
    from compiler.pipeline import load_tables

    project, _ = load_tables(tmp_path / "tables")
    assert project is not None
    found = {d.code: d for d in analyse.analyse(project)}
    assert set(found) == {"A309", "A310"}
    assert (
        "'risk' comes from 'band', which can give severe (rule R3)"
        in found["A309"].message
    )
    assert str(found["A310"].location) == "tables/x.xlsx:Use!B9"
    assert "rule R2 can never apply" in found["A310"].message


def test_examples_cover_rules_edges_and_version_dates(tmp_path: Path) -> None:
    first = sheet(
        COMPLETE,
        "FIRST",
        metadata={"Effective from": "2024-01-01", "Effective to": "2024-12-31"},
    )
    second = sheet(
        [("R1", "-", "< 21", True), ("R2", "-", ">= 21", False)],
        "FIRST",
        metadata={"Effective from": "2025-01-01"},
    )
    from compiler.pipeline import load_tables

    write_tables(tmp_path, {"x.xlsx": {"V1": first, "V2": second}})
    project, _ = load_tables(tmp_path / "tables")
    assert project is not None
    examples = analyse.examples(project)["imaging"]
    seen = {(e.inputs, e.as_of): e for e in examples}
    edge = seen[((("modality", "CT"), ("age", 17)), dt.date(2024, 1, 1))]
    assert (edge.kind, edge.expected_outputs, edge.expected_rules) == (
        "boundary",
        (("ok", True),),
        ("R1",),
    )
    assert ((("modality", "CT"), ("age", 18)), dt.date(2024, 1, 1)) in seen
    assert ((("modality", "CT"), ("age", 20)), dt.date(2025, 1, 1)) in seen
    assert ((("modality", "CT"), ("age", 21)), dt.date(2025, 1, 1)) in seen
    days = {e.as_of for e in examples if e.description.startswith("the day")}
    assert (
        days == {dt.date(2024, 12, 31), dt.date(2025, 1, 1)}
        or dt.date(2024, 12, 31) in days
    )
    for example in examples:
        _, matched = interpret.evaluate(
            project, "imaging", dict(example.inputs), example.as_of
        )
        assert tuple(matched) == example.expected_rules


def test_examples_of_chained_tables_use_the_chain_inputs(tmp_path: Path) -> None:
    band = decision_table(
        "band",
        [AGE, ("risk", "output", "string", '"low", "high"')],
        [("R1", "< 65", "low"), ("R2", ">= 65", "high")],
    )
    use = decision_table(
        "use",
        [MODALITY, ("risk", "from band", "string", '"low", "high"'), OK],
        [("R1", "CT", "high", False), ("R2", "-", "-", True)],
        hit_policy="FIRST",
    )
    from compiler.pipeline import load_tables

    write_tables(tmp_path, {"x.xlsx": {"Band": band, "Use": use}})
    project, _ = load_tables(tmp_path / "tables")
    assert project is not None
    assert not analyse.analyse(project)
    rules = {
        e.expected_rules: dict(e.inputs)
        for e in analyse.examples(project)["use"]
        if e.kind == "rule"
    }
    assert rules[("R1",)] == {"modality": "CT", "age": 65}
    assert set(rules) == {("R1",), ("R2",)}


def test_uncovered_rules_and_the_analyse_command(tmp_path: Path) -> None:
    tests = tests_sheet(
        "imaging",
        [("modality", "input"), ("age", "input"), ("ok", "expected")],
        [("T1", "CT", 5, True), ("T2", "MRI", 40, True)],
    )
    tables = write_tables(tmp_path, {"x.xlsx": {"T": sheet(COMPLETE), "Tests": tests}})
    from compiler.pipeline import load_tables

    project, _ = load_tables(tables)
    assert project is not None
    assert analyse.uncovered_rules(project) == {"imaging": ("R2",)}
    result = run(tables, "analyse")
    assert result.exit_code == 0, result.output
    assert "imaging: no authored test exercises R2" in result.output

    rules = [*COMPLETE, ("R4", "CT", "[10..20]", True)]
    write_tables(tmp_path, {"x.xlsx": {"T": sheet(rules), "Tests": tests}})
    result = run(tables, "analyse", "imaging")
    assert result.exit_code == 3
    assert "error A301" in result.output


def test_the_analysis_runs_beside_errors_in_other_tables(tmp_path: Path) -> None:
    """One run shows a cell error in one table and an overlap in another; a table that
    requires a table with errors is left out (its findings could be made up)."""
    broken = sheet([("R1", "CT", "< 1/2", True), ("R2", "-", "-", False)])
    overlapping = sheet([*COMPLETE, ("R4", "CT", "[10..20]", True)], name="other")
    downstream = decision_table(  # a gap (ok = false), but fed by the broken table
        "follow",
        [("ok", "from imaging", "boolean", None), ("go", "output", "boolean", None)],
        [("F1", "true", True)],
    )
    books = {"x.xlsx": {"A": broken, "B": overlapping, "C": downstream}}
    compilation = compile_books(tmp_path, books)
    codes = {(d.code, d.location.sheet) for d in compilation.diagnostics}
    assert ("E201", "A") in codes and ("A301", "B") in codes
    assert not any(
        d.code.startswith("A") and d.location.sheet in ("A", "C")
        for d in compilation.diagnostics
    )
    assert compilation.files is None
