"""`run` and `impact`: decide every row of a data file with the generated evaluator,
compiled in memory (by one version of the tables, or by two)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compiler.cli.options import compiled, folders, guarded, known_table, progress
from compiler.report import Exit, run_summary

if TYPE_CHECKING:
    from compiler.model import Project


def _compiled_table(tables: Path, table: str) -> tuple[Project, dict[str, str]]:
    """The tables compiled in memory (so `run` and `impact` always run exactly the code
    `compile` writes), once TABLE is known to be one of them; exit 3 on errors. The
    Tests-sheet cases are not run: these commands show what the tables decide, also
    while a case fails (to see why)."""
    compilation, files, _ = compiled(tables, True, "compile", cases=False)
    known_table(table, list(compilation.tables))
    project = compilation.project()
    assert project is not None  # there are files: the tables compiled
    return project, files


def _batch_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options `run` and `impact` share: the files, dates, chunks, engine."""
    options = [
        click.option(
            "--input",
            "source",
            required=True,
            type=click.Path(path_type=Path),
            help="A Parquet or CSV file (.parquet, .csv) with one column per input.",
        ),
        click.option(
            "--output",
            "target",
            required=True,
            type=click.Path(path_type=Path),
            help="Where to write the rows (.parquet or .csv; with --engine dask or "
            "spark a folder of Parquet parts).",
        ),
        click.option(
            "--errors",
            type=click.Path(dir_okay=False, path_type=Path),
            help="The CSV file of rejected rows. Default: beside OUTPUT, with "
            ".errors.csv for its extension (decisions.parquet: decisions.errors.csv).",
        ),
        click.option(
            "--as-of",
            "as_of",
            metavar="DATE",
            help="One evaluation date (ISO) for every row.",
        ),
        click.option(
            "--as-of-column",
            metavar="NAME",
            help="The column holding each row's evaluation date (default: as_of, "
            "if present).",
        ),
        click.option(
            "--chunk-size",
            type=click.IntRange(min=1),
            default=250_000,
            show_default=True,
            help="Rows evaluated at a time (memory grows with it).",
        ),
        click.option(
            "--engine",
            type=click.Choice(["pandas", "dask", "spark"]),
            default="pandas",
            show_default=True,
            help="pandas: in this process; dask: on a Dask cluster (the dask extra: "
            "pip install -e '.[dask]'); spark: on Spark (the spark extra, and Java).",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --engine dask: the cluster's scheduler, e.g. tcp://host:8786 "
            "(default: a local cluster, one worker per core).",
        ),
        click.option(
            "--master",
            metavar="URL",
            help="With --engine spark: the cluster's master, e.g. spark://host:7077 "
            "or yarn (default: local mode, local[*]).",
        ),
        click.option(
            "--partitions",
            type=click.IntRange(min=1),
            help="With --engine dask or spark: split the input into this many "
            "partitions.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class _Batch:
    """What `run` and `impact` were asked to read, write and run on."""

    source: Path
    target: Path
    errors: Path | None
    as_of: str | None
    as_of_column: str | None
    chunk_size: int
    engine: str
    scheduler: str | None
    master: str | None
    partitions: int | None

    def check(self) -> tuple[Path, Any]:
        """The errors file's path and the opened input (usage errors first)."""
        from compiler import batch

        if self.engine != "dask" and self.scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        if self.engine != "spark" and self.master:
            raise click.UsageError("--master needs --engine spark")
        if self.engine == "pandas" and self.partitions:
            raise click.UsageError("--partitions needs --engine dask or spark")
        target = self.target
        errors = self.errors or target.with_name(f"{target.stem}.errors.csv")
        batch.file_format(target, "--output")
        if len({p.resolve() for p in (self.source, target, errors)}) < 3:
            raise batch.RunError(
                "--input, --output and --errors must be three different paths",
                usage=True,
            )
        return errors, batch.Source.open(self.source)

    def plan(
        self, project: Project, files: dict[str, str], table: str, opened: Any
    ) -> Any:
        from compiler import batch

        return batch.make_plan(
            project,
            files,
            table,
            opened.schema,
            as_of=self.as_of,
            as_of_column=self.as_of_column,
            text=self.target.suffix.lower() == ".csv",
            cells=opened.format == "csv",
        )

    def run(self, plan: Any, opened: Any, errors: Path, quiet: bool) -> Any:
        """PLAN (a plan or an impact) over the input on the chosen engine."""
        from compiler import batch

        if self.engine == "spark":
            return batch.run_spark(
                plan,
                opened,
                self.target,
                errors,
                master=self.master,
                partitions=self.partitions,
                chunk_rows=self.chunk_size,
            )
        if self.engine == "dask":
            return batch.run_dask(
                plan,
                opened,
                self.target,
                errors,
                scheduler=self.scheduler,
                partitions=self.partitions,
            )
        batch.reuse_memory()
        with progress(quiet, "deciding") as advance:
            return batch.run_local(
                plan,
                opened,
                self.target,
                errors,
                chunk_rows=self.chunk_size,
                progress=advance,
            )


@contextlib.contextmanager
def _run_errors() -> Iterator[None]:
    """A RunError as the command's error: usage (exit 2), else exit 3."""
    from compiler import batch

    try:
        yield
    except batch.RunError as exc:
        if exc.usage:
            raise click.UsageError(str(exc)) from None
        click.secho(f"error: {exc}; nothing was written", fg="red", err=True)
        sys.exit(Exit.INVALID)


@click.command("run")
@folders
@click.argument("table")
@_batch_options
@guarded
def run_command(
    tables: Path, out: Path, quiet: bool, table: str, **options: Any
) -> None:
    """Evaluate TABLE on every row of a Parquet or CSV file, in chunks; write the
    inputs with the outputs and matched rules. Rows whose values TABLE cannot take
    go to the errors file (row, column, value, message); the others still run.
    Exit 4 when rows were rejected."""
    asked = _Batch(**options)
    project, files = _compiled_table(tables, table)
    with _run_errors():
        errors, opened = asked.check()
        plan = asked.plan(project, files, table, opened)
        for note in plan.notes:
            click.secho(f"{asked.source}: warning: {note}", fg="yellow", err=True)
        summary = asked.run(plan, opened, errors, quiet)
    click.echo(
        run_summary(
            summary.rows, summary.evaluated, summary.rejected, asked.target, errors
        ),
        err=True,
    )
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)


@click.command("impact")
@folders
@click.argument("table")
@click.option(
    "--git",
    "revision",
    metavar="REV",
    help="The old tables: --tables at git revision REV (e.g. HEAD~1, main).",
)
@click.option(
    "--old",
    "old_folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The old tables: a folder of workbooks.",
)
@_batch_options
@guarded
def impact_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    revision: str | None,
    old_folder: Path | None,
    **options: Any,
) -> None:
    """Decide every row of a Parquet or CSV file by the old tables (--git REV or
    --old DIR) and by --tables, and write the rows decided differently: the inputs,
    old_ and new_ of each output, old_matched and new_matched. Prints how many rows
    changed per (old rule, new rule). Rows either version rejects go to the errors
    file. Exit 1 when some row changed, else 4 when rows were rejected, else 0."""
    from compiler.authoring import diff
    from compiler.batch.impact import Impact, rule_pairs

    if (revision is None) == (old_folder is None):
        raise click.UsageError("give the old tables: --git REV or --old DIR")
    asked = _Batch(**options)
    spec = str(old_folder) if old_folder else f"{revision}:{tables.as_posix()}"
    try:
        with diff.materialize(spec) as folder:
            old_project, old_files = _compiled_table(folder, table)
    except diff.SourceError as exc:
        raise click.UsageError(str(exc)) from None
    project, files = _compiled_table(tables, table)
    with _run_errors():
        errors, opened = asked.check()
        impact = Impact(
            asked.plan(old_project, old_files, table, opened),
            asked.plan(project, files, table, opened),
        )
        for side, plan in (("old", impact.old), ("new", impact.new)):
            for note in plan.notes:
                click.secho(
                    f"{asked.source}: warning ({side} tables): {note}",
                    fg="yellow",
                    err=True,
                )
        summary = asked.run(impact, opened, errors, quiet)
    decided = summary.rows - summary.rejected
    click.echo(
        f"{summary.rows:,} row(s) read, {decided:,} decided by both versions, "
        f"{summary.evaluated:,} of them differently; wrote {asked.target}"
        + (
            f" ({summary.rejected:,} rejected: see {errors})"
            if summary.rejected
            else ""
        ),
        err=True,
    )
    pairs = rule_pairs(asked.target) if summary.evaluated else {}
    if pairs:
        click.echo("old rule -> new rule: rows")
        for (old, new), count in sorted(pairs.items(), key=lambda p: (-p[1], p[0])):
            click.echo(f"{old} -> {new}: {count:,}")
    if summary.evaluated:
        sys.exit(Exit.DRIFT)
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)
