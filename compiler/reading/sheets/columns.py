"""The column headers of a decision-table sheet: the Rule row of names, then the Kind
and Type rows (and optionally Values and Default) that say what each column is."""

from __future__ import annotations

import re
from dataclasses import replace

from compiler.diagnostics import CellError, Location
from compiler.model import Column, ColumnKind, DataType, UnaryTests, Value
from compiler.reading import cells
from compiler.reading.cells import RawValue
from compiler.reading.sheets.common import (
    NamedLists,
    Reader,
    check_identifier,
    input_name_problem,
    suggest,
)
from compiler.reading.workbook import RawSheet, ref

_COLUMN_ROWS = ("kind", "type", "values", "default", "expression")
_TYPES = {t.value: t for t in DataType}


def read_column_rows(reader: Reader, sheet: RawSheet, header: int) -> dict[str, int]:
    """The rows below the Rule row HEADER that describe columns: label -> row."""
    rows: dict[str, int] = {}
    twice: list[tuple[str, int]] = []
    row = header + 1
    while True:
        label = reader.text(sheet, row, 1).lower()
        if label not in _COLUMN_ROWS:
            break
        if label in rows:
            twice.append((label, row))
        rows.setdefault(label, row)
        row += 1
    if "expression" in rows and not _has_computed(reader, sheet, rows):
        # Version 1 reads an `Expression` row as a rule: so does version 2 unless a
        # column of the table is computed (which version 1 refuses).
        end = rows["expression"]
        rows = {k: r for k, r in rows.items() if r < end}
        twice = [(label, r) for label, r in twice if r < end]
    for label, r in twice:
        reader.error(
            "E109",
            f"the row {label.title()!r} appears twice",
            sheet.location.at(ref(r, 1)),
        )
    return rows


def _has_computed(reader: Reader, sheet: RawSheet, rows: dict[str, int]) -> bool:
    if "kind" not in rows:
        return False
    kinds = (c for (r, c) in sheet.cells if r == rows["kind"])
    return any(reader.text(sheet, rows["kind"], c).lower() == "computed" for c in kinds)


def read_columns(
    reader: Reader,
    sheet: RawSheet,
    header: int,
    rows: dict[str, int],
    lists: NamedLists,
) -> list[tuple[Column, int]] | None:
    """The table's columns with their sheet column numbers; None when unusable."""
    loc = sheet.location
    last = max((c for (r, c) in sheet.cells if r == header), default=1)
    columns: list[tuple[Column, int]] = []
    names: set[str] = set()
    ok = True
    for col in range(2, last + 1):
        name = reader.text(sheet, header, col)
        at = loc.at(ref(header, col))
        kind_text = reader.text(sheet, rows["kind"], col)
        if not name:
            if kind_text or any(sheet.value(r, col) is not None for r in rows.values()):
                reader.error("E110", "a column has no name in the header row", at)
                ok = False
            continue
        annotation = kind_text.lower() == "annotation"  # its header is free text
        path = tuple(name.split(".")) if "." in name and not annotation else ()
        if path:  # version 2: a path into a structured input, `claim.member.age`
            problem = _path_problem(path, kind_text)
        else:
            problem = check_identifier(name) or (
                input_name_problem(name)
                if _is_input(kind_text) or name == "as_of"
                else ""
            )
        if problem and not annotation:
            reader.error("E111", f"invalid column name {name!r}", at, name, problem)
            ok = False
            continue
        ident = "__".join(path) if path else name
        if ident in names:
            reader.error("E112", f"the column {name!r} appears twice", at, name)
            ok = False
            continue
        names.add(ident)
        column = _column(reader, sheet, col, ident, rows, lists, kind_text)
        if column is None:
            ok = False
        else:
            columns.append((replace(column, path=path) if path else column, col))
    roots = {c.path[0] for c, _ in columns if c.path}
    for column, _col in columns:
        if column.name in roots and not column.path:
            reader.error(
                "E111",
                f"invalid column name {column.name!r}",
                column.location,
                column.name,
                f"{column.name!r} is also the structured input that paths such as "
                f"'{column.name}.x' read; rename one of them",
            )
            ok = False
    outputs = {c.name for c, _ in columns if c.kind is ColumnKind.OUTPUT}
    for column, _col in columns:  # version 2: `a.b` beside `a.b.c` (or `a__b`)
        prefixes = ["__".join(column.path[:n]) for n in range(2, len(column.path))]
        inside = next((p for p in prefixes if p in outputs), None)
        if column.kind is ColumnKind.OUTPUT and inside is not None:
            reader.error(
                "E111",
                f"invalid column name {column.header!r}",
                column.location,
                column.header,
                f"{inside.replace('__', '.')!r} is an output too, so it cannot also "
                f"hold the field {column.path[-1]!r}; rename one of them",
            )
            ok = False
    return columns if ok else None


def _path_problem(path: tuple[str, ...], kind_text: str) -> str:
    """Why the header PATH (`claim.member.age`) cannot name a column of KIND_TEXT,
    or '' when it can: an input's path of snake_case names."""
    kind = " ".join(kind_text.lower().split())
    if kind not in ("input", "required input", "output", "computed output"):
        return (
            "only an input (or required input) column reads a path into a structured "
            "input, and only an output (or computed output) column writes one"
        )
    for part in path:
        problem = check_identifier(part)
        if problem:
            return f"each name of a path is an identifier: {part!r}: {problem}"
    if kind.endswith("output"):  # the root is a property of `Outputs`
        if path[0] in ("count", "index") or path[0] == "as_of":
            return f"{path[0]!r} is a name the generated Outputs already use"
        return ""
    return input_name_problem(path[0])


def _is_input(kind_text: str) -> bool:
    """Whether the Kind cell KIND_TEXT makes an input (`input`, `required input`,
    `computed`, `from <table>`: a parameter or a local of the generated functions); an
    unknown kind is reported on its own."""
    kind = " ".join(kind_text.lower().split())
    return kind in ("input", "required input", "computed") or kind.startswith("from ")


def _column(
    reader: Reader,
    sheet: RawSheet,
    col: int,
    name: str,
    rows: dict[str, int],
    lists: NamedLists,
    kind_text: str,
) -> Column | None:
    loc = sheet.location
    kind_at = loc.at(ref(rows["kind"], col))
    kind_lower = kind_text.lower()
    source_table = None
    required = False
    words = kind_lower.split()
    if words[:1] == ["required"]:
        rest = " ".join(words[1:])
        if rest != "input":
            reader.error(
                "E113",
                "'required' alone is not a column kind"
                if not rest
                else f"only an input can be declared required, not {rest!r}"
                if not rest.startswith("from ")
                else "a 'from' input takes its value from another table and cannot "
                "be declared required",
                kind_at,
                kind_text,
                "write 'required input', or declare the input required in the "
                "table it comes from"
                if rest.startswith("from ")
                else "write 'required input'",
            )
            return None
        kind_lower, required = "input", True
    if kind_lower.startswith("from "):
        kind = ColumnKind.INPUT
        source_table = kind_text[5:].strip()
        problem = check_identifier(source_table)
        if problem:
            reader.error(
                "E113",
                f"'from' names an invalid table {source_table!r}",
                kind_at,
                kind_text,
                problem,
            )
            return None
    elif kind_lower in ("input", "output", "annotation"):
        kind = ColumnKind(kind_lower)
    elif kind_lower == "computed":  # version 2: the Expression row gives its value
        kind = ColumnKind.INPUT
    elif " ".join(kind_lower.split()) == "computed output":  # version 2
        kind = ColumnKind.OUTPUT
    else:
        reader.error(
            "E113",
            f"unknown column kind {kind_text!r}"
            if kind_text
            else "the column has no kind",
            kind_at,
            kind_text or None,
            suggest(kind_lower, ("input", "required input", "output", "annotation"))
            or "use input, required input, output, annotation or from <table>",
        )
        return None
    header_at = loc.at(ref(_header_row(rows), col))
    if kind is ColumnKind.ANNOTATION:
        return Column(name, kind, DataType.STRING, header_at)
    type_at = loc.at(ref(rows["type"], col))
    type_text = reader.text(sheet, rows["type"], col)
    values: UnaryTests | None = None
    named = lists.get(type_text)
    many = False
    spaced = " ".join(type_text.split()).lower()  # `years and months duration`
    listed = re.fullmatch(r"list of (.+)", spaced)
    if listed and listed.group(1) in _TYPES and kind_lower != "computed":
        # version 2: a list-valued input (its Values are the elements') or output
        many = True
        spaced = listed.group(1)
    if spaced in _TYPES:
        type_ = _TYPES[spaced]
    elif named is not None:
        type_, values = _infer_list(reader, type_text, named)
        if values is None:
            return None
    else:
        reader.error(
            "E114",
            f"unknown type {type_text!r}" if type_text else "the column has no type",
            type_at,
            type_text or None,
            suggest(type_text.lower(), [*_TYPES, *lists])
            or f"use one of {', '.join(_TYPES)}",
        )
        return None
    if "values" in rows and sheet.value(rows["values"], col) is not None:
        values = _values(reader, sheet, rows["values"], col, type_, lists)
        if values is None:
            return None
    per_rule = " ".join(kind_lower.split()) == "computed output"
    if many and kind is ColumnKind.OUTPUT and values is not None:
        reader.error(
            "E210",
            "a list output takes no Values",
            loc.at(ref(rows["values"], col)) if "values" in rows else type_at,
            hint="clear the Values cell; the Type says what its elements are",
        )
        return None
    if per_rule and values is not None:
        reader.error(
            "E210",
            "a computed output takes no Values: its cells are expressions",
            loc.at(ref(rows["values"], col)) if "values" in rows else type_at,
            hint="clear the Values cell, or make the column a plain output",
        )
        return None
    default: Value = None
    has_default = False
    if "default" in rows and sheet.value(rows["default"], col) is not None:
        raw = sheet.value(rows["default"], col)
        at = loc.at(ref(rows["default"], col))
        if kind is not ColumnKind.OUTPUT:
            reader.error("E115", "only output columns take a Default", at, raw)
            return None
        try:
            raw_default = reader.code_raw(sheet, rows["default"], col, type_)
            default = (
                cells.parse_list_value(raw_default, type_)  # type: ignore[assignment]
                if many
                else cells.parse_literal(raw_default, type_)
            )
            has_default = True
        except CellError as exc:
            reader.cell_error(exc, at, raw)
            return None
    return Column(
        name,
        kind,
        type_,
        header_at,
        source_table,
        values,
        default,
        has_default,
        kind_at.cell,
        required,
        many=many,
        per_rule=per_rule,
    )


def _header_row(rows: dict[str, int]) -> int:
    return min(rows.values()) - 1


def _infer_list(
    reader: Reader, name: str, named: tuple[RawValue, Location]
) -> tuple[DataType, UnaryTests | None]:
    """A Type cell naming a Values list: the first type every item parses as."""
    raw, at = named
    for type_ in (
        DataType.BOOLEAN,
        DataType.INTEGER,
        DataType.NUMBER,
        DataType.DATE,
    ):
        try:
            return type_, cells.parse_values(raw, type_)
        except CellError:
            continue
    try:
        return DataType.STRING, cells.parse_values(raw, DataType.STRING)
    except CellError as exc:
        reader.cell_error(exc, at, raw)
        return DataType.STRING, None


def _values(
    reader: Reader,
    sheet: RawSheet,
    row: int,
    col: int,
    type_: DataType,
    lists: NamedLists,
) -> UnaryTests | None:
    """A column's Values cell: a list of its own, or the name of a Values list."""
    raw = sheet.value(row, col)
    at = sheet.location.at(ref(row, col))
    text = reader.text(sheet, row, col)
    if text in lists:
        raw, at = lists[text]
    try:
        return cells.parse_values(raw, type_)
    except CellError as exc:
        reader.cell_error(exc, at, raw)
        return None
