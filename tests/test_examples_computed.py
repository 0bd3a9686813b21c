"""Example tests for tables with computed inputs (version 2, `analyse.computed`).

The version-2 workbook of `test_version2` (an age computed from a date of birth, a
duration between dates, an entry naming another input, an output expression, a list
of codes) gets an example per rule; each selects its rule by the reference
interpreter and by the generated `evaluate`, and the generated test modules pass.
A rule the search cannot reach is listed, not dropped; the same workbook gives the
same examples; and on random small version-2 tables every example selects the rule
it claims.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import interpret
from compiler.checking.analyse import examples, settle_sources, study
from compiler.model import Project

from .helpers import compile_books, compiled_module, errors, run_generated_tests
from .hostile import examples as budget
from .test_expressions import with_expressions
from .test_version2 import BOOKS
from .workbooks import decision_table

V2_TABLES = (
    "ct_repeat",
    "imaging_guidelines",
    "xray_recent",
    "authorization_days",
    "lumbar_mri",
)


def _claimed(description: str) -> str:
    found = re.match(r"rule (\S+) decides", description)
    assert found, description
    return found.group(1)


def _check_examples(project: Project, module_of: dict[str, object] | None) -> None:
    """Every rule example selects its rule by the interpreter (and by the generated
    evaluate, when MODULE_OF has the table's module)."""
    project = settle_sources(project)
    for name, found in examples(project).items():
        for example in found:
            inputs = dict(example.inputs)
            _, matched = interpret.evaluate(project, name, inputs, example.as_of)
            assert tuple(matched) == example.expected_rules, (name, example)
            if example.kind == "rule":
                assert example.expected_rules[:1] == (_claimed(example.description),), (
                    example
                )
            module = (module_of or {}).get(name)
            if module is not None:
                result = module.evaluate(**inputs)  # type: ignore[attr-defined]
                assert result.matched == example.expected_rules, (name, example)


def test_every_rule_of_the_version_2_tables_gets_an_example(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, BOOKS)
    assert not errors(compilation.diagnostics)
    assert compilation.project is not None and compilation.files is not None
    assert not [d for d in compilation.diagnostics if d.code == "A315"]
    project = settle_sources(compilation.project)
    found = examples(project)
    for name in V2_TABLES:
        table = project.decision(name).first
        assert any(c.computed for c in table.inputs), name
        deciding = {r.id for i, r in enumerate(table.rules) if i in study(table).wins}
        claimed = {_claimed(e.description) for e in found[name] if e.kind == "rule"}
        assert claimed == deciding, (name, claimed, deciding)
        assert f"tests/examples/test_{name}.py" in compilation.files
    modules = {name: compiled_module(compilation, name) for name in V2_TABLES}
    _check_examples(compilation.project, dict(modules))
    # the computed inputs really vary: R2 of the age table needs an adult
    guideline = {e.expected_rules: dict(e.inputs) for e in found["imaging_guidelines"]}
    adult = guideline[("R2",)]
    born, seen = adult["date_of_birth"], adult["date_of_service"]
    assert isinstance(born, dt.date) and isinstance(seen, dt.date)
    assert (seen - born).days >= 18 * 365
    output = run_generated_tests(compilation, tmp_path)
    assert "passed" in output and "failed" not in output


def test_the_same_workbook_gives_the_same_examples_byte_for_byte(
    tmp_path: Path,
) -> None:
    first = compile_books(tmp_path / "a", BOOKS).files
    again = compile_books(tmp_path / "b", BOOKS).files
    assert first is not None and again is not None
    generated = {k: v for k, v in first.items() if k.startswith("tests/examples/")}
    assert generated and all(again[k] == v for k, v in generated.items())


# a computed input no integer reaches: no integer squared is 2
SQUARE = with_expressions(
    decision_table(
        "square",
        [
            ("n", "input", "integer", "[0..20]"),
            ("n_squared", "computed", "integer", None),
            ("kind", "output", "string", None),
        ],
        [
            ("S1", "-", 2, "two"),
            ("S2", "-", "[4..9]", "small"),
            ("S3", "-", "-", "other"),
        ],
        hit_policy="FIRST",
    ),
    {2: "n * n"},
)


def test_a_rule_the_search_cannot_reach_is_listed_not_dropped(
    tmp_path: Path,
) -> None:
    compilation = compile_books(tmp_path, {"square.xlsx": {"Square": SQUARE}})
    assert compilation.files is not None, compilation.diagnostics
    missed = [d for d in compilation.diagnostics if d.code == "A315"]
    assert len(missed) == 1 and "S1" in missed[0].message, missed
    assert "S2" not in missed[0].message
    module = compilation.files["tests/examples/test_square.py"]
    assert "No example found" in module and "for: S1." in module
    assert 'id="E1: rule S2 decides"' in module
    output = run_generated_tests(compilation, tmp_path)
    assert "passed" in output


# -- random small version-2 tables ---------------------------------------------

_COMPUTED = {
    "gap": ("duration", "date_of_service - other_date"),
    "age": (
        "integer",
        "years and months duration(other_date, date_of_service).years",
    ),
    "twice": ("integer", "n * 2 + 1"),
}
_ENTRIES = {
    "gap": ("< {k} days", ">= {k} days", "[0 days..{k} days]", "null", "-"),
    "age": ("< {k}", ">= {k}", "[{k}..{j}]", "null", "-"),
    "twice": ("< {k}", "> {j}", "[{k}..{j}]", "-"),
    "other_date": (
        "<= date_of_service",
        "> date_of_service",
        "[date_of_service - {k} days..date_of_service]",
        "-",
    ),
    "n": ("< {k}", ">= {k}", "-"),
}


@st.composite
def _v2_table(draw: st.DrawFn) -> list[list[object]]:
    computed = draw(
        st.lists(
            st.sampled_from(sorted(_COMPUTED)), min_size=1, max_size=2, unique=True
        )
    )
    tested = ["other_date", "n", *computed]
    columns = [
        ("date_of_service", "required input", "date", None),
        ("other_date", "input", "date", None),
        ("n", "input", "integer", "[0..40]"),
        *((name, "computed", _COMPUTED[name][0], None) for name in computed),
        ("out", "output", "string", None),
    ]
    rules = []
    for r in range(draw(st.integers(1, 3))):
        cells = []
        for name in tested:
            k = draw(st.integers(1, 30))
            entry = draw(st.sampled_from(_ENTRIES[name]))
            cells.append(entry.format(k=k, j=k + draw(st.integers(0, 20))))
        rules.append((f"R{r + 1}", "-", *cells, f"r{r + 1}"))
    rules.append(("RZ", "-", *("-" for _ in tested), "rest"))
    expressions = {4 + i: _COMPUTED[name][1] for i, name in enumerate(computed)}
    return with_expressions(
        decision_table("random_v2", columns, rules, hit_policy="FIRST"), expressions
    )


@settings(
    max_examples=budget(12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_v2_table())
def test_every_example_of_a_random_v2_table_selects_the_rule_it_claims(
    sheet: list[list[object]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        compilation = compile_books(Path(folder), {"r.xlsx": {"Random": sheet}})
    assert compilation.project is not None, compilation.diagnostics
    if compilation.files is None:  # an error in the drawn table (an empty range...)
        assert errors(compilation.diagnostics)
        return
    module = compiled_module(compilation, "random_v2")
    _check_examples(compilation.project, {"random_v2": module})
    # every rule that decides has an example or is listed as without one
    project = settle_sources(compilation.project)
    misses: dict[str, tuple[str, ...]] = {}
    found = examples(project, misses=misses)["random_v2"]
    table = project.decision("random_v2").first
    claimed = {_claimed(e.description) for e in found if e.kind == "rule"}
    deciding = {r.id for i, r in enumerate(table.rules) if i in study(table).wins}
    assert claimed | set(misses.get("random_v2", ())) == deciding
