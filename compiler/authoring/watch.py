"""`compile-rules watch`: recompile when a workbook is saved.

An author keeps Excel and the generated evaluator side by side; every save should show
the diagnostics within a second or two. Each run goes through the whole pipeline (so
cross-workbook checks stay right) but parses again only the workbooks whose file
changed (`WorkbookCache`), and `output` rewrites only files whose bytes changed.

Editors save in steps (a temporary file, a rename, a lock file), so changes are
debounced by watchfiles, lock files are ignored, and a workbook that cannot be read
right after a change (half written) is read again a few times before its error is
reported; until the tables compile again, the output folder keeps the last good
files. The loop takes any iterable of change sets, so tests drive it without a real
file watcher.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.emitting import output
from compiler.pipeline import Compilation, compile_tables, display_path
from compiler.reading.workbook import RawWorkbook, read_workbook
from compiler.report import Report

Echo = Callable[[str], None]


def is_workbook(path: Path) -> bool:
    """An .xlsx source, not an editor's lock file (`~$x.xlsx`, `.~lock.x.xlsx#`)."""
    return path.suffix.lower() == ".xlsx" and not path.name.startswith(("~$", ".~lock"))


@dataclass
class WorkbookCache:
    """`read_workbook` with memory: a file is parsed again only when its size or
    modification time changed, or when the watcher said it changed."""

    books: dict[Path, tuple[tuple[int, int], RawWorkbook]] = field(default_factory=dict)
    reads: int = 0  # workbooks parsed so far

    def __call__(self, file: Path, shown: str) -> RawWorkbook | Diagnostic:
        key = file.resolve()
        try:
            info = file.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = (-1, -1)
        cached = self.books.get(key)
        if cached is not None and cached[0] == stamp and cached[1].path == shown:
            return cached[1]
        book = read_workbook(file, shown)
        self.reads += 1
        if isinstance(book, RawWorkbook):
            self.books[key] = (stamp, book)
        else:
            self.books.pop(key, None)  # never keep a failure: read it again next time
        return book

    def forget(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self.books.pop(path.resolve(), None)


@dataclass(frozen=True, slots=True)
class Run:
    """What one recompilation did."""

    compilation: Compilation
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    reads: int  # workbooks parsed in this run
    attempts: int  # 1, or more when a changed workbook could not be read at first
    seconds: float

    @property
    def ok(self) -> bool:
        return self.compilation.ok


@dataclass
class Session:
    """One watched tables folder and its output folder."""

    tables: Path
    out: Path
    quiet: bool = False
    retries: int = 3  # extra reads of a changed workbook that cannot be read yet
    retry_delay: float = 0.5
    echo: Echo = print
    sleep: Callable[[float], None] = time.sleep
    cache: WorkbookCache = field(default_factory=WorkbookCache)
    write: bool = True  # False: compile in memory only (`serve --reload`)
    last: Run | None = None  # the latest run, for the exit code when watching stops

    def run(self, changed: Iterable[Path] = ()) -> Run:
        """Recompile; write changed outputs when the tables compile (and WRITE)."""
        started = time.perf_counter()
        reads_before = self.cache.reads
        changed = [p for p in changed if is_workbook(p)]
        self.cache.forget(changed)
        shown = {self._shown(p) for p in changed}
        attempts = 0
        while True:
            attempts += 1
            compilation = compile_tables(self.tables, read=self.cache)
            unreadable = [
                d
                for d in compilation.diagnostics
                if d.code == "E001" and d.location.path in shown
            ]
            if not unreadable or attempts > self.retries:
                break
            for d in unreadable:
                self.echo(
                    f"{d.location.path} cannot be read yet ({d.message}); "
                    f"reading it again in {self.retry_delay:g}s"
                )
            self.sleep(self.retry_delay)
        written: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        unchanged = 0
        if compilation.files is not None and self.write:
            change = output.plan(self.out, compilation.files)
            output.apply(self.out, change)
            written = (*change.new, *change.changed)
            removed = change.orphaned
            unchanged = len(change.unchanged)
        run = Run(
            compilation,
            written,
            removed,
            unchanged,
            self.cache.reads - reads_before,
            attempts,
            time.perf_counter() - started,
        )
        self._report(run)
        self.last = run
        return run

    def _shown(self, path: Path) -> str:
        try:
            return display_path(self.tables.resolve(), path.resolve())
        except ValueError:
            return str(path)

    def _report(self, run: Run) -> None:
        report = Report(diagnostics=run.compilation.diagnostics, quiet=self.quiet)
        report.print_diagnostics()
        if len(run.written) + len(run.removed) <= 10:  # the first run: just count
            for name in run.written:
                self.echo(f"wrote {self.out / name}")
            for name in run.removed:
                self.echo(f"removed {self.out / name}")
        self.echo(summary(run, report, self.out, wrote=self.write))


def summary(run: Run, report: Report, out: Path, *, wrote: bool = True) -> str:
    """One line per run: `[14:03:07] 2 written, 0 removed, 31 unchanged (1 warning);
    1 workbook read in 0.6s`. Not WROTE (`serve --reload`): `[14:03:07] compiled (1
    warning); ...`, and on errors that the last good tables are still served."""
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    books = f"{run.reads} workbook{'s' if run.reads != 1 else ''} read"
    timing = f"{books} in {run.seconds:.1f}s"
    if not run.ok and not wrote:
        return (
            f"[{stamp}] {report.counts()}: still serving the last good tables; {timing}"
        )
    if not run.ok:
        return (
            f"[{stamp}] {report.counts()}: nothing written, {out} keeps the last good "
            f"output; {timing}"
        )
    if not wrote:
        return f"[{stamp}] compiled ({report.counts()}); {timing}"
    return (
        f"[{stamp}] {len(run.written)} written, {len(run.removed)} removed, "
        f"{run.unchanged} unchanged ({report.counts()}); {timing}"
    )


def watch_loop(session: Session, changes: Iterable[Iterable[Path]]) -> int:
    """Compile once, then once per change set that touches a workbook. Returns the
    number of runs; ends when CHANGES ends."""
    session.run()
    runs = 1
    for batch in changes:
        relevant = [p for p in batch if is_workbook(p)]
        if relevant:
            session.run(relevant)
            runs += 1
    return runs


def file_changes(
    tables: Path,
    *,
    stop_event: threading.Event | None = None,
    quiet_ms: int = 400,
    force_polling: bool | None = None,
) -> Iterator[set[Path]]:
    """Sets of changed workbook paths under TABLES, from watchfiles: a set is yielded
    once nothing changed for QUIET_MS (at most 5 s after the first change). Ends on
    Ctrl-C or when STOP_EVENT is set."""
    import watchfiles

    # watchfiles logs "KeyboardInterrupt caught, stopping watch" on Ctrl-C; the
    # command says "stopped watching" itself
    logging.getLogger("watchfiles.main").setLevel(logging.ERROR)

    def wanted(_change: watchfiles.Change, path: str) -> bool:
        return is_workbook(Path(path))

    if force_polling is None and os.environ.get("COMPILE_RULES_POLL"):
        force_polling = True
    for batch in watchfiles.watch(
        tables,
        watch_filter=wanted,
        debounce=5000,
        step=quiet_ms,
        stop_event=stop_event,
        raise_interrupt=False,
        force_polling=force_polling,
        poll_delay_ms=200,
    ):
        yield {Path(path) for _, path in batch}
