"""Stage 5, the test modules: a Tests sheet's cases, or the analysis' examples, as a
pytest module that calls the generated evaluator (`templates/tests.py.j2`)."""

from __future__ import annotations

from itertools import chain
from operator import itemgetter

from compiler.checking.analyse import Example
from compiler.emitting.formatting import itemised
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

# One case of CASES as the template writes it (`templates/tests.py.j2`), each field
# a literal. Written here, not by a loop in the template: tens of thousands of
# cases each read six fields, which Jinja reads slowly.
_CASE = """\
    pytest.param(
        {inputs},
        {as_of},
        {expected},
        {rules},
        {cells},
        id={id},
    ),
"""


def _cases(suite: TestSuite, paths: dict[str, tuple[str, ...]]) -> str:
    """The items of CASES, with split lines (`format_sources`)."""
    return itemised(
        [
            _CASE.format(
                inputs=_case_inputs(case.inputs, paths),
                as_of=py_literal(case.as_of),
                expected=_case_inputs(case.expected),  # type: ignore[arg-type]
                rules=py_literal(case.expected_rules),
                cells=_case_cells(case),
                id=py_literal(case.id),
            )
            for case in suite.cases
        ],
        "[",
    )


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
    flat = _one_of_each_type(suite)
    names = value_names(flat)
    if any(c.as_of for c in suite.cases) and "date" not in names:
        names = sorted([*names, "date"])
    env = environment()
    # In a docstring: the literal's backslashes and double quotes escaped once more.
    sheet = py_literal(str(suite.location)).replace("\\", "\\\\").replace('"', '\\"')
    return env.get_template("tests.py.j2").render(
        table=decision.name,
        package=package,
        checks=package[1:] + "_check",  # tests/_check.py, one level below the package
        about=about
        or f"The cases of the Tests sheet {sheet} for the table `{decision.name}`.",
        cases=_cases(suite, paths),
        sheet=py_literal(str(suite.location)),
        takes_as_of=project.chain_versioned(decision.name),
        returns_list=py_literal(decision.first.returns_list),
        datetime_names=names,
        years_months=any(isinstance(v, YearsMonths) for v in flat),
    )


def _one_of_each_type(suite: TestSuite) -> list[Value]:
    """A value of each type SUITE's cases hold, the items of lists included: what
    the module imports depends on their types alone (mapped in C: a large table's
    examples hold hundreds of thousands of values)."""
    pairs = chain.from_iterable(chain(c.inputs, c.expected) for c in suite.cases)
    values = list(map(itemgetter(1), pairs))
    found = dict(zip(map(type, values), values, strict=True))
    if any(issubclass(t, tuple) for t in found):
        items = [x for v in values if isinstance(v, tuple) for x in v]
        found = {t: v for t, v in found.items() if not issubclass(t, tuple)}
        found.update(zip(map(type, items), items, strict=True))
    return list(found.values())


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
