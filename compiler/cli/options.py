"""What the commands share: the common options, the error guard, the progress bar,
and compiling with the diagnostics printed."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compiler import cache
from compiler.diagnostics import Diagnostic, Location
from compiler.report import FORMATS, Exit, Report

if TYPE_CHECKING:
    from compiler.model import Project

F = TypeVar("F", bound=Callable[..., Any])


def folders(func: F) -> F:
    """`--tables`, `--out`, `-q`, `-v`, `--format` and `--junit`, which every command
    but `show`, `import-dmn` and `export-dmn` takes."""
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
        "-q",
        "--quiet",
        is_flag=True,
        help="No progress bar, and no infos even with -v.",
    )(func)
    func = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Also show info-level diagnostics (hidden by default).",
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
    """Keep --format, --junit and -v in the context, where `Report` reads them."""
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
                import traceback

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


@contextlib.contextmanager
def progress(quiet: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
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


def printed(
    diagnostics: tuple[Diagnostic, ...],
    project: Project | None,
    quiet: bool,
    *,
    now: bool = True,
    checked: tuple[Location, ...] | None = None,
) -> Report:
    """The report of DIAGNOSTICS, printed unless not NOW (the caller adds to it and
    prints it); its --junit file lists every sheet of PROJECT (or CHECKED), those
    without a problem too."""
    report = Report(diagnostics=diagnostics, quiet=quiet)
    if checked is not None:
        report.checked = checked
    elif project is not None:
        report.checked = tuple(
            [t.location for d in project.decisions for t in d.versions]
            + [s.location for s in project.suites]
        )
    if now:
        report.print_diagnostics()
    return report


def compiled(
    tables: Path, quiet: bool, action: str, *, now: bool = True, cases: bool = True
) -> tuple[cache.Compiled, dict[str, str], Report]:
    """TABLES compiled in memory (their Tests-sheet cases run unless not CASES), with
    the diagnostics printed (unless not NOW: the caller prints the report); on
    errors, they are printed, then the summary of ACTION, and exit 3. From the cache
    when the tables and the compiler are unchanged (`compiler.cache`)."""
    compilation = cache.compile_tables(tables, cases=cases)
    failed = compilation.files is None
    report = printed(
        compilation.diagnostics,
        None,
        quiet,
        now=now or failed,
        checked=compilation.checked,
    )
    if compilation.files is None:
        click.echo(report.summary(action), err=True)
        sys.exit(report.exit_code)
    return compilation, compilation.files, report


def known_table(name: str, names: list[str]) -> None:
    """A usage error (exit 2) unless NAME is one of NAMES; it suggests the nearest."""
    if name not in names:
        from compiler.reading.sheets import suggest  # the reader: only when needed

        hint = suggest(name, names)
        raise click.UsageError(
            f"no table named {name!r}" + (f"; {hint}" if hint else "")
        )
