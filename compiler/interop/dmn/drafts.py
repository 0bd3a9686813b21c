"""Drafting: each decision of a model read into a `Draft`, its clauses resolved to
inputData or decisions and its entries parsed as FEEL, or reported (with the element's
id and name) when some part has no counterpart in the format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field

from compiler.interop.dmn import version2
from compiler.interop.dmn.document import LOGIC, Document, check_language, local
from compiler.interop.dmn.expressions import Expression, join_paths, split_names
from compiler.interop.dmn.feel import (
    Literal,
    RawTests,
    parse_literal,
    parse_unary_tests,
)
from compiler.interop.dmn.messages import Unsupported
from compiler.interop.dmn.names import collapse, snake_case
from compiler.interop.dmn.version2 import EXTENSIONS
from compiler.model import Aggregation, HitPolicy
from compiler.reading import cells
from compiler.reading.sheets import check_identifier

# An output of a structure's table (`contexts`) that is a leaf of a structure inside
# it: its DMN path, a JSON list of names (set by import, never written out).
PATH = "{urn:compile-rules:import}path"
# Problems of an output entry that make it an expression (a computed output).
_COMPUTES = ("variable in a unary test", "FEEL expression")
_HIT_POLICIES = {
    "UNIQUE": HitPolicy.UNIQUE,
    "FIRST": HitPolicy.FIRST,
    "PRIORITY": HitPolicy.PRIORITY,
    "ANY": HitPolicy.ANY,
    "COLLECT": HitPolicy.COLLECT,
    "RULE ORDER": HitPolicy.RULE_ORDER,
    "OUTPUT ORDER": HitPolicy.OUTPUT_ORDER,
}


@dataclass
class Input:
    """An input clause, its reference resolved to a name, before typing."""

    id: str
    label: str
    expression: str
    ref: str  # "input" (inputData or free name) or "decision"
    target: str  # the inputData / free / decision name
    output: str | None  # `Decision.output`
    type_ref: str | None
    values_text: str | None
    entries: list[RawTests] = field(default_factory=list)
    # version 2: a path into the structured inputData `target` (`structA.price`): the
    # DMN names of the components read, and the typeRef of the last one
    path: tuple[str, ...] = ()
    field_ref: str | None = None
    # Restored from export's extension attributes (version2): the Type cell, a
    # computed input's expression, a list's Values cell, and cells by rule index.
    restored: version2.Restored = field(default_factory=version2.Restored)
    named: bool = False  # a name only expressions read, not an input clause


@dataclass
class Output:
    id: str
    name: str  # the DMN name (decision name for a nameless single output)
    type_ref: list[str]  # candidates, most specific first
    values_text: str | None
    default_text: str | None
    entries: list[Literal] = field(default_factory=list)
    # version 2: the entries as FEEL expressions, one per rule, when some entry is
    # not a literal (a computed output); empty otherwise
    expressions: list[Expression] = field(default_factory=list)
    restored: version2.Restored = field(default_factory=version2.Restored)
    # a leaf of a structure inside the decision's structure (`RGB notation`, `R`):
    # a path output (version 2); empty for an ordinary output
    path: tuple[str, ...] = ()


@dataclass
class Draft:
    """A decision table read from XML, before requirements are resolved."""

    decision: ET.Element
    id: str
    name: str
    label: str
    description: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: list[Input]
    outputs: list[Output]
    annotations: list[str]
    rules: list[tuple[str, list[str]]]  # (rule id, annotation texts)
    # A version of an effective-dated table (export's extension): its table, dates.
    version_of: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    element: str = "decision"  # what `decision` is, as messages name it
    complete: bool | None = None  # export's `cr:complete`, else inferred


class _Problems:
    """Why a table cannot be converted, grouped so that a column whose every rule has
    the same problem is reported once (with the first rule and a count)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], list[tuple[str, Unsupported]]] = {}

    def __bool__(self) -> bool:
        return bool(self.groups)

    def add(self, where: str, problem: Unsupported, rule: str = "") -> None:
        self.groups.setdefault((where, problem.topic), []).append((rule, problem))

    def summary(self) -> Iterator[tuple[str, str]]:
        for (where, topic), found in self.groups.items():
            rule, first = found[0]
            text = f"{where}: {first.text}" if where else first.text
            if rule:
                more = len(found) - 1
                text += f" (rule {rule!r}" + (f" and {more} more)" if more else ")")
            yield text, topic


class Drafter:
    """Drafts every decision table of a model, reporting what cannot be one (other
    decision logic, FEEL beyond unary tests, names that are not inputs nor decisions)."""

    def __init__(self, doc: Document, refused: Set[str] = frozenset()) -> None:
        self.doc = doc
        self.refused = refused  # decisions already reported (invocations)
        self.drafts: dict[str, Draft] = {}
        # while a decision service is drafted: its name, and its input decisions
        self.renamed = ""
        self.plain: set[str] = set()

    def run(self) -> dict[str, Draft]:
        """The drafts by decision name, in document order."""
        if self.check_definitions():
            for decision in self.doc.decisions.values():
                self.draft(decision)
            for node in self.doc.children(self.doc.root, "decisionService"):
                self.service(node)
        return self.drafts

    def service(self, node: ET.Element) -> None:
        """A decision service with one output decision as a table named after the
        service: the output decision's logic, with the service's input decisions read
        as plain inputs (the service's callers pass them, as DMN defines). Other
        services are reported."""
        name = collapse(node.get("name", ""))
        by_id = {e.get("id", ""): n for n, e in self.doc.decisions.items()}

        def targets(tag: str) -> list[str]:
            refs = [e.get("href", "") for e in self.doc.children(node, tag)]
            return [by_id.get(r.partition("#")[2], "") for r in refs]

        outputs, plain = targets("outputDecision"), targets("inputDecision")
        problem = ""
        if len(outputs) != 1 or not all(outputs) or not all(plain):
            problem = (
                f"it has {len(outputs)} output decisions (a service of one is "
                "converted)"
                if len(outputs) != 1
                else "it names a decision the model does not hold"
            )
        elif name in self.doc.decisions or name in self.doc.input_data:
            problem = "its name is also the name of a decision or an input"
        elif outputs[0] in self.refused:
            problem = f"its output decision {outputs[0]!r} is not converted"
        if problem:
            self.doc.report(
                "error", "decision service", node, problem, "decision service"
            )
            return
        before = len(self.doc.messages)
        self.plain, self.renamed = set(plain), name
        try:
            self.draft(self.doc.decisions[outputs[0]])
        finally:
            self.plain, self.renamed = set(), ""
        self.doc.messages[before:] = [
            dataclasses.replace(
                m, element="decision service", name=name, id=node.get("id", "")
            )
            for m in self.doc.messages[before:]
        ]
        if name in self.drafts:
            draft = self.drafts[name]
            draft.decision, draft.id = node, node.get("id", "")
            draft.element = "decision service"
            draft.label = _label(node, name, "")

    def check_definitions(self) -> bool:
        """Report the parts of the model that are not decisions; False when its
        expression language is not FEEL, so that no decision is converted."""
        feel = True
        try:
            check_language(self.doc.root)
        except Unsupported as exc:
            self.doc.report(
                "error",
                "definitions",
                self.doc.root,
                f"{exc.text}; nothing is converted",
                exc.topic,
            )
            feel = False
        # imports: reported by `imports`, which reads them
        return feel

    def draft(self, decision: ET.Element) -> None:
        """Read a decision's table into a `Draft`, or report why it cannot be one."""
        if decision in self.doc.refused:  # reported already (`contexts`)
            return
        if collapse(decision.get("name", "")) in self.refused:
            return  # reported where its invocation was inlined
        logic = self.doc.logic(decision)
        if logic is None:
            self.doc.report(
                "error",
                "decision",
                decision,
                "has no decision logic: nothing to convert",
                "no decision logic",
            )
            return
        kind = local(logic)
        if kind == "literalExpression":
            self.literal(decision, logic)
            return
        if kind != "decisionTable":
            what = LOGIC[kind]
            self.doc.report(
                "error",
                "decision",
                decision,
                f"its logic is {what}; only decision tables are converted",
                what.split(" ", 1)[1],
            )
            return
        table = logic
        name = self.renamed or collapse(decision.get("name", ""))
        problems = _Problems()
        try:
            check_language(table)
            hit_policy, aggregation = _hit_policy(table)
        except Unsupported as exc:
            problems.add("", exc)
            hit_policy, aggregation = HitPolicy.UNIQUE, None
        variable = self.doc.child(decision, "variable")
        decision_type = (
            variable.get("typeRef") if variable is not None else None
        ) or table.get("typeRef")
        inputs = [
            self.input_clause(node, problems)
            for node in self.doc.children(table, "input")
        ]
        outputs = self.output_clauses(
            table,
            collapse(decision.get("name", "")),
            decision_type,
            self.doc.components(decision_type),
        )
        if not outputs:
            problems.add("", Unsupported("the table has no output", "malformed table"))
        annotations = [
            _clean(a.get("name", "")) for a in self.doc.children(table, "annotation")
        ]
        # computed outputs: single-hit tables, and (version 2) COLLECT without an
        # aggregation and RULE ORDER, one value per matched rule
        single = hit_policy in (
            HitPolicy.UNIQUE,
            HitPolicy.FIRST,
            HitPolicy.PRIORITY,
            HitPolicy.RULE_ORDER,
        ) or (hit_policy is HitPolicy.COLLECT and aggregation is None)
        scope = self.scope(name)
        rules = self.rules(
            table, inputs, outputs, len(annotations), problems, single, scope
        )
        targets = {
            c.expression if c.path else c.target for c in inputs if c.output is None
        }
        for output in outputs:
            for expression in output.expressions:
                for read in expression.names:
                    if read not in targets:  # a name only an output entry reads
                        targets.add(read)
                        clause = self.name_clause(read, len(rules))
                        self.resolve_input(clause)
                        inputs.append(clause)
        version_of, dates = self.version(decision, problems)
        if any(
            self.doc.child(r, "description") is not None
            for r in self.doc.children(table, "rule")
        ):
            annotations.append("Description")
        for text, topic in problems.summary():
            self.doc.report("error", "decision", decision, text, topic)
        if problems:
            return
        self.drafts[name] = Draft(
            decision=decision,
            id=decision.get("id", ""),
            name=name,
            label=_label(decision, name, version_of),
            description=_clean(self.doc.text(decision, "description") or ""),
            hit_policy=hit_policy,
            aggregation=aggregation,
            inputs=inputs,
            outputs=outputs,
            annotations=annotations,
            rules=rules,
            version_of=version_of,
            effective_from=dates[0],
            effective_to=dates[1],
            complete=version2.complete(table),
        )

    def scope(self, decision: str) -> list[str]:
        """The model names an expression of DECISION may read: the inputData and the
        other decisions."""
        names = [*self.doc.input_data, *self.doc.decisions]
        return [n for n in dict.fromkeys(names) if n != decision]

    def split(self, text: str, scope: Sequence[str]) -> Expression:
        """TEXT split at the names of SCOPE, a path into a structured inputData
        (`Person.Name`) read as one name (version 2: a path input)."""
        structured = {
            name
            for name, data in self.doc.input_data.items()
            if (variable := self.doc.child(data, "variable")) is not None
            and self.doc.fields(variable)
        }
        return join_paths(split_names(text, scope), structured)

    def literal(self, decision: ET.Element, node: ET.Element) -> None:
        """A literal-expression decision as a FIRST table of one rule whose entries
        are all `-` and whose one output is computed (version 2): the inputs are the
        names the expression reads."""
        name = self.renamed or collapse(decision.get("name", ""))
        problems = _Problems()
        try:
            check_language(node)
        except Unsupported as exc:
            problems.add("", exc)
        text = self.doc.text(node) or ""
        if not text.strip():
            problems.add(
                "", Unsupported("the literal expression is empty", "malformed table")
            )
        expression = self.split(text, self.scope(name))
        variable = self.doc.child(decision, "variable")
        type_refs = [
            ref
            for ref in (
                variable.get("typeRef") if variable is not None else None,
                node.get("typeRef"),
            )
            if ref
        ]
        inputs = [self.name_clause(n) for n in expression.names]
        for clause in inputs:
            try:
                self.resolve_input(clause)
            except Unsupported as exc:
                problems.add(f"input {clause.label!r}", exc)
        for text_, topic in problems.summary():
            self.doc.report("error", "decision", decision, text_, topic)
        if problems:
            return
        own = collapse(decision.get("name", ""))  # a service's output: the decision's
        output = Output(node.get("id", ""), own, type_refs, None, None, [None])
        try:  # a literal is an ordinary output cell
            output.entries = [parse_literal(text)]
        except Unsupported:
            output.expressions.append(expression)
        self.drafts[name] = Draft(
            decision=decision,
            id=decision.get("id", ""),
            name=name,
            label=_label(decision, name, ""),
            description=_clean(self.doc.text(decision, "description") or ""),
            hit_policy=HitPolicy.FIRST,
            aggregation=None,
            inputs=inputs,
            outputs=[output],
            annotations=[],
            rules=[("R1", [])],
        )

    def name_clause(self, name: str, rules: int = 1) -> Input:
        """An input column for a model NAME an expression reads: `-` in every rule."""
        return Input(
            id="",
            label=name,
            expression=name,
            ref="input",
            target=name,
            output=None,
            type_ref=None,
            values_text=None,
            entries=[RawTests()] * rules,
            named=True,
        )

    def version(
        self, decision: ET.Element, problems: _Problems
    ) -> tuple[str, tuple[dt.date | None, dt.date | None]]:
        """The table a decision is a version of, and its dates, from the extension
        export writes (`<cr:version table="..." effectiveFrom="..."/>`); ("", no
        dates) for a plain decision."""
        extension = self.doc.child(decision, "extensionElements")
        found = (
            None if extension is None else extension.find(f"{{{EXTENSIONS}}}version")
        )
        if found is None:
            return "", (None, None)
        table = found.get("table", "")
        try:
            dates = tuple(
                dt.date.fromisoformat(text) if (text := found.get(key)) else None
                for key in ("effectiveFrom", "effectiveTo")
            )
        except ValueError:
            problems.add(
                "",
                Unsupported("its version dates are not ISO dates", "malformed table"),
            )
            return "", (None, None)
        if check_identifier(table) or not any(dates):
            text = f"its version extension names no table or no date: {table!r}"
            problems.add("", Unsupported(text, "malformed table"))
            return "", (None, None)
        return table, (dates[0], dates[1])

    def rules(
        self,
        table: ET.Element,
        inputs: list[Input],
        outputs: list[Output],
        annotations: int,
        problems: _Problems,
        single: bool = False,
        scope: Sequence[str] = (),
    ) -> list[tuple[str, list[str]]]:
        """Each rule's id and annotation texts; entries are parsed into the clauses.
        In a SINGLE-hit table (or COLLECT without aggregation, RULE ORDER), an output
        whose entries are not all literals becomes a computed output: each entry an expression over the names of SCOPE."""
        rules_xml = self.doc.children(table, "rule")
        described = any(self.doc.child(r, "description") is not None for r in rules_xml)
        rules: list[tuple[str, list[str]]] = []
        texts: list[list[str]] = [[] for _ in outputs]
        computed: set[int] = set()
        for number, rule in enumerate(rules_xml, start=1):
            rule_id = _rule_id(rule.get("label"), self.doc.text(rule, "description"))
            rule_id = rule_id or f"R{number}"
            notes = [
                _clean(self.doc.text(e) or "")
                for e in self.doc.children(rule, "annotationEntry")
            ]
            notes = (notes + [""] * annotations)[:annotations]
            if described:
                notes.append(_clean(self.doc.text(rule, "description") or ""))
            rules.append((rule_id, notes))
            entries = self.doc.children(rule, "inputEntry")
            results = self.doc.children(rule, "outputEntry")
            if len(entries) != len(inputs) or len(results) != len(outputs):
                counts = f"{len(entries)} input and {len(results)} output entries"
                text = f"{counts} for {len(inputs)} inputs and {len(outputs)} outputs"
                problems.add("", Unsupported(text, "malformed table"), rule_id)
                continue
            for clause, entry in zip(inputs, entries, strict=True):
                text = self.doc.text(entry) or ""
                if version2.TEXT in entry.attrib:  # the cell, as export wrote it
                    clause.restored.cells[len(rules) - 1] = entry.attrib[version2.TEXT]
                    clause.entries.append(RawTests())
                    continue
                try:
                    check_language(entry)
                    clause.entries.append(parse_unary_tests(text))
                except Unsupported as exc:
                    if exc.topic != "variable in a unary test":
                        problems.add(f"input {clause.label!r}", exc, rule_id)
                        continue
                    # version 2: the builder writes it over the table's inputs
                    clause.entries.append(RawTests(expression=collapse(text)))
            for index, (output, entry) in enumerate(zip(outputs, results, strict=True)):
                text = self.doc.text(entry) or ""
                texts[index].append(text)
                if version2.TEXT in entry.attrib:  # a computed output's cell
                    output.restored.cells[len(rules) - 1] = entry.attrib[version2.TEXT]
                    output.entries.append(None)
                    continue
                try:
                    check_language(entry)
                    output.entries.append(parse_literal(text))
                except Unsupported as exc:
                    if single and exc.topic in _COMPUTES:
                        computed.add(index)  # version 2: a computed output
                        output.entries.append(None)
                        continue
                    problems.add(
                        f"output {output.name!r}",
                        Unsupported(exc.text, output_topic(exc.topic)),
                        rule_id,
                    )
        for index in sorted(computed):
            outputs[index].expressions = [
                self.split(text.strip() or "null", scope) for text in texts[index]
            ]
        return rules

    def input_clause(self, node: ET.Element, problems: _Problems) -> Input:
        expression = self.doc.child(node, "inputExpression")
        text = collapse(self.doc.text(expression) or "")
        label = node.get("label") or text
        clause = Input(
            id=node.get("id", ""),
            label=label,
            expression=text,
            ref="input",
            target=text,
            output=None,
            type_ref=expression.get("typeRef") if expression is not None else None,
            values_text=self.doc.text(self.doc.child(node, "inputValues")),
            restored=version2.restored(node, expression),
        )
        try:
            check_language(expression)
            if not clause.restored.expression:  # a computed input names no input
                self.resolve_input(clause)
        except Unsupported as exc:
            problems.add(f"input {label!r}", exc)
        try:
            if clause.type_ref and not clause.restored.type:
                self.doc.resolve_type(clause.type_ref)
        except Unsupported as exc:
            problems.add(f"input {label!r}", exc)
        return clause

    def resolve_input(self, clause: Input) -> None:
        text = clause.expression
        if text in self.plain:  # an input decision of the service being drafted
            return
        if text in self.doc.decisions:
            clause.ref = "decision"
            return
        if text in self.doc.input_data:
            return
        for dot in [m.start() for m in re.finditer(r"\.", text)]:
            head, tail = text[:dot].strip(), text[dot + 1 :].strip()
            if head in self.doc.decisions:
                clause.ref, clause.target, clause.output = "decision", head, tail
                return
            if head in self.doc.input_data:  # version 2: a path input
                clause.target = head
                clause.path, clause.field_ref = self.path(head, tail, text)
                return
        if not text:
            raise Unsupported("the input expression is empty", "malformed table")
        if not re.fullmatch(r"[^\W\d][\w' ]*", text) or text in (
            "true",
            "false",
            "null",
            "not",
        ):
            raise Unsupported(
                f"the input expression {text!r} is a FEEL expression, not the name of an input",
                "FEEL input expression",
            )

    def path(
        self, root: str, tail: str, text: str
    ) -> tuple[tuple[str, ...], str | None]:
        """The components of the inputData ROOT that TAIL (`member.age`) names, and
        the typeRef of the last; Unsupported when the type of ROOT has no such
        components or the last is itself a structure."""
        element = self.doc.child(self.doc.input_data[root], "variable")
        parts = tuple(collapse(p) for p in tail.split("."))
        for part in parts:
            fields = self.doc.fields(element) if element is not None else []
            if not fields:
                raise Unsupported(
                    f"{text!r} reads a field of {root!r}, whose type is not a "
                    "structure (item components)",
                    "structured input",
                )
            element = next(
                (f for f in fields if collapse(f.get("name", "")) == part), None
            )
            if element is None:
                raise Unsupported(
                    f"{text!r}: the type of {root!r} has no component {part!r}",
                    "structured input",
                )
        assert element is not None
        if self.doc.fields(element):
            raise Unsupported(
                f"{text!r} is a structure; a column reads one plain field of it",
                "structured input",
            )
        return parts, self.doc.field_type(element)

    def output_clauses(
        self,
        table: ET.Element,
        decision_name: str,
        decision_type: str | None,
        components: dict[str, str],
    ) -> list[Output]:
        nodes = self.doc.children(table, "output")
        outputs: list[Output] = []
        for node in nodes:
            name = collapse(node.get("name") or "") or (
                decision_name if len(nodes) == 1 else ""
            )
            if not name:
                name = collapse(node.get("label") or "") or f"output {len(outputs) + 1}"
            candidates = [node.get("typeRef") or ""]
            if len(nodes) == 1:
                candidates += [table.get("typeRef") or "", decision_type or ""]
            candidates.append(components.get(name, ""))
            outputs.append(
                Output(
                    id=node.get("id", ""),
                    name=name,
                    type_ref=[c for c in candidates if c],
                    values_text=self.doc.text(self.doc.child(node, "outputValues")),
                    default_text=self.doc.text(
                        self.doc.child(node, "defaultOutputEntry")
                    ),
                    restored=version2.restored(node, None),
                    path=tuple(json.loads(node.get(PATH, "[]")))
                    or (tuple(name.split(".")) if node.get(version2.PATH) else ()),
                )
            )
        return outputs


def output_topic(topic: str) -> str:
    """The topic of a FEEL problem found in an output entry (or default), for summaries."""
    return (
        "FEEL expression in an output"
        if topic in ("variable in a unary test", "FEEL expression")
        else topic
    )


_SHORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$")


def _rule_id(label: str | None, description: str | None) -> str:
    """A rule's id: its label, else its description when that is an id (`R7`, `b1`,
    not a sentence), else empty (the caller numbers it R1, R2, ...). Never the DMN
    `id`, which modelers fill with UUIDs (`_7f03803d-...`)."""
    if label and _clean(label):
        return _clean(label)
    text = _clean(description or "")
    return text if _SHORT_ID.match(text) else ""


def _label(decision: ET.Element, name: str, version_of: str) -> str:
    """A decision's Title: its label, else its name when that is not an identifier."""
    return _clean(
        decision.get("label")
        or (name if snake_case(name) != name and not version_of else "")
    )


def _clean(text: str) -> str:
    """Text as a workbook cell will read it back (annotation names and entries, titles)."""
    return cells.clean_text(text)[0]


def _hit_policy(table: ET.Element) -> tuple[HitPolicy, Aggregation | None]:
    """The decisionTable's hitPolicy and aggregation; `Unsupported` when unknown."""
    text = collapse(table.get("hitPolicy", "UNIQUE")).upper()
    if text not in _HIT_POLICIES:
        raise Unsupported(f"unknown hit policy {text!r}", "malformed table")
    aggregation_text = table.get("aggregation")
    if aggregation_text is None:
        return _HIT_POLICIES[text], None
    if text != "COLLECT" or aggregation_text.upper() not in Aggregation.__members__:
        raise Unsupported(
            f"aggregation {aggregation_text!r} with hit policy {text}",
            "malformed table",
        )
    return _HIT_POLICIES[text], Aggregation[aggregation_text.upper()]
