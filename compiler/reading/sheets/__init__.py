"""Stage 2: raw sheets to the model (tables, Values lists, Tests sheets).

Each sheet is classified by its A1 cell, then read row by row as the format page lays
it out. Every cell is parsed exactly once, here, by `cells`, with its column's type;
problems become diagnostics that name the cell, and reading goes on so the author sees
them all.

One module per part of the format: `project` (sheet kinds, the whole Project),
`values` (Values sheets), `table` (a decision-table sheet, read through `header`,
`columns` and `rules`) and `tests_sheet` (Tests sheets); `common` holds the
diagnostics collector and the name checks they share. Version 2: `computed`
(computed inputs and outputs), `entries` (entries naming other inputs or quantifying
over a list) and `lowering` (those entries as derived columns, and back).
"""

from compiler.reading.sheets.common import (
    BUILTIN_NAMES,
    GENERATED_NAMES,
    IDENTIFIER,
    MAX_TABLE_NAME,
    RESERVED_NAMES,
    Reader,
    check_identifier,
    input_name_problem,
    suggest,
    table_name_problem,
)
from compiler.reading.sheets.project import build_project
from compiler.reading.sheets.table import MAX_RULES

__all__ = [
    "BUILTIN_NAMES",
    "GENERATED_NAMES",
    "IDENTIFIER",
    "MAX_RULES",
    "MAX_TABLE_NAME",
    "RESERVED_NAMES",
    "Reader",
    "build_project",
    "check_identifier",
    "input_name_problem",
    "suggest",
    "table_name_problem",
]
