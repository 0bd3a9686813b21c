"""Identifiers for DMN names: DMN names hold spaces and punctuation, the format's names
are snake_case identifiers that the generated code does not already use."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from compiler.reading.sheets import (
    BUILTIN_NAMES,
    GENERATED_NAMES,
    MAX_TABLE_NAME,
    check_identifier,
)

# Names the generated evaluator uses for its own locals and helpers, and Python's
# builtins: a column named like one of them would shadow it (the reader refuses such
# an input), so imported columns never take them.
CODEGEN_NAMES = GENERATED_NAMES | BUILTIN_NAMES


_TRANSLITERATE = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O"})


def snake_case(name: str) -> str:
    """`Approval Status` -> `approval_status`, `isAffordable` -> `is_affordable`,
    `Student's name` -> `students_name`; always a lowercase ASCII identifier shape."""
    text = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"['`]", "", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not text:
        return "x"
    return f"x_{text}" if text[0].isdigit() else text


def collapse(text: str) -> str:
    """Runs of whitespace as one space: how DMN names are compared."""
    return " ".join(text.split())


class Names:
    """Identifiers for DMN names: the same name always gets the same identifier, and
    different names different ones (`age`, `age_2`) in the order they are asked for."""

    def __init__(self, reserved: Iterable[str], taken: Iterable[str] = ()) -> None:
        self.reserved = frozenset(reserved)
        self.by_name: dict[str, str] = {}
        self.used: set[str] = set(taken)

    def __call__(self, name: str) -> str:
        key = collapse(name)
        if key not in self.by_name:
            # A long DMN name is cut, leaving room for a `_2` suffix, so that the
            # identifier can name a table's files (see MAX_TABLE_NAME).
            base = snake_case(key)[: MAX_TABLE_NAME - 5].rstrip("_")
            if check_identifier(base) or base in self.reserved:
                base += "_"
            candidate, n = base, 2
            while candidate in self.used:
                candidate, n = f"{base}_{n}", n + 1
            self.used.add(candidate)
            self.by_name[key] = candidate
        return self.by_name[key]
