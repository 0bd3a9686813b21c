"""Tests sheets: the table named in B1, a Case row of column names over a Kind row
(input, expected, expected rule, annotation), then one test case a row."""

from __future__ import annotations

import datetime as dt
import re

from compiler.diagnostics import CellError
from compiler.model import Column, DataType, Decision, TestCase, TestSuite, Value
from compiler.reading import cells
from compiler.reading.sheets.common import Reader, find_row, suggest
from compiler.reading.workbook import RawSheet, ref

Layout = list[tuple[str, str, int, DataType]]  # (role, name, column, type)


def read_suite(
    reader: Reader,
    sheet: RawSheet,
    decisions: dict[str, Decision],
    chain: dict[str, dict[str, Column] | None],
    partial: set[str],
) -> TestSuite | None:
    """The sheet's test cases (not yet numbered into a module); None when the sheet
    is unusable, or its table's sheet has errors."""
    loc = sheet.location
    name = reader.text(sheet, 1, 2)
    if name in partial and name not in decisions:
        return None  # its table's sheet has errors, reported there
    if name not in decisions:
        reader.error(
            "E301",
            f"the Tests sheet names an unknown table {name!r}"
            if name
            else "the Tests sheet names no table in B1",
            loc.at("B1"),
            name or None,
            suggest(name, decisions) if name else "",
        )
        return None
    decision = decisions[name]
    table = decision.first
    header = find_row(sheet, "case", start=2)
    if header is None:
        reader.error(
            "E302", "no header row: no row has 'Case' in column A", loc.at("A2")
        )
        return None
    kind_row = header + 1
    if reader.text(sheet, kind_row, 1).lower() != "kind":
        reader.error(
            "E302",
            "the row below the Case row must be the Kind row",
            loc.at(ref(kind_row, 1)),
        )
        return None
    known = chain[name]
    inputs = known if known is not None else {}
    outputs = {c.header: c for c in table.outputs}  # a path output by its path
    last = max((c for (r, c) in sheet.cells if r == header), default=1)
    layout: Layout = []
    for col in range(2, last + 1):
        column_name = reader.text(sheet, header, col)
        kind = re.sub(r"\s+", " ", reader.text(sheet, kind_row, col).lower())
        at = loc.at(ref(header, col))
        if not column_name and not kind:
            continue
        if kind == "annotation":
            layout.append(("note", column_name, col, DataType.STRING))
        elif kind == "expected rule" or (
            kind in ("", "expected")
            and column_name.lower().replace("_", " ") == "expected rule"
        ):
            layout.append(("rules", column_name, col, DataType.STRING))
        elif kind == "input" and column_name == "as_of":
            layout.append(("as_of", column_name, col, DataType.DATE))
        elif kind == "input":
            # a path input's column is headed by its path (`claim.member.age`)
            paths = {c.header: c.name for c in inputs.values() if c.path}
            column_name = paths.get(column_name, column_name)
            if column_name not in inputs and known is None:
                continue  # an input of a required table that is missing or unread
            if column_name not in inputs:
                roots = sorted(h for h in paths if h.split(".")[0] == column_name)
                reader.error(
                    "E303",
                    f"{column_name!r} is not an input of {name!r}"
                    + (", but a structured input its paths read" if roots else ""),
                    at,
                    column_name,
                    f"give each path a column of its own: {', '.join(roots)}"
                    if roots
                    else suggest(column_name, inputs)
                    or f"inputs: {', '.join(c.header for c in inputs.values())}",
                )
                continue
            role = "list" if inputs[column_name].many else "input"  # version 2
            layout.append((role, column_name, col, inputs[column_name].type))
        elif kind == "expected":
            if column_name not in outputs:
                reader.error(
                    "E303",
                    f"{column_name!r} is not an output of {name!r}",
                    at,
                    column_name,
                    suggest(column_name, outputs) or f"outputs: {', '.join(outputs)}",
                )
                continue
            output = outputs[column_name]
            role = "expected list" if output.many else "expected"
            layout.append((role, output.name, col, output.type))
        else:
            reader.error(
                "E304",
                f"unknown kind {kind!r} in a Tests sheet",
                loc.at(ref(kind_row, col)),
                kind,
                "use input, expected, expected rule or annotation",
            )
    cases: list[TestCase] = []
    unread: list[TestCase] = []
    row = kind_row + 1
    while row <= sheet.max_row:
        case_id = reader.text(sheet, row, 1)
        if not case_id:
            if any(sheet.value(row, c) is not None for _, _, c, _ in layout):
                reader.error(
                    "E305",
                    "a test row has no case id in column A",
                    loc.at(ref(row, 1)),
                )
            row += 1
            continue
        case, ok = _case(reader, sheet, row, case_id, layout, table.returns_list)
        (cases if ok else unread).append(case)
        row += 1
    return TestSuite(name, tuple(cases), loc, "", tuple(unread))


def _case(
    reader: Reader,
    sheet: RawSheet,
    row: int,
    case_id: str,
    layout: Layout,
    returns_list: bool,
) -> tuple[TestCase, bool]:
    """The case of ROW, and whether every cell of it could be read (else it holds
    only its id, cells and expected rules, for the checks of ids)."""
    inputs: list[tuple[str, Value]] = []
    expected: list[tuple[str, Value | tuple[Value, ...]]] = []
    as_of = None
    rules = None
    note = ""
    ok = True
    for role, name, col, type_ in layout:
        raw = reader.code_raw(sheet, row, col, type_)
        at = sheet.location.at(ref(row, col))
        try:
            if role == "note":
                note = reader.text(sheet, row, col)
            elif role == "rules":
                text = reader.text(sheet, row, col)
                if text:
                    rules = tuple(
                        str(cells.parse_literal(t, DataType.STRING))
                        for t in cells.split_list(text)
                    )
            elif cells.is_blank(raw):
                if role in ("input", "list"):
                    inputs.append((name, None))
            elif role == "list":  # a list-valued input: `M54.5, 70450`; [] is empty
                text = cells.clean_text(raw)[0] if isinstance(raw, str) else ""
                listed = () if text == "[]" else cells.parse_literal_list(raw, type_)
                inputs.append((name, listed))  # type: ignore[arg-type]
            elif role == "as_of":
                parsed = cells.parse_literal(raw, DataType.DATE, allow_null=False)
                assert isinstance(parsed, dt.date)
                as_of = parsed
            elif role == "input":
                inputs.append((name, cells.parse_literal(raw, type_)))
            elif role == "expected list":  # version 2: a list output's value
                expected.append((name, cells.parse_list_value(raw, type_)))  # type: ignore[arg-type]
            elif returns_list:
                if isinstance(raw, str) and cells.clean_text(raw)[0] in (
                    "[]",
                    "none()",
                ):
                    expected.append((name, ()))
                else:
                    expected.append((name, cells.parse_literal_list(raw, type_)))
            else:
                expected.append((name, cells.parse_literal(raw, type_)))
        except CellError as exc:
            reader.cell_error(exc, at, sheet.value(row, col))
            ok = False
    row_at = sheet.location.at(ref(row, 1))
    refs = tuple((name, ref(row, col)) for _, name, col, _ in layout) + tuple(
        ("expected rule", ref(row, col))
        for role, _, col, _ in layout
        if role == "rules"
    )  # the key no identifier can be, for the expected-rule cell
    if not ok:
        return TestCase(case_id, (), (), row_at, None, rules, note, refs), False
    return TestCase(
        case_id, tuple(inputs), tuple(expected), row_at, as_of, rules, note, refs
    ), True
