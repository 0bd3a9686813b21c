"""`analyse` and `lint`: every diagnostic, without generating code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.cli.options import folders, guarded, known_table, printed
from compiler.diagnostics import has_errors, on_sheets
from compiler.report import Report


@click.command("analyse")
@folders
@click.argument("table", required=False)
@guarded
def analyse_command(tables: Path, out: Path, quiet: bool, table: str | None) -> None:
    """Check that every table answers every case exactly once, and list the rules no
    authored test exercises (all tables, or only TABLE)."""
    from compiler.checking import analyse
    from compiler.pipeline import check_tables

    project, diagnostics = check_tables(tables)
    valid = project is not None and not has_errors(diagnostics)
    if project is not None and table is not None:
        known_table(table, [d.name for d in project.decisions])
        versions = project.decision(table).versions
        diagnostics = on_sheets(diagnostics, [t.location for t in versions])
    report = Report(diagnostics=diagnostics, quiet=quiet)
    report.print_diagnostics()
    if project is not None and valid:
        for name, missing in analyse.uncovered_rules(project).items():
            if table not in (None, name):
                continue
            if missing:
                click.echo(f"{name}: no authored test exercises {', '.join(missing)}")
            else:
                click.echo(f"{name}: every rule is exercised by an authored test")
    click.echo(report.counts(), err=True)
    sys.exit(report.exit_code)


@click.command("lint")
@folders
@click.option(
    "--annotate",
    "annotate_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write a copy of each workbook here with every diagnostic on its cell "
    "(comment, colour) and a first sheet 'Problems'. The sources are not modified.",
)
@guarded
def lint_command(
    tables: Path, out: Path, quiet: bool, annotate_dir: Path | None
) -> None:
    """Print every diagnostic (validation and analysis) without generating code;
    exit 3 on errors, like check."""
    from compiler.authoring import annotate

    project, diagnostics = annotate.lint(tables)
    report = printed(diagnostics, project, quiet)
    if annotate_dir is not None:
        try:
            copies = annotate.annotate(tables, annotate_dir, report.shown())
        except ValueError as exc:
            raise click.UsageError(f"--annotate {annotate_dir}: {exc}") from None
        for copy in copies:
            click.echo(f"wrote {copy.copy} ({copy.problems} problem(s))", err=True)
    click.echo(report.counts(), err=True)
    sys.exit(report.exit_code)
