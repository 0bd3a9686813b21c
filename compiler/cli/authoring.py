"""The authors' commands: `show`, `diff`, `new`, `watch` and `report`.

The logic lives in compiler/authoring/; the imports are local so that
`compile-rules --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.cli.options import folders, guarded
from compiler.diagnostics import has_errors
from compiler.report import Exit, Report


@click.command("show")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@guarded
def show_command(files: tuple[Path, ...]) -> None:
    """Print each workbook's sheets as text, one line per row (for `git diff`: see
    the textconv set-up in docs/authoring.md)."""
    from compiler.authoring.diff import show_file
    from compiler.diagnostics import Diagnostic, Location, visible

    failed = False
    for file in files:
        text = show_file(file)
        if isinstance(text, Diagnostic):  # with the sheet and cell, if it names one
            where = Location(str(file), text.location.sheet, text.location.cell)
            click.echo(visible(f"{where}: {text.message}"), err=True)
            failed = True
            continue
        click.echo(visible(text, lines=True), nl=False)
    if failed:
        sys.exit(Exit.INVALID)


@click.command("diff")
@folders
@click.argument("sides", nargs=-1, metavar="OLD NEW")
@click.option(
    "--git",
    "revisions",
    multiple=True,
    metavar="REV",
    help="Compare --tables at git revision REV with the working tree, or, given "
    "twice, at two revisions.",
)
@click.option("--all", "show_all", is_flag=True, help="Print every changed region.")
@guarded
def diff_command(
    tables: Path,
    out: Path,
    quiet: bool,
    sides: tuple[str, ...],
    revisions: tuple[str, ...],
    show_all: bool,
) -> None:
    """What changed between two versions of the tables: rules added, removed and
    changed, and the inputs whose decision changed, with examples.

    OLD and NEW are workbooks, folders, or REV:PATH (a folder or workbook at a git
    revision, e.g. HEAD~1:tables). Exit 0 when no table differs, 1 when some do.
    """
    from compiler.authoring import diff

    if revisions:
        if sides or len(revisions) > 2:
            raise click.UsageError("give OLD NEW, or --git REV once or twice, not both")
        folder = tables.as_posix()
        specs = [f"{rev}:{folder}" for rev in revisions]
        if len(specs) == 1:
            specs.append(folder)
    elif len(sides) == 2:
        specs = list(sides)
    else:
        raise click.UsageError("give two sides to compare: OLD NEW (or --git REV)")
    try:
        old, new = (diff.load_side(spec) for spec in specs)
    except diff.SourceError as exc:
        raise click.UsageError(str(exc)) from None
    for side in (old, new):
        problem = diff.side_problems(side)
        if problem:
            Report(diagnostics=side.diagnostics, quiet=True).print_diagnostics()
            click.echo(problem, err=True)
            sys.exit(Exit.INVALID)
    result = diff.diff_projects(old, new)
    click.echo(result.format(None if show_all else 12), nl=False)
    sys.exit(Exit.OK if result.empty else Exit.DRIFT)


@click.command("new")
@folders
@click.argument("name")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME:TYPE[=VALUES]",
    help="An input column, e.g. age:integer=[0..130] or modality:string=CT, MRI.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="NAME:TYPE[=VALUES]",
    help="An output column, e.g. approved:boolean.",
)
@click.option("--hit-policy", default="UNIQUE", show_default=True)
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to add the sheets to (created if absent). "
    "Default: TABLES/NAME.xlsx.",
)
@guarded
def new_command(
    tables: Path,
    out: Path,
    quiet: bool,
    name: str,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    hit_policy: str,
    into: Path | None,
) -> None:
    """Start a new decision table NAME: a styled sheet with dropdowns, one example
    rule and an empty Tests sheet, that compiles as it is. Existing sheets are never
    replaced."""
    from compiler.authoring import new_table

    target = into or tables / f"{name}.xlsx"
    try:
        new_table.check_target(name, target, tables)
        written = new_table.new_table(
            name,
            [new_table.parse_column(c) for c in inputs],
            [new_table.parse_column(c) for c in outputs],
            target,
            hit_policy=hit_policy,
        )
    except new_table.TemplateError as exc:
        raise click.UsageError(str(exc)) from None
    verb = "created" if written.created else "added to"
    click.echo(
        f"{verb} {target}: sheets {written.sheet!r} and {written.tests_sheet!r}",
        err=True,
    )
    problems = new_table.written_problems(target)
    Report(diagnostics=problems, quiet=quiet).print_diagnostics()
    if has_errors(problems):
        sys.exit(Exit.INVALID)


@click.command("watch")
@folders
@click.option(
    "--debounce",
    default=400,
    show_default=True,
    metavar="MS",
    help="Recompile once no workbook changed for this many milliseconds.",
)
@click.option(
    "--poll",
    is_flag=True,
    help="Poll for changes (network and container file systems).",
)
@guarded
def watch_command(
    tables: Path, out: Path, quiet: bool, debounce: int, poll: bool
) -> None:
    """Compile, then recompile whenever a workbook under --tables is saved; only
    changed outputs are written. Ctrl-C stops; the exit code is 3 when the last run
    had errors, else 0."""
    from compiler.authoring import watch

    if not tables.is_dir():
        raise click.UsageError(f"--tables {tables}: the folder does not exist")
    session = watch.Session(
        tables, out, quiet=quiet, echo=lambda line: click.echo(line, err=True)
    )
    click.echo(f"watching {tables} (Ctrl-C stops)", err=True)
    try:
        watch.watch_loop(
            session,
            watch.file_changes(tables, quiet_ms=debounce, force_polling=poll or None),
        )
    except KeyboardInterrupt:
        pass
    click.echo("stopped watching", err=True)
    if session.last is not None and not session.last.ok:
        sys.exit(Exit.INVALID)


@click.command("report")
@folders
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@guarded
def report_command(tables: Path, out: Path, quiet: bool, dest: Path) -> None:
    """Write a static HTML site about the tables into DEST: an index and one page per
    table (rules, source, diagnostics, analysis findings, test coverage). Exit 3 when
    the tables have errors (the site is written anyway)."""
    from compiler.authoring import site

    written, diagnostics = site.write_report(tables, dest)
    report = Report(diagnostics=diagnostics, quiet=quiet)
    report.print_diagnostics()
    click.echo(
        f"wrote {len(written)} page(s) to {dest}; open {dest / 'index.html'} "
        f"({report.counts()})",
        err=True,
    )
    sys.exit(report.exit_code)
