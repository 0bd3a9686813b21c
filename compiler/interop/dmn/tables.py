"""Building: drafts into model `Table`s, typed by their typeRefs, inputData and the
tables they read, and the `Conversion` that holds them with each column's DMN origin."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from compiler.checking import analyse
from compiler.diagnostics import CellError, Location
from compiler.expressions.typed import Typed, type_of
from compiler.interop.dmn import version2
from compiler.interop.dmn.document import Document
from compiler.interop.dmn.drafts import Draft, Input, Output, output_topic
from compiler.interop.dmn.expressions import column_type, to_feel_cr
from compiler.interop.dmn.feel import (
    RawTests,
    as_values,
    infer_type,
    parse_literal,
    parse_unary_tests,
    typed,
    typed_tests,
)
from compiler.interop.dmn.messages import Message, Unsupported
from compiler.interop.dmn.named import format_text
from compiler.interop.dmn.names import CODEGEN_NAMES, Names, collapse
from compiler.model import (
    Column,
    ColumnKind,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Project,
    Rule,
    Table,
    UnaryTests,
)
from compiler.reading.sheets import RESERVED_NAMES
from compiler.reading.sheets.computed import check_type, inputs_env
from compiler.reading.sheets.entries import (
    Member,
    Quantifier,
    Relational,
    parse_member,
    parse_relational,
)
from compiler.reading.sheets.lowering import lower


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a converted table came from: its decision, and each column's DMN name
    and id (identifier, DMN name, DMN id, role)."""

    decision_id: str
    decision_name: str
    columns: tuple[tuple[str, str, str, str], ...]

    def output_names(self) -> dict[str, str]:
        """DMN output name -> output column identifier."""
        return {dmn: ident for ident, dmn, _, role in self.columns if role == "output"}


@dataclass(frozen=True, slots=True)
class Conversion:
    """What import made of a DMN model: tables in our model, and what it left out."""

    model: str  # the file name, as messages show it
    tables: tuple[Table, ...]
    origins: Mapping[str, Origin]  # table sheet (its name, or its version's) -> origin
    messages: tuple[Message, ...]
    inputs: Mapping[str, str]  # DMN input name -> column identifier
    decisions: Mapping[str, str]  # DMN decision name -> table name (converted only)
    namespace: str = ""  # the DMN namespace read (version)
    # version 2: the field a path input reads, by DMN path (inputData name, then
    # component names) -> the field's identifier (the last name of the header)
    fields: Mapping[tuple[str, ...], str] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.severity == "error")


class Builder:
    """Builds the drafts into tables, requirements first: an input that reads another
    decision takes the identifier and type of that table's output."""

    def __init__(self, doc: Document, drafts: Mapping[str, Draft]) -> None:
        self.doc = doc
        self.drafts = drafts
        self.table_names = Names(RESERVED_NAMES)
        for name, draft in drafts.items():  # in document order, whatever order the
            self.table_names(draft.version_of or name)  # tables build in
        self.input_names = Names(CODEGEN_NAMES)
        for name in doc.input_data:
            self.input_names(name)
        # version 2: identifiers of the components path inputs read, by DMN path
        # (the inputData's name, then component names); siblings named together
        self.field_names: dict[tuple[str, ...], str] = {}
        self.built: dict[str, Table | None] = {}
        self.origins: dict[str, Origin] = {}
        self.building: set[str] = set()

    def run(self) -> Conversion:
        """Every draft built (those it reads first), with the messages of both steps."""
        for name in self.drafts:
            self.build(name)
        tables = self.mark_partial([t for n in self.drafts if (t := self.built[n])])
        decisions = {
            d.name: self.table_names(d.version_of or d.name)
            for d in self.drafts.values()
            if self.built.get(collapse(d.name))
        }
        return Conversion(
            model=self.doc.model,
            tables=tables,
            origins=self.origins,
            messages=tuple(self.doc.messages),
            inputs=dict(self.input_names.by_name),
            decisions=decisions,
            fields=dict(self.field_names),
            namespace=self.doc.ns,
        )

    def mark_partial(self, tables: list[Table]) -> tuple[Table, ...]:
        """`Complete: no` on tables that leave inputs unanswered: DMN gives null there,
        which the format allows only in a table declared partial (else A303)."""
        decisions = tuple(Decision(t.name, (t,)) for t in tables)
        gaps = {
            d.location.sheet
            for d in analyse.check_gaps(Project(decisions, (), ()))
            if d.code == "A303"
        }
        marked = []
        for table in tables:
            origin = self.origins[table.location.sheet]
            draft = self.drafts[origin.decision_name]
            if draft.complete is not None:  # as export wrote the sheet's Complete
                marked.append(replace(table, complete=draft.complete))
                continue
            if table.location.sheet in gaps:
                decision = draft.decision
                text = "some inputs match no rule (DMN gives null there): marked `Complete: no`"
                draft = self.drafts[origin.decision_name]
                self.doc.report("warning", draft.element, decision, text, "caveat")
                table = replace(table, complete=False)
            marked.append(table)
        return tuple(marked)

    def build(self, name: str) -> Table | None:
        """The draft NAME as a table, once; None (reported) when it cannot be one."""
        if name in self.built:
            return self.built[name]
        if name in self.building:
            self.doc.report(
                "error",
                "decision",
                self.drafts[name].decision,
                "its decision tables require each other in a cycle",
                "cycle",
            )
            return None
        self.building.add(name)
        draft = self.drafts[name]
        try:
            table = self.table(draft)
        except Unsupported as exc:
            self.doc.report("error", draft.element, draft.decision, exc.text, exc.topic)
            table = None
        self.building.discard(name)
        self.built[name] = table
        return table

    def table(self, draft: Draft) -> Table:
        table_name = self.table_names(draft.version_of or draft.name)
        where = Location(self.doc.model, _sheet(table_name, draft))
        local = Names(CODEGEN_NAMES)
        origin: list[tuple[str, str, str, str]] = []
        warnings: list[str] = []
        inputs: list[Column] = []
        for clause, column in zip(
            draft.inputs, self.input_columns(draft, where, warnings), strict=True
        ):
            if column.name in local.used:
                raise Unsupported(
                    f"two input columns read {column.name!r}; the format has one column per input",
                    "repeated input",
                )
            local.used.add(column.name)
            inputs.append(column)
            origin.append((column.name, clause.label, clause.id, "input"))
        identifiers = {
            clause.target: column.name
            for clause, column in zip(draft.inputs, inputs, strict=True)
            if clause.output is None and not clause.path
        }
        identifiers.update(  # version 2: expressions read a path input by its path
            (clause.expression, column.header)
            for clause, column in zip(draft.inputs, inputs, strict=True)
            if clause.path
        )
        env = inputs_env([(column, 0) for column in inputs])
        outputs: list[Column] = []
        computed: list[tuple[Typed, ...] | None] = []
        fields: dict[tuple[str, ...], Names] = {}  # a path output's names, by prefix
        for output in draft.outputs:
            path: tuple[str, ...] = ()
            if output.path:  # version 2: a leaf of a structure in the structure
                path = (local(output.path[0]),)
                for part in output.path[1:]:
                    path += (fields.setdefault(path, Names(()))(part),)
            column, typed = self.output_column(
                output,
                "__".join(path) if path else local(output.name),
                where,
                warnings,
                (identifiers, env),
                draft,
            )
            if path:
                column = replace(column, path=path)
            outputs.append(column)
            computed.append(typed)
            origin.append((column.name, output.name, output.id, "output"))
        notes: list[Column] = []
        taken = set(local.used)
        for text in draft.annotations:
            header = text or "Annotation"
            candidate, n = header, 2
            while candidate in taken:
                candidate, n = f"{header} ({n})", n + 1
            taken.add(candidate)
            notes.append(
                Column(candidate, ColumnKind.ANNOTATION, DataType.STRING, where)
            )
            origin.append((candidate, text, "", "annotation"))
        rules = _rules(draft, inputs, outputs, computed, where, warnings)
        named = [
            (index, position, entry.expression)
            for position, clause in enumerate(draft.inputs)
            for index, entry in enumerate(clause.entries)
            if entry.expression
        ]
        if named:  # version 2: entries that name other inputs
            inputs, rules = self.lower_named(draft, named, inputs, rules, where, origin)
        for warning in warnings:
            self.doc.report("warning", draft.element, draft.decision, warning, "caveat")
        self.origins[where.sheet] = Origin(draft.id, draft.name, tuple(origin))
        table = Table(
            name=table_name,
            hit_policy=draft.hit_policy,
            aggregation=draft.aggregation,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            annotations=tuple(notes),
            rules=rules,
            location=where,
            title=draft.label,
            source=draft.description,
            effective_from=draft.effective_from,
            effective_to=draft.effective_to,
        )
        return version2.restore_table(  # version 2, from export's extensions
            table,
            [c.restored for c in draft.inputs],
            [o.restored for o in draft.outputs],
        )

    def lower_named(
        self,
        draft: Draft,
        named: list[tuple[int, int, str]],
        inputs: list[Column],
        rules: tuple[Rule, ...],
        where: Location,
        origin: list[tuple[str, str, str, str]],
    ) -> tuple[list[Column], tuple[Rule, ...]]:
        """INPUTS and RULES with the NAMED entries ((rule, input, FEEL text)) read as
        the format's entries that name other inputs and lowered as the reader lowers
        them; an input they name that no column reads gets a column (entries `-`)."""
        names, paths = self.dmn_names(), self.dmn_paths()
        names.update((text, ".".join(self.path_of(*p))) for text, p in paths.items())
        texts = {}
        for index, position, text in named:
            converted, found = format_text(text, names)
            texts[(index, position)] = (text, converted)
            for dmn_name in found:
                ident = names[dmn_name].replace(".", "__")  # a path's column name
                if all(c.name != ident for c in inputs):
                    inputs.append(self.named_column(dmn_name, ident, where))
                    root = paths[dmn_name][0] if dmn_name in paths else dmn_name
                    data = self.doc.input_data[root]
                    origin.append((ident, dmn_name, data.get("id", ""), "input"))
        extra = len(inputs) - len(draft.inputs)
        rules = tuple(
            replace(
                r,
                inputs=(*r.inputs, *(UnaryTests(),) * extra),
                input_cells=("",) * len(inputs),
            )
            for r in rules
        )
        env = inputs_env([(c, 0) for c in inputs])
        relational: dict[tuple[int, int], Relational | Quantifier | Member] = {}
        for (index, position), (text, converted) in texts.items():
            try:
                relational[(index, position)] = parse_member(
                    converted, inputs[position], inputs
                ) or parse_relational(converted, inputs[position], env)
            except CellError as error:
                raise Unsupported(
                    f"rule {rules[index].id!r}: {text!r}: {error.message}",
                    "variable in a unary test",
                ) from None
        lowered, rules = lower(tuple(inputs), rules, relational)
        return list(lowered), rules

    def dmn_names(self) -> dict[str, str]:
        """DMN inputData name -> its identifier."""
        return {name: self.input_names(name) for name in self.doc.input_data}

    def dmn_paths(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every path into a structured inputData as DMN text (`Complex.aNumber`) ->
        (the inputData's name, the component names), for entries that name paths."""
        found: dict[str, tuple[str, tuple[str, ...]]] = {}

        def walk(root: str, element: ET.Element, parts: tuple[str, ...]) -> None:
            for component in self.doc.fields(element) if len(parts) < 20 else ():
                below = (*parts, collapse(component.get("name", "")))
                if self.doc.fields(component):
                    walk(root, component, below)
                else:
                    found[".".join((root, *below))] = (root, below)

        for name, data in self.doc.input_data.items():
            variable = self.doc.child(data, "variable")
            if variable is not None:
                walk(name, variable, ())
        return found

    def named_column(self, dmn_name: str, ident: str, where: Location) -> Column:
        """A column for the input DMN_NAME, which only entries (or computed outputs)
        name: a `list of` column when its type is a collection (version 2), a path
        input for a path into a structured input (`Complex.aNumber`)."""
        path = self.dmn_paths().get(dmn_name)
        if path is not None:
            element = self.doc.child(self.doc.input_data[path[0]], "variable")
            for part in path[1]:
                fields = self.doc.fields(element) if element is not None else []
                element = next(f for f in fields if collapse(f.get("name", "")) == part)
            ref = self.doc.field_type(element) if element is not None else None
            type_, _ = self.doc.resolve_type(ref) if ref else (None, None)
            if type_ is None:
                raise Unsupported(
                    f"the path {dmn_name!r}, which entries name, has no type",
                    "unknown type",
                )
            return Column(
                ident, ColumnKind.INPUT, type_, where, path=self.path_of(*path)
            )
        variable = self.doc.child(self.doc.input_data[dmn_name], "variable")
        ref = variable.get("typeRef") if variable is not None else None
        many = bool(ref) and self.doc.is_collection(ref or "")
        type_ = self.doc.resolve_type(ref, list_ok=many)[0] if ref else None
        if type_ is None:
            raise Unsupported(
                f"the input {dmn_name!r}, which entries name, has no type",
                "unknown type",
            )
        return Column(ident, ColumnKind.INPUT, type_, where, many=many)

    def input_columns(
        self, draft: Draft, where: Location, warnings: list[str]
    ) -> list[Column]:
        """The draft's input columns. One input without any type that only its
        expressions read (version 2) takes the one type under which they all
        type-check, with a warning; else it is refused."""
        columns: list[Column | None] = []
        for clause in draft.inputs:
            try:
                columns.append(self.input_column(clause, where, warnings))
            except Unsupported as exc:
                reads = any(o.expressions for o in draft.outputs)
                if exc.topic != "unknown type" or clause.id or not reads:
                    raise
                columns.append(None)
        missing = [i for i, c in enumerate(columns) if c is None]
        if not missing:
            return [c for c in columns if c is not None]
        clause = draft.inputs[missing[0]]
        name = self.input_names(clause.target)
        identifiers = {
            c.target: name for c in draft.inputs if c.output is None and not c.path
        }
        identifiers.update(
            (c.target, col.name)
            for c, col in zip(draft.inputs, columns, strict=True)
            if col is not None and c.output is None and not c.path
        )
        env = {col.name: type_of(col.type) for col in columns if col is not None}
        fits = []
        for type_ in (
            DataType.STRING,
            DataType.NUMBER,
            DataType.BOOLEAN,
            DataType.DATE,
        ):
            try:
                for output in draft.outputs:
                    for expression in output.expressions:
                        to_feel_cr(
                            expression, identifiers, {**env, name: type_of(type_)}, ""
                        )
            except Unsupported:
                continue
            fits.append(type_)
        if len(missing) > 1 or len(fits) != 1:
            raise Unsupported(
                f"input {clause.label!r} has no type, and the expressions that read "
                "it do not fix one",
                "unknown type",
            )
        warnings.append(
            f"input {clause.label!r} has no typeRef; the expressions that read it "
            f"type-check only with {fits[0].value}"
        )
        columns[missing[0]] = Column(name, ColumnKind.INPUT, fits[0], where)
        return [c for c in columns if c is not None]

    def input_column(
        self, clause: Input, where: Location, warnings: list[str]
    ) -> Column:
        """An input clause as a column: its name, `from` table, type and Values.

        The type is the inputExpression's typeRef, else the inputData's, else the
        required table's output type, else the one its literals show (warned)."""
        restored = clause.restored.type  # export's Type cell (lists, integer, code)
        many = False
        path: tuple[str, ...] = ()
        type_, allowed = (
            self.doc.resolve_type(clause.type_ref)
            if clause.type_ref and not restored
            else (None, None)
        )
        if clause.ref == "decision":
            source, name, given, many = self.requirement(clause, warnings)
        elif clause.restored.expression:  # a computed input: no inputData
            source, name, given = None, Names(CODEGEN_NAMES)(clause.label), None
        elif clause.path:  # version 2: a path into a structured inputData
            path = self.path_of(clause.target, clause.path)
            source, name, given = None, "__".join(path), None
        else:
            source, name, given = None, self.input_names(clause.target), None
        if clause.path and not restored:
            if clause.field_ref:  # the component's type, as an inputData's
                field_type, field_allowed = self.doc.resolve_type(clause.field_ref)
                type_ = type_ or field_type
                allowed = allowed if allowed is not None else field_allowed
        elif given is not None:
            if type_ is not None and type_ is not given:
                warnings.append(
                    f"input {clause.label!r} says {type_.value}, but {source!r} gives {given.value}"
                )
            type_ = given
        elif clause.output is None and not restored:
            data = self.doc.input_data.get(
                clause.target, self.doc.decisions.get(clause.target)
            )
            variable = self.doc.child(data, "variable") if data is not None else None
            ref = variable.get("typeRef") if variable is not None else None
            # version 2: a list inputData only expressions read is a `list of` column
            many = bool(ref) and not clause.id and self.doc.is_collection(ref or "")
            if ref:
                data_type, data_allowed = self.doc.resolve_type(ref, list_ok=many)
                type_ = type_ or data_type
                allowed = allowed if allowed is not None else data_allowed
        values_raw = _parse_values(clause.values_text, clause.label, warnings)
        if values_raw is None and allowed is not None:
            values_raw = _parse_values(allowed, clause.label, warnings)
        if restored:
            type_, _ = version2.cell_type(restored)
        if type_ is None:
            literals = [v for e in clause.entries for v in e.literals()]
            type_ = infer_type(
                [*literals, *(values_raw.literals() if values_raw else ())]
            )
            if type_ is None:
                raise Unsupported(
                    f"input {clause.label!r} has no type and its entries do not show one",
                    "unknown type",
                )
            warnings.append(
                f"input {clause.label!r} has no typeRef; its entries make it {type_.value}"
            )
        values = _typed_values(values_raw, type_, clause.label, warnings)
        return Column(
            name, ColumnKind.INPUT, type_, where, source, values, many=many, path=path
        )

    def path_of(self, root: str, components: Sequence[str]) -> tuple[str, ...]:
        """The header names of the path COMPONENTS of the inputData ROOT reads: the
        input's identifier, then an identifier per component, the same for the same
        component in every table (siblings are named together, in model order)."""
        names = [self.input_names(root)]
        element = self.doc.child(self.doc.input_data[root], "variable")
        prefix: tuple[str, ...] = (root,)
        for part in components:
            siblings = self.doc.fields(element) if element is not None else []
            if (*prefix, part) not in self.field_names:
                local = Names(())
                for sibling in siblings:
                    key = (*prefix, collapse(sibling.get("name", "")))
                    self.field_names.setdefault(key, local(key[-1]))
            prefix = (*prefix, part)
            names.append(self.field_names[prefix])
            element = next(
                (f for f in siblings if collapse(f.get("name", "")) == part), None
            )
        return tuple(names)

    def output_column(
        self,
        output: Output,
        name: str,
        where: Location,
        warnings: list[str],
        scope: tuple[Mapping[str, str], Mapping[str, str]],
        draft: Draft,
    ) -> tuple[Column, tuple[Typed, ...] | None]:
        """An output clause as a column, with the checked expressions of its rules
        when it is a computed output (version 2)."""
        if output.expressions:
            return self.computed_column(output, name, where, warnings, scope, draft)
        values_raw = _parse_values(output.values_text, output.name, warnings)
        try:
            default_raw = (
                parse_literal(output.default_text)
                if output.default_text is not None
                else None
            )
        except Unsupported as exc:
            raise Unsupported(
                f"default output of {output.name!r}: {exc.text}",
                output_topic(exc.topic),
            ) from None
        type_ = None
        if output.restored.type:  # export's Type cell (integer, code)
            type_, _ = version2.cell_type(output.restored.type)
        for ref in output.type_ref if type_ is None else ():
            type_, _ = self.doc.resolve_type(ref, list_ok=True)
            if type_ is not None:
                break
        if type_ is None:
            type_ = infer_type(
                [
                    *output.entries,
                    default_raw,
                    *(values_raw.literals() if values_raw else ()),
                ]
            )
            if type_ is None:
                raise Unsupported(
                    f"output {output.name!r} has no type and its entries do not show one",
                    "unknown type",
                )
            warnings.append(
                f"output {output.name!r} has no typeRef; its entries make it {type_.value}"
            )
        values = _typed_values(values_raw, type_, output.name, warnings)
        if values is not None and not all(isinstance(t, Equals) for t in values.tests):
            warnings.append(
                f"the output values of {output.name!r} hold ranges, so they are dropped"
            )
            values = None
        try:
            default = typed(default_raw, type_)
        except Unsupported as exc:
            raise Unsupported(
                f"default output of {output.name!r}: {exc.text}", exc.topic
            ) from None
        has_default = output.default_text is not None
        column = Column(
            name,
            ColumnKind.OUTPUT,
            type_,
            where,
            values=values,
            default=default,
            has_default=has_default,
        )
        return column, None

    def computed_column(
        self,
        output: Output,
        name: str,
        where: Location,
        warnings: list[str],
        scope: tuple[Mapping[str, str], Mapping[str, str]],
        draft: Draft,
    ) -> tuple[Column, tuple[Typed, ...]]:
        """A `computed output` column (version 2): each rule's entry a FEEL-CR
        expression over the table's inputs, of the output's type."""
        identifiers, env = scope
        what = f"output {output.name!r}"
        if output.default_text is not None:
            raise Unsupported(
                f"{what} computes its entries and has a default output; a computed "
                "output takes no default",
                "FEEL expression in an output",
            )
        if output.values_text and draft.hit_policy is HitPolicy.PRIORITY:
            raise Unsupported(
                f"{what} computes its entries, so its output values cannot order the "
                "priority",
                "FEEL expression in an output",
            )
        if output.values_text:
            warnings.append(
                f"the output values of {output.name!r} are dropped: its entries are "
                "computed"
            )
        typed = tuple(to_feel_cr(e, identifiers, env, what) for e in output.expressions)
        type_ = None
        multi = draft.hit_policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER)
        listed = False  # version 2: a single-hit output of a collection type
        for ref in output.type_ref:  # a multi-hit table's result: a list of them
            listed = not multi and self.doc.is_collection(ref)
            type_, _ = self.doc.resolve_type(ref, list_ok=multi or listed)
            if type_ is not None:
                break
        if type_ is None:
            known = [t for t in typed if t.type != "null"]
            if not known:
                raise Unsupported(
                    f"{what} has no type and its expressions do not show one",
                    "unknown type",
                )
            type_ = column_type(known[0], what)
            warnings.append(
                f"output {output.name!r} has no typeRef; its expressions make it "
                f"{type_.value}"
            )
        want = type_of(type_)
        for one in typed:
            if listed:  # version 2: a list output
                try:
                    check_type(one, type_, one.text, listed)
                except CellError as error:
                    raise Unsupported(
                        f"{what}: {one.text!r}: {error.message}",
                        "FEEL expression in an output",
                    ) from None
            elif not (
                one.type in (want, "null")
                or (want == "number" and one.type == "integer")
            ):
                raise Unsupported(
                    f"{what}: {one.text!r} gives {one.type}, but the output is "
                    f"{type_.value}",
                    "FEEL expression in an output",
                )
        column = Column(
            name, ColumnKind.OUTPUT, type_, where, per_rule=True, many=listed
        )
        return column, typed

    def requirement(
        self, clause: Input, warnings: list[str]
    ) -> tuple[str | None, str, DataType | None, bool]:
        """(table, column name, type, whether a list) of an input that reads another
        decision: a list (version 2) when the decision gives a list output, or is a
        COLLECT table of one output. Unsupported when that decision is not
        converted: a required decision never becomes a plain input (the caller would
        pass a value the model computes)."""
        producer = self.build(clause.target) if clause.target in self.drafts else None
        if producer is None:
            raise Unsupported(
                f"input {clause.label!r} reads the decision {clause.target!r}, which is "
                "not converted, so this table is left out too",
                "required decision not converted",
            )
        by_dmn_name = self.origins[producer.location.sheet].output_names()
        if clause.output is not None:
            if clause.output not in by_dmn_name:
                raise Unsupported(
                    f"{clause.expression!r}: {clause.target!r} has no output {clause.output!r}",
                    "malformed table",
                )
            name = by_dmn_name[clause.output]
        elif len(producer.outputs) == 1:
            name = producer.outputs[0].name
        else:
            raise Unsupported(
                f"input {clause.label!r} reads the whole result of {clause.target!r}, which has several "
                "outputs (a context)",
                "structured input",
            )
        exported = clause.restored.type.startswith("list of")  # export's Type cell
        if producer.returns_list and not (clause.named or exported):
            raise Unsupported(
                f"input {clause.label!r} reads {clause.target!r}, which returns a list ({producer.hit_policy_text})",
                "list input",
            )
        if name in self.input_names.used:
            raise Unsupported(
                f"input {clause.label!r} reads the output {name!r} of {clause.target!r}, and an input "
                "of the model has that name too",
                "name clash",
            )
        column = next(c for c in producer.outputs if c.name == name)
        many = column.many or producer.returns_list
        return producer.name, name, column.type, many


def _sheet(table_name: str, draft: Draft) -> str:
    """The sheet of a table: its name, or for a version of an effective-dated table
    its name and dates (`rate from 2026-01-01`), cut to Excel's 31 characters."""
    dates = " ".join(
        f"{word} {day.isoformat()}"
        for word, day in (("from", draft.effective_from), ("to", draft.effective_to))
        if day is not None
    )
    if not dates:
        return table_name
    return f"{table_name[: 30 - len(dates)]} {dates}"


def _rules(
    draft: Draft,
    inputs: Sequence[Column],
    outputs: Sequence[Column],
    computed: Sequence[tuple[Typed, ...] | None],
    where: Location,
    warnings: list[str],
) -> tuple[Rule, ...]:
    """The draft's rules, their entries typed by the columns; repeated ids get `~2`."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, (rule_id, texts) in enumerate(draft.rules):
        unique_id, n = rule_id, 2
        while unique_id in seen:
            unique_id, n = f"{rule_id}~{n}", n + 1
        if unique_id != rule_id:
            warnings.append(
                f"the rule id {rule_id!r} repeats; this rule is {unique_id!r}"
            )
        seen.add(unique_id)
        try:
            entries = tuple(
                typed_tests(c.entries[index], col.type)
                for c, col in zip(draft.inputs, inputs, strict=True)
            )
            results = tuple(
                None if cells_ is not None else typed(o.entries[index], col.type)
                for o, col, cells_ in zip(draft.outputs, outputs, computed, strict=True)
            )
        except Unsupported as exc:
            raise Unsupported(f"rule {rule_id!r}: {exc.text}", exc.topic) from None
        expressions = (
            tuple(None if c is None else c[index] for c in computed)
            if any(c is not None for c in computed)
            else ()
        )
        rules.append(
            Rule(unique_id, entries, results, tuple(texts), where, (), (), expressions)
        )
    return tuple(rules)


def _parse_values(text: str | None, label: str, warnings: list[str]) -> RawTests | None:
    """Allowed values as raw tests; dropped (warned) when they are not unary tests."""
    if text is None or not text.strip():
        return None
    try:
        return parse_unary_tests(text)
    except Unsupported as exc:
        warnings.append(f"the allowed values of {label!r} are dropped: {exc.text}")
        return None


def _typed_values(
    raw: RawTests | None, type_: DataType, label: str, warnings: list[str]
) -> UnaryTests | None:
    """Raw allowed values as a Values row; dropped (warned) when they cannot be one."""
    if raw is None or not raw.tests:
        return None
    try:
        return as_values(typed_tests(raw, type_))
    except Unsupported as exc:
        warnings.append(f"the allowed values of {label!r} are dropped: {exc.text}")
        return None
