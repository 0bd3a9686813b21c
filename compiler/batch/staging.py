"""Where a run's files are written until the run ends: beside their targets, put in
place whole when the run ends, or not at all, and never left behind.

Claims data must not outlive a run that is killed. A file is written unnamed where
the system allows it (Linux `O_TMPFILE`: the kernel frees it with the process) and
named only at the end, in place. Elsewhere, and for the folders of the Dask and Spark
engines, the staged file or folder carries a temporary name and an exclusive lock
(`flock`) held while the run lives; every run first removes what earlier runs left
beside its targets, that is each temporary whose lock is free.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, no sweep
    fcntl = None  # type: ignore[assignment]

from compiler.emitting.output import mode_for, replacing_folder


@contextlib.contextmanager
def staged_file(path: Path) -> Iterator[str]:
    """A name to write PATH's new content under (for pyarrow or `open`); the file
    takes PATH's place when the block ends, and nothing is left if it raises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path)
    fd = _unnamed(path.parent)
    if fd is None:
        with _named(path) as name:
            yield name
        return
    try:
        yield f"/proc/self/fd/{fd}"
        os.fchmod(fd, mode_for(path))
        os.fsync(fd)
        _link(fd, path)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """A folder to write PATH's new content in, locked while the run lives, that
    takes PATH's place when the block ends (removed if it raises)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path)
    with replacing_folder(path) as staging:
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
        try:
            _lock(fd)
            yield staging
        finally:
            os.close(fd)


def sweep(path: Path) -> list[Path]:
    """Remove the temporary files and folders that runs killed earlier left beside
    PATH (those whose lock no live process holds); the paths removed."""
    if fcntl is None:
        return []
    name = glob.escape(path.name)
    removed = []
    for stray in sorted(
        {*path.parent.glob(f".{name}.*.tmp"), *path.parent.glob(f".{name}.new-*")}
    ):
        try:
            fd = os.open(stray, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live run holds it
            os.close(fd)
            continue
        try:
            if stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink(missing_ok=True)
            removed.append(stray)
        finally:
            os.close(fd)
    return removed


def _lock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)


def _unnamed(folder: Path) -> int | None:
    """A new file without a name in FOLDER, open for writing; None where the
    system or the file system cannot make one."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, 0o600)
    except OSError:
        return None


def _link(fd: int, path: Path) -> None:
    """Give the unnamed file FD the name PATH: in one step when PATH is new, else
    under a temporary name renamed over PATH."""
    source = f"/proc/self/fd/{fd}"
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            os.link(source, path.name, dst_dir_fd=folder, follow_symlinks=True)
            os.fsync(folder)
            return
        except FileExistsError:
            pass
        while True:
            temporary = f".{path.name}.{secrets.token_hex(4)}.tmp"
            try:
                os.link(source, temporary, dst_dir_fd=folder, follow_symlinks=True)
            except FileExistsError:
                continue
            try:
                os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
            except FileNotFoundError:  # another run's sweep took it: name it again
                continue
            os.fsync(folder)
            return
    finally:
        os.close(folder)


@contextlib.contextmanager
def _named(path: Path) -> Iterator[str]:
    """A temporary file beside PATH, locked while the run lives, renamed over PATH
    when the block ends and removed if it raises."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        _lock(fd)
        yield name
        os.fchmod(fd, mode_for(path))
        os.fsync(fd)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    finally:
        os.close(fd)
