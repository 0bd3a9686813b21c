"""A cache of compilations, for `check`, `compile`, `eval` and `explain`.

Compiling the shipped tables takes about a second, most of it spent reading workbooks
and importing the reader, the analysis and the code generator. The output depends only
on what is hashed into the KEY of an entry:

- the bytes of every workbook under the tables folder, with its path there, and the
  folder's own name (messages and generated code name `tables/x.xlsx`);
- the bytes of every file of the `compiler` package (sources, templates, runtime),
  the Python version and the versions of the packages that shape the output (ruff
  formats it, openpyxl reads the cells, Jinja renders, pandas validates);
- today's date (a Tests case without `as_of` is checked on the version in force today);
- whether the Tests-sheet cases were run (`eval` and `run` do not run them; they
  reuse a compilation whose cases all held, which has the same diagnostics and files).

Modification times are never used: a workbook edited in the same second to the same
size has other bytes, so another key. An entry is the pickled `(key, Compiled)`, read
back only when its key matches (the project and the tables' input columns inside it
are unpickled only by the commands that need them); an entry that cannot be read
(truncated, corrupt, from another version) is ignored and replaced. The folder is
`$COMPILE_RULES_CACHE`, else `$XDG_CACHE_HOME/compile-rules`, else
`~/.cache/compile-rules`; `COMPILE_RULES_CACHE=off` turns the cache off, and deleting
the folder clears it (docs/ci.md). This module imports only the standard
library, the diagnostics and `reading.folder` until an entry is missing: then it
compiles (reading an entry loads neither the model nor the runtime:
tests/test_cache.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import os
import pickle
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.diagnostics import Diagnostic, Location
from compiler.reading.folder import files_below, list_tables

if TYPE_CHECKING:
    from compiler.model import Column, Project
    from compiler.reading.workbook import RawWorkbook

ENV = "COMPILE_RULES_CACHE"
_OFF = {"", "0", "off", "no", "false", "none"}
_FORMAT = b"compile-rules cache 3"  # change when an entry's layout changes
_KEPT = 32  # entries kept; the oldest are removed past that
_PACKAGES = ("ruff", "openpyxl", "jinja2", "pandas", "defusedxml")


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compilation as the commands use it: FILES is None when DIAGNOSTICS hold an
    error; TABLES names the tables `eval` can run (none on errors), and `inputs(table)`
    gives what `eval` parses its arguments with (the inputs a caller passes, and
    whether it takes `as_of`). What only some commands need is kept pickled, so that
    `check` and `compile` do not load the model to read an entry."""

    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, str] | None
    checked: tuple[Location, ...]  # every sheet that was read, for --junit
    tables: tuple[str, ...]
    pickled_inputs: bytes  # table -> (columns, versioned), unpickled by `inputs()`
    pickled_project: bytes  # the Project (or None), unpickled by `project()`

    @classmethod
    def of(
        cls,
        project: Project | None,
        diagnostics: tuple[Diagnostic, ...],
        files: dict[str, str] | None,
    ) -> Compiled:
        checked: tuple[Location, ...] = ()
        inputs: dict[str, tuple[tuple[Column, ...], bool]] = {}
        if project is not None:
            checked = tuple(
                [t.location for d in project.decisions for t in d.versions]
                + [s.location for s in project.suites]
            )
            if files is not None:
                inputs = {
                    d.name: (
                        project.chain_inputs(d.name),
                        project.chain_versioned(d.name),
                    )
                    for d in project.decisions
                }
        return cls(
            diagnostics,
            files,
            checked,
            tuple(inputs),
            pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL),
            pickle.dumps(project, protocol=pickle.HIGHEST_PROTOCOL),
        )

    def inputs(self, table: str) -> tuple[tuple[Column, ...], bool]:
        """The inputs a caller of TABLE (one of `tables`) passes, and whether it
        takes `as_of`."""
        found: dict[str, tuple[tuple[Column, ...], bool]]
        found = pickle.loads(self.pickled_inputs)
        return found[table]

    def project(self) -> Project | None:
        from compiler.model import Project

        project = pickle.loads(self.pickled_project)
        assert project is None or isinstance(project, Project)
        return project


def folder() -> Path | None:
    """Where entries are kept, or None when the cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "compile-rules"


def _versions() -> str:
    """`name=version` of each of _PACKAGES, read from the names of their
    `*.dist-info` folders (importlib.metadata costs more than the whole lookup)."""
    wanted = {name: "-" for name in _PACKAGES}
    pattern = re.compile(r"([A-Za-z0-9_.]+)-([^-]+)\.dist-info")
    for entry in sys.path:
        with contextlib.suppress(OSError):
            for name in os.listdir(entry or "."):
                match = pattern.fullmatch(name)
                if match:
                    project = match[1].lower().replace("_", "-").replace(".", "-")
                    if wanted.get(project) == "-":
                        wanted[project] = match[2]
    return ",".join(f"{k}={v}" for k, v in wanted.items())


@functools.cache
def compiler_fingerprint() -> bytes:
    """A hash of everything about the compiler that can change its output."""
    return fingerprint(Path(__file__).parent)


def fingerprint(package: Path) -> bytes:
    """A hash of the Python version, the versions of _PACKAGES and the bytes of every
    file of PACKAGE (bytecode aside)."""
    digest = hashlib.sha256(_FORMAT)
    digest.update(f"\0{sys.version}\0{_versions()}\0".encode())
    for name, path in files_below(package):
        with open(path, "rb") as handle:
            data = handle.read()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.digest()


def _key(
    tables: Path, contents: dict[Path, bytes], formatted: bool, cases: bool
) -> str:
    digest = hashlib.sha256(compiler_fingerprint())
    digest.update(dt.date.today().isoformat().encode())
    digest.update(f"\0{formatted}\0{cases}\0{tables.resolve().name}\0".encode())
    for file, data in contents.items():
        name = file.relative_to(tables).as_posix()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def compile_tables(
    tables: Path, *, formatted: bool = True, cases: bool = True
) -> Compiled:
    """What `pipeline.compile_tables(TABLES)` gives (CASES: the Tests-sheet cases are
    run), from the cache when an entry has the same key, else compiled (from the very
    bytes that were hashed) and stored."""
    where = folder()
    if where is None or not tables.is_dir():
        return _compile(tables, formatted, cases, None)
    contents: dict[Path, bytes] = {}
    listing = list_tables(tables)
    if listing.unreadable:  # the reader says which folder; never cached
        return _compile(tables, formatted, cases, None)
    for file in listing.workbooks:
        if not file.is_file():  # a pipe is never read here (it could block): the
            return _compile(tables, formatted, cases, None)  # reader says why
        try:
            contents[file] = file.read_bytes()
        except OSError:  # the reader says why, in a diagnostic; never cached
            return _compile(tables, formatted, cases, None)
    key = _key(tables, contents, formatted, cases)
    entry = where / f"{key}.pickle"
    found = _load(entry, key)
    if found is not None:
        return found
    if not cases:  # a compilation whose cases all held is the same without them
        other = _key(tables, contents, formatted, True)
        found = _load(where / f"{other}.pickle", other)
        if found is not None and found.files is not None:
            return found
    compiled = _compile(tables, formatted, cases, contents)
    _store(where, entry, key, compiled)
    return compiled


def _compile(
    tables: Path, formatted: bool, cases: bool, contents: dict[Path, bytes] | None
) -> Compiled:
    from compiler import pipeline
    from compiler.reading import workbook

    def read(file: Path, shown: str) -> RawWorkbook | Diagnostic:
        if contents is None or file not in contents:
            return workbook.read_workbook(file, shown)
        return workbook.read_handle(io.BytesIO(contents[file]), file, shown)

    compilation = pipeline.compile_tables(
        tables, formatted=formatted, read=read, cases=cases
    )
    return Compiled.of(compilation.project, compilation.diagnostics, compilation.files)


def _load(entry: Path, key: str) -> Compiled | None:
    """The entry's compilation, or None when it is missing or cannot be trusted."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        stored_key, compiled = pickle.loads(data)  # a bad entry raises anything
    except Exception:
        return None
    if stored_key != key or not isinstance(compiled, Compiled):
        return None
    return compiled


def _store(where: Path, entry: Path, key: str, compiled: Compiled) -> None:
    """Write ENTRY atomically (a reader sees it whole or not at all); a cache that
    cannot be written is no error, only slower."""
    with contextlib.suppress(OSError, pickle.PicklingError, RecursionError):
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = pickle.dumps((key, compiled), protocol=pickle.HIGHEST_PROTOCOL)
        import tempfile  # here: reading an entry does not need it

        handle, temporary = tempfile.mkstemp(dir=where, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, entry)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(where)


def _prune(where: Path) -> None:
    """Keep the newest entries (by the time they were written: eviction only)."""
    entries = sorted(
        where.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True
    )
    for old in entries[_KEPT:]:
        with contextlib.suppress(OSError):
            old.unlink()
