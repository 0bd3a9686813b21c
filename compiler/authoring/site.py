"""`compile-rules report DIR`: a static HTML site about the tables, for reviewers.

An index of the tables and one page per table: its rules in cell syntax, hit policy,
source citation, diagnostics and analysis findings, which test cases exercise each
rule (the reference interpreter evaluates every case of the Tests sheets), and a small
coverage chart drawn as inline SVG, and for each test case what the generated
`explain` says about it (which rule decided, citing what, and why each other rule did
not apply). Plain files, no scripts: the site can be opened from disk, attached to a
review or published as a CI artifact.

Jinja2 autoescaping is on, so every piece of workbook text is escaped.
"""

from __future__ import annotations

import datetime as dt
import math
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from compiler.checking import analyse, authored
from compiler.diagnostics import Diagnostic, has_errors, sort_diagnostics, visible
from compiler.emitting import codegen
from compiler.emitting.loader import load_modules
from compiler.emitting.output import write_atomic
from compiler.model import (
    Column,
    DataType,
    Decision,
    Project,
    Table,
    TestCase,
    TestSuite,
)
from compiler.pipeline import findings as all_findings
from compiler.pipeline import load_tables, sound_part
from compiler.reading.cell_text import entry_text, value_text

TEMPLATES = Path(__file__).parent / "templates"
_GENERATOR = '<meta name="generator" content="compile-rules">'  # in base.html.j2


@dataclass
class RuleRow:
    id: str
    inputs: list[str]
    outputs: list[str]
    notes: list[str]
    row: int  # the sheet row, to attach diagnostics
    cases: list[str] = field(default_factory=list)  # test cases it decided
    problems: list[Diagnostic] = field(default_factory=list)


@dataclass
class VersionView:
    table: Table
    rules: list[RuleRow]

    @property
    def covered(self) -> int:
        return sum(bool(r.cases) for r in self.rules)

    @property
    def label(self) -> str:
        start = (
            self.table.effective_from.isoformat() if self.table.effective_from else "…"
        )
        end = self.table.effective_to.isoformat() if self.table.effective_to else "…"
        return f"in force {start} to {end}"


@dataclass
class CaseView:
    id: str
    sheet: str
    inputs: str
    expected: str
    actual: str
    matched: str
    passed: bool
    why: str = ""  # the generated explain(), as text ("" when it cannot run)


@dataclass
class TablePage:
    decision: Decision
    versions: list[VersionView]
    diagnostics: list[Diagnostic]  # reading and validation
    findings: list[Diagnostic]  # static analysis
    uncovered: tuple[str, ...] | None  # analyse.uncovered_rules, when available
    cases: list[CaseView]
    required_by: list[str]
    suites: list[str] = field(default_factory=list)  # its Tests sheets, `path: sheet`

    @property
    def name(self) -> str:
        return self.decision.name

    @property
    def rules(self) -> int:
        return sum(len(v.rules) for v in self.versions)

    @property
    def covered(self) -> int:
        return sum(v.covered for v in self.versions)

    @property
    def percent(self) -> int:
        return math.floor(100 * self.covered / self.rules) if self.rules else 100

    @property
    def failed(self) -> int:
        return sum(not c.passed for c in self.cases)

    def count(self, severity: str) -> int:
        return sum(
            str(d.severity) == severity for d in [*self.diagnostics, *self.findings]
        )


def _visible(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return visible(value, lines=True)
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every cell text is escaped
        finalize=_visible,  # and shows its controls and bidi overrides as escapes
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["bar"] = _bar
    env.filters["entry"] = entry_text
    env.filters["literal"] = value_text
    env.filters["type_cell"] = _type_cell
    return env


def _type_cell(column: Column) -> str:
    """COLUMN's Type cell: `list of string` for a list input or output (version 2)."""
    return f"list of {column.type.value}" if column.many else column.type.value


def _bar(covered: int, total: int, width: int = 240) -> dict[str, Any]:
    """Geometry of one coverage bar: covered part, rest, label."""
    share = covered / total if total else 1.0
    return {
        "covered": round(width * share, 1),
        "rest": round(width * (1 - share), 1),
        "width": width,
        "label": f"{covered} of {total} rules covered ({math.floor(100 * share)}%)",
    }


def _row_of(cell: str) -> int:
    digits = "".join(ch for ch in cell.split(":")[0] if ch.isdigit())
    return int(digits) if digits else 0


def _case_text(pairs: Iterable[tuple[str, Any]]) -> str:
    return ", ".join(f"{n} = {value_text(v)}" for n, v in pairs)


def _run_case(
    project: Project, suite: TestSuite, case: TestCase
) -> tuple[CaseView, Table | None, tuple[str, ...]]:
    """Evaluate CASE with the reference interpreter, as `compile` does: its view, the
    version that decided and the rule ids that matched."""
    outcome = authored.run_case(project, suite, case)
    expected = _case_text(case.expected)
    if outcome.error:
        view = CaseView(
            case.id,
            suite.location.sheet,
            _case_text(case.inputs),
            expected,
            outcome.error,
            "",
            False,
        )
        return view, None, ()
    view = CaseView(
        case.id,
        suite.location.sheet,
        _case_text(case.inputs),
        expected
        + (f"; rules {', '.join(case.expected_rules)}" if case.expected_rules else ""),
        _case_text(outcome.actual),
        ", ".join(outcome.matched),
        outcome.passed,
    )
    return view, outcome.table, outcome.matched


def explainers(
    project: Project, diagnostics: tuple[Diagnostic, ...]
) -> dict[str, types.ModuleType]:
    """The generated module of every table free of errors (with what it requires),
    imported from memory, whose `explain` the pages show per test case."""
    sound = sound_part(project, diagnostics)
    if not sound.decisions:
        return {}
    files = codegen.generate(sound, formatted=False)
    return load_modules(files, [d.name for d in sound.decisions])


def _why(project: Project, module: types.ModuleType, case: TestCase, name: str) -> str:
    """What MODULE's explain says about CASE, or the error it raises."""
    kwargs: dict[str, Any] = dict(case.inputs)
    if project.chain_versioned(name):
        kwargs["as_of"] = case.as_of
    try:
        return str(module.explain(**kwargs))
    except (ValueError, TypeError) as exc:  # InputError, AmbiguousError, NoVersion...
        return f"{type(exc).__name__}: {exc}"


def build_pages(
    project: Project,
    diagnostics: tuple[Diagnostic, ...],
    findings: tuple[Diagnostic, ...],
    explained: Mapping[str, types.ModuleType] | None = None,
) -> tuple[list[TablePage], list[Diagnostic]]:
    """One page per decision, and the diagnostics that belong to no table page.
    EXPLAINED (from `explainers`) gives each test case of its tables an explanation."""
    uncovered: dict[str, tuple[str, ...]] | None = None
    if not has_errors(diagnostics):  # else the page says the analysis did not run
        uncovered = analyse.uncovered_rules(project)
    pages = []
    placed: set[Diagnostic] = set()
    for decision in project.decisions:
        sheets = {(t.location.path, t.location.sheet) for t in decision.versions}
        sheets |= {
            (s.location.path, s.location.sheet)
            for s in project.suites
            if s.table == decision.name
        }

        def mine(d: Diagnostic, sheets: set[tuple[str, str]] = sheets) -> bool:
            return (d.location.path, d.location.sheet) in sheets

        own = [d for d in diagnostics if mine(d)]
        found = [d for d in findings if mine(d)]
        placed.update(own, found)
        versions = []
        for table in decision.versions:
            rows = []
            for rule in table.rules:
                row = _row_of(rule.location.cell)
                rows.append(
                    RuleRow(
                        rule.id,
                        [
                            entry_text(e, c.type)
                            for c, e in zip(table.inputs, rule.inputs, strict=True)
                        ],
                        [
                            value_text(v, quote=c.type is not DataType.CODE)
                            if e is None
                            else f"= {e.text}"  # version 2: a computed output
                            for c, v, e in zip(
                                table.outputs,
                                rule.outputs,
                                rule.output_expressions or (None,) * len(rule.outputs),
                                strict=True,
                            )
                        ],
                        list(rule.annotations),
                        row,
                        problems=[
                            d
                            for d in [*own, *found]
                            if d.location.sheet == table.location.sheet
                            and d.location.path == table.location.path
                            and _row_of(d.location.cell) == row
                        ],
                    )
                )
            versions.append(VersionView(table, rows))
        cases = []
        for suite in project.suites:
            if suite.table != decision.name:
                continue
            module = (explained or {}).get(decision.name)
            for case in suite.cases:
                view, table_used, matched = _run_case(project, suite, case)
                if module is not None:
                    view.why = _why(project, module, case, decision.name)
                cases.append(view)
                for version in versions:
                    if version.table is table_used:
                        for rule_row in version.rules:
                            if rule_row.id in matched:
                                rule_row.cases.append(case.id)
        pages.append(
            TablePage(
                decision,
                versions,
                own,
                found,
                None if uncovered is None else uncovered.get(decision.name, ()),
                cases,
                [d.name for d in project.decisions if decision.name in d.requires],
                [
                    f"{s.location.path}: {s.location.sheet}"
                    for s in project.suites
                    if s.table == decision.name
                ],
            )
        )
    rest = [d for d in (*diagnostics, *findings) if d not in placed]
    return pages, rest


def write_report(tables: Path, dest: Path) -> tuple[list[Path], tuple[Diagnostic, ...]]:
    """Write the site for TABLES into DEST; returns the files written and every
    diagnostic. With unreadable or invalid tables, the pages show what could be read."""
    project, diagnostics = load_tables(tables)
    findings: tuple[Diagnostic, ...] = ()
    if project is not None:  # the tables free of errors, as `compile` analyses them
        findings = all_findings(project, diagnostics)
    env = _environment()
    pages, rest = (
        build_pages(project, diagnostics, findings, explainers(project, diagnostics))
        if project is not None
        else ([], list(diagnostics))
    )
    generated = dt.date.today().isoformat()
    written = []
    index = env.get_template("index.html.j2").render(
        pages=pages,
        rest=rest,
        tables=tables.resolve().name,
        workbooks=project.workbooks if project else (),
        generated=generated,
        analysed=project is not None and not has_errors(diagnostics),
    )
    write_atomic(dest / "index.html", index)
    written.append(dest / "index.html")
    template = env.get_template("table.html.j2")
    for page in pages:
        path = dest / f"{page.name}.html"
        write_atomic(path, template.render(page=page, generated=generated))
        written.append(path)
    for stale in set(dest.glob("*.html")) - set(written):
        if _GENERATOR in stale.read_text(encoding="utf-8", errors="replace")[:600]:
            stale.unlink()  # the page of a table that is gone
    return written, sort_diagnostics([*diagnostics, *findings])
