"""A decision-table sheet, read top to bottom as the format lays it out: the header
(`header`), the column rows (`columns`), then the rules (`rules`)."""

from __future__ import annotations

from compiler.model import TIME_TYPES, Column, ColumnKind, Table
from compiler.reading.sheets.columns import read_column_rows, read_columns
from compiler.reading.sheets.common import (
    VERSION_2_NAMES,
    NamedLists,
    Reader,
    find_row,
)
from compiler.reading.sheets.computed import attach_expressions
from compiler.reading.sheets.entries import Member, Quantifier, Relational
from compiler.reading.sheets.header import read_metadata, read_name
from compiler.reading.sheets.lowering import lower
from compiler.reading.sheets.rules import read_rules
from compiler.reading.workbook import RawSheet, ref

# Rules per table (version): evaluators and the analysis hold one bit per rule for
# every slot of a column, so a lookup table of N rules costs N^2 bits; at this limit
# compiling takes ~10 s and ~0.6 GB (docs/workbook-format.md, Limits).
MAX_RULES = 32_768


def read_table(reader: Reader, sheet: RawSheet, lists: NamedLists) -> Table | None:
    """The sheet's table; None when an error leaves nothing usable (reported)."""
    loc = sheet.location
    name = read_name(reader, sheet)
    if name is None:
        return None
    header = find_row(sheet, "rule", start=2)
    if header is None:
        reader.error(
            "E103", "no header row: no row has 'Rule' in column A", loc.at("A2")
        )
        return None
    meta = read_metadata(reader, sheet, header)
    column_rows = read_column_rows(reader, sheet, header)
    if "kind" not in column_rows or "type" not in column_rows:
        missing = [
            label.title() for label in ("kind", "type") if label not in column_rows
        ]
        reader.error(
            "E104",
            f"missing {' and '.join(missing)} row below the header",
            loc.at(ref(header + 1, 1)),
            hint="the rows Kind and Type (and optionally Values, Default) follow the Rule row",
        )
        return None
    columns = read_columns(reader, sheet, header, column_rows, lists)
    if columns is None:
        return None
    columns = attach_expressions(reader, sheet, columns, column_rows)
    if columns is None:
        return None
    inputs = tuple(c for c, _ in columns if c.kind is ColumnKind.INPUT)
    outputs = tuple(c for c, _ in columns if c.kind is ColumnKind.OUTPUT)
    notes = tuple(c for c, _ in columns if c.kind is ColumnKind.ANNOTATION)
    if not outputs:
        reader.error("E106", "the table has no output column", loc.at(ref(header, 1)))
        return None
    first_rule = max(column_rows.values()) + 1
    relational: dict[tuple[int, int], Relational | Quantifier | Member] = {}
    rules, unread = read_rules(reader, sheet, first_rule, columns, relational)
    if len(rules) > MAX_RULES:
        reader.error(
            "E160",
            f"the table has {len(rules):,} rules; a table may have at most "
            f"{MAX_RULES:,}",
            loc.at(rules[MAX_RULES].location.cell.split(":")[0]),
            hint="split it into several tables (for example by code range or "
            "modality), chained with 'from' inputs where one decides for another",
        )
        return None
    inputs, rules = lower(inputs, rules, relational)
    if not _version_2_names_free(reader, inputs, outputs):
        return None
    if any(c.per_rule for c in outputs) and (
        meta.hit_policy.value in ("ANY", "OUTPUT ORDER")
        or meta.aggregation is not None
        or meta.effective_from
        or meta.effective_to
    ):
        reader.error(
            "E210",
            "computed outputs need a FIRST, UNIQUE, PRIORITY, COLLECT (without an "
            "aggregation) or RULE ORDER table without versions",
            loc.at(meta.cells.get("hit policy", ref(header, 1))),
            hint="use a plain output, or split the table",
        )
        return None
    listed = next((c for c in outputs if c.many), None)
    if listed is not None and (
        meta.hit_policy.value in ("COLLECT", "RULE ORDER", "OUTPUT ORDER", "PRIORITY")
        or meta.aggregation is not None
    ):
        reader.error(
            "E210",
            f"the output {listed.name!r} is a list; list outputs need a FIRST, "
            "UNIQUE or ANY table",
            loc.at(meta.cells.get("hit policy", ref(header, 1))),
            hint="a COLLECT table of single values already gives a list",
        )
        return None
    return Table(
        name=name,
        hit_policy=meta.hit_policy,
        aggregation=meta.aggregation,
        inputs=inputs,
        outputs=outputs,
        annotations=notes,
        rules=rules,
        location=loc,
        title=meta.title,
        source=meta.source,
        effective_from=meta.effective_from,
        effective_to=meta.effective_to,
        complete=meta.complete,
        metadata_cells=tuple(meta.cells.items()),
        unread_rules=unread,
    )


def _version_2_names_free(
    reader: Reader, inputs: tuple[Column, ...], outputs: tuple[Column, ...]
) -> bool:
    """False (E111 reported) when a table that uses version 2 (its generated functions
    call `feel` and the datetime classes) has an input named like one of them. A
    version-1 table may keep such a name: its generated code uses none of them."""
    columns = (*inputs, *outputs)
    uses = any(
        c.computed or c.many or c.per_rule or c.type in TIME_TYPES for c in columns
    )
    clashes = [
        c for c in inputs if uses and not c.derived and c.name in VERSION_2_NAMES
    ]
    for column in clashes:
        reader.error(
            "E111",
            f"invalid column name {column.name!r}",
            column.location,
            column.name,
            f"{column.name!r} is a name the generated code of a version-2 table uses "
            f"(computed inputs, entries naming other inputs, durations, times), which "
            f"an input would hide; call it e.g. {column.name}_value",
        )
    return not clashes
