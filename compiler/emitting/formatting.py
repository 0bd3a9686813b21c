"""Formatting the generated sources with the pinned ruff, large ones in pieces.

The templates may write a *split line* between two items of a long collection: a NUL
followed by the brackets that enclose the items (`\\0[` for the items of a list at
the top level, `\\0(((` for those of a tuple in a tuple in a tuple). NUL never
reaches a source otherwise (cell text is written as `repr()` or escaped), and the
split lines never reach a file: `unsplit` drops them when sources are not formatted,
and `format_sources` cuts each source at them into pieces that ruff formats one by
one (two cores share the work, and no piece costs ruff much memory). A piece that
begins or ends inside the collection gets the collection's brackets added around it
(`_ = [` before, `]` after), and the lines ruff makes of them are dropped again: ruff
formats each item of a collection on its own, whatever comes before and after, so
the pieces put together are the bytes of the whole source formatted at once. Should
ruff make anything else of the added brackets, the source is formatted whole.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SPLIT = "\0"  # a line SPLIT + brackets, between two items of a collection
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_INDENT = "    "
_SPLIT_LINES = re.compile(f"^{SPLIT}[^\n]*\n", re.MULTILINE)


EVERY = 500  # items of a collection between two split lines


def split_line(brackets: str) -> str:
    """The text of the line (a template writes it, and its line break) that lets
    `format_sources` cut a source between two items enclosed by BRACKETS, outermost
    first: `(`, `(((`."""
    return SPLIT + brackets


def itemised(items: list[str], brackets: str) -> str:
    """ITEMS (each of whole lines) one after the other, with the split line of
    BRACKETS after every EVERY of them but never before the last: what a template's
    loop writes, written here (a large table has tens of thousands of items, and
    Jinja's loop over them was a good part of its rendering)."""
    split = split_line(brackets) + "\n"
    last = len(items) - 1
    return "".join(
        split + item if index and index % EVERY == 0 and index < last else item
        for index, item in enumerate(items)
    )


def unsplit(text: str) -> str:
    """TEXT without its split lines."""
    if SPLIT not in text:
        return text
    return _SPLIT_LINES.sub("", text)


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str  # what ruff formats: the piece with the brackets added around it
    before: int  # lines added at the start (0: the source's own start)
    after: int  # lines added at the end

    def formatted(self, text: str, opened: str, closed: str) -> str | None:
        """The formatted piece without the lines of the added brackets, or None when
        ruff did not format them as `_wrapped` expects."""
        if not self.before and not self.after:
            return text
        lines = text.splitlines(True)
        head = _opening_lines(opened) if self.before else []
        tail = _closing_lines(closed) if self.after else []
        if lines[: len(head)] != head or (tail and lines[-len(tail) :] != tail):
            return None
        return "".join(lines[len(head) : len(lines) - len(tail)])


def _opening_lines(brackets: str) -> list[str]:
    return [
        ("_ = " if depth == 0 else _INDENT * depth) + bracket + "\n"
        for depth, bracket in enumerate(brackets)
    ]


def _closing_lines(brackets: str) -> list[str]:
    return [
        _INDENT * depth + _CLOSING[bracket] + ("," if depth else "") + "\n"
        for depth, bracket in reversed(list(enumerate(brackets)))
    ]


def _pieces(text: str) -> list[tuple[_Piece, str, str]]:
    """TEXT cut at its split lines: each piece, with the brackets it is opened and
    closed within ('' at the source's start and end)."""
    pieces: list[tuple[_Piece, str, str]] = []
    opened = ""
    start = 0
    while (at := text.find("\n" + SPLIT, start)) >= 0:  # never on the first line
        end = text.index("\n", at + 1)
        closed = text[at + 2 : end]
        pieces.append(_wrapped(text[start : at + 1], opened, closed))
        opened, start = closed, end + 1
    pieces.append(_wrapped(text[start:], opened, ""))
    return pieces


def _wrapped(body: str, opened: str, closed: str) -> tuple[_Piece, str, str]:
    head = "".join(_opening_lines(opened)) if opened else ""
    tail = "".join(_closing_lines(closed)) if closed else ""
    piece = _Piece(head + body + tail, len(opened), len(closed))
    return piece, opened, closed


def format_sources(files: dict[str, str]) -> dict[str, str]:
    """Format every source with the pinned ruff, in one call, without any user config."""
    plans = {name: _pieces(text) for name, text in files.items()}
    with tempfile.TemporaryDirectory(prefix="compile-rules-") as tmp:
        root = Path(tmp)
        for name, pieces in plans.items():
            for k, (piece, _, _) in enumerate(pieces):
                _write(root / _piece_name(name, k, len(pieces)), piece.text)
        _run_ruff(root)
        found: dict[str, str] = {}
        whole: dict[str, str] = {}
        for name, pieces in plans.items():
            parts = []
            for k, (piece, opened, closed) in enumerate(pieces):
                path = root / _piece_name(name, k, len(pieces))
                part = piece.formatted(path.read_text(encoding="utf-8"), opened, closed)
                if part is None:
                    break
                parts.append(part)
            else:
                found[name] = "".join(parts)
                continue
            whole[name] = unsplit(files[name])  # pragma: no cover - ruff changed
    if whole:  # pragma: no cover - see the module's docstring
        found.update(format_sources(whole))
    return {name: found[name] for name in files}


def _piece_name(name: str, k: int, count: int) -> str:
    return name if count == 1 else f"{name[:-3]}.piece{k}.py"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _run_ruff(root: Path) -> None:
    subprocess.run(
        [
            _ruff(),
            "format",
            "--isolated",
            "--no-cache",  # no .ruff_cache in the working directory
            "--quiet",
            "--line-length",
            "88",
            str(root),
        ],
        check=True,
        capture_output=True,
    )


def _ruff() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:  # pragma: no cover - ruff is a dependency
        return str(Path(sys.executable).with_name("ruff"))
    return str(find_ruff_bin())
