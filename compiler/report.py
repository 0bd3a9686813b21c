"""One place for what the user is told: diagnostics, counts, wording, exit codes."""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click

from compiler.diagnostics import Diagnostic, Location, Severity, visible

FORMATS = ("text", "json", "github")


class Exit(enum.IntEnum):
    """The exit codes of every command, as docs/commands.md documents them."""

    OK = 0
    DRIFT = 1
    USAGE = 2
    INVALID = 3
    REJECTED = 4  # run: some rows were left out (see the errors file)
    INTERNAL = 123


# `check`'s findings about the output folder: (code, message) by kind of drift.
DRIFT = {
    "missing": ("E501", "missing: compile would write this generated file"),
    "stale": (
        "E502",
        "stale: this generated file differs from what the tables generate",
    ),
    "orphaned": (
        "E503",
        "orphaned: compile would remove this generated file (its table is gone)",
    ),
}


def drift_records(
    out: Path,
    missing: tuple[str, ...],
    stale: tuple[str, ...],
    orphaned: tuple[str, ...],
) -> tuple[Diagnostic, ...]:
    """One error record per generated file out of date, at its path under OUT."""
    found = []
    for kind, names in (("missing", missing), ("stale", stale), ("orphaned", orphaned)):
        code, message = DRIFT[kind]
        for name in names:
            found.append(
                Diagnostic(
                    code,
                    Severity.ERROR,
                    message,
                    Location((out / name).as_posix()),
                    hint="run `compile-rules compile` and commit the result",
                )
            )
    return tuple(sorted(found, key=Diagnostic.sort_key))


@dataclass
class Report:
    diagnostics: tuple[Diagnostic, ...] = ()
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unchanged: int = 0
    quiet: bool = False
    checked: tuple[Location, ...] = ()  # the sheets that were read, for --junit
    # `check`: each generated file out of date, as an error record (`drift_records`);
    # printed and counted in every format, but exit 1 (drift), not 3
    drift: tuple[Diagnostic, ...] = ()
    verbose: bool | None = None  # show infos; None: as the command's -v says

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def exit_code(self) -> Exit:
        if self.errors:
            return Exit.INVALID
        if self.stale:
            return Exit.DRIFT
        return Exit.OK

    def shown(self) -> tuple[Diagnostic, ...]:
        """The diagnostics (and drift records) a run reports: infos only with -v
        (`verbose`, else the command's -v), never with -q."""
        verbose = self.verbose
        if verbose is None:
            verbose = bool(_option("verbose", False))
        return tuple(
            d
            for d in (*self.diagnostics, *self.drift)
            if d.severity is not Severity.INFO or (verbose and not self.quiet)
        )

    def print_diagnostics(self) -> None:
        """Text and JSON lines go to stderr; GitHub workflow commands to stdout."""
        fmt = _option("format", "text")
        shown = self.shown()
        for diagnostic in shown:
            if fmt == "json":
                click.echo(
                    json.dumps(as_json(diagnostic), ensure_ascii=False), err=True
                )
            elif fmt == "github":
                click.echo(as_github(diagnostic))
            else:
                colour = {
                    Severity.ERROR: "red",
                    Severity.WARNING: "yellow",
                    Severity.INFO: None,
                }
                click.secho(
                    diagnostic.format(), fg=colour[diagnostic.severity], err=True
                )
        junit = _option("junit", None)
        if junit is not None:
            write_junit(Path(str(junit)), shown, self.checked)

    def counts(self) -> str:
        by_severity = Counter(d.severity for d in self.diagnostics)
        parts = [
            f"{by_severity[s]} {s}{'s' if by_severity[s] != 1 else ''}"
            for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
            if by_severity[s]
        ]
        return ", ".join(parts) or "no problems"

    def summary(self, action: str) -> str:
        if self.errors:
            return f"{self.counts()}: nothing was written. Fix the errors above and run again."
        if action == "check":
            if self.stale:
                return f"{len(self.stale)} generated file(s) out of date; run `compile-rules compile`."
            return (
                f"all {self.unchanged} generated file(s) are current ({self.counts()})."
            )
        if action == "diff":
            return f"{len(self.stale)} file(s) would change ({self.counts()}); nothing was written."
        changed = len(self.written) + len(self.removed)
        if not changed:
            return f"{self.unchanged} file(s) already current ({self.counts()})."
        return (
            f"{len(self.written)} file(s) written, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged ({self.counts()})."
        )


def run_summary(
    rows: int, evaluated: int, rejected: int, output: Path, errors: Path
) -> str:
    """The last line of `run`: what was read, decided and left out, and where."""
    read = f"{rows:,} row(s) read, {evaluated:,} evaluated"
    if rejected:
        return f"{read}, {rejected:,} rejected (see {errors}); wrote {output}"
    return f"{read}, none rejected; wrote {output} ({errors} lists no row)"


def _option(name: str, default: object) -> object:
    """`--format`, `--junit` and `-v`, which every command takes (kept in the Click
    context)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(f"compile_rules.{name}", default) if ctx else default


def as_json(d: Diagnostic) -> dict[str, str]:
    return {
        "code": d.code,
        "severity": str(d.severity),
        "message": d.message,
        "location": str(d.location),
        "path": d.location.path,
        "sheet": d.location.sheet,
        "cell": d.location.cell,
        "text": d.text,
        "hint": d.hint,
    }


def _escape(text: str, *, property_value: bool = False) -> str:
    text = visible(text, lines=True)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def as_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command; the sheet and cell go in the message, since a
    workbook has no lines to annotate."""
    level = {
        Severity.ERROR: "error",
        Severity.WARNING: "warning",
        Severity.INFO: "notice",
    }
    where = (
        f"{d.location.sheet}!{d.location.cell}" if d.location.cell else d.location.sheet
    )
    message = f"{where}: {d.message}" if where else d.message
    if d.hint:
        message += f" ({d.hint})"
    file = _escape(d.location.path, property_value=True)
    title = _escape(f"{d.code} {where}".strip(), property_value=True)
    return f"::{level[d.severity]} file={file},title={title}::{_escape(message)}"


def write_junit(
    path: Path, diagnostics: tuple[Diagnostic, ...], checked: tuple[Location, ...]
) -> None:
    """JUnit XML: one test case per sheet read (or per file that could not be read,
    or generated file out of date); each error a failure, warnings in system-out."""
    cases: dict[tuple[str, str], list[Diagnostic]] = {
        (c.path, c.sheet): [] for c in checked
    }
    import xml.etree.ElementTree as ET  # here: only --junit needs it

    for d in diagnostics:
        cases.setdefault((d.location.path, d.location.sheet), []).append(d)
    failures = sum(
        any(d.severity is Severity.ERROR for d in ds) for ds in cases.values()
    )
    suite = ET.Element(
        "testsuite",
        name="compile-rules",
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
    )
    for (file, sheet), found in sorted(cases.items()):
        # XML cannot hold control characters, even as references: shown escaped
        name = visible(sheet or file)
        case = ET.SubElement(suite, "testcase", classname=visible(file), name=name)
        for d in found:
            if d.severity is Severity.ERROR:
                message = visible(d.message)
                failure = ET.SubElement(case, "failure", type=d.code, message=message)
                failure.text = d.format()
        notes = [d.format() for d in found if d.severity is not Severity.ERROR]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
