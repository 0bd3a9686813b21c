"""`compile` and `check`: write the generated package, or say how far it drifted."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.cli.options import compiled, folders, guarded
from compiler.emitting import output
from compiler.report import Exit, drift_records


@click.command("compile")
@folders
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what would change; write nothing."
)
@guarded
def compile_command(tables: Path, out: Path, quiet: bool, show_diff: bool) -> None:
    """Compile every workbook under --tables into --out."""
    _, files, report = compiled(tables, quiet, "compile")
    change = output.plan(out, files)
    report.unchanged = len(change.unchanged)
    if show_diff:
        report.stale = [*change.new, *change.changed, *change.orphaned]
        click.echo(change.diff(), nl=False)
        click.echo(report.summary("diff"), err=True)
        sys.exit(Exit.OK)
    try:
        output.apply(out, change)
    except output.Busy as exc:  # another compile kept the lock past the timeout
        click.secho(f"error: {exc.strerror}", fg="red", err=True)
        sys.exit(Exit.INVALID)
    report.written = [*change.new, *change.changed]
    report.removed = list(change.orphaned)
    for name in report.written:
        click.echo(f"wrote {out / name}", err=True)
    for name in report.removed:
        click.echo(f"removed {out / name}", err=True)
    click.echo(report.summary("compile"), err=True)


@click.command("check")
@folders
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Also print what compile would change, as a unified diff (stdout).",
)
@guarded
def check_command(tables: Path, out: Path, quiet: bool, show_diff: bool) -> None:
    """Exit 1 if --out is not exactly what --tables generates, with an error record
    per missing, stale or orphaned file in every --format. Never writes."""
    _, files, report = compiled(tables, quiet, "check", now=False)
    change = output.plan(out, files)
    report.unchanged = len(change.unchanged)
    report.stale = [*change.new, *change.changed, *change.orphaned]
    report.drift = drift_records(out, change.new, change.changed, change.orphaned)
    report.print_diagnostics()
    if show_diff and change.stale:
        click.echo(change.diff(), nl=False)
    click.echo(report.summary("check"), err=True)
    sys.exit(report.exit_code)
