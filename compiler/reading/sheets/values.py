"""Values sheets: named lists (a Name column, then the list cell) that a table's Type
or Values cell may name, across the sheets of one workbook."""

from __future__ import annotations

from compiler.reading.sheets.common import NamedLists, Reader, find_row
from compiler.reading.workbook import RawSheet, ref


def named_lists(reader: Reader, sheets: list[RawSheet]) -> NamedLists:
    """The lists of SHEETS by name; a name defined twice keeps its first list."""
    lists: NamedLists = {}
    for sheet in sheets:
        header = find_row(sheet, "name", start=2)
        if header is None:
            reader.error(
                "E140",
                "Values sheet without a header row starting with 'Name'",
                sheet.location.at("A2"),
            )
            continue
        for row in range(header + 1, sheet.max_row + 1):
            name = reader.text(sheet, row, 1)
            if not name:
                continue
            at = sheet.location.at(ref(row, 2))
            if name in lists:
                reader.error(
                    "E141",
                    f"the list {name!r} is defined twice",
                    sheet.location.at(ref(row, 1)),
                )
                continue
            lists[name] = (sheet.value(row, 2), at)
    return lists
