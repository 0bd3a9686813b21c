"""`compile-rules watch`: the loop is driven by lists of change sets here; one test
uses real file events (watchfiles) with a stop event."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.authoring import watch
from compiler.authoring.watch import Session, is_workbook, watch_loop
from compiler.cli import main

from .helpers import watch_one_save
from .workbooks import decision_table, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def band(limit: int) -> list[list[object]]:
    return decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", f"< {limit}", "child"), ("R2", "-", "adult")],
    )


def flag() -> list[list[object]]:
    return decision_table(
        "flag",
        columns=[("a", "input", "boolean", None), ("b", "output", "boolean", None)],
        rules=[("R1", "-", True)],
    )


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    tables = tmp_path / "tables"
    write_workbook(tables / "band.xlsx", [band(18)])
    write_workbook(tables / "flag.xlsx", [flag()])
    return tables, tmp_path / "generated"


def session(tables: Path, out: Path, lines: list[str], **kwargs: object) -> Session:
    return Session(tables, out, quiet=True, echo=lines.append, **kwargs)  # type: ignore[arg-type]


def test_lock_files_are_not_workbooks() -> None:
    assert is_workbook(Path("t/a.xlsx")) and is_workbook(Path("t/A.XLSX"))
    assert not is_workbook(Path("t/~$a.xlsx"))
    assert not is_workbook(Path("t/.~lock.a.xlsx#"))
    assert not is_workbook(Path("t/a.xlsx.tmp")) and not is_workbook(Path("t/a.csv"))


def test_only_the_changed_workbook_is_read_and_only_changed_files_written(
    folders: tuple[Path, Path],
) -> None:
    tables, out = folders
    lines: list[str] = []
    s = session(tables, out, lines)
    first = s.run()
    assert first.ok and first.reads == 2
    assert {"band.py", "band.md", "flag.py", "_runtime.py"} <= set(first.written)
    flag_before = (out / "flag.py").read_bytes()
    write_workbook(tables / "band.xlsx", [band(16)])
    second = s.run([tables / "band.xlsx"])
    assert second.reads == 1  # flag.xlsx came from the cache
    # the module, its page and its generated examples (the edge moved)
    assert set(second.written) == {"band.py", "band.md", "tests/examples/test_band.py"}
    assert "&lt; 16" in (out / "band.md").read_text()
    assert (out / "flag.py").read_bytes() == flag_before
    assert lines[-1].split("] ", 1)[1].startswith("3 written, 0 removed, ")
    assert "1 workbook read in" in lines[-1]


def test_watch_loop_runs_once_per_relevant_change_set(
    folders: tuple[Path, Path],
) -> None:
    tables, out = folders
    lines: list[str] = []

    def changes() -> Iterator[set[Path]]:
        yield {tables / "~$band.xlsx", tables / ".~lock.band.xlsx#"}  # ignored
        write_workbook(tables / "band.xlsx", [band(12)])
        yield {tables / "band.xlsx", tables / "~$band.xlsx"}
        (tables / "flag.xlsx").unlink()
        yield {tables / "flag.xlsx"}

    runs = watch_loop(session(tables, out, lines), changes())
    assert runs == 3
    assert "&lt; 12" in (out / "band.md").read_text()
    assert not (out / "flag.py").exists() and not (out / "flag.md").exists()
    assert f"removed {out / 'flag.py'}" in lines
    assert sum("] " in line for line in lines) == 3  # one summary per run


def test_a_half_written_workbook_is_read_again(folders: tuple[Path, Path]) -> None:
    tables, out = folders
    lines: list[str] = []
    sleeps: list[float] = []

    def finish_saving(seconds: float) -> None:
        sleeps.append(seconds)
        write_workbook(tables / "band.xlsx", [band(10)])

    s = session(tables, out, lines, sleep=finish_saving, retry_delay=0.25)
    s.run()
    (tables / "band.xlsx").write_bytes(b"PK\x03\x04 half a zip")
    run = s.run([tables / "band.xlsx"])
    assert run.ok and run.attempts == 2 and sleeps == [0.25]
    assert any("cannot be read yet" in line for line in lines)
    assert "&lt; 10" in (out / "band.md").read_text()


def test_a_broken_save_keeps_the_last_good_output(folders: tuple[Path, Path]) -> None:
    tables, out = folders
    lines: list[str] = []
    s = session(tables, out, lines, sleep=lambda _: None, retries=2)
    s.run()
    good = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (tables / "band.xlsx").write_bytes(b"PK\x03\x04 half a zip")
    broken = s.run([tables / "band.xlsx"])
    assert not broken.ok and broken.attempts == 3
    assert any(d.code == "E001" for d in broken.compilation.diagnostics)
    assert "keeps the last good output" in lines[-1]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == good
    write_workbook(tables / "band.xlsx", [band(18)])
    assert s.run([tables / "band.xlsx"]).ok  # and it recovers


def test_invalid_tables_write_nothing(folders: tuple[Path, Path]) -> None:
    tables, out = folders
    lines: list[str] = []
    s = session(tables, out, lines)
    s.run()
    broken = band(18)
    broken[-1][1] = "<< 3"
    write_workbook(tables / "band.xlsx", [broken])
    run = s.run([tables / "band.xlsx"])
    assert not run.ok and run.attempts == 1 and not run.written
    assert "1 error: nothing written" in lines[-1]


def test_cli_watch_stops_cleanly(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tables, out = folders
    result = watch_one_save(
        monkeypatch,
        tables,
        out,
        lambda: write_workbook(tables / "band.xlsx", [band(5)]),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"watching {tables}")
    assert result.stderr.rstrip().endswith("stopped watching")
    assert "&lt; 5" in (out / "band.md").read_text()
    missing = CliRunner().invoke(main, ["watch", "--tables", str(tables / "nope")])
    assert missing.exit_code == 2


def save_until_seen(tables: Path, out: Path, limit: int) -> None:
    """Wait for the first run's output, then save band.xlsx with LIMIT until the
    watcher has seen a save (it starts after the first run)."""
    deadline = time.monotonic() + 60  # a bound for a busy machine, not a speed check
    md = out / "band.md"
    while not md.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    while time.monotonic() < deadline and f"&lt; {limit}" not in md.read_text():
        write_workbook(tables / "band.xlsx", [band(limit)])
        time.sleep(1)


def test_real_file_events(folders: tuple[Path, Path]) -> None:
    """watchfiles sees a save and the loop recompiles; the stop event ends it."""
    pytest.importorskip("watchfiles")
    tables, out = folders
    lines: list[str] = []
    stop = threading.Event()
    s = session(tables, out, lines)
    changes = watch.file_changes(tables, stop_event=stop, quiet_ms=100)
    thread = threading.Thread(target=watch_loop, args=(s, changes), daemon=True)
    thread.start()
    save_until_seen(tables, out, 7)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert "&lt; 7" in (out / "band.md").read_text(), "\n".join(lines)


def test_watch_on_the_shipped_tables(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables)
    lines: list[str] = []
    s = session(tables, tmp_path / "generated", lines)
    first = s.run()
    assert first.ok and first.reads == len(list(tables.glob("*.xlsx")))
    assert len(lines) == 1  # many files: only the summary line
    again = s.run([tables / "guideline_catalog.xlsx"])
    assert (
        again.reads == 1 and not again.written and again.unchanged == len(first.written)
    )


def test_ctrl_c_in_a_terminal(folders: tuple[Path, Path]) -> None:
    """The real command in its own process: a save gives one summary line, SIGINT
    ends it with exit code 0, one closing line and no traceback."""
    pytest.importorskip("watchfiles")
    tables, out = folders
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compiler",
            "watch",
            "-q",
            "--tables",
            str(tables),
            "--out",
            str(out),
            "--debounce",
            "100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # a background process may start with SIGINT ignored; a terminal's may not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        save_until_seen(tables, out, 9)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert "&lt; 9" in (out / "band.md").read_text(), output
    assert process.returncode == 0, output
    lines = output.strip().splitlines()
    assert lines[0] == f"watching {tables} (Ctrl-C stops)"
    assert lines[-1] == "stopped watching"
    summaries = [line for line in lines if line.startswith("[")]
    assert len(summaries) >= 2 and all(" written, " in s for s in summaries)
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
