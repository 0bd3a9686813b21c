"""Stage 6: compare generated sources with the output folder, and write them.

Only files that start with the generated marker belong to the compiler: those are
updated or removed, anything else in the folder is left alone. `plan` never writes.
`apply` writes only when something changed, and then replaces the folder as a whole:
it builds the complete new folder beside the old one (the files it does not manage
linked or copied over), then swaps the two in one step, so that a compile killed at
any moment leaves the folder entirely old or entirely new. Two compiles at once are
serialised by a lock file beside the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None  # type: ignore[assignment]

# Not from codegen: `check` need not load the code generator when the compilation
# comes from the cache (compiler/cache.py). For the same reason `plan` is all that
# runs at import: ctypes, difflib, secrets, shutil and tempfile are imported where
# used.
from compiler.emitting import GENERATED_MARKER
from compiler.reading.folder import files_below

_SUFFIXES = (".py", ".typed", ".md")  # the kinds of file the compiler writes


@dataclass(frozen=True, slots=True)
class Plan:
    """How the output folder differs from what the tables generate."""

    new: tuple[str, ...]  # generated, missing on disk
    changed: tuple[str, ...]  # on disk, with other content
    orphaned: tuple[str, ...]  # generated earlier, for a table that is gone
    unchanged: tuple[str, ...]
    files: dict[str, str]
    current: dict[str, str]  # what is on disk now, for changed and orphaned files

    @property
    def stale(self) -> bool:
        return bool(self.new or self.changed or self.orphaned)

    def diff(self) -> str:
        """A unified diff from the folder as it is to the folder as it should be."""
        import difflib

        chunks: list[str] = []
        for name in sorted({*self.new, *self.changed, *self.orphaned}):
            before = self.current.get(name, "")
            after = self.files.get(name, "")
            chunks.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"a/{name}" if name not in self.new else "/dev/null",
                    tofile=f"b/{name}" if name not in self.orphaned else "/dev/null",
                )
            )
        return "".join(chunks)


def managed_files(out: Path) -> dict[str, str]:
    """Files under OUT that the compiler wrote (they start with the marker), read as
    text with universal newlines (as `Path.read_text`)."""
    found: dict[str, str] = {}
    if not out.is_dir():
        return found
    marker = GENERATED_MARKER.encode()
    for name, path in files_below(out):
        if os.path.splitext(name)[1] not in _SUFFIXES:
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            if not data.startswith(marker):
                continue
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        found[name] = text
    return found


def plan(out: Path, files: dict[str, str]) -> Plan:
    on_disk = managed_files(out)
    new, changed, unchanged = [], [], []
    current: dict[str, str] = {}
    for name, text in sorted(files.items()):
        path = out / name
        if name in on_disk:
            existing = on_disk[name]
        elif path.is_file():
            existing = path.read_text(encoding="utf-8", errors="replace")
        else:
            new.append(name)
            continue
        if existing == text:
            unchanged.append(name)
        else:
            changed.append(name)
            current[name] = existing
    orphaned = sorted(set(on_disk) - set(files))
    current.update({name: on_disk[name] for name in orphaned})
    return Plan(
        tuple(new), tuple(changed), tuple(orphaned), tuple(unchanged), files, current
    )


class Busy(OSError):
    """Another compile holds the output folder's lock for longer than the timeout."""


LOCK_TIMEOUT = 600.0  # seconds; COMPILE_RULES_LOCK_TIMEOUT overrides it


def _lock_timeout() -> float:
    try:
        return float(os.environ["COMPILE_RULES_LOCK_TIMEOUT"])
    except (KeyError, ValueError):
        return LOCK_TIMEOUT


def apply(out: Path, change: Plan, *, timeout: float | None = None) -> None:
    """Make OUT hold the generated files, or leave it untouched when nothing changed.

    Under the lock, the folder is planned again (another compile may have written it
    meanwhile), then rebuilt beside itself and swapped in whole. Raises `Busy` when
    another compile holds the lock for more than TIMEOUT seconds (by default
    COMPILE_RULES_LOCK_TIMEOUT, or LOCK_TIMEOUT).
    """
    folder = out.resolve()  # through symlinks: swap the real folder, keep the link
    wait = _lock_timeout() if timeout is None else timeout
    if not change.stale:
        if _leftovers(folder):  # a killed compile's trees: clean up, write nothing
            with locked(folder, wait):
                recover(folder)
        return
    with locked(folder, wait):
        recover(folder)
        change = plan(folder, change.files)
        if not change.stale:
            return
        if not _swappable(folder):
            _apply_in_place(folder, change)
            return
        staging = _stage(folder, change)
        _swap(staging, folder)


def write_generated(out: Path, files: dict[str, str]) -> Plan:
    """Make OUT hold FILES (a `Compilation.files`) as `compile` does: atomically, under
    the lock, only when something changed. Returns what was found to differ."""
    change = plan(out, files)
    apply(out, change)
    return change


def _swappable(folder: Path) -> bool:
    """Whether FOLDER can be replaced by a rename: not the root or a mount point, and
    not the working directory or above it (the process would end up in the old tree,
    which is then deleted)."""
    if folder.parent == folder or (folder.is_dir() and os.path.ismount(folder)):
        return False
    cwd = Path.cwd()
    return cwd != folder and folder not in cwd.parents


def _stage(out: Path, change: Plan) -> Path:
    """The complete new folder, as a sibling of OUT: what OUT holds that the compiler
    does not manage (hard links, or copies), plus every generated file."""
    import shutil

    staging = _sibling(out, "compile")
    try:
        skip = set(managed_files(out)) | set(change.files)
        for path in _walk(out) if out.is_dir() else ():
            relative = path.relative_to(out).as_posix()
            if relative in skip:
                continue
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir() and not path.is_symlink():
                target.mkdir()  # an empty folder the user made
            else:
                _link_or_copy(path, target)
        for name, text in sorted(change.files.items()):
            _write_new(staging / name, text)
        for folder, _, _ in os.walk(staging, topdown=False):
            old = out / Path(folder).relative_to(staging)
            if old.is_dir():
                shutil.copystat(old, folder)  # the old folders' modes and times
            _fsync_dir(Path(folder))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _walk(root: Path) -> Iterator[Path]:
    """The files, symlinks and empty folders below ROOT, without following symlinks
    and without `__pycache__` (bytecode of replaced modules must not outlive them)."""
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            with os.scandir(path) as inside:
                if next(inside, None) is None:
                    yield path
            yield from _walk(path)
        else:
            yield path


def _link_or_copy(source: Path, target: Path) -> None:
    import shutil

    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_new(path: Path, text: str) -> None:
    """Create PATH with TEXT (mode 0666 less the umask, like any new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders
    finally:
        os.close(fd)


def _sibling(out: Path, kind: str) -> Path:
    """A new empty folder `.<out>.<kind>-<random>` next to OUT (mode as umask allows)."""
    import secrets

    out.parent.mkdir(parents=True, exist_ok=True)
    while True:
        path = out.parent / f".{out.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir(0o777)
        except FileExistsError:
            continue
        return path


# -- the swap ------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux renameat2(RENAME_EXCHANGE). False where
    the kernel, libc or file system cannot; other failures raise."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # glibc before 2.28, or another libc
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if (
        renameat2(
            _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
        )
        == 0
    ):
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap(staging: Path, out: Path) -> None:
    """Put STAGING in OUT's place, then remove the old tree."""
    import shutil

    if not out.exists():
        os.rename(staging, out)  # nothing to replace: the rename is the swap
        _fsync_dir(out.parent)
        return
    if _exchange(staging, out):
        _fsync_dir(out.parent)
        shutil.rmtree(staging, ignore_errors=True)  # now the old tree
        return
    # Fallback: two renames. A kill between them leaves OUT missing and the old tree
    # at `.<out>.previous`, which `recover` puts back on the next run.
    previous = _previous(out)
    shutil.rmtree(previous, ignore_errors=True)
    os.rename(out, previous)
    os.rename(staging, out)
    _fsync_dir(out.parent)
    shutil.rmtree(previous, ignore_errors=True)


def _previous(out: Path) -> Path:
    return out.parent / f".{out.name}.previous"


def recover(out: Path) -> None:
    """Undo what a killed compile left beside OUT (call it holding the lock): put back
    the old tree if the fallback swap was cut between its renames, and remove
    half-built or replaced trees."""
    import shutil

    previous = _previous(out)
    if previous.is_dir() and not out.exists():
        os.rename(previous, out)
    for stray in _leftovers(out):
        shutil.rmtree(stray, ignore_errors=True)


def _leftovers(out: Path) -> list[Path]:
    if not out.parent.is_dir():
        return []
    return [
        *out.parent.glob(f".{out.name}.compile-*"),
        *out.parent.glob(f".{out.name}.previous"),
    ]


def _apply_in_place(out: Path, change: Plan) -> None:
    """File by file (each atomic), for a folder that cannot be swapped."""
    import shutil

    for name in (*change.new, *change.changed):
        write_atomic(out / name, change.files[name])
    for name in change.orphaned:
        (out / name).unlink(missing_ok=True)
        parent = (out / name).parent
        if parent != out and parent.is_dir():
            shutil.rmtree(parent / "__pycache__", ignore_errors=True)
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if nothing else is left in it


# -- the lock -------------------------------------------------------------------------


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def locked(out: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on `.<out>.lock` beside OUT; wait up to TIMEOUT
    seconds for another compile to release it, saying once that it waits."""
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:
            _acquire(fd, out, path, timeout)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, out: Path, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise Busy(
                errno.EBUSY,
                f"another compile-rules is still writing {out} after {timeout:g} s "
                f"(it holds {path}); nothing was written",
            )
        if not said:
            print(
                f"waiting for another compile-rules to finish writing {out} ...",
                file=sys.stderr,
                flush=True,
            )
            said = True
        time.sleep(0.05)


def write_atomic(path: Path, text: str) -> None:
    """Write TEXT to PATH so that readers see the old file or the new one, never half.

    The file gets the mode a new file would (0666 less the umask), or keeps the mode
    of the file it replaces.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode_for(path))
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def replacing_folder(path: Path) -> Iterator[Path]:
    """A new sibling folder of PATH to write that takes PATH's place in one step when
    the block ends, and is removed if it raises: a long write killed at any moment
    leaves the old PATH whole, never half a new one."""
    import shutil

    staging = _sibling(path, "new")
    try:
        yield staging
        _swap(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def mode_for(path: Path) -> int:
    """The mode PATH keeps when replaced, or a new file's (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
