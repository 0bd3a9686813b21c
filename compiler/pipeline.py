"""The whole pipeline in one short function: read, build, validate, analyse, generate.

    workbook -> sheets -> validate -> analyse + Tests cases -> codegen   (then output writes)

Each stage returns diagnostics; code is generated only when none is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compiler.checking import analyse, authored, validate
from compiler.diagnostics import (
    Diagnostic,
    Location,
    Severity,
    has_errors,
    sort_diagnostics,
)
from compiler.emitting import codegen
from compiler.model import Project
from compiler.reading import sheets, workbook
from compiler.reading.folder import display_path as display_path
from compiler.reading.folder import find_workbooks as find_workbooks
from compiler.reading.folder import list_tables


@dataclass(frozen=True, slots=True)
class Compilation:
    """What compiling a tables folder produced."""

    project: Project | None
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, str] | None  # path in the output folder -> source; None on errors

    @property
    def ok(self) -> bool:
        return self.files is not None


Reader = Callable[[Path, str], workbook.RawWorkbook | Diagnostic]


def load_tables(
    tables: Path, *, read: Reader = workbook.read_workbook
) -> tuple[Project | None, tuple[Diagnostic, ...]]:
    """Read and validate every workbook under TABLES (no analysis, no code). READ
    reads one workbook (`watch` passes a caching reader)."""
    if not tables.is_dir():
        where = Location(str(tables))
        return None, (
            Diagnostic(
                "E002", Severity.ERROR, "the tables folder does not exist", where
            ),
        )
    books = []
    listing = list_tables(tables)
    diagnostics = [unreadable_folder(tables, *item) for item in listing.unreadable]
    for file in listing.workbooks:
        book = read(file, display_path(tables, file))
        if isinstance(book, Diagnostic):
            diagnostics.append(book)
        else:
            books.append(book)
    project, found = sheets.build_project(books)
    diagnostics.extend(found)
    diagnostics.extend(validate.validate(project))  # also beside cell errors: one run
    return project, sort_diagnostics(diagnostics)


def unreadable_folder(tables: Path, folder: Path, reason: str) -> Diagnostic:
    """E003: a folder of TABLES that cannot be listed; its tables are not removed."""
    return Diagnostic(
        "E003",
        Severity.ERROR,
        f"cannot read this folder: {reason}; the workbooks in it would be missed, "
        "so nothing is compiled",
        Location(display_path(tables, folder)),
        hint="give read and search permission to the folder (chmod u+rx), or move "
        "it out of the tables folder",
    )


def check_tables(
    tables: Path, *, read: Reader = workbook.read_workbook, cases: bool = True
) -> tuple[Project | None, tuple[Diagnostic, ...]]:
    """Read, validate and analyse TABLES, and run their Tests-sheet cases (unless
    not CASES): every diagnostic, no code."""
    project, diagnostics = load_tables(tables, read=read)
    if project is None:
        return project, diagnostics
    found = findings(project, diagnostics, cases=cases)
    return project, sort_diagnostics([*diagnostics, *found])


def findings(
    project: Project, diagnostics: tuple[Diagnostic, ...], *, cases: bool = True
) -> tuple[Diagnostic, ...]:
    """The analysis' findings and (unless not CASES) the Tests-sheet cases that do
    not hold (`E423`), for the tables free of errors even when others have some
    (`sound_part`)."""
    sound = sound_part(project, diagnostics)
    failing = authored.check_cases(sound, diagnostics) if cases else ()
    return sort_diagnostics([*analyse.analyse(sound), *failing])


def compile_tables(
    tables: Path,
    *,
    formatted: bool = True,
    read: Reader = workbook.read_workbook,
    cases: bool = True,
) -> Compilation:
    """Run the whole pipeline on a tables folder; no file is written here. Not CASES:
    the Tests-sheet cases are not run (`eval`, `run`: the tables as they are)."""
    project, diagnostics = check_tables(tables, read=read, cases=cases)
    if project is None or has_errors(diagnostics):
        return Compilation(project, diagnostics, None)
    misses: dict[str, tuple[str, ...]] = {}
    examples = analyse.examples(project, misses=misses)
    files = codegen.generate(
        project, formatted=formatted, examples=examples, misses=misses
    )
    return Compilation(
        project, sort_diagnostics([*diagnostics, *_missed(project, misses)]), files
    )


def _missed(project: Project, misses: dict[str, tuple[str, ...]]) -> list[Diagnostic]:
    """A315: the rules of tables with computed inputs for which the example search
    found no input within its budget (they get no generated example)."""
    return [
        Diagnostic(
            "A315",
            Severity.INFO,
            f"no example found for rule(s) {', '.join(rules)} of {name!r}: no inputs "
            "tried by the search make them decide through the computed inputs",
            project.decision(name).first.location,
            hint="its Tests sheet cases still test them; add a case for each",
        )
        for name, rules in sorted(misses.items())
    ]


def sound_part(project: Project, diagnostics: tuple[Diagnostic, ...]) -> Project:
    """The tables free of errors, with everything they require: the analysis runs on
    these even when others have errors, so an author sees every problem in one run
    (and none that an error elsewhere would make up)."""
    broken = {
        (d.location.path, d.location.sheet)
        for d in diagnostics
        if d.severity is Severity.ERROR
    }
    names = {d.name: d for d in project.decisions}
    verdicts: dict[str, bool] = {}

    def sound(name: str) -> bool:
        if name not in verdicts:
            verdicts[name] = False  # a cycle is not sound (and is an error anyway)
            decision = names.get(name)
            verdicts[name] = (
                decision is not None
                and name not in project.partial
                and not any(
                    (t.location.path, t.location.sheet) in broken
                    for t in decision.versions
                )
                and all(sound(r) for r in decision.requires)
            )
        return verdicts[name]

    if not broken:
        return project
    return Project(
        tuple(d for d in project.decisions if sound(d.name)),
        tuple(s for s in project.suites if sound(s.table)),
        project.workbooks,
        project.partial,
        project.lost,
    )
