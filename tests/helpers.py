"""Compile fixture workbooks written to a temporary folder, and look at the results.

The folder is always named `tables`, so locations read `tables/x.xlsx:Sheet!C7` as
an author sees them.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.authoring import watch
from compiler.cli import main
from compiler.diagnostics import Diagnostic, Severity
from compiler.emitting.loader import load_table
from compiler.model import Project
from compiler.pipeline import Compilation, compile_tables, load_tables

from .workbooks import Row, write_workbook

Sheets = dict[str, list[Row]] | list[list[Row]]


def write_tables(root: Path, books: Mapping[str, Sheets]) -> Path:
    """Write BOOKS (file name -> sheets) under ROOT/tables and return that folder."""
    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for name, sheets in books.items():
        write_workbook(tables / name, sheets)
    return tables


def compile_books(root: Path, books: Mapping[str, Sheets]) -> Compilation:
    return compile_tables(write_tables(root, books))


def load_books(
    root: Path, books: Mapping[str, Sheets]
) -> tuple[Project | None, tuple[Diagnostic, ...]]:
    return load_tables(write_tables(root, books))


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def only(diagnostics: Iterable[Diagnostic], code: str) -> Diagnostic:
    """The one diagnostic with CODE (fails listing all of them otherwise)."""
    diagnostics = list(diagnostics)
    found = [d for d in diagnostics if d.code == code]
    shown = "\n".join(d.format() for d in diagnostics)
    assert len(found) == 1, f"expected one {code}, got:\n{shown}"
    return found[0]


def compiled_module(compilation: Compilation, table: str) -> types.ModuleType:
    """The generated evaluator of TABLE, imported from memory."""
    shown = "\n".join(d.format() for d in compilation.diagnostics)
    assert compilation.files is not None, f"compilation failed:\n{shown}"
    return load_table(compilation.files, table)


def evaluator(root: Path, books: Mapping[str, Sheets], table: str) -> types.ModuleType:
    return compiled_module(compile_books(root, books), table)


def watch_one_save(
    monkeypatch: pytest.MonkeyPatch, tables: Path, out: Path, save: Callable[[], Path]
) -> Result:
    """`compile-rules watch` for one cycle: the first run, then SAVE (which writes a
    workbook and returns it) as one change, then Ctrl-C."""

    def one_save(*_args: object, **_kwargs: object) -> Iterator[set[Path]]:
        yield {save()}
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "file_changes", one_save)
    return CliRunner().invoke(
        main, ["watch", "--tables", str(tables), "--out", str(out)]
    )


def run_generated_tests(compilation: Compilation, root: Path) -> str:
    """Write the generated package under ROOT/out and run its tests with pytest;
    their output (the run must pass)."""
    import subprocess
    import sys

    package = write_package(compilation, root)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package)],
        cwd=root / "out",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def write_package(compilation: Compilation, root: Path) -> Path:
    """The generated files written as the package ROOT/out/generated (returned)."""
    assert compilation.files is not None
    package = root / "out" / "generated"
    for name, text in compilation.files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package
