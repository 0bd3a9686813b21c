"""`import-dmn` and `export-dmn` (the conversion is compiler/interop/dmn/).

Neither takes @folders: import writes one workbook (--into) and export one DMN file
(--out FILE, where @folders' --out is the generated package's folder).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler.cli.options import guarded, known_table
from compiler.diagnostics import has_errors
from compiler.report import Exit, Report

if TYPE_CHECKING:  # imported by the commands: other commands start without them
    from compiler.interop import dmn


def _dmn_messages(messages: tuple[dmn.Message, ...], model: str, quiet: bool) -> None:
    """What the conversion could not carry over, on stderr; -q hides the warnings."""
    for message in messages:
        if quiet and message.severity == "warning":
            continue
        colour = "red" if message.severity == "error" else "yellow"
        click.secho(message.format(model), fg=colour, err=True)


@click.command("import-dmn")
@click.argument("model", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to write. Default: TABLES/<model file name>.xlsx.",
)
@click.option(
    "--tables",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tables"),
    show_default=True,
    help="Folder of the source workbooks (names already used there are flagged).",
)
@click.option("--force", is_flag=True, help="Overwrite the workbook if it exists.")
@click.option(
    "--strict",
    is_flag=True,
    help="Write nothing and exit 3 when any part of the model is not converted.",
)
@click.option("-q", "--quiet", is_flag=True, help="Hide warnings.")
@guarded
def import_dmn_command(
    model: Path, into: Path | None, tables: Path, force: bool, strict: bool, quiet: bool
) -> None:
    """Convert the decision tables of a DMN 1.1-1.5 MODEL into a workbook.

    What cannot be converted is reported with its DMN id and name and left out. When
    no table converts (or, with --strict, when anything is left out), nothing is
    written and the exit code is 3; otherwise the tables are written and the exit code
    is 0 (3 if the written workbook does not compile, e.g. a UNIQUE table whose rules
    overlap).
    """
    from compiler.interop import dmn

    conversion = dmn.read_dmn(model)
    _dmn_messages(conversion.messages, model.name, quiet)
    if not conversion.tables or (strict and conversion.errors):
        what = (
            "not every part of the model" if conversion.tables else "no decision table"
        )
        click.echo(
            f"{model}: {what} could be converted; nothing was written.", err=True
        )
        sys.exit(Exit.INVALID)
    target = into or tables / model.with_suffix(".xlsx").name
    if target.suffix.lower() != ".xlsx":
        raise click.UsageError(f"--into {target}: the workbook must be an .xlsx file")
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; pass --force to overwrite it")
    for name, where in dmn.names_in_use(tables, conversion, target):
        click.secho(
            f"{target}: warning: the table name {name!r} is already used at {where}",
            fg="yellow",
            err=True,
        )
    dmn.save_workbook(conversion, target)
    check = dmn.check_workbook(target)
    Report(diagnostics=check, quiet=True).print_diagnostics()
    names = ", ".join(t.name for t in conversion.tables)
    left_out = len(conversion.errors)
    click.echo(
        f"wrote {target}: {len(conversion.tables)} table(s) ({names})"
        + (
            f"; {left_out} part(s) of the model not converted (see above)"
            if left_out
            else ""
        ),
        err=True,
    )
    if has_errors(check):
        sys.exit(Exit.INVALID)


@click.command("export-dmn")
@click.argument("names", nargs=-1, metavar="[TABLE]...")
@click.option(
    "--tables",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tables"),
    show_default=True,
    help="Folder of the source workbooks (searched recursively).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The DMN 1.5 file to write.",
)
@click.option(
    "--name", "model_name", help="The model's name. Default: the --out file name."
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Hide info-level diagnostics and warnings."
)
@guarded
def export_dmn_command(
    names: tuple[str, ...], tables: Path, out: Path, model_name: str | None, quiet: bool
) -> None:
    """Write TABLEs (default: all), with the tables they require, as DMN 1.5.

    A table DMN cannot hold is named on stderr and left out; the others are written,
    and the exit code is 3 (0 when every table is exported)."""
    from compiler.emitting import output
    from compiler.interop import dmn
    from compiler.pipeline import load_tables

    project, diagnostics = load_tables(tables)
    report = Report(diagnostics=diagnostics, quiet=quiet)
    report.print_diagnostics()
    if project is None or has_errors(diagnostics):
        click.echo(report.summary("export"), err=True)
        sys.exit(Exit.INVALID)
    known = [d.name for d in project.decisions]
    for name in names:
        known_table(name, known)
    exported = dmn.export_dmn(project, names, model_name or out.stem)
    _dmn_messages(exported.messages, str(out), quiet)
    if not exported.tables:
        click.echo(f"no table could be exported; {out} was not written.", err=True)
        sys.exit(Exit.INVALID)
    output.write_atomic(out, exported.xml)
    refused = [m.name for m in exported.messages if m.severity == "error"]
    click.echo(
        f"wrote {out}: {len(exported.tables)} table(s) ({', '.join(exported.tables)})"
        + (f"; not exported: {', '.join(refused)} (see above)" if refused else ""),
        err=True,
    )
    if refused:
        sys.exit(Exit.INVALID)
