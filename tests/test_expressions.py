"""Version 2 of the workbook format: FEEL-CR expressions, computed inputs and entries
that name other inputs.

The demo workbook is built in code: an x-ray that must be at most 14 days before the
date of service (`[date_of_service - 14 days..date_of_service]`) and an age computed
from the date of birth. It compiles, analyses (saying where it assumed), evaluates,
passes its generated tests, and `evaluate_frame` equals `evaluate` row by row.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from compiler.checking import interpret
from compiler.diagnostics import Severity
from compiler.emitting.runtime import _feel
from compiler.expressions.syntax import ExpressionError, parse
from compiler.expressions.typed import compile_expression, evaluate

from .helpers import (
    compile_books,
    compiled_module,
    errors,
    load_books,
    only,
    run_generated_tests,
)
from .workbooks import Row, decision_table, tests_sheet

D = dt.date


def with_expressions(rows: list[Row], expressions: dict[int, str]) -> list[Row]:
    """ROWS with an Expression row below the Type row (column index -> text)."""
    at = next(i for i, r in enumerate(rows) if r and r[0] == "Type")
    width = len(rows[at])
    rows.insert(at + 1, ["Expression", *(expressions.get(i) for i in range(1, width))])
    return rows


def xray_table(hit_policy: str = "UNIQUE") -> list[Row]:
    return with_expressions(
        decision_table(
            "xray_window",
            [
                ("date_of_service", "input", "date", None),
                ("xray_date", "input", "date", None),
                ("date_of_birth", "input", "date", None),
                ("age", "computed", "integer", None),
                ("days_left", "computed", "integer", None),
                ("ok", "output", "boolean", None),
            ],
            [
                (
                    "R1",
                    "-",
                    "[date_of_service - 14 days..date_of_service]",
                    "-",
                    ">= 18",
                    "-",
                    True,
                ),
                ("R2", "-", "< date_of_service - 14 days", "-", ">= 18", "-", False),
                ("R3", "-", "> date_of_service", "-", ">= 18", "-", False),
                ("R4", "-", "-", "-", "< 18", "-", False),
            ],
            hit_policy=hit_policy,
        ),
        {
            4: "years and months duration(date_of_birth, date_of_service).years",
            5: "(xray_date + 14 days - date_of_service).days",
        },
    )


XRAY_TESTS = tests_sheet(
    "xray_window",
    [
        ("date_of_service", "input"),
        ("xray_date", "input"),
        ("date_of_birth", "input"),
        ("ok", "expected"),
        ("expected rule", "expected rule"),
    ],
    [
        ("T1", "2025-12-18", "2025-12-10", "1990-01-01", True, "R1"),
        ("T2", "2025-12-18", "2025-11-10", "1990-01-01", False, "R2"),
        ("T3", "2025-12-18", "2025-12-19", "1990-01-01", False, "R3"),
        ("T4", "2025-12-18", "2025-12-10", "2010-01-01", False, "R4"),
        ("T5", "2025-12-18", "2025-12-04", "2007-12-18", True, "R1"),
    ],
)
BOOKS = {"xray.xlsx": {"Window": xray_table(), "Cases": XRAY_TESTS}}


# -- the language ----------------------------------------------------------------------


def test_nodes_keep_their_positions() -> None:
    tree = parse("if a > 3 then b else c")
    assert (tree.start, tree.end) == (0, 22)
    with pytest.raises(ExpressionError) as bad:
        parse("a + * b")
    assert bad.value.position == 4 and "character 5" in bad.value.message


def test_type_errors_point_at_the_node() -> None:
    with pytest.raises(ExpressionError) as bad:
        compile_expression("x + 1 < 14 days", {"x": "date"})
    assert (
        "date + an integer" in bad.value.message or "not defined" in bad.value.message
    )
    with pytest.raises(ExpressionError) as bad:
        compile_expression("  dos < 14 days", {"dos": "date"})
    assert bad.value.position == 2 and "cannot be compared" in bad.value.message
    assert bad.value.code == "E207" and bad.value.hint
    with pytest.raises(ExpressionError, match="unknown name"):
        compile_expression("dob", {"dos": "date"})


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a - b", {"a": D(2025, 12, 18), "b": D(2025, 12, 4)}, dt.timedelta(days=14)),
        ("a + 6 weeks", {"a": D(2025, 1, 1)}, D(2025, 2, 12)),
        ("a + 1 month", {"a": D(2025, 1, 31)}, D(2025, 2, 28)),
        (
            "years and months duration(a, b).years",
            {"a": D(2000, 2, 29), "b": D(2025, 2, 28)},
            24,
        ),
        ('if a > 3 then "big" else "small"', {"a": 5}, "big"),
        ('if a > 3 then "big" else "small"', {"a": None}, "small"),
        ("a + 1", {"a": None}, None),
        ("a / 0", {"a": 3}, None),
        ("a and b", {"a": None, "b": False}, False),
        ('starts with(c, "M54")', {"c": "M54.5"}, True),
        ("string length(c) + 1", {"c": "abc"}, 4),
        ('"a" + c', {"c": "b"}, "ab"),
        ("x between 1 and 3", {"x": 2}, True),
        ('duration("P14D") / 1 day', {}, 14.0),
        ("a ** 2", {"a": 3}, 9),
        ("a ** -1", {"a": 4}, 0.25),
        ("(1 + a / 12) ** 2 * 2", {"a": 12}, 8.0),
        ("a ** 0.5", {"a": -4}, None),  # no real number: null
        ("a ** -1", {"a": 0}, None),
        ("a ** 2", {"a": None}, None),
        ("decimal(a / 3, 2)", {"a": 1}, 0.33),
        ("decimal(a, 0)", {"a": 3}, 3),
        ("decimal(2.5, a)", {"a": 0}, 2),  # half to even, as FEEL rounds
        ("decimal(3.5, a)", {"a": 0}, 4),
        ('c + string(decimal(a, 0)) + "!"', {"a": 3, "c": "n="}, "n=3!"),
        ("string(a / 2)", {"a": 3}, "1.5"),
        ("string(a * 1.0)", {"a": 2}, "2"),
        ("string(a > 1)", {"a": 2}, "true"),
        ("string(a)", {"a": D(2025, 1, 2)}, "2025-01-02"),
        ("string(a)", {"a": None}, None),
    ],
)
def test_compiled_python_and_the_tree_walk_agree(
    text: str, values: dict[str, Any], expected: object
) -> None:
    kinds = {
        name: {D: "date", int: "integer", str: "string", bool: "boolean"}.get(
            type(v), "integer"
        )
        for name, v in values.items()
    }
    if text.startswith("a and"):
        kinds = {"a": "boolean", "b": "boolean"}
    typed = compile_expression(text, kinds)
    namespace = {"feel": _feel, "date": dt.date, "timedelta": dt.timedelta}
    compiled = eval(f"lambda {', '.join(values) or '*_'}: {typed.python}", namespace)  # noqa: S307 - the compiler's own output
    assert compiled(*values.values()) == expected
    assert evaluate(typed, values) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-a ** 2", "write (-a) ** b or -(a ** b)"),
        ("a ** 2 ** 3", "write (a ** b) ** c or a ** (b ** c)"),
        ('a ** "2"', "is not defined"),
        ("string(1 day)", "string takes a string, number, boolean or date"),
        ("string(a, a)", "string takes one value"),
        ('decimal("1", 2)', "decimal takes a number"),
    ],
)
def test_powers_and_string_are_refused_where_feel_readers_differ(
    text: str, message: str
) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_expression(text, {"a": "integer"})


# -- the demo workbook -----------------------------------------------------------------


def test_demo_workbook_compiles_decides_and_its_tests_pass(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "xray_window")
    decide = module.evaluate
    args = {"date_of_service": D(2025, 12, 18), "date_of_birth": D(1990, 1, 1)}
    assert decide(**args, xray_date=D(2025, 12, 4)).matched == ("R1",)
    assert decide(**args, xray_date=D(2025, 12, 3)).matched == ("R2",)
    assert decide(**args, xray_date=D(2025, 12, 19)).matched == ("R3",)
    with pytest.raises(module.InputError):  # the expression met a text: InputError
        decide(date_of_service="2025-12-18", xray_date=D(2025, 12, 4))
    assert "age" not in decide.__code__.co_varnames[: decide.__code__.co_kwonlyargcount]
    run_generated_tests(compilation, tmp_path)
    page = compilation.files["xray_window.md"]  # type: ignore[index]
    assert "| age | computed: years and months duration" in page
    assert r"derived: xray\_date compared with date\_of\_service - 14 days" in page or (
        "xray_date_vs_date_of_service_minus_14_days" in page
    )
    explained = module.explain(**args, xray_date=D(2025, 12, 4))
    assert explained.result.matched == ("R1",)


def test_the_analysis_says_what_it_assumed(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    found = only(compilation.diagnostics, "A301")
    assert found.severity is Severity.WARNING and "may be spurious" in found.message
    assert "xray_date" in found.message


def test_one_reference_is_analysed_exactly(tmp_path: Path) -> None:
    """`<= dos` and `> dos` over one derived column: no overlap, no gap, no hedge."""
    table = decision_table(
        "on_time",
        [
            ("date_of_service", "input", "date", None),
            ("request_date", "input", "date", None),
            ("ok", "output", "boolean", None),
        ],
        [
            ("R1", "-", "<= date_of_service", True),
            ("R2", "-", "> date_of_service", False),
        ],
    )
    compilation = compile_books(tmp_path, {"t.xlsx": [table]})
    assert not [d for d in compilation.diagnostics if d.code.startswith("A30")]
    module = compiled_module(compilation, "on_time")
    day = D(2025, 1, 2)
    assert module.evaluate(date_of_service=day, request_date=day).matched == ("R1",)
    assert module.evaluate(date_of_service=day, request_date=D(2025, 1, 3)).matched == (
        "R2",
    )
    assert module.evaluate(date_of_service=day).matched == ()


@pytest.mark.parametrize(
    ("start_kind", "seen_kind", "operand", "gap"),
    [
        ("required input", "required input", "start_date", False),
        ("input", "required input", "start_date", True),
        ("required input", "input", "start_date", True),
        # `start_date - 14 days` is null below the first representable date
        ("required input", "required input", "start_date - 14 days", True),
    ],
)
def test_a_comparison_of_two_required_inputs_is_never_missing(
    tmp_path: Path, start_kind: str, seen_kind: str, operand: str, gap: bool
) -> None:
    """`>= start_date` and `< start_date` cover every case when both dates must be
    given: the derived column has no null to leave uncovered (A313). It keeps one
    when either may be missing, or when the operand is arithmetic that can be null."""
    table = decision_table(
        "seen_in_time",
        [
            ("start_date", start_kind, "date", None),
            ("seen_date", seen_kind, "date", None),
            ("ok", "output", "boolean", None),
        ],
        [("R1", "-", f">= {operand}", True), ("R2", "-", f"< {operand}", False)],
    )
    compilation = compile_books(tmp_path, {"t.xlsx": [table]})
    assert not errors(compilation.diagnostics), compilation.diagnostics
    assert [d.code for d in compilation.diagnostics if d.code.startswith("A")] == (
        ["A313"] if gap else []
    )
    module = compiled_module(compilation, "seen_in_time")
    first = D(1, 1, 5)
    given = {"start_date": first, "seen_date": first}
    expected = () if operand != "start_date" else ("R1",)
    assert module.evaluate(**given).matched == expected


def test_frame_equals_evaluate_row_by_row(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    module = compiled_module(compile_books(tmp_path, BOOKS), "xray_window")
    rows = [
        (D(2025, 12, 18), D(2025, 12, 10), D(1990, 1, 1)),
        (D(2025, 12, 18), D(2025, 11, 1), D(1990, 1, 1)),
        (D(2025, 12, 18), D(2025, 12, 30), D(1990, 1, 1)),
        (D(2025, 12, 18), D(2025, 12, 10), D(2015, 1, 1)),
        (None, D(2025, 12, 10), None),
    ]
    names = ["date_of_service", "xray_date", "date_of_birth"]
    for frame in (
        pd.DataFrame(rows, columns=names, dtype=object),
        pd.DataFrame(rows, columns=names).apply(pd.to_datetime),
    ):
        decided = module.evaluate_frame(frame)
        for i, row in enumerate(rows):
            expected = module.evaluate(**dict(zip(names, row, strict=True)))
            assert decided["matched"][i] == (expected.matched or (None,))[0]
            assert decided["ok"][i] == expected.outputs.ok


def test_reference_interpreter_agrees(tmp_path: Path) -> None:
    project, diagnostics = load_books(tmp_path, BOOKS)
    assert project is not None and not errors(diagnostics)
    module = compiled_module(compile_books(tmp_path / "c", BOOKS), "xray_window")
    for xray in (D(2025, 12, 1), D(2025, 12, 4), D(2025, 12, 18), D(2025, 12, 19)):
        for born in (D(2000, 1, 1), D(2007, 12, 19)):
            inputs: dict[str, Any] = {
                "date_of_service": D(2025, 12, 18),
                "xray_date": xray,
                "date_of_birth": born,
            }
            _, matched = interpret.evaluate(project, "xray_window", inputs)
            assert tuple(matched) == module.evaluate(**inputs).matched


@pytest.mark.parametrize(
    ("entry", "expression", "code", "words"),
    [
        ("<= date_of_service + ", None, "E207", "expected a value"),
        ("< date_of_service - 14", None, "E207", "not defined"),
        ("-", "date_of_birth + 1", "E207", "not defined"),
        ("-", "date_of_birth - date_of_service", "E207", "gives a duration"),
        ("not(<= date_of_service, > date_of_birth)", None, "E208", "one comparison"),
        ("-", "", "E207", "needs an expression"),
    ],
)
def test_bad_expressions_are_errors_naming_the_cell(
    tmp_path: Path, entry: str, expression: str | None, code: str, words: str
) -> None:
    table = with_expressions(
        decision_table(
            "bad",
            [
                ("date_of_service", "input", "date", None),
                ("date_of_birth", "input", "date", None),
                ("age", "computed", "integer", None),
                ("ok", "output", "boolean", None),
            ],
            [("R1", "-", entry, "-", True)],
        ),
        {
            3: expression
            or "years and months duration(date_of_birth, date_of_service).years"
        }
        if expression != ""
        else {},
    )
    _, diagnostics = load_books(tmp_path, {"bad.xlsx": [table]})
    found = only(diagnostics, code)
    assert words in found.message, found.message
    assert found.location.cell in ("C7", "D6"), found.location


def test_a_version_1_expression_row_is_still_a_rule(tmp_path: Path) -> None:
    """Without a computed column, a rule whose id is `Expression` stays a rule."""
    table = decision_table(
        "plain",
        [("x", "input", "integer", None), ("y", "output", "integer", None)],
        [("Expression", "< 1", 0), ("R2", ">= 1", 1)],
    )
    compilation = compile_books(tmp_path, {"p.xlsx": [table]})
    module = compiled_module(compilation, "plain")
    assert module.evaluate(x=0).matched == ("Expression",)


# -- computed outputs ------------------------------------------------------------------

EXPIRY = decision_table(
    "authorization_days",
    [
        ("date_of_service", "input", "date", None),
        ("authorization_expires", "input", "date", None),
        ("status", "output", "string", None),
        ("days_left", "computed output", "integer", None),
    ],
    [
        (
            "R1",
            "-",
            ">= date_of_service",
            "valid",
            "(authorization_expires - date_of_service).days",
        ),
        ("R2", "-", "-", "expired", "0"),
    ],
    hit_policy="FIRST",
)
EXPIRY_TESTS = tests_sheet(
    "authorization_days",
    [
        ("date_of_service", "input"),
        ("authorization_expires", "input"),
        ("status", "expected"),
        ("days_left", "expected"),
    ],
    [
        ("T1", "2025-12-18", "2026-01-17", "valid", 30),
        ("T2", "2025-12-18", "2025-12-01", "expired", 0),
    ],
)
EXPIRY_BOOKS = {"expiry.xlsx": {"Expiry": EXPIRY, "Cases": EXPIRY_TESTS}}


def test_computed_outputs_decide_everywhere_alike(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    compilation = compile_books(tmp_path, EXPIRY_BOOKS)
    assert not errors(compilation.diagnostics), compilation.diagnostics
    module = compiled_module(compilation, "authorization_days")
    day = D(2025, 12, 18)
    result = module.evaluate(date_of_service=day, authorization_expires=D(2026, 1, 17))
    assert result.outputs == module.Outputs("valid", 30) and result.matched == ("R1",)
    assert module.evaluate(date_of_service=day).outputs.days_left == 0
    explained = module.explain(date_of_service=day, authorization_expires=day)
    assert explained.result.outputs.days_left == 0 and explained.matched == ("R1",)
    run_generated_tests(compilation, tmp_path)
    rows = [(day, D(2026, 1, 17)), (day, D(2025, 1, 1)), (None, day), (day, day)]
    names = ["date_of_service", "authorization_expires"]
    for frame in (
        pd.DataFrame(rows, columns=names, dtype=object),
        pd.DataFrame(rows, columns=names).apply(pd.to_datetime),
    ):
        for categorical in (False, True):
            decided = module.evaluate_frame(frame, categorical=categorical)
            for i, row in enumerate(rows):
                expected = module.evaluate(**dict(zip(names, row, strict=True)))
                assert decided["days_left"][i] == expected.outputs.days_left
                assert decided["matched"][i] == expected.matched[0]
    project, _ = load_books(tmp_path / "p", EXPIRY_BOOKS)
    assert project is not None
    outputs, matched = interpret.evaluate(
        project,
        "authorization_days",
        {"date_of_service": day, "authorization_expires": D(2026, 1, 17)},
    )
    assert outputs == {"status": "valid", "days_left": 30} and matched == ["R1"]


@pytest.mark.parametrize(
    ("policy", "cell", "code"),
    [
        ("ANY", "0", "E210"),
        ("FIRST", "authorization_expires", "E207"),
        ("FIRST", "", "E202"),
    ],
)
def test_bad_computed_outputs_are_errors(
    tmp_path: Path, policy: str, cell: str, code: str
) -> None:
    table = decision_table(
        "bad_out",
        [
            ("authorization_expires", "input", "date", None),
            ("days_left", "computed output", "integer", None),
        ],
        [("R1", "-", cell or None)],
        hit_policy=policy,
    )
    _, diagnostics = load_books(tmp_path, {"b.xlsx": [table]})
    only(diagnostics, code)
