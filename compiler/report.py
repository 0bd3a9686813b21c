"""One place for what the user is told: diagnostics, counts, wording, exit codes."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

import click

from .diagnostics import Diagnostic, Severity


class Exit(enum.IntEnum):
    """The exit codes of every command, as the README documents them."""

    OK = 0
    DRIFT = 1
    USAGE = 2
    INVALID = 3
    INTERNAL = 123


@dataclass
class Report:
    diagnostics: tuple[Diagnostic, ...] = ()
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unchanged: int = 0
    quiet: bool = False

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

    def print_diagnostics(self) -> None:
        for diagnostic in self.diagnostics:
            if self.quiet and diagnostic.severity is Severity.INFO:
                continue
            colour = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: None}
            click.secho(diagnostic.format(), fg=colour[diagnostic.severity], err=True)

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
            return f"all {self.unchanged} generated file(s) are current ({self.counts()})."
        if action == "diff":
            return f"{len(self.stale)} file(s) would change ({self.counts()}); nothing was written."
        changed = len(self.written) + len(self.removed)
        if not changed:
            return f"{self.unchanged} file(s) already current ({self.counts()})."
        return (
            f"{len(self.written)} file(s) written, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged ({self.counts()})."
        )
