"""Version 2 in import: DMN entries that name inputs (`> dateE`, `[numB..numC]`,
`dateE`) written as the format's entries that name other inputs (`> date_e`), over
the table's columns; an input an entry names that no column of the table reads
becomes a column of its own (every entry `-`), as the format needs it there."""

from __future__ import annotations

import re
from collections.abc import Mapping

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def format_text(text: str, names: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """TEXT with each DMN name of NAMES (DMN name -> identifier) replaced by its
    identifier outside string literals, and the DMN names found, in order. A name
    followed by `(` is a function (`date("...")`), and one after a single `.` a field."""
    if not names:
        return text, ()
    pattern = re.compile(
        r"(?<!\w)(?<!(?<!\.)\.)("
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?![\w'])(?!\s*\()"
    )
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        found.append(match.group(1))
        return names[match.group(1)]

    parts: list[str] = []
    last = 0
    for literal in _STRING.finditer(text):
        parts.append(pattern.sub(replace, text[last : literal.start()]))
        parts.append(literal.group(0))
        last = literal.end()
    parts.append(pattern.sub(replace, text[last:]))
    return "".join(parts), tuple(dict.fromkeys(found))
