"""The workbooks of a tables folder and how messages name them (light: no reader)."""

from __future__ import annotations

from pathlib import Path


def find_workbooks(tables: Path) -> list[Path]:
    """Every *.xlsx below TABLES except editor lock files, in a fixed order: also
    those that are no regular file (a dangling symbolic link, a folder, a device),
    which `read_workbook` reports, so that they are never taken for removed tables."""
    found = [
        p for p in tables.rglob("*.xlsx") if not p.name.startswith(("~$", ".~lock"))
    ]
    return sorted(found, key=lambda p: p.relative_to(tables).as_posix())


def display_path(tables: Path, file: Path) -> str:
    """`tables/imaging.xlsx`: the folder's own name, then the path inside it, so that
    messages and generated code read the same whatever the working directory.
    Bytes of a file name that are not UTF-8 are shown as escapes (`caf\\xe9.xlsx`):
    the path goes into UTF-8 files, which cannot hold them raw."""
    shown = f"{tables.resolve().name}/{file.relative_to(tables).as_posix()}"
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
