"""The workbooks of a tables folder and how messages name them (light: no reader)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Listing:
    """What a walk of a tables folder found: the workbooks, and the folders it could
    not list (with why), whose workbooks would otherwise be taken for removed tables."""

    workbooks: tuple[Path, ...]
    unreadable: tuple[tuple[Path, str], ...] = ()


def list_tables(tables: Path) -> Listing:
    """Every *.xlsx below TABLES except editor lock files, in a fixed order: also
    those that are no regular file (a dangling symbolic link, a folder, a device),
    which `read_workbook` reports, so that they are never taken for removed tables.
    Symbolic links to folders are not followed (as `Path.rglob`); a folder that
    cannot be listed (no permission) is in `unreadable`, never skipped in silence."""
    found: list[Path] = []
    unreadable: list[tuple[Path, str]] = []
    pending = [tables]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    path = folder / entry.name
                    if _is_folder(entry):
                        pending.append(path)
                    if entry.name.endswith(".xlsx") and not entry.name.startswith(
                        ("~$", ".~lock")
                    ):
                        found.append(path)
        except OSError as exc:
            unreadable.append((folder, exc.strerror or type(exc).__name__))

    def key(path: Path) -> str:
        return path.relative_to(tables).as_posix()

    return Listing(
        tuple(sorted(found, key=key)),
        tuple(sorted(unreadable, key=lambda item: key(item[0]))),
    )


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def find_workbooks(tables: Path) -> list[Path]:
    """The workbooks of `list_tables` (callers that report unreadable folders use
    `list_tables`)."""
    return list(list_tables(tables).workbooks)


def files_below(root: Path) -> list[tuple[str, str]]:
    """(path inside ROOT in POSIX form, path to open) of every regular file below
    ROOT (a symbolic link to one too), sorted by the first; not inside `__pycache__`
    nor through symbolic links to folders (as `Path.rglob`). A folder that cannot be
    listed is skipped. With `os.scandir`: the compile cache hashes every file of the
    compiler, and `check` reads the whole output folder, at every start."""
    found: list[tuple[str, str]] = []
    pending = [("", str(root))]
    while pending:
        inside, folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = f"{inside}{entry.name}"
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name != "__pycache__":
                                pending.append((f"{name}/", entry.path))
                        elif entry.is_file():
                            found.append((name, entry.path))
                    except OSError:
                        continue
        except OSError:
            continue
    return sorted(found)


def display_path(tables: Path, file: Path) -> str:
    """`tables/imaging.xlsx`: the folder's own name, then the path inside it, so that
    messages and generated code read the same whatever the working directory.
    Bytes of a file name that are not UTF-8 are shown as escapes (`caf\\xe9.xlsx`):
    the path goes into UTF-8 files, which cannot hold them raw."""
    inside = file.relative_to(tables).as_posix()
    shown = tables.resolve().name + ("" if inside == "." else f"/{inside}")
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
