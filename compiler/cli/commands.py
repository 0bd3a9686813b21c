"""The `compile-rules` command: a thin Click layer over the library functions.

Exit codes (see README): 0 ok, 1 generated files out of date, 2 usage, 3 invalid
tables or unreadable workbook (or `run` input), 4 `run` rejected rows, 123 internal
error. User errors never show a traceback.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from compiler.diagnostics import CellError, has_errors
from compiler.emitting import output
from compiler.emitting.loader import load_table, result_json
from compiler.interop import dmn
from compiler.model import Project
from compiler.pipeline import Compilation, compile_tables, load_tables
from compiler.reading import cells
from compiler.reading.sheets import suggest
from compiler.report import FORMATS, Exit, Report, run_summary

F = TypeVar("F", bound=Callable[..., Any])


def folders(func: F) -> F:
    """`--tables` and `--out`, which every command takes."""
    func = click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("generated"),
        show_default=True,
        help="Folder of the generated package.",
    )(func)
    func = click.option(
        "--tables",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("tables"),
        show_default=True,
        help="Folder of the source workbooks (searched recursively).",
    )(func)
    func = click.option(
        "-q", "--quiet", is_flag=True, help="Hide info-level diagnostics."
    )(func)
    func = click.option(
        "--format",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        expose_value=False,
        callback=_remember,
        help="Diagnostics as text or JSON lines (stderr), or GitHub annotations (stdout).",
    )(func)
    func = click.option(
        "--junit",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="Also write the diagnostics as JUnit XML to this file.",
    )(func)
    return func


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Keep --format and --junit in the context, where `Report` reads them."""
    ctx.meta[f"compile_rules.{param.name}"] = value
    return value


def guarded(func: F) -> F:
    """Turn unexpected exceptions into exit code 123 with a short message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("COMPILE_RULES_DEBUG"):
                traceback.print_exc()
            click.secho(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in compile-rules, not in your tables; set COMPILE_RULES_DEBUG=1 "
                "for the traceback and report it.",
                fg="red",
                err=True,
            )
            sys.exit(Exit.INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compile-rules")
def main() -> None:
    """Compile Excel decision tables into Python evaluators and their tests."""


def _compile(tables: Path, quiet: bool) -> tuple[Compilation, Report]:
    compilation = compile_tables(tables)
    report = Report(diagnostics=compilation.diagnostics, quiet=quiet)
    if compilation.project is not None:
        project = compilation.project
        report.checked = tuple(
            [t.location for d in project.decisions for t in d.versions]
            + [s.location for s in project.suites]
        )
    report.print_diagnostics()
    return compilation, report


@main.command("compile")
@folders
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what would change; write nothing."
)
@guarded
def compile_command(tables: Path, out: Path, quiet: bool, show_diff: bool) -> None:
    """Compile every workbook under --tables into --out."""
    compilation, report = _compile(tables, quiet)
    if compilation.files is None:
        click.echo(report.summary("compile"), err=True)
        sys.exit(report.exit_code)
    change = output.plan(out, compilation.files)
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


@main.command("check")
@folders
@guarded
def check_command(tables: Path, out: Path, quiet: bool) -> None:
    """Exit 1 if --out is not exactly what --tables generates. Never writes."""
    compilation, report = _compile(tables, quiet)
    if compilation.files is None:
        click.echo(report.summary("check"), err=True)
        sys.exit(report.exit_code)
    change = output.plan(out, compilation.files)
    report.unchanged = len(change.unchanged)
    report.stale = [*change.new, *change.changed, *change.orphaned]
    for label, names in (
        ("missing", change.new),
        ("stale", change.changed),
        ("orphaned", change.orphaned),
    ):
        for name in names:
            click.echo(f"{label}: {out / name}", err=True)
    if change.stale:
        click.echo(change.diff(), nl=False)
    click.echo(report.summary("check"), err=True)
    sys.exit(report.exit_code)


def _compiled_table(tables: Path, table: str) -> tuple[Project, dict[str, str]]:
    """The tables compiled in memory (so `eval` and `run` always run exactly the code
    `compile` writes), once TABLE is known to be one of them; exit 3 on errors."""
    compilation, report = _compile(tables, True)
    if compilation.files is None or compilation.project is None:
        click.echo(report.summary("compile"), err=True)
        sys.exit(report.exit_code)
    names = [d.name for d in compilation.project.decisions]
    if table not in names:
        hint = suggest(table, names)
        raise click.UsageError(
            f"no table named {table!r}" + (f"; {hint}" if hint else "")
        )
    return compilation.project, compilation.files


@main.command("eval")
@folders
@click.argument("table")
@click.argument("assignments", nargs=-1, metavar="NAME=VALUE...")
@click.option(
    "--as-of",
    "as_of",
    help="Evaluation date (ISO), for versioned tables. Default: today.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--cases",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A CSV file with one column per input: evaluate each row, print JSON lines.",
)
@guarded
def eval_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    assignments: tuple[str, ...],
    as_of: str | None,
    as_json: bool,
    cases: Path | None,
) -> None:
    """Evaluate TABLE on the given inputs through its generated evaluator."""
    project, files = _compiled_table(tables, table)
    columns = {c.name: c for c in project.chain_inputs(table)}
    versioned = project.chain_versioned(table)
    module = load_table(files, table)

    def run(values: dict[str, str | None], when: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for name, text in values.items():
            if name not in columns:
                hint = suggest(name, columns)
                raise click.UsageError(
                    f"{table!r} has no input {name!r}"
                    + (f"; {hint}" if hint else f"; inputs: {', '.join(columns)}")
                )
            if text is None or not text.strip():
                kwargs[name] = None
                continue
            try:
                kwargs[name] = cells.parse_literal(text, columns[name].type)
            except CellError as exc:
                raise click.UsageError(
                    f"{name}={text!r}: {exc.message}"
                    + (f" ({exc.hint})" if exc.hint else "")
                ) from None
        if when:
            if not versioned:
                raise click.UsageError(
                    f"{table!r} has no effective-dated versions; drop --as-of"
                )
            try:
                kwargs["as_of"] = cells.parse_date_text(when.strip())
            except CellError as exc:
                raise click.UsageError(
                    f"--as-of {when!r}: {exc.message}"
                    + (f" ({exc.hint})" if exc.hint else "")
                ) from None
        try:
            return result_json(module.evaluate(**kwargs))
        except (
            ValueError
        ) as exc:  # the evaluator's InputError, NoVersionError, AmbiguousError
            raise click.UsageError(str(exc)) from None

    if cases is not None:
        _eval_cases(cases, run, as_of)
        return
    values: dict[str, str | None] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep:
            raise click.UsageError(f"{item!r} is not NAME=VALUE")
        values[name.strip()] = text
    result = run(values, as_of)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    outputs = result["outputs"]
    for row in outputs if isinstance(outputs, list) else [outputs]:
        click.echo(", ".join(f"{k} = {v!r}" for k, v in row.items()))
    if isinstance(outputs, list) and not outputs:
        click.echo("(no rule matched and there is no Default)")
    click.echo(f"matched: {', '.join(result['matched']) or '(none)'}")


def _eval_cases(
    cases: Path,
    run: Callable[[dict[str, str | None], str | None], dict[str, Any]],
    as_of: str | None,
) -> None:
    failed = 0
    with cases.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            values = {
                k.strip(): v
                for k, v in row.items()
                if k is not None and k.strip() != "as_of"
            }
            when = (row.get("as_of") or "").strip() or as_of
            try:
                line: dict[str, Any] = run(values, when)
            except click.UsageError as exc:
                failed += 1
                line = {"row": number, "error": exc.message}
            click.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        click.echo(f"{cases}: {failed} row(s) could not be evaluated", err=True)
        sys.exit(Exit.USAGE)


@main.command("run")
@folders
@click.argument("table")
@click.option(
    "--input",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="A Parquet or CSV file (.parquet, .csv) with one column per input.",
)
@click.option(
    "--output",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the inputs, outputs and matched rules (.parquet or .csv; "
    "with --engine dask a folder of Parquet parts).",
)
@click.option(
    "--errors",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CSV file of rejected rows. Default: beside OUTPUT, with .errors.csv "
    "for its extension (decisions.parquet: decisions.errors.csv).",
)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="One evaluation date (ISO) for every row."
)
@click.option(
    "--as-of-column",
    metavar="NAME",
    help="The column holding each row's evaluation date (default: as_of, if present).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Rows evaluated at a time (memory grows with it).",
)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask"]),
    default="pandas",
    show_default=True,
    help="pandas: in this process; dask: on a Dask cluster "
    "(pip install 'compile-rules[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the cluster's scheduler, e.g. tcp://host:8786 "
    "(default: a local cluster, one worker per core).",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    help="With --engine dask: split the input into this many partitions.",
)
@guarded
def run_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    source: Path,
    target: Path,
    errors: Path | None,
    as_of: str | None,
    as_of_column: str | None,
    chunk_size: int,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Evaluate TABLE on every row of a Parquet or CSV file, in chunks; write the
    inputs with the outputs and matched rules. Rows whose values TABLE cannot take
    go to the errors file (row, column, value, message); the others still run.
    Exit 4 when rows were rejected."""
    from compiler import batch

    if engine != "dask" and (scheduler or partitions):
        raise click.UsageError("--scheduler and --partitions need --engine dask")
    project, files = _compiled_table(tables, table)
    errors = errors or target.with_name(f"{target.stem}.errors.csv")
    try:
        batch.file_format(target, "--output")
        if len({p.resolve() for p in (source, target, errors)}) < 3:
            raise batch.RunError(
                "--input, --output and --errors must be three different paths",
                usage=True,
            )
        opened = batch.Source.open(source)
        plan = batch.make_plan(
            project,
            files,
            table,
            opened.schema,
            as_of=as_of,
            as_of_column=as_of_column,
            text=target.suffix.lower() == ".csv",
            cells=opened.format == "csv",
        )
        for note in plan.notes:
            click.secho(f"{source}: warning: {note}", fg="yellow", err=True)
        if engine == "dask":
            summary = batch.run_dask(
                plan,
                opened,
                target,
                errors,
                scheduler=scheduler,
                partitions=partitions,
            )
        else:
            with _progress(quiet, "deciding") as advance:
                summary = batch.run_local(
                    plan,
                    opened,
                    target,
                    errors,
                    chunk_rows=chunk_size,
                    progress=advance,
                )
    except batch.RunError as exc:
        if exc.usage:
            raise click.UsageError(str(exc)) from None
        click.secho(f"error: {exc}; nothing was written", fg="red", err=True)
        sys.exit(Exit.INVALID)
    click.echo(
        run_summary(
            summary.rows, summary.evaluated, summary.rejected, target, summary.errors
        ),
        err=True,
    )
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)


@contextlib.contextmanager
def _progress(quiet: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, when it is a terminal and -q is not given."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bars: list[Any] = []

    def advance(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label=label, file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(done - bars[0].pos)

    try:
        yield advance
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


@main.command("analyse")
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
        names = [d.name for d in project.decisions]
        if table not in names:
            hint = suggest(table, names)
            raise click.UsageError(
                f"no table named {table!r}" + (f"; {hint}" if hint else "")
            )
        versions = project.decision(table).versions
        sheets = {(t.location.path, t.location.sheet) for t in versions}
        diagnostics = tuple(
            d for d in diagnostics if (d.location.path, d.location.sheet) in sheets
        )
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


# -- DMN: import-dmn and export-dmn (see compiler/interop/dmn/__init__.py) -----------------
# Neither takes @folders: import writes one workbook (--into) and export one DMN file
# (--out FILE, where @folders' --out is the generated package's folder).


def _dmn_messages(messages: tuple[dmn.Message, ...], model: str, quiet: bool) -> None:
    for message in messages:
        if quiet and message.severity == "warning":
            continue
        colour = "red" if message.severity == "error" else "yellow"
        click.secho(message.format(model), fg=colour, err=True)


@main.command("import-dmn")
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


@main.command("export-dmn")
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
    """Write TABLEs (default: all), with the tables they require, as DMN 1.5."""
    project, diagnostics = load_tables(tables)
    report = Report(diagnostics=diagnostics, quiet=quiet)
    report.print_diagnostics()
    if project is None or has_errors(diagnostics):
        click.echo(report.summary("export"), err=True)
        sys.exit(Exit.INVALID)
    known = [d.name for d in project.decisions]
    for name in names:
        if name not in known:
            hint = suggest(name, known)
            raise click.UsageError(
                f"no table named {name!r}" + (f"; {hint}" if hint else "")
            )
    exported = dmn.export_dmn(project, names, model_name or out.stem)
    _dmn_messages(exported.messages, str(out), quiet)
    if not exported.tables:
        click.echo(f"no table could be exported; {out} was not written.", err=True)
        sys.exit(Exit.INVALID)
    output.write_atomic(out, exported.xml)
    click.echo(
        f"wrote {out}: {len(exported.tables)} table(s) ({', '.join(exported.tables)})",
        err=True,
    )


# -- authoring: lint, show, diff, new, watch, report ---------------------------------
# The logic lives in annotate, diff, template, watch and html_report; these are the
# Click wrappers (imports are local so that `compile-rules --help` stays fast).


@main.command("lint")
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
    report = Report(diagnostics=diagnostics, quiet=quiet)
    if project is not None:
        report.checked = tuple(
            [t.location for d in project.decisions for t in d.versions]
            + [s.location for s in project.suites]
        )
    report.print_diagnostics()
    if annotate_dir is not None:
        try:
            copies = annotate.annotate(tables, annotate_dir, diagnostics)
        except ValueError as exc:
            raise click.UsageError(f"--annotate {annotate_dir}: {exc}") from None
        for copy in copies:
            click.echo(f"wrote {copy.copy} ({copy.problems} problem(s))", err=True)
    click.echo(report.counts(), err=True)
    sys.exit(report.exit_code)


@main.command("show")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@guarded
def show_command(files: tuple[Path, ...]) -> None:
    """Print each workbook's sheets as text, one line per row (for `git diff`: see
    the README's textconv set-up)."""
    from compiler.authoring.diff import show_file
    from compiler.diagnostics import Diagnostic

    failed = False
    for file in files:
        text = show_file(file)
        if isinstance(text, Diagnostic):
            click.echo(f"{file}: {text.message}", err=True)
            failed = True
            continue
        click.echo(text, nl=False)
    if failed:
        sys.exit(Exit.INVALID)


@main.command("diff")
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


@main.command("new")
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
    import shutil
    import tempfile

    from compiler.authoring import new_table
    from compiler.pipeline import load_tables

    target = into or tables / f"{name}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise click.UsageError(f"--into {target}: the workbook must be an .xlsx file")
    for lock in (f"~${target.name}", f".~lock.{target.name}#"):
        if (target.parent / lock).exists():
            raise click.UsageError(
                f"{target} is open in a spreadsheet application ({lock} exists); "
                "close it first"
            )
    if tables.is_dir():
        project, _ = load_tables(tables)
        if project is not None and name in [d.name for d in project.decisions]:
            where = project.decision(name).first.location
            raise click.UsageError(f"a table named {name!r} already exists at {where}")
    try:
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
    with tempfile.TemporaryDirectory(prefix="compile-rules-new-") as tmp:
        folder = Path(tmp) / "tables"
        folder.mkdir()
        shutil.copy2(target, folder / target.name)
        _, diagnostics = load_tables(folder)
    problems = [d for d in diagnostics if d.code != "I001"]
    Report(diagnostics=tuple(problems), quiet=quiet).print_diagnostics()
    if has_errors(problems):
        sys.exit(Exit.INVALID)


@main.command("watch")
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
    changed outputs are written. Ctrl-C stops."""
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


@main.command("report")
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
