"""Boxed contexts as chains of tables: before drafting, each decision whose logic is a
context is replaced by decisions that drafting already converts.

A context is a list of entries, each a name (its `variable`) bound to a value, and an
optional last entry without a name, the result; an entry reads the entries above it
and the context's own inputs. Import writes it as tables:

- each named entry becomes a decision of its own, named after its owner and the entry
  (`Boxed Context Rate`), holding the entry's value (a decision table, a literal
  expression, a context again, ...) with the names of the entries it reads rewritten
  to those decisions' names; its table reads them as `from` columns, as it reads any
  other decision;
- a result entry that is only the name of the last named entry (`MonthlyPayment`) makes
  that entry's value the decision's own logic (no table of its own); another result
  entry (a decision table, `Rate * 12`) is the decision's logic;
- a context without a result entry is a structure of its entries: the decision is a
  FIRST table of one rule `R1`, an output per entry (its name and type), each output
  computed from its entry's decision; the table returns them together, as DMN returns
  the context. An entry that is itself a structure (a context without a result
  entry, or a literal expression naming a decision or entry that is one) gives an
  output per leaf, named by its path (`RGB notation.R`) and marked for drafting, which
  makes it a path output (`rgb_notation.r`, version 2).

A context entry whose value is itself a context is expanded the same way, its entries
reading the entries above it in both contexts. A decision that an entry's table cannot
be made for is left out with that entry's reason (drafting reports it under the entry
decision's name, and the context decision reads a decision that is not converted).
What has no counterpart is refused with the decision's name and id and the entry's
name: an unnamed entry that is not the last, an entry without a value, two entries of
one name, and entries that define functions. A literal expression naming a structure
decision is read only once that decision is expanded (model order).
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import replace

from compiler.interop.dmn.document import LOGIC, Document, local
from compiler.interop.dmn.drafts import PATH
from compiler.interop.dmn.expressions import split_names
from compiler.interop.dmn.messages import Unsupported
from compiler.interop.dmn.names import collapse
from compiler.interop.dmn.tables import Conversion

# A leaf of a structure: (DMN path, decision giving its value, typeRef, DMN id).
Leaf = tuple[tuple[str, ...], str, str, str]
# Elements whose `text` is not an expression over names (allowed values).
_NOT_EXPRESSIONS = ("inputValues", "outputValues", "allowedValues", "description")


def expand(doc: Document) -> None:
    """Replace, in DOC's decisions, every decision whose logic is a context by the
    decisions of its entries followed by the decision itself (module docstring);
    report and keep (for drafting to skip) those that cannot be expanded."""
    _Expander(doc).run()


def without_orphans(doc: Document, conversion: Conversion) -> Conversion:
    """CONVERSION without the tables of context entries whose decision is left out:
    they are parts of that decision, which the errors already explain."""
    orphans = {
        conversion.decisions[entry]
        for entry, owner in doc.entry_of.items()
        if owner not in conversion.decisions and entry in conversion.decisions
    }
    if not orphans:
        return conversion
    return replace(
        conversion,
        tables=tuple(t for t in conversion.tables if t.name not in orphans),
        origins={k: v for k, v in conversion.origins.items() if k not in orphans},
        decisions={k: v for k, v in conversion.decisions.items() if v not in orphans},
    )


class _Expander:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.out: dict[str, ET.Element] = {}
        self.taken = set(doc.decisions) | set(doc.input_data)
        self.model_names = [*doc.input_data, *doc.decisions]
        # the decisions (entries and model decisions) that are structures, each with
        # its leaves: (DMN path of names, decision giving that value, typeRef, id)
        self.structures: dict[str, list[Leaf]] = {}

    def run(self) -> None:
        for name, decision in self.doc.decisions.items():
            logic = self.doc.logic(decision)
            if logic is None or local(logic) != "context":
                self.out[name] = decision
                continue
            before = dict(self.out)
            try:
                value = self.context(name, logic, {}, decision)
            except Unsupported as exc:
                self.out = before
                self.doc.report("error", "decision", decision, exc.text, exc.topic)
                self.doc.refused.add(decision)
                self.out[name] = decision
                continue
            self.out[name] = self.replaced(decision, value)
            for entry in self.out:
                if entry not in before and entry != name:
                    self.doc.entry_of[entry] = name
        self.doc.decisions = self.out

    def unique(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.taken:
            candidate, n = f"{name} {n}", n + 1
        self.taken.add(candidate)
        return candidate

    def context(
        self,
        owner: str,
        node: ET.Element,
        scope: Mapping[str, str],
        decision: ET.Element,
    ) -> ET.Element:
        """The logic that stands for the context NODE of OWNER: its entries become
        decisions (added to `out`); SCOPE maps the names of the entries it may read
        (of the contexts around it) to their decisions' names."""
        entries = self.doc.children(node, "contextEntry")
        if not entries:
            raise Unsupported("its context has no entries", "context")
        named: list[tuple[str, ET.Element, ET.Element]] = []
        result: ET.Element | None = None
        for position, entry in enumerate(entries):
            variable = self.doc.child(entry, "variable")
            name = collapse(variable.get("name", "")) if variable is not None else ""
            value = self.doc.logic(entry)
            shown = f"context entry {name!r}" if name else "the context's result entry"
            if value is None:
                raise Unsupported(f"{shown} has no value", "context")
            if local(value) == "functionDefinition":
                raise Unsupported(
                    f"{shown} defines a function; the format has no functions",
                    "context",
                )
            if not name:
                if position != len(entries) - 1:
                    raise Unsupported(
                        "an entry of its context has no name and is not the last "
                        "(only the result entry is unnamed)",
                        "context",
                    )
                result = value
                continue
            if any(name == other for other, _, _ in named):
                raise Unsupported(
                    f"its context has two entries named {name!r}", "context"
                )
            assert variable is not None
            named.append((name, variable, value))
        inner = dict(scope)
        alias = (
            result is not None
            and local(result) == "literalExpression"
            and named
            and collapse(self.doc.text(result) or "") == named[-1][0]
        )
        for index, (name, variable, value) in enumerate(named):
            if alias and index == len(named) - 1:
                # the result is this entry: its value is the owner's logic
                return self.value(owner, value, inner, decision)
            same = self.structure_named(value, inner)
            if same is not None:  # the entry is a structure named: it is that one
                inner[name] = same
                continue
            qualified = self.unique(f"{owner} {name}")
            logic = self.value(qualified, value, inner, decision)
            self.out[qualified] = self.entry_decision(
                qualified, name, variable, logic, decision
            )
            inner[name] = qualified
        if result is not None:
            return self.value(owner, result, inner, decision)
        return self.structure(owner, node, named, inner)

    def structure_named(
        self, value: ET.Element, scope: Mapping[str, str]
    ) -> str | None:
        """The structure (an entry of SCOPE or a decision of the model) that VALUE,
        a literal expression, only names; None when it is no such name."""
        if local(value) != "literalExpression":
            return None
        text = collapse(self.doc.text(value) or "")
        found = scope.get(text, text if text in self.doc.decisions else None)
        return found if found in self.structures else None

    def value(
        self,
        owner: str,
        value: ET.Element,
        scope: Mapping[str, str],
        decision: ET.Element,
    ) -> ET.Element:
        """VALUE as the logic of OWNER: a context expanded, other logic with the
        entry names of SCOPE it reads rewritten."""
        if local(value) == "context":
            return self.context(owner, value, scope, decision)
        return self.rewritten(value, scope)

    def rewritten(self, value: ET.Element, scope: Mapping[str, str]) -> ET.Element:
        """A copy of VALUE whose expression texts read the decisions of SCOPE's entry
        names (`Rate` -> `Boxed Context Rate`); other names are kept."""
        found = copy.deepcopy(value)
        if not scope:
            return found
        names = [*self.model_names, *scope]
        renames = {n: n for n in self.model_names} | dict(scope)
        skipped = {
            id(text)
            for tag in _NOT_EXPRESSIONS
            for holder in found.iter(self.doc.q(tag))
            for text in holder.iter(self.doc.q("text"))
        }
        for text in found.iter(self.doc.q("text")):
            if id(text) in skipped or not text.text:
                continue
            expression = split_names(text.text, names)
            if any(kind == "name" and n in scope for kind, n in expression.pieces):
                text.text = expression.render(renames)
        return found

    def entry_decision(
        self,
        qualified: str,
        name: str,
        variable: ET.Element,
        logic: ET.Element,
        decision: ET.Element,
    ) -> ET.Element:
        """A decision QUALIFIED for the context entry NAME of DECISION, holding LOGIC."""
        element = ET.Element(
            self.doc.q("decision"),
            {"name": qualified, "id": variable.get("id", "") or logic.get("id", "")},
        )
        description = ET.SubElement(element, self.doc.q("description"))
        description.text = (
            f"Context entry {name!r} of the decision "
            f"{collapse(decision.get('name', ''))!r}"
        )
        ET.SubElement(
            element,
            self.doc.q("variable"),
            {
                k: v
                for k, v in (("name", qualified), ("typeRef", variable.get("typeRef")))
                if v
            },
        )
        element.append(logic)
        return element

    def structure(
        self,
        owner: str,
        node: ET.Element,
        named: list[tuple[str, ET.Element, ET.Element]],
        scope: Mapping[str, str],
    ) -> ET.Element:
        """A context without a result entry: a FIRST table of one rule whose outputs
        (one per entry, named and typed as it) read the entries' decisions. An entry
        that is a structure itself gives an output per leaf, named by its path
        (`RGB notation.R`, marked with PATH): the format's path outputs."""
        table = ET.Element(
            self.doc.q("decisionTable"),
            {"id": node.get("id", ""), "hitPolicy": "FIRST"},
        )
        rule = ET.Element(self.doc.q("rule"))
        leaves: list[Leaf] = []
        for name, variable, _ in named:
            inner = self.structures.get(scope[name])
            if inner is None:
                leaves.append(
                    (
                        (name,),
                        scope[name],
                        variable.get("typeRef", ""),
                        variable.get("id", ""),
                    )
                )
            else:
                leaves.extend(
                    ((name, *path), source, type_ref, ident)
                    for path, source, type_ref, ident in inner
                )
        for path, source, type_ref, ident in leaves:
            attributes = {"name": ".".join(path), "id": ident}
            if len(path) > 1:
                attributes[PATH] = json.dumps(path)
            if type_ref:
                attributes["typeRef"] = type_ref
            ET.SubElement(table, self.doc.q("output"), attributes)
            entry = ET.SubElement(rule, self.doc.q("outputEntry"))
            ET.SubElement(entry, self.doc.q("text")).text = source
        table.append(rule)
        self.structures[owner] = leaves
        return table

    def replaced(self, decision: ET.Element, logic: ET.Element) -> ET.Element:
        """A copy of DECISION (name, id, variable, requirements) with LOGIC as its
        logic in place of its context."""
        element = ET.Element(decision.tag, dict(decision.attrib))
        element.text, element.tail = decision.text, decision.tail
        for child in decision:
            if child.tag.startswith(f"{{{self.doc.ns}}}") and local(child) in LOGIC:
                element.append(logic)
            else:
                element.append(child)
        return element
