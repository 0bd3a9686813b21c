"""Stage 5, the test modules: a Tests sheet's cases, or the analysis' examples, as a
pytest module that calls the generated evaluator (`templates/tests.py.j2`)."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.checking.analyse import Example
from compiler.emitting.formatting import EVERY, split_line
from compiler.emitting.literals import (
    dict_literal,
    environment,
    py_literal,
    value_names,
)
from compiler.model import (
    Decision,
    Project,
    TestCase,
    TestSuite,
    Value,
    YearsMonths,
    nest_paths,
)


@dataclass(frozen=True, slots=True)
class _Case:
    """A case as the template writes it, every field a literal (attributes, not a
    dict: Jinja reads an attribute first, and tens of thousands of cases each read
    six)."""

    id: str
    inputs: str
    as_of: str
    expected: str
    rules: str
    cells: str


def _case_inputs(
    case_inputs: tuple[tuple[str, Value], ...],
    paths: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """The keyword arguments of `evaluate` as a dict literal; a path input's value
    goes into its structured input's mapping (`nest_paths`)."""
    if not paths:
        return dict_literal(case_inputs)
    return dict_literal(nest_paths(case_inputs, paths).items())


def _case_cells(case: TestCase) -> str:
    """`{"band": "C5", "expected rule": "D5"}`: the cells of what CASE expects."""
    if not case.cells:
        return "{}"
    wanted = {name for name, _ in case.expected} | {"expected rule"}
    return dict_literal({k: v for k, v in case.cells if k in wanted}.items())


def render_suite(
    project: Project, suite: TestSuite, *, about: str = "", package: str = ".."
) -> str:
    """SUITE's cases as a pytest module. ABOUT (for cases that come from the analysis,
    not a sheet) replaces the docstring's naming of the Tests sheet; PACKAGE is the
    generated package, relative to the module."""
    decision = project.decision(suite.table)
    paths = {c.name: c.path for c in project.chain_inputs(decision.name) if c.path}
    cases = [
        _Case(
            py_literal(case.id),
            _case_inputs(case.inputs, paths),
            py_literal(case.as_of),
            _case_inputs(case.expected),  # type: ignore[arg-type]
            py_literal(case.expected_rules),
            _case_cells(case),
        )
        for case in suite.cases
    ]
    values = (v for c in suite.cases for _, v in (*c.inputs, *c.expected))
    flat = [x for v in values for x in (v if isinstance(v, tuple) else (v,))]
    names = value_names(flat)
    if any(c.as_of for c in suite.cases) and "date" not in names:
        names = sorted([*names, "date"])
    env = environment()
    # In a docstring: the literal's backslashes and double quotes escaped once more.
    sheet = py_literal(str(suite.location)).replace("\\", "\\\\").replace('"', '\\"')
    return env.get_template(
        "tests.py.j2"
    ).render(
        split_every=EVERY,  # the lines where format_sources may cut the source
        split=split_line("["),
        table=decision.name,
        package=package,
        checks=package[1:] + "_check",  # tests/_check.py, one level below the package
        about=about
        or f"The cases of the Tests sheet {sheet} for the table `{decision.name}`.",
        cases=cases,
        sheet=py_literal(str(suite.location)),
        takes_as_of=project.chain_versioned(decision.name),
        returns_list=py_literal(decision.first.returns_list),
        datetime_names=names,
        years_months=any(isinstance(v, YearsMonths) for v in flat),
    )


def examples_suite(decision: Decision, examples: tuple[Example, ...]) -> TestSuite:
    """The analysis' examples of DECISION as test cases, each named by what it checks
    (`E3: rule R2: age = 18, just outside < 18`), numbered so that ids stay unique."""
    cases = tuple(
        TestCase(
            f"E{n}: {example.description}",
            example.inputs,
            example.expected_outputs,
            decision.first.location,
            example.as_of,
            example.expected_rules,
        )
        for n, example in enumerate(examples, start=1)
    )
    return TestSuite(decision.name, cases, decision.first.location, decision.name)
