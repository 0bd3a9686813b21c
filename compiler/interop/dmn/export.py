"""Export: tables of a project, with every table they require, as one DMN 1.5 model:
inputData, decisions with their requirements and decision tables, and a diagram."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from compiler.diagnostics import Location
from compiler.interop.dmn import version2
from compiler.interop.dmn.feel import feel_literal, feel_tests
from compiler.interop.dmn.messages import Message
from compiler.interop.dmn.names import snake_case
from compiler.interop.dmn.version2 import EXTENSIONS
from compiler.interop.dmn.workbook import column_type, tests_text
from compiler.model import (
    Aggregation,
    Column,
    DataType,
    Interval,
    Prefix,
    Project,
    Rule,
    Table,
)
from compiler.reading.sheets import lowering

DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"
FEEL15 = "https://www.omg.org/spec/DMN/20230324/FEEL/"
DMNDI15 = "https://www.omg.org/spec/DMN/20230324/DMNDI/"
# Our extension (EXTENSIONS): which table a decision is a version of, and its
# dates; and (version2) the authored cells DMN writes otherwise.
DC = "http://www.omg.org/spec/DMN/20180521/DC/"
DI = "http://www.omg.org/spec/DMN/20180521/DI/"


@dataclass(frozen=True, slots=True)
class Export:
    """The model written, the tables it holds, and what was left out or caveated."""

    xml: str
    tables: tuple[str, ...]  # exported table names
    messages: tuple[Message, ...]


_FEEL_TYPES = {
    DataType.STRING: "string",
    DataType.CODE: "string",
    DataType.INTEGER: "number",
    DataType.NUMBER: "number",
    DataType.BOOLEAN: "boolean",
    DataType.DATE: "date",
    DataType.DURATION: "days and time duration",
    DataType.YEARS_MONTHS: "years and months duration",
    DataType.TIME: "time",
    DataType.DATETIME: "date and time",
}


def _xml_id(text: str) -> str:
    """An NCName from arbitrary text (ids must be XML names)."""
    cleaned = re.sub(r"[^\w.-]", "_", text, flags=re.ASCII)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _closure(project: Project, names: Sequence[str]) -> list[str]:
    """The named tables and every table they require, in project order."""
    wanted: set[str] = set()
    stack = list(names or [d.name for d in project.decisions])
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(project.decision(name).requires)
    return [d.name for d in project.decisions if d.name in wanted]


def _select(
    project: Project, names: Sequence[str]
) -> tuple[list[Table], list[Message]]:
    """Tables NAMES and those they require that DMN can hold, every version of an
    effective-dated table (each becomes its own decision), with messages on those
    left out (a table that requires an effective-dated one: DMN has no date to choose
    its version by) and on caveats."""
    selected = _closure(project, names)
    messages: list[Message] = []

    def note(severity: str, name: str, text: str, topic: str) -> None:
        message = Message(severity, "table", name, "", text, topic)
        if message not in messages:  # once per table, not once per version
            messages.append(message)

    skipped = set()
    for name in selected:
        dated = [r for r in project.decision(name).requires if _versioned(project, r)]
        if dated:
            skipped.add(name)
            text = (
                f"not exported: it requires {dated[0]!r}, whose effective-dated "
                "versions are separate DMN decisions with no date to choose one by"
            )
            note("error", name, text, "versions")
    grown = True
    while grown:
        grown = False
        for name in selected:
            requires = project.decision(name).requires
            if name not in skipped and any(r in skipped for r in requires):
                skipped.add(name)
                grown = True
                text = "not exported: it requires a table that is not exported"
                note("error", name, text, "requirement")
    tables = []
    for table in (
        t for n in selected if n not in skipped for t in project.decision(n).versions
    ):
        name = table.name
        if any(c.type is DataType.INTEGER for c in (*table.inputs, *table.outputs)):
            note(
                "warning",
                name,
                "integer columns are written as number (import reads them back "
                "as integer)",
                "caveat",
            )
        tables.append(table)
    return tables, messages


def _versioned(project: Project, name: str) -> bool:
    return project.decision(name).versioned


def version_name(table: Table) -> str:
    """The DMN name of one version of an effective-dated table, its dates in it:
    `lab_policy from 2026-01-01`, `rate to 2025-12-31`."""
    dates = [
        f"{word} {day.isoformat()}"
        for word, day in (("from", table.effective_from), ("to", table.effective_to))
        if day is not None
    ]
    return " ".join([table.name, *dates])


class _Elements:
    """DMN 1.5 elements, each with an id unique in the model."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def new_id(self, wanted: str) -> str:
        base = _xml_id(wanted)
        candidate, n = base, 2
        while candidate in self.ids:
            candidate, n = f"{base}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def sub(
        self,
        parent: ET.Element,
        tag: str,
        text: str | None = None,
        *,
        ident: str = "",
        **attributes: str,
    ) -> ET.Element:
        """A DMN child element; IDENT asks for a fresh id, TEXT adds a `<text>`."""
        if ident:
            attributes = {"id": self.new_id(ident), **attributes}
        element = ET.SubElement(
            parent, f"{{{DMN15}}}{tag}", {k: v for k, v in attributes.items() if v}
        )
        if text is not None:
            ET.SubElement(element, f"{{{DMN15}}}text").text = text
        return element


class _Exporter:
    """Writes the selected tables, and every table they require, as one model."""

    def __init__(self, project: Project, names: Sequence[str], model_name: str) -> None:
        self.project = project
        self.model_name = model_name
        self.tables, self.messages = _select(project, names)
        self.xml = _Elements()
        self.decision_ids: dict[Location, str] = {}  # by the table's sheet
        self.input_ids: dict[str, str] = {}
        # version 2: the path inputs of each structured input (by its name), and
        # the name of the item definition written for it
        self.structures: dict[str, dict[tuple[str, ...], Column]] = {}
        self.structure_types: dict[str, str] = {}
        self.edges: list[tuple[str, str, str]] = []  # (requirement, from id, to id)

    def note(
        self, severity: str, element: str, name: str, text: str, topic: str
    ) -> None:
        self.messages.append(Message(severity, element, name, "", text, topic))

    def run(self) -> Export:
        tables = self.tables
        slug = snake_case(self.model_name)
        root = ET.Element(
            f"{{{DMN15}}}definitions",
            {
                "id": self.xml.new_id(f"definitions_{slug}"),
                "name": self.model_name,
                "namespace": f"https://compile-rules/dmn/{slug}",
                "expressionLanguage": FEEL15,
                "typeLanguage": FEEL15,
                "exporter": "compile-rules",
            },
        )
        inputs: dict[str, Column] = {}
        for column in (c for t in tables for c in t.inputs if _plain(c)):
            if column.path:  # version 2: a field of a structured inputData
                fields = self.structures.setdefault(column.path[0], {})
                first = fields.setdefault(column.path, column)
                shown = column.header
            else:
                first = inputs.setdefault(column.name, column)
                shown = column.name
            if first.type is not column.type or first.many != column.many:
                text = f"is {column_type(first)} in one table and {column_type(column)} in another"
                self.note("warning", "input", shown, text, "caveat")
        for name in sorted(set(inputs) & set(self.structures)):
            text = (
                "one table reads it as a plain input, another reads paths into it; "
                "it is written as a structure"
            )
            self.note("warning", "input", name, text, "caveat")
            del inputs[name]
        for name in sorted(set(inputs) & {t.name for t in tables}):
            text = "an input and a table share this name; DMN names must differ"
            self.note("warning", "input", name, text, "caveat")
        self.decision_ids = {
            t.location: self.xml.new_id(f"decision_{t.name}") for t in tables
        }
        self.input_ids = {
            name: self.xml.new_id(f"inputData_{name}")
            for name in sorted({*inputs, *self.structures})
        }
        self.item_definitions(root, tables)
        for table in tables:
            self.decision(root, table)
        for name, ident in self.input_ids.items():
            node = self.xml.sub(root, "inputData", id=ident, name=name)
            self.xml.sub(
                node,
                "variable",
                ident=f"{ident}_variable",
                name=name,
                typeRef=(
                    self.structure_types[name]
                    if name in self.structures
                    else _type_ref(inputs[name])
                ),
            )
        self.diagram(root, tables)
        for prefix, uri in (
            ("", DMN15),
            ("dmndi", DMNDI15),
            ("dc", DC),
            ("di", DI),
            ("cr", EXTENSIONS),
        ):
            ET.register_namespace(prefix, uri)
        ET.indent(root)
        xml = ET.tostring(root, encoding="unicode")
        header = '<?xml version="1.0" encoding="UTF-8"?>\n'
        return Export(
            header + xml + "\n",
            tuple(dict.fromkeys(t.name for t in tables)),
            tuple(self.messages),
        )

    def result_type(self, table: Table) -> str:
        """The decision's type: a plain FEEL type, or `t_<table>` for lists and
        several outputs (COUNT counts, so it is a number)."""
        if len(table.outputs) == 1 and not table.returns_list:
            return self.output_type(table, table.outputs[0])
        return f"t_{table.name}"

    def output_type(self, table: Table, column: Column) -> str:
        return (
            "number"
            if table.aggregation is Aggregation.COUNT
            else _type_ref(column)  # version 2: a list output's collection type
        )

    def item_definitions(self, root: ET.Element, tables: list[Table]) -> None:
        """A structured or list type per table whose result is not one plain value
        (one for all versions of a table: they have the same outputs)."""
        done = set()
        for typed in sorted(
            {
                _FEEL_TYPES[c.type]
                for t in tables
                for c in (*t.inputs, *t.outputs)
                if c.many
            }
        ):  # version 2: list inputs and outputs
            item = self.xml.sub(
                root,
                "itemDefinition",
                ident=f"itemDefinition_{_list_type(typed)}",
                name=_list_type(typed),
                isCollection="true",
            )
            ET.SubElement(item, f"{{{DMN15}}}typeRef").text = typed
        taken = {self.result_type(t) for t in tables}
        for name, fields in sorted(self.structures.items()):  # version 2: paths
            type_name, n = f"t_{name}", 2
            while type_name in taken:
                type_name, n = f"t_{name}_{n}", n + 1
            taken.add(type_name)
            self.structure_types[name] = type_name
            item = self.xml.sub(
                root,
                "itemDefinition",
                ident=f"itemDefinition_{type_name}",
                name=type_name,
            )
            self.components(item, [(p[1:], c) for p, c in fields.items()])
        for table in tables:
            if len(table.outputs) == 1 and not table.returns_list or table.name in done:
                continue
            done.add(table.name)
            item = self.xml.sub(
                root,
                "itemDefinition",
                ident=f"itemDefinition_{table.name}",
                name=self.result_type(table),
            )
            if table.returns_list:
                item.set("isCollection", "true")
            if len(table.outputs) == 1:
                ET.SubElement(item, f"{{{DMN15}}}typeRef").text = _FEEL_TYPES[
                    table.outputs[0].type
                ]
                continue
            for column in table.outputs:
                component = self.xml.sub(
                    item,
                    "itemComponent",
                    ident=f"{item.get('id')}_{column.name}",
                    name=column.name,
                )
                ET.SubElement(component, f"{{{DMN15}}}typeRef").text = self.output_type(
                    table, column
                )

    def components(
        self, parent: ET.Element, fields: list[tuple[tuple[str, ...], Column]]
    ) -> None:
        """The item components of PARENT for the path inputs FIELDS (the path below
        PARENT, the column): a leaf has the column's type, a step the components
        below it."""
        below: dict[str, list[tuple[tuple[str, ...], Column]]] = {}
        for path, column in fields:
            below.setdefault(path[0], []).append((path[1:], column))
        for name, rest in below.items():
            component = self.xml.sub(
                parent,
                "itemComponent",
                ident=f"{parent.get('id')}_{name}",
                name=name,
            )
            leaf = next((c for p, c in rest if not p), None)
            if leaf is not None:
                ET.SubElement(component, f"{{{DMN15}}}typeRef").text = _type_ref(leaf)
            else:
                self.components(component, rest)

    def decision(self, root: ET.Element, table: Table) -> None:
        """The decision: variable, information requirements and its decision table."""
        ident = self.decision_ids[table.location]
        versioned = self.project.decision(table.name).versioned
        node = self.xml.sub(
            root,
            "decision",
            id=ident,
            name=version_name(table) if versioned else table.name,
            label=table.title,
        )
        if table.source:
            ET.SubElement(node, f"{{{DMN15}}}description").text = table.source
        if versioned:  # which table this is a version of, read back by import
            extension = ET.SubElement(node, f"{{{DMN15}}}extensionElements")
            dates = {
                "table": table.name,
                "effectiveFrom": _iso(table.effective_from),
                "effectiveTo": _iso(table.effective_to),
            }
            ET.SubElement(
                extension,
                f"{{{EXTENSIONS}}}version",
                {k: v for k, v in dates.items() if v},
            )
        self.xml.sub(
            node,
            "variable",
            ident=f"{ident}_variable",
            name=table.name,
            typeRef=self.result_type(table),
        )
        required: dict[str, tuple[str, str]] = {}
        for column in table.inputs:
            if column.computed:  # version 2: it reads the table's other inputs
                continue
            if column.source_table:
                producer = self.project.decision(column.source_table).first.location
                decision = ("requiredDecision", self.decision_ids[producer])
                required.setdefault(column.source_table, decision)
            else:
                key = column.path[0] if column.path else column.name
                required.setdefault(key, ("requiredInput", self.input_ids[key]))
        for key, (tag, target) in required.items():
            requirement = self.xml.sub(
                node, "informationRequirement", ident=f"{ident}_requires_{key}"
            )
            self.xml.sub(requirement, tag, href=f"#{target}")
            self.edges.append((requirement.get("id", ""), target, ident))
        attributes = {"hitPolicy": table.hit_policy.value, "outputLabel": table.name}
        if table.aggregation is not None:
            attributes["aggregation"] = table.aggregation.value
        logic = self.xml.sub(
            node, "decisionTable", ident=f"decisionTable_{table.name}", **attributes
        )
        # whether the sheet says `Complete: no`, which import would otherwise infer
        # from the analysis (and a hedged gap is not one)
        logic.set(version2.COMPLETE, "yes" if table.complete else "no")
        self.decision_table(logic, table)

    def decision_table(self, node: ET.Element, table: Table) -> None:
        base = node.get("id", "")
        names: dict[str, str] = {}  # FEEL of the names expressions read, if not theirs
        inputs = tuple(c for c in table.inputs if not c.derived)
        for column in inputs:
            clause = self.xml.sub(
                node, "input", ident=f"{base}_input_{column.name}", label=column.header
            )
            _restore_type(clause, column)
            expression = column.header  # version 2: a path, `claim.member.age`
            if column.source_table:
                producer = self.project.decision(column.source_table).first
                single = len(producer.outputs) == 1
                expression = (
                    column.source_table
                    if single
                    else f"{column.source_table}.{column.name}"
                )
                names[column.name] = expression
            if column.expression is not None:  # version 2: a computed input
                clause.set(version2.KIND, "computed")
                expression = version2.feel_expression(column.expression.text, names)
                names[column.name] = f"({expression})"
            element = self.xml.sub(
                clause,
                "inputExpression",
                expression,
                ident=f"{clause.get('id')}_expression",
                typeRef=_type_ref(column),
            )
            if column.expression is not None:
                element.set(version2.TEXT, column.expression.text)
            if column.values is not None and column.many:
                clause.set(version2.VALUES, tests_text(column.values, column.type))
            elif column.values is not None:
                values = feel_tests(column.values, column.type)
                self.xml.sub(
                    clause, "inputValues", values, ident=f"{clause.get('id')}_values"
                )
        for column in table.outputs:
            typed = _type_ref(column)
            clause = self.xml.sub(
                node,
                "output",
                ident=f"{base}_output_{column.name}",
                name=column.header,
                typeRef=typed,
            )
            _restore_type(clause, column)
            if column.path:  # version 2: a path output, read back as one
                clause.set(version2.PATH, "yes")
            if column.per_rule:  # version 2: each rule's entry is an expression
                clause.set(version2.KIND, "computed output")
            if column.values is not None:
                values = feel_tests(column.values, column.type)
                self.xml.sub(
                    clause, "outputValues", values, ident=f"{clause.get('id')}_values"
                )
            if column.has_default:
                default = feel_literal(column.default)
                self.xml.sub(
                    clause,
                    "defaultOutputEntry",
                    default,
                    ident=f"{clause.get('id')}_default",
                )
        for column in table.annotations:
            self.xml.sub(node, "annotation", name=column.name)
        for rule in table.rules:
            own = _xml_id(rule.id) == rule.id and rule.id not in self.xml.ids
            entry = self.xml.sub(
                node,
                "rule",
                ident=rule.id if own else f"{base}_rule_{rule.id}",
                label=rule.id,  # import reads the rule id from the label
            )
            rule_id = entry.get("id", "")
            for n, (text, authored) in enumerate(
                _input_entries(table, rule, names), start=1
            ):
                element = self.xml.sub(
                    entry, "inputEntry", text, ident=f"{rule_id}_i{n}"
                )
                if authored is not None:
                    element.set(version2.TEXT, authored)
            expressions = rule.output_expressions or (None,) * len(rule.outputs)
            for n, (value, computes) in enumerate(
                zip(rule.outputs, expressions, strict=True), start=1
            ):
                if computes is None:
                    text = feel_literal(value)
                else:  # version 2: a computed output
                    text = version2.feel_expression(computes.text, names)
                element = self.xml.sub(
                    entry, "outputEntry", text, ident=f"{rule_id}_o{n}"
                )
                if computes is not None:
                    element.set(version2.TEXT, computes.text)
                elif table.outputs[n - 1].many:  # version 2: a list, read back as one
                    element.set(version2.TEXT, text)
            for text in rule.annotations:
                self.xml.sub(entry, "annotationEntry", text)

    def diagram(self, root: ET.Element, tables: list[Table]) -> None:
        """A DRD laid out in rows (decisions by depth, inputs at the bottom), so that
        modelers that need diagram information show the model at once."""
        depth: dict[str, int] = {}

        def level(name: str) -> int:
            if name not in depth:
                requires = self.project.decision(name).requires
                depth[name] = 1 + max((level(r) for r in requires), default=0)
            return depth[name]

        top = max((level(t.name) for t in tables), default=1)
        rows: dict[int, list[str]] = {top: list(self.input_ids.values())}
        for table in tables:
            rows.setdefault(top - level(table.name), []).append(
                self.decision_ids[table.location]
            )
        width, height, gap_x, gap_y = 180, 80, 40, 100
        corners: dict[str, tuple[int, int]] = {}
        dmndi = ET.SubElement(root, f"{{{DMNDI15}}}DMNDI")
        diagram = ET.SubElement(
            dmndi, f"{{{DMNDI15}}}DMNDiagram", {"id": self.xml.new_id("DMNDiagram_1")}
        )
        for row, ids in sorted(rows.items()):
            for column, element in enumerate(ids):
                x, y = 100 + column * (width + gap_x), 100 + row * (height + gap_y)
                corners[element] = (x, y)
                shape = ET.SubElement(
                    diagram,
                    f"{{{DMNDI15}}}DMNShape",
                    {
                        "id": self.xml.new_id(f"DMNShape_{element}"),
                        "dmnElementRef": element,
                    },
                )
                box = {
                    "height": str(height),
                    "width": str(width),
                    "x": str(x),
                    "y": str(y),
                }
                ET.SubElement(shape, f"{{{DC}}}Bounds", box)
        for requirement, source, target in self.edges:
            edge = ET.SubElement(
                diagram,
                f"{{{DMNDI15}}}DMNEdge",
                {
                    "id": self.xml.new_id(f"DMNEdge_{requirement}"),
                    "dmnElementRef": requirement,
                },
            )
            (sx, sy), (tx, ty) = corners[source], corners[target]
            ET.SubElement(
                edge, f"{{{DI}}}waypoint", {"x": str(sx + width // 2), "y": str(sy)}
            )
            ET.SubElement(
                edge,
                f"{{{DI}}}waypoint",
                {"x": str(tx + width // 2), "y": str(ty + height)},
            )


def _plain(column: Column) -> bool:
    """Whether COLUMN is an inputData: not a `from`, computed or derived input."""
    return column.source_table is None and column.expression is None


def _list_type(feel_type: str) -> str:
    return f"t_list_of_{feel_type.replace(' ', '_')}"


def _type_ref(column: Column) -> str:
    typed = _FEEL_TYPES[column.type]
    return _list_type(typed) if column.many else typed


def _restore_type(clause: ET.Element, column: Column) -> None:
    """The column's Type, where DMN has none of its own (integer, code, lists), in
    our extension attribute: import reads it back."""
    if column.many or column.type in (DataType.INTEGER, DataType.CODE):
        clause.set(version2.TYPE, column_type(column))


def _input_entries(
    table: Table, rule: Rule, names: dict[str, str]
) -> list[tuple[str, str | None]]:
    """RULE's input entries as FEEL unary tests, each with its cell text when FEEL
    writes it otherwise (code prefixes and ranges, and in version 2 entries naming
    other inputs and list quantifiers); derived columns are folded back."""
    sheet, entries = lowering.raise_entries(table.inputs, rule)
    found: list[tuple[str, str | None]] = []
    for column, entry in zip(sheet, entries, strict=True):
        cell = entry.text(partial(tests_text, type_=column.type))
        if entry.quantified is not None:
            quantified = entry.quantified
            text = version2.feel_quantified(
                quantified.quantifier, quantified.tests, column.type
            )
            found.append((text, cell))
        elif entry.member:  # version 2: the value is in that list input
            found.append((names.get(entry.member, entry.member), cell))
        elif entry.relations:
            text = version2.feel_relational(entry, names, column.type)
            found.append((text, cell))
        else:
            text = feel_tests(entry.tests, column.type)
            coded = column.type is DataType.CODE and any(
                isinstance(t, (Prefix, Interval)) for t in entry.tests.tests
            )
            found.append((text, cell if coded else None))
    return found


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else ""


def export_dmn(
    project: Project, names: Sequence[str] = (), model_name: str = "compile-rules"
) -> Export:
    """Tables NAMES (all when empty), with every table they require, as DMN 1.5 XML."""
    return _Exporter(project, names, model_name).run()
