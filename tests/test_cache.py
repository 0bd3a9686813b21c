"""The compile cache (compiler/cache.py): `check`, `compile` and `eval` reuse a
compilation exactly when the workbooks' bytes and the compiler are the same; a
corrupt entry is ignored; `COMPILE_RULES_CACHE` moves or disables it."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler import cache, pipeline
from compiler.cli import main

from .helpers import write_tables
from .workbooks import Row, decision_table

AGE = ("age", "input", "integer", "[0..130]")


def _book(child: str, entry: str = "< 18") -> dict[str, list[Row]]:
    return {
        "Bands": decision_table(
            "age_band",
            [AGE, ("band", "output", "string", None)],
            [("R1", entry, child), ("R2", "-", "adult")],
            hit_policy="FIRST",
        )
    }


def _run(tables: Path, *args: str, code: int = 0) -> Result:
    command, *rest = args
    out = tables.parent / "generated"
    result = CliRunner().invoke(
        main, [command, "--tables", str(tables), "--out", str(out), *rest]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, result.output
    return result


def _stored(book: Path) -> None:
    """BOOK rewritten without compression, with fixed member dates: an edit that
    keeps the length of the text keeps the size of the file."""
    with zipfile.ZipFile(book) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_STORED) as target:
        for name, data in members:
            target.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)


def _entries() -> list[Path]:
    return sorted(Path(os.environ[cache.ENV]).glob("*.pickle"))


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the compilation")

    monkeypatch.setattr(pipeline, "compile_tables", fail)


def test_unchanged_tables_come_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "compile")
    assert len(_entries()) == 1
    _no_compiling(monkeypatch)
    assert "current" in _run(tables, "check").stderr
    assert "already current" in _run(tables, "compile").stderr
    result = _run(tables, "eval", "age_band", "age=3")
    assert "band = 'child'" in result.stdout
    assert "R1" in _run(tables, "explain", "age_band", "age=3").stdout


def test_check_notices_an_edit_of_the_same_size_in_the_same_second(
    tmp_path: Path,
) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    book = tables / "rules.xlsx"
    _stored(book)
    _run(tables, "compile")
    before = book.stat()
    write_tables(tmp_path, {"rules.xlsx": _book("chile")})  # same length of text
    _stored(book)
    os.utime(book, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = book.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    result = _run(tables, "check", "--diff", code=1)
    assert "age_band.py" in result.stderr
    assert '+    Result(Outputs("chile")' in result.stdout.replace("'", '"')
    assert "band = 'chile'" in _run(tables, "eval", "age_band", "age=3").stdout


def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "compile")
    (entry,) = _entries()
    for damaged in (b"", b"not a pickle", entry.read_bytes()[:100]):
        entry.write_bytes(damaged)
        assert "current" in _run(tables, "check").stderr
        key, compiled = pickle.loads(entry.read_bytes())  # written anew, whole
        assert key == entry.stem and isinstance(compiled, cache.Compiled)
    entry.write_bytes(pickle.dumps(("another key", compiled)))
    assert "current" in _run(tables, "check").stderr
    assert pickle.loads(entry.read_bytes())[0] == entry.stem


def test_errors_are_cached_too_and_reported_the_same(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child", "<< 18")})
    first = _run(tables, "check", code=3)
    assert "tables/rules.xlsx:Bands!B" in first.stderr
    assert _run(tables, "check", code=3).stderr == first.stderr
    assert len(_entries()) == 1


def test_the_compiler_and_the_date_are_in_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "check", code=1)
    monkeypatch.setattr(cache, "compiler_fingerprint", lambda: b"another compiler")
    _run(tables, "check", code=1)
    assert len(_entries()) == 2
    fingerprint = cache.compiler_fingerprint
    monkeypatch.undo()
    monkeypatch.setenv(cache.ENV, os.environ[cache.ENV])
    assert fingerprint() != cache.compiler_fingerprint()


def test_the_fingerprint_covers_every_file_of_the_compiler(tmp_path: Path) -> None:
    package = Path(cache.__file__).parent
    copy = tmp_path / "compiler"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert cache.fingerprint(copy) == cache.compiler_fingerprint()
    template = copy / "emitting" / "templates" / "table.py.j2"
    template.write_bytes(template.read_bytes() + b"\n")
    assert cache.fingerprint(copy) != cache.compiler_fingerprint()
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"bytecode is not the compiler")
    template.write_bytes((package / "emitting/templates/table.py.j2").read_bytes())
    assert cache.fingerprint(copy) == cache.compiler_fingerprint()


@pytest.mark.parametrize("value", ["off", "0", ""])
def test_the_cache_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(cache.ENV, value)
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "compile")
    assert cache.folder() is None
    assert not list(tmp_path.rglob("*.pickle"))


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(cache.ENV, str(blocked / "cache"))
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "compile")
    assert "current" in _run(tables, "check").stderr


def test_the_default_folder_is_the_users_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert cache.folder() == Path("/somewhere/compile-rules")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.folder() == Path.home() / ".cache" / "compile-rules"


def test_old_entries_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "_KEPT", 2)
    for n, word in enumerate(("aa", "bb", "cc")):
        tables = write_tables(tmp_path / str(n), {"rules.xlsx": _book(word)})
        _run(tables, "check", code=1)
    assert len(_entries()) == 2


_HEAVY = ("pandas", "numpy", "openpyxl", "jinja2", "compiler.pipeline")
# Besides, what `check` and `compile` do not need to compare a cached compilation
# with the output folder: the model (and the runtime it imports), the evaluator's
# loader, the other commands' modules, and what only writing or --diff uses.
_NOT_FOR_CHECK = (
    "compiler.model",
    "compiler.emitting.runtime._runtime",
    "compiler.emitting.loader",
    "compiler.emitting.markdown",
    "compiler.cli.decide",
    "compiler.cli.batch",
    "compiler.cli.analysis",
    "compiler.cli.authoring",
    "compiler.cli.dmn",
    "compiler.cli.serve",
    "ctypes",
    "difflib",
    "shutil",
    "tempfile",
    "traceback",
)
# `eval` needs the model and the loader, not the other commands nor the writer.
_NOT_FOR_EVAL = (
    "compiler.cli.build",
    "compiler.cli.batch",
    "compiler.cli.analysis",
    "compiler.cli.authoring",
    "compiler.cli.dmn",
    "compiler.cli.serve",
    "compiler.emitting.output",
    "compiler.reading.sheets",
)
_PROBE = """
import sys
from compiler.cli import main
try:
    main(sys.argv[1:], prog_name="compile-rules")
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print(",".join(heavy))
"""


@pytest.mark.parametrize(
    ("command", "heavy"),
    [
        (("check",), _HEAVY + _NOT_FOR_CHECK),
        (("compile",), _HEAVY + _NOT_FOR_CHECK),
        (("eval", "age_band", "age=3"), _HEAVY + _NOT_FOR_EVAL),
        # it prints the package's own Explanation: not the compiler's copy
        (
            ("explain", "age_band", "age=3"),
            (*_HEAVY, *_NOT_FOR_EVAL, "compiler.emitting.runtime._explain"),
        ),
    ],
)
def test_a_cached_compilation_loads_neither_the_reader_nor_pandas(
    tmp_path: Path, command: tuple[str, ...], heavy: tuple[str, ...]
) -> None:
    tables = write_tables(tmp_path, {"rules.xlsx": _book("child")})
    _run(tables, "compile")
    name, *rest = command
    folders = ["--tables", str(tables), "--out", str(tmp_path / "generated")]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=heavy), name, *folders, *rest],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert done.stdout.splitlines()[-1] == "", done.stdout
