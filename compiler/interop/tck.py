"""Run the DMN TCK's decision-table cases through import-dmn, compile and the generated
evaluators, and print a pass table.

    python -m compiler.interop.tck [TCK_DIR]      (default: tests/dmn-tck of the source tree)

Each case folder holds a model (`*.dmn`) and its test file (`*-test-01.xml`). The model
is imported (`dmn.read_dmn`), written as a workbook into a temporary `tables` folder,
compiled (`pipeline.compile_tables`), and every test case of the test file is run
through the generated evaluator of the decision it names (`evaluate.load_table`).
Results are compared as the test file types them: `xsd:decimal` and other numbers by
value, strings, booleans, dates, nil, lists (multi-hit policies, and version 2's
list outputs, tuples) and components (several outputs). A test that invokes a decision service is run through the table
import names after the service. A test is `pass`, `fail` (a converted decision gave another answer:
a bug to chase) or `unsupported` (it needs something the format cannot express; the
reason is the import's message). Exit status: 1 when any test fails.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

from compiler import timetypes
from compiler.diagnostics import CellError
from compiler.emitting.loader import load_table
from compiler.interop import dmn
from compiler.model import Project, YearsMonths
from compiler.pipeline import compile_tables

# The TCK's cases are kept, unchanged and with their licence, in the test suite.
DEFAULT_TCK = Path(__file__).resolve().parents[2] / "tests" / "dmn-tck"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_NUMBERS = {"decimal", "double", "float", "integer", "int", "long", "short"}


class _Unexpressible(Exception):
    """A test value the format has no counterpart for (time, duration, structure)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    case: str
    test: str  # the test case id
    status: str  # "pass", "fail" or "unsupported"
    detail: str = ""  # why it failed, or why it is unsupported
    topic: str = ""  # unsupported: a short category


@dataclass(frozen=True, slots=True)
class Expected:
    """A typed expected or input value: a scalar, a list (multi-hit) or components."""

    kind: str  # "value", "list", "components"
    value: Any = (
        None  # value: the Python value; list: [Expected]; components: {name: Expected}
    )
    type: str = ""  # the xsi:type local name of a value, "" for nil


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def parse_value(element: ET.Element) -> Expected:
    """An inputNode, expected or item element's content."""
    value = _child(element, "value")
    if value is not None:
        return _scalar(value)
    listed = _child(element, "list")
    if listed is not None:
        return Expected(
            "list", [parse_value(item) for item in _children(listed, "item")]
        )
    components = _children(element, "component")
    if components:
        return Expected(
            "components", {c.get("name", ""): parse_value(c) for c in components}
        )
    return Expected("value", None)


def _scalar(element: ET.Element) -> Expected:
    if element.get(f"{XSI}nil") == "true":
        return Expected("value", None)
    xsi_type = (element.get(f"{XSI}type") or "xsd:string").rpartition(":")[2]
    text = element.text or ""
    if xsi_type in _NUMBERS:
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            raise _Unexpressible(f"{text!r} is not a number") from None
        integral = (
            number == number.to_integral_value()
            and "." not in text
            and "e" not in text.lower()
        )
        return Expected("value", int(number) if integral else float(number), "number")
    if xsi_type == "boolean":
        return Expected("value", text.strip() == "true", "boolean")
    if xsi_type == "date":
        return Expected("value", dt.date.fromisoformat(text.strip()), "date")
    if xsi_type == "string":
        return Expected("value", text, "string")
    if xsi_type in ("time", "dateTime", "duration"):  # version 2's time types
        return _temporal(xsi_type, text.strip())
    return Expected(
        "value", text, xsi_type
    )  # time, dateTime, duration: not expressible


def _temporal(xsi_type: str, text: str) -> Expected:
    """An xsd:time, dateTime or (days-and-time) duration as the format's value. The
    format's times are naive: a UTC time (`Z`, `+00:00`) is read as the naive time
    (the TCK's tests give every time of one test in UTC, so the order is kept); any
    other zone is unexpressible. A duration of years and months (`P5M`) is the
    format's years-and-months duration."""
    zone = re.search(r"(Z|[+-]00:00)$", text) if xsi_type != "duration" else None
    plain = text[: zone.start()] if zone else text
    try:
        months = timetypes.parse_ym(plain) if xsi_type == "duration" else None
        if months is not None:
            value = YearsMonths(months)
            return Expected("value", value, "years and months duration")
        if xsi_type == "duration":
            return Expected("value", timetypes.parse_duration(plain), "duration")
        if xsi_type == "time":
            return Expected("value", timetypes.parse_time(plain), "time")
        return Expected("value", timetypes.parse_datetime(plain), "datetime")
    except CellError:
        return Expected("value", text, f"{xsi_type} {text}")  # refused if passed


def _input_value(name: str, value: Expected) -> Any:
    if value.kind == "list":  # a list input (version 2): a list of plain values
        return [_input_value(name, item) for item in value.value]
    if value.kind != "value":
        raise _Unexpressible(
            f"the test passes a {'list' if value.kind == 'list' else 'structure'} for {name!r}"
        )
    if value.type not in (
        *("", "number", "boolean", "date", "string"),
        *("time", "datetime", "duration", "years and months duration"),
    ):
        raise _Unexpressible(f"the test passes an xsd:{value.type} for {name!r}")
    return value.value


def _same(expected: Expected, actual: Any) -> bool:
    if expected.kind == "list":  # version 2: a list output (a tuple)
        return (
            isinstance(actual, tuple)
            and len(actual) == len(expected.value)
            and all(_same(e, a) for e, a in zip(expected.value, actual, strict=True))
        )
    if expected.kind != "value":
        return False
    want = expected.value
    if want is None or actual is None:
        return want is None and actual is None
    if expected.type == "number":
        numeric = isinstance(actual, (int, float)) and not isinstance(actual, bool)
        return numeric and math.isclose(
            float(actual), float(want), rel_tol=1e-12, abs_tol=1e-12
        )
    if isinstance(want, YearsMonths):  # each generated package has its own class
        return type(actual).__name__ == "YearsMonths" and actual.total == want.total
    return type(actual) is type(want) and bool(actual == want)


def _own_classes(value: Any, module: Any) -> Any:
    """VALUE with each years-and-months duration as the generated package's own
    YearsMonths, which its evaluators check for."""
    if isinstance(value, YearsMonths):
        return module.YearsMonths(value.total)
    if isinstance(value, dict):
        return {key: _own_classes(item, module) for key, item in value.items()}
    if isinstance(value, list):
        return [_own_classes(item, module) for item in value]
    return value


def _matches_row(expected: Expected, row: Any, outputs: dict[str, str]) -> bool:
    """One result (an Outputs tuple) against a value or components."""
    if expected.kind == "components":
        given = _flat(expected.value, outputs)
        if set(given) != set(outputs):
            return False
        return all(_same(given[name], getattr(row, outputs[name])) for name in given)
    if len(row) == 1:
        return _same(expected, row[0])
    return expected.value is None and all(v is None for v in row)  # nil for all outputs


def _flat(
    components: dict[str, Expected], outputs: dict[str, str], prefix: str = ""
) -> dict[str, Expected]:
    """COMPONENTS with each structure whose leaves are path outputs (DMN names
    `RGB notation.R`) replaced by its leaves, by those dotted names."""
    found: dict[str, Expected] = {}
    for name, value in components.items():
        key = f"{prefix}{name}"
        if value.kind == "components" and any(o.startswith(f"{key}.") for o in outputs):
            found.update(_flat(value.value, outputs, f"{key}."))
        else:
            found[key] = value
    return found


def matches(
    expected: Expected, outputs: Any, returns_list: bool, names: dict[str, str]
) -> bool:
    """The evaluator's `outputs` against the test file's expectation."""
    if not returns_list:
        return _matches_row(expected, outputs, names)
    if expected.kind == "value" and expected.value is None:
        return len(outputs) == 0
    if expected.kind != "list" or len(expected.value) != len(outputs):
        return False
    return all(
        _matches_row(e, row, names)
        for e, row in zip(expected.value, outputs, strict=True)
    )


def _shown(expected: Expected) -> str:
    if expected.kind == "list":
        return "[" + ", ".join(_shown(e) for e in expected.value) + "]"
    if expected.kind == "components":
        return (
            "{"
            + ", ".join(f"{k}: {_shown(v)}" for k, v in expected.value.items())
            + "}"
        )
    return repr(expected.value)


class _CaseRunner:
    """One TCK case: the model converted and compiled once, then every test."""

    def __init__(self, folder: Path, work: Path) -> None:
        self.case = folder.name
        model = next(iter(sorted(folder.glob("*.dmn"))))
        self.conversion = dmn.read_dmn(model)
        tables = work / "tables"
        self.project: Project | None = None
        self.files: dict[str, str] | None = None
        self.compile_error = ""
        if self.conversion.tables:
            dmn.write_workbook(
                self.conversion, tables / f"{dmn.snake_case(folder.name)}.xlsx"
            )
            compilation = compile_tables(tables)
            self.project, self.files = compilation.project, compilation.files
            if compilation.files is None:
                self.compile_error = "; ".join(
                    d.format()
                    for d in compilation.diagnostics
                    if d.severity.name == "ERROR"
                )
        self.modules: dict[str, Any] = {}

    def why_not(self, decision: str) -> tuple[str, str]:
        """The import's reasons for leaving DECISION out: (messages, topics)."""
        found = [
            m
            for m in self.conversion.messages
            if m.name == decision and m.severity == "error"
        ]
        if not found:
            return f"{decision!r} is not in the model", "missing"
        topics = dict.fromkeys(f"{m.topic}: {decision}" for m in found)
        return "; ".join(m.text for m in found), ", ".join(topics)

    def run(self, test: ET.Element) -> Outcome:
        test_id = test.get("id", "")
        service = ""
        if test.get("type") == "decisionService":
            # the service's table answers for its output decision (import names it
            # after the service)
            service = " ".join(test.get("invocableName", "").split())
        try:
            inputs = {
                node.get("name", ""): parse_value(node)
                for node in _children(test, "inputNode")
            }
            problems = [
                self.check(test_id, node, inputs, service)
                for node in _children(test, "resultNode")
            ]
        except _Unexpressible as exc:
            return Outcome(self.case, test_id, "unsupported", str(exc), "test value")
        failures = [p for p in problems if p is not None and p.status == "fail"]
        unsupported = [
            p for p in problems if p is not None and p.status == "unsupported"
        ]
        if failures:
            return Outcome(
                self.case, test_id, "fail", "; ".join(p.detail for p in failures)
            )
        if unsupported:
            details = list(dict.fromkeys(p.detail for p in unsupported))
            topics = list(
                dict.fromkeys(t for p in unsupported for t in p.topic.split(", "))
            )
            return Outcome(
                self.case, test_id, "unsupported", "; ".join(details), ", ".join(topics)
            )
        return Outcome(self.case, test_id, "pass")

    def structure(
        self,
        path: tuple[str, ...],
        value: Expected,
        header: tuple[str, ...],
        reads: set[tuple[str, ...]],
    ) -> dict[str, Any]:
        """The components VALUE of the structured input at the DMN PATH (whose header
        names are HEADER) as the mapping the evaluator reads its path inputs from:
        each component the table READS (the paths of its columns) under its field
        identifier; components it does not read are left out."""
        found: dict[str, Any] = {}
        for name, component in value.value.items():
            key = (*path, " ".join(name.split()))
            ident = self.conversion.fields.get(key)
            below = (*header, ident or "")
            if ident is None or not any(r[: len(below)] == below for r in reads):
                continue
            found[ident] = (
                self.structure(key, component, below, reads)
                if component.kind == "components"
                else _input_value(name, component)
            )
        return found

    def check(
        self,
        test_id: str,
        node: ET.Element,
        inputs: dict[str, Expected],
        service: str = "",
    ) -> Outcome | None:
        decision = service or " ".join(node.get("name", "").split())
        table = self.conversion.decisions.get(decision)
        if table is None:
            text, topic = self.why_not(decision)
            return Outcome(
                self.case, test_id, "unsupported", f"{decision}: {text}", topic
            )
        if self.files is None or self.project is None:
            return Outcome(
                self.case,
                test_id,
                "fail",
                f"the converted tables do not compile: {self.compile_error}",
            )
        result_name = " ".join(node.get("name", "").split())
        if service and result_name not in self.conversion.origins[table].output_names():
            text = f"{service}: the service's table does not give {result_name!r}"
            return Outcome(self.case, test_id, "unsupported", text, "decision service")
        module = self.modules.get(table) or load_table(self.files, table)
        self.modules[table] = module
        parameters = set(inspect.signature(module.evaluate).parameters)
        reads = {c.path for c in self.project.chain_inputs(table) if c.path}
        kwargs = {}
        for name, value in inputs.items():
            dmn_name = " ".join(name.split())
            ident = self.conversion.inputs.get(dmn_name)
            if ident in parameters:
                kwargs[ident] = (
                    self.structure((dmn_name,), value, (ident,), reads)
                    if value.kind == "components"
                    else _input_value(name, value)
                )
        if hasattr(module, "YearsMonths"):
            kwargs = {k: _own_classes(v, module) for k, v in kwargs.items()}
        expected_node = _child(node, "expected")
        error_expected = node.get("errorResult") == "true"
        try:
            result = module.evaluate(**kwargs)
        except ValueError as exc:  # the evaluator's InputError, AmbiguousError
            if error_expected:
                return None
            return Outcome(self.case, test_id, "fail", f"{decision}: raised {exc}")
        if error_expected:
            return Outcome(
                self.case,
                test_id,
                "fail",
                f"{decision}: expected an error, got {result.outputs}",
            )
        if expected_node is None:
            return None
        expected = parse_value(expected_node)
        first = self.project.decision(table).first
        outputs = self.conversion.origins[table].output_names()
        if matches(expected, result.outputs, first.returns_list, outputs):
            return None
        return Outcome(
            self.case,
            test_id,
            "fail",
            f"{decision}: expected {_shown(expected)}, got {result.outputs} (rules {', '.join(result.matched)})",
        )


def test_cases(folder: Path) -> list[ET.Element]:
    """The testCase elements of a case folder's test files, in file order."""
    found = []
    for test_file in sorted(folder.glob("*-test-*.xml")):
        found += _children(SafeET.parse(test_file).getroot(), "testCase")
    return found


def run_case(folder: Path) -> list[Outcome]:
    """Every test case of one TCK case folder, in file order."""
    with tempfile.TemporaryDirectory(prefix="compile-rules-tck-") as tmp:
        runner = _CaseRunner(folder, Path(tmp))
        return [runner.run(test) for test in test_cases(folder)]


def case_folders(tck: Path) -> list[Path]:
    return sorted(p for p in tck.iterdir() if p.is_dir() and any(p.glob("*.dmn")))


@dataclass(frozen=True, slots=True)
class Row:
    case: str
    passed: int
    total: int
    status: str
    reason: str


def summarise(case: str, outcomes: Sequence[Outcome]) -> Row:
    passed = sum(o.status == "pass" for o in outcomes)
    failed = [o for o in outcomes if o.status == "fail"]
    unsupported = [o for o in outcomes if o.status == "unsupported"]
    if failed:
        status = "FAIL"
    elif not unsupported:
        status = "pass"
    else:
        status = "partial" if passed else "unsupported"
    reasons: dict[str, list[str]] = {}
    for outcome in unsupported:
        for topic in outcome.topic.split(", "):
            reasons.setdefault(topic.partition(": ")[0], []).append(
                topic.partition(": ")[2]
            )
    tests = [o.test for o in unsupported]
    which = (
        ", ".join(tests) if all(len(t) <= 8 for t in tests) else f"{len(tests)} tests"
    )
    parts = [
        f"{topic}: {', '.join(dict.fromkeys(d for d in names if d))}"
        for topic, names in reasons.items()
    ]
    reason = f"{which}: " + "; ".join(parts) if unsupported else ""
    if failed:
        reason = "; ".join(f"{o.test}: {o.detail}" for o in failed) + (
            f"; {reason}" if reason else ""
        )
    return Row(case, passed, len(outcomes), status, reason)


def pass_table(rows: Sequence[Row]) -> str:
    """A Markdown table: case, tests passed/total, status, reason."""
    lines = ["| case | tests | status | reason |", "|---|---|---|---|"]
    lines += [
        f"| {r.case} | {r.passed}/{r.total} | {r.status} | {r.reason} |" for r in rows
    ]
    passed = sum(r.passed for r in rows)
    total = sum(r.total for r in rows)
    lines.append(f"| **all** | {passed}/{total} | | |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    tck = Path(args[0]) if args else DEFAULT_TCK
    if not tck.is_dir():
        print(f"no TCK folder at {tck}", file=sys.stderr)
        return 2
    rows = []
    details = []
    for folder in case_folders(tck):
        outcomes = run_case(folder)
        rows.append(summarise(folder.name, outcomes))
        details += [o for o in outcomes if o.status != "pass"]
    print(pass_table(rows))
    if details:
        print("\nNot passed, test by test:")
        for o in details:
            print(f"- {o.case} {o.test} [{o.status}] {o.detail}")
    return 1 if any(r.status == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
