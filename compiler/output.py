"""Stage 6: compare generated sources with the output folder, and write them.

Only files that start with the generated marker belong to the compiler: those are
updated or removed, anything else in the folder is left alone. `plan` never writes;
`apply` writes each changed file atomically (temporary file, then rename) and only
when its bytes differ.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .codegen import GENERATED_MARKER

_SUFFIXES = (".py", ".typed")  # the kinds of file the compiler writes


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
    """Files under OUT that the compiler wrote (they start with the marker)."""
    found: dict[str, str] = {}
    if not out.is_dir():
        return found
    for path in sorted(out.rglob("*")):
        if (
            "__pycache__" in path.parts
            or not path.is_file()
            or path.suffix not in _SUFFIXES
        ):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.startswith(GENERATED_MARKER):
            found[path.relative_to(out).as_posix()] = text
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


def apply(out: Path, change: Plan) -> None:
    """Write new and changed files atomically; remove orphaned ones."""
    for name in (*change.new, *change.changed):
        write_atomic(out / name, change.files[name])
    for name in change.orphaned:
        (out / name).unlink(missing_ok=True)
        parent = (out / name).parent
        if (
            parent != out
            and parent.is_dir()
            and not any(p.name != "__pycache__" for p in parent.iterdir())
        ):
            for cache in parent.glob("__pycache__"):
                for item in cache.iterdir():
                    item.unlink()
                cache.rmdir()
            parent.rmdir()


def write_atomic(path: Path, text: str) -> None:
    """Write TEXT to PATH so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
