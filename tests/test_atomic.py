"""Output is all or nothing: the generated folder is swapped in whole, a compile killed
at any moment leaves it entirely old or entirely new, files the compiler does not
manage survive, and two compiles at once are serialised by a lock.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from compiler.emitting import output
from compiler.emitting.codegen import GENERATED_MARKER
from compiler.pipeline import compile_tables

from .helpers import write_tables
from .workbooks import Row, decision_table, tests_sheet

MARK = f"{GENERATED_MARKER}: test\n"


def book(version: str, tables: int) -> dict[str, dict[str, list[Row]]]:
    """TABLES tables with a Tests sheet each; VERSION changes every output, and the
    last table's name, so that a recompile changes, adds and removes files."""
    books: dict[str, dict[str, list[Row]]] = {}
    for i in range(tables):
        name = f"t{i}_{version}" if i == tables - 1 else f"t{i}"
        books[f"book{i}.xlsx"] = {
            "Table": decision_table(
                name,
                [("age", "input", "integer", None), ("band", "output", "string", None)],
                [
                    ("R1", "< 18", f"child {version}"),
                    ("R2", ">= 18", f"adult {version}"),
                ],
            ),
            "Tests": tests_sheet(
                name,
                [("age", "input"), ("band", "expected")],
                [("T1", 3, f"child {version}"), ("T2", 40, f"adult {version}")],
            ),
        }
    return books


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below FOLDER (bytecode caches aside), by relative path."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def generated(tables: Path) -> dict[str, str]:
    compilation = compile_tables(tables)
    assert compilation.files is not None, [d.format() for d in compilation.diagnostics]
    return compilation.files


def user_files(out: Path) -> None:
    """What an author may keep in the output folder: none of it is the compiler's."""
    (out / "NOTES.txt").write_text("mine\n")
    (out / "conftest.py").write_text("# my own conftest, no marker\n")
    (out / "extra").mkdir()
    (out / "extra" / "data.csv").write_text("a,b\n")
    (out / "empty").mkdir()
    (out / "link").symlink_to("NOTES.txt")


# -- plan and apply ------------------------------------------------------------------


def test_the_managed_files_are_those_a_walk_of_the_folder_finds(
    tmp_path: Path,
) -> None:
    """Which files are the compiler's, and their text: regular files (and links to
    them) with the marker, read with universal newlines; nothing in __pycache__ or
    behind a link to a folder, no other kind of file, no text that is not UTF-8."""
    out = tmp_path / "generated"
    (out / "sub").mkdir(parents=True)
    (out / "a.py").write_bytes(MARK.encode() + b"A = 1\r\n")
    (out / "sub" / "b.md").write_text(MARK + "# b\n")
    (out / "mine.py").write_text("# my own module\n")
    (out / "notes.txt").write_text(MARK)  # not a kind of file the compiler writes
    (out / "bad.py").write_bytes(MARK.encode() + b"\xff\n")
    (out / "__pycache__").mkdir()
    (out / "__pycache__" / "c.py").write_text(MARK)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "d.py").write_text(MARK)
    (out / "linked").symlink_to(elsewhere, target_is_directory=True)
    (out / "e.py").symlink_to(elsewhere / "d.py")
    os.mkfifo(out / "f.py")  # never opened: it would block
    assert output.managed_files(out) == {
        "a.py": MARK + "A = 1\n",
        "e.py": MARK,
        "sub/b.md": MARK + "# b\n",
    }


def test_apply_replaces_managed_files_and_keeps_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    out.mkdir()
    user_files(out)
    (out / "old_table.py").write_text(MARK + "x = 1\n")  # orphaned: removed
    (out / "tests").mkdir()
    (out / "tests" / "test_old.py").write_text(MARK)
    (out / "__pycache__").mkdir()
    (out / "__pycache__" / "old_table.cpython-311.pyc").write_bytes(b"stale")
    files = {"a.py": MARK + "A = 1\n", "sub/b.py": MARK + "B = 2\n"}
    change = output.plan(out, files)
    assert change.orphaned == ("old_table.py", "tests/test_old.py")
    before = out.stat().st_ino
    output.apply(out, change)
    assert out.stat().st_ino != before  # swapped, not edited in place
    assert snapshot(out) == {
        "NOTES.txt": b"mine\n",
        "a.py": files["a.py"].encode(),
        "conftest.py": b"# my own conftest, no marker\n",
        "extra/data.csv": b"a,b\n",
        "link": b"mine\n",
        "sub/b.py": files["sub/b.py"].encode(),
    }
    assert (out / "link").is_symlink() and (out / "empty").is_dir()
    assert not (out / "tests").exists() and not (out / "__pycache__").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".generated.lock",
        "generated",
    ]
    assert not output.plan(out, files).stale


def test_new_files_get_the_usual_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        out = tmp_path / "generated"
        output.apply(out, output.plan(out, {"a.py": MARK}))
        output.write_atomic(tmp_path / "model.dmn", "<x/>")
    finally:
        os.umask(umask)
    assert (out / "a.py").stat().st_mode & 0o777 == 0o644
    assert out.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "model.dmn").stat().st_mode & 0o777 == 0o644


def test_no_write_when_nothing_changed(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    files = {"a.py": MARK}
    output.apply(out, output.plan(out, files))
    inode, mtime = out.stat().st_ino, (out / "a.py").stat().st_mtime_ns
    output.apply(out, output.plan(out, files))
    assert (out.stat().st_ino, (out / "a.py").stat().st_mtime_ns) == (inode, mtime)


def test_a_symlinked_output_folder_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    out = tmp_path / "generated"
    out.symlink_to(real)
    output.apply(out, output.plan(out, {"a.py": MARK}))
    assert out.is_symlink() and (real / "a.py").read_text() == MARK


def test_the_swap_is_one_renameat2_exchange(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    if not output._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert (b / "x").read_text() == "a" and not (a / "x").exists()


def test_fallback_swap_and_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without RENAME_EXCHANGE two renames swap the folder; a kill between them leaves
    the old tree at `.<name>.previous`, which the next run puts back first."""
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    out = tmp_path / "generated"
    output.apply(out, output.plan(out, {"a.py": MARK + "old\n"}))
    (out / "NOTES.txt").write_text("mine\n")
    old = snapshot(out)
    # The state a kill between the two renames leaves, plus a half-built tree.
    out.rename(tmp_path / ".generated.previous")
    (tmp_path / ".generated.compile-dead").mkdir()
    (tmp_path / ".generated.compile-dead" / "a.py").write_text("half")
    output.recover(out)
    assert snapshot(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".generated.lock",
        "generated",
    ]
    output.apply(out, output.plan(out, {"a.py": MARK + "new\n"}))
    assert snapshot(out) == {"NOTES.txt": b"mine\n", "a.py": (MARK + "new\n").encode()}


def test_plan_during_a_crashed_fallback_swap_still_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "generated"
    files = {"a.py": MARK}
    output.apply(out, output.plan(out, files))
    out.rename(tmp_path / ".generated.previous")
    change = output.plan(out, files)  # the folder is missing: all new
    assert change.new == ("a.py",)
    output.apply(out, change)  # recovers the old tree, which is already current
    assert snapshot(out) == {"a.py": MARK.encode()}
    assert not (tmp_path / ".generated.previous").exists()


# -- the lock ---------------------------------------------------------------------------


def test_a_second_compile_waits_for_the_lock_then_gives_up(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    with output.locked(out, timeout=1):
        with pytest.raises(output.Busy, match="another compile-rules is still writing"):
            output.apply(out, output.plan(out, {"a.py": MARK}), timeout=0.2)
    assert not out.exists()
    output.apply(out, output.plan(out, {"a.py": MARK}), timeout=0.2)
    assert (out / "a.py").read_text() == MARK


def test_cli_waits_for_a_running_compile(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, book("a", 1))
    out = tmp_path / "generated"
    with output.locked(out, timeout=1):
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "compiler",
                "compile",
                "--tables",
                str(tables),
                "--out",
                str(out),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert run.stderr is not None
        first = run.stderr.readline()
        while "waiting" not in first and run.poll() is None:
            first = run.stderr.readline()
        assert "waiting for another compile-rules to finish writing" in first
        assert run.poll() is None and not out.exists()
    assert run.wait(timeout=120) == 0, run.stderr.read()
    assert (out / "t0_a.py").exists()


def test_cli_says_when_the_lock_stays_taken(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, book("a", 1))
    out = tmp_path / "generated"
    with output.locked(out, timeout=1):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "compiler",
                "compile",
                "--tables",
                str(tables),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "COMPILE_RULES_LOCK_TIMEOUT": "0.3"},
        )
    assert done.returncode == 3
    assert "another compile-rules is still writing" in done.stderr
    assert "nothing was written" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


# -- killed compiles ----------------------------------------------------------------------

FILESYSTEM_CALLS = (
    "open",
    "mkdir",
    "link",
    "symlink",
    "rename",
    "unlink",
    "rmdir",
    "fsync",
)


def _apply_killed_at(step: int, out: Path, files: dict[str, str]) -> bool:
    """Apply FILES to OUT in a forked child that SIGKILLs itself just before its
    STEP-th file-system call (or the folder swap); True if it ran to the end."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            calls = 0

            def counted(function: Any) -> Any:
                def call(*args: Any, **kwargs: Any) -> Any:
                    nonlocal calls
                    calls += 1
                    if calls == step:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return function(*args, **kwargs)

                return call

            for name in FILESYSTEM_CALLS:
                setattr(os, name, counted(getattr(os, name)))
            setattr(output, "_exchange", counted(output._exchange))  # noqa: B010
            output.apply(out, output.plan(out, files))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status)


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "two-renames"])
def test_killed_at_every_step_leaves_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: bool
) -> None:
    """Kill an apply before each of its file-system calls in turn: the folder always
    equals the old or the new set of files, and the next run completes it."""
    if fallback:
        monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    files = {
        "old": {"a.py": MARK + "A = 1\n", "tests/test_a.py": MARK, "gone.py": MARK},
        "new": {
            "a.py": MARK + "A = 2\n",
            "tests/test_a.py": MARK + "#\n",
            "b.py": MARK,
        },
    }
    out = tmp_path / "generated"
    output.apply(out, output.plan(out, files["old"]))
    user_files(out)
    states = {"old": snapshot(out)}
    output.apply(out, output.plan(out, files["new"]))
    states["new"] = snapshot(out)
    seen = {"old": 0, "new": 0}
    for target in ("old", "new"):
        step = 1
        while not _apply_killed_at(step, out, files[target]):
            if fallback and not out.exists():
                # Cut between the two renames: the next run puts the old tree back
                # before anything else (on Linux, the exchange has no such moment).
                output.recover(out)
            _assert_old_or_new(out, states, seen)
            output.apply(
                out, output.plan(out, files["new" if target == "old" else "old"])
            )
            step += 1
        assert snapshot(out) == states[target]
        assert step > 10  # every step was tried, up to a complete run
    assert seen["old"] and seen["new"]


def _kill_after(command: list[str], delay: float, cwd: Path) -> int:
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    return process.wait()


def _assert_old_or_new(
    out: Path, states: dict[str, dict[str, bytes]], seen: dict[str, int]
) -> None:
    now = snapshot(out)
    match = [name for name, state in states.items() if state == now]
    assert match, f"half-written folder: {sorted(now)}"
    seen[match[0]] += 1


def test_killed_compile_leaves_old_or_new(tmp_path: Path) -> None:
    """The same through the command line: `compile-rules compile` killed at random
    moments between start and end."""
    rng = random.Random(7)
    out = tmp_path / "generated"
    old_tables = write_tables(tmp_path / "old", book("a", 12))
    new_tables = write_tables(tmp_path / "new", book("b", 12))
    states: dict[str, dict[str, bytes]] = {}
    for name, tables in (("old", old_tables), ("new", new_tables)):
        shutil_out = tmp_path / f"out-{name}"
        output.apply(shutil_out, output.plan(shutil_out, generated(tables)))
        states[name] = snapshot(shutil_out)

    def command(tables: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "compiler",
            "compile",
            "-q",
            "--tables",
            str(tables),
            "--out",
            str(out),
        ]

    started = time.perf_counter()
    subprocess.run(command(old_tables), check=True, capture_output=True)
    full = time.perf_counter() - started
    seen = {"old": 0, "new": 0}
    tables = old_tables
    for _ in range(6):
        tables = new_tables if tables == old_tables else old_tables
        _kill_after(command(tables), rng.uniform(full * 0.5, full * 1.1), tmp_path)
        _assert_old_or_new(out, states, seen)
    subprocess.run(command(new_tables), check=True, capture_output=True)
    assert snapshot(out) == states["new"]


def test_the_working_directory_is_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out .`: swapping the folder the process stands in would leave it in the
    deleted old tree, so the files are replaced one by one (each atomically)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.txt").write_text("mine\n")
    output.apply(Path("."), output.plan(Path("."), {"a.py": MARK}))
    inode = tmp_path.stat().st_ino
    output.apply(
        Path("."), output.plan(Path("."), {"a.py": MARK + "#\n", "b.py": MARK})
    )
    assert tmp_path.stat().st_ino == inode and Path.cwd() == tmp_path
    assert snapshot(tmp_path) == {
        "a.py": (MARK + "#\n").encode(),
        "b.py": MARK.encode(),
        "mine.txt": b"mine\n",
    }
