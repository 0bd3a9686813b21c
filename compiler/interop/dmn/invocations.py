"""Business knowledge models (BKMs) inlined where decisions invoke them.

The workbook format has no functions, so import copies the invoked BKM's body into
the invoking decision, with each formal parameter replaced by its binding: a decision
whose logic is an `invocation` gets, in its place, the BKM's decision table or
literal expression written over the decision's own names (inputData, decisions and
paths into them). The drafter then reads it as any other decision's logic, so a
parameter bound to an input becomes that input column, one bound to a decision a
`from` column, and one bound to a path a path input; an expression it does not take
is refused there with its reason. Each invoking decision gets its own copy.

Also inlined, because they reduce to the same two shapes: a BKM whose body invokes
another BKM; a literal expression (a BKM's body, or a decision's logic, such as a
context entry's decision from `contexts`) that calls a BKM of literal-expression
logic as a function (`PMT(Rate, Term, Amount)`: the body in parentheses, its
parameters replaced by the arguments). The BKMs of imported models (`imports`) are
called by their qualified names (`myimport.Say Hello`); and a context of literal-expression entries (each entry's value,
in parentheses, where later entries read its name) whose result is a literal
expression or the name of one entry. A context entry that is a decision table (or
an invocation of one) read by a later expression becomes a decision of its own,
named `<decision> / <entry>`, that the expression reads (a `from` column). So does a
BKM whose body is (or returns) a table called inside an expression (`<decision> /
<BKM>`, one per call): each argument that is not a name or path becomes a literal
decision that the table reads, and the table's inputs drop the parameters' allowed
values (the arguments are computed on every branch).

Refused, naming the decision and the BKM (never guessed): an invocation of a name
that is no BKM of the model, a parameter without a binding (DMN binds it to null), a
binding of a name that is no parameter, bindings that are not literal expressions,
BKM logic that is not FEEL, bodies of other kinds (relations, lists, functions, ...),
a BKM body that reads a name of the model that is not one of its parameters (DMN
gives a BKM only its parameters), and calls with named arguments.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from compiler.interop.dmn import version2
from compiler.interop.dmn.document import LOGIC, Document, check_language, local
from compiler.interop.dmn.expressions import split_names
from compiler.interop.dmn.messages import Unsupported
from compiler.interop.dmn.names import collapse

_MAX_DEPTH = 20
_FIELDS = re.compile(r"(?:\s*\.\s*[^\W\d][\w]*)+")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)
_NAMED_ARGUMENT = re.compile(r"^\s*[^\W\d][\w' ]*:(?!=)")


@dataclass(frozen=True, slots=True)
class _Table:
    """A context entry that is a table: a decision of its own once an expression
    reads it (`name`: the entry; `logic`: the table over the model's names)."""

    name: str
    type_ref: str
    id: str
    logic: ET.Element


# a scope: DMN name -> its replacement text, or a table entry of a context
Scope = dict[str, "str | _Table"]


def logic_of(element: ET.Element) -> ET.Element | None:
    """The expression element of a decision, BKM body, binding or context entry."""
    return next((c for c in element if local(c) in LOGIC), None)


def expand(doc: Document) -> set[str]:
    """Each decision of DOC whose logic is an invocation, with that logic replaced
    by the BKM's body bound to the decision's names; tables that context entries
    need become decisions of DOC too. The names of the decisions refused (each
    reported with its reason)."""
    inliner = _Inliner(doc)
    refused: set[str] = set()
    for name, decision in list(doc.decisions.items()):
        logic = logic_of(decision)
        if logic is None or not (
            local(logic) == "invocation"
            or (
                local(logic) == "literalExpression"  # calls a BKM as a function
                and any(_calls(doc.text(logic) or "", list(inliner.bkms)))
            )
        ):
            continue
        try:
            body = inliner.resolve(logic, {}, name, 0, closed=False)
        except Unsupported as exc:
            doc.report("error", "decision", decision, exc.text, exc.topic)
            refused.add(name)
            continue
        expanded = copy.copy(decision)  # the same attributes and children, but
        expanded[:] = [body if c is logic else c for c in decision]  # the logic
        doc.decisions[name] = expanded
    for name, element in inliner.extra.items():
        doc.decisions[name] = element
    for name, bkm in inliner.bkms.items():
        if name not in inliner.used and name not in inliner.imported:
            doc.report(
                "warning",
                "business knowledge model",
                bkm,
                "not converted: a BKM is inlined where a decision invokes it, and "
                "no converted decision does",
                "business knowledge model",
            )
    return refused


class _Inliner:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.bkms = {
            collapse(e.get("name", "")): e
            for e in doc.children(doc.root, "businessKnowledgeModel")
        }
        # the BKMs of imported models (`imports`), by their qualified names
        # (`myimport.Say Hello`), when written in the same DMN version
        self.imported = {
            f"{prefix}.{collapse(e.get('name', ''))}"
            if prefix
            else collapse(e.get("name", "")): e
            for prefix, model in doc.imports.items()
            if model.ns == doc.ns
            for e in model.children(model.root, "businessKnowledgeModel")
        }
        self.bkms.update(
            (name, bkm) for name, bkm in self.imported.items() if name not in self.bkms
        )
        self.extra: dict[str, ET.Element] = {}
        self.used: set[str] = set()  # the BKMs inlined somewhere

    # -- the model's names -------------------------------------------------------------

    def model_names(self) -> list[str]:
        return [*self.doc.input_data, *self.doc.decisions, *self.extra]

    def simple(self, text: str) -> bool:
        """Whether TEXT is a name of the model, or a path into one: it can stand
        for a parameter without parentheses (and stays an input's name)."""
        pieces = split_names(text, self.model_names()).pieces
        if not pieces or pieces[0][0] != "name":
            return False
        rest = "".join(raw for _, raw in pieces[1:])
        return not rest.strip() or (
            all(kind == "text" for kind, _ in pieces[1:])
            and _FIELDS.fullmatch(rest) is not None
        )

    def bound(self, text: str) -> str:
        text = " ".join(text.split()) if '"' not in text else text.strip()
        return text if self.simple(text) else f"({text})"

    # -- bodies ------------------------------------------------------------------------

    def resolve(
        self, logic: ET.Element, scope: Scope, owner: str, depth: int, closed: bool
    ) -> ET.Element:
        """LOGIC (a BKM body, or a decision's invocation) as a decision table or a
        literal expression over the model's names; SCOPE gives each parameter's
        (and context entry's) replacement. CLOSED: LOGIC may read only SCOPE (a
        BKM's body), not the model's names."""
        if depth > _MAX_DEPTH:
            raise Unsupported(
                "its invocations nest too deep (a BKM invokes itself?)", "invocation"
            )
        kind = local(logic)
        check_language(logic)
        if kind == "literalExpression":
            found = self.literal(logic, scope, owner, depth, closed)
            if isinstance(found, _Table):
                return found.logic
            return self.literal_element(logic, found)
        if kind == "decisionTable":
            return self.table(logic, scope, owner, depth, closed)
        if kind == "invocation":
            return self.invocation(logic, scope, owner, depth, closed)
        if kind == "context":
            found = self.context(logic, scope, owner, depth, closed)
            if isinstance(found, _Table):
                return found.logic
            return self.literal_element(logic, found)
        raise Unsupported(
            f"its logic holds a {kind}, which import does not inline", kind
        )

    def literal_element(self, like: ET.Element, text: str) -> ET.Element:
        element = ET.Element(
            self.doc.q("literalExpression"), {"id": like.get("id", "")}
        )
        if like.get("typeRef"):
            element.set("typeRef", like.get("typeRef", ""))
        ET.SubElement(element, self.doc.q("text")).text = text
        return element

    def literal(
        self, node: ET.Element, scope: Scope, owner: str, depth: int, closed: bool
    ) -> str | _Table:
        """A literal expression's text over the model's names, or the table entry
        of a context that it only names."""
        text = self.doc.text(node) or ""
        entry = scope.get(collapse(text))
        if isinstance(entry, _Table):
            return entry
        return self.rewrite(text, scope, owner, depth, closed)

    def table(
        self, node: ET.Element, scope: Scope, owner: str, depth: int, closed: bool
    ) -> ET.Element:
        """A copy of the decision table NODE with its FEEL rewritten."""
        table = copy.deepcopy(node)
        for element in table.iter():
            for key in [
                k for k in element.attrib if k.startswith("{" + version2.EXTENSIONS)
            ]:
                del element.attrib[key]  # cells export wrote are over parameters
        for tag in ("inputExpression", "inputEntry", "outputEntry"):
            for element in table.iter(self.doc.q(tag)):
                found = self.doc.child(element, "text")
                if found is not None and found.text:
                    found.text = self.rewrite(found.text, scope, owner, depth, closed)
        return table

    def invocation(
        self, node: ET.Element, scope: Scope, owner: str, depth: int, closed: bool
    ) -> ET.Element:
        """The invoked BKM's body with its parameters bound as NODE binds them."""
        callee = self.doc.child(node, "literalExpression")
        target = collapse(self.doc.text(callee) or "")
        bkm = self.bkms.get(target)
        if bkm is None:
            raise Unsupported(
                f"it invokes {target!r}, which is not a business knowledge model of "
                "the model (only BKMs are inlined)",
                "invocation",
            )
        given: dict[str, ET.Element | None] = {}
        for binding in self.doc.children(node, "binding"):
            parameter = self.doc.child(binding, "parameter")
            name = collapse(parameter.get("name", "") if parameter is not None else "")
            given[name] = logic_of(binding)
        parameters, body = self.signature(bkm)
        where = _bkm(bkm)
        self.used.add(target)
        unknown = [n for n in given if n not in parameters]
        if unknown:
            raise Unsupported(
                f"it binds {unknown[0]!r}, which is not a parameter of {where}",
                "invocation",
            )
        bound: Scope = {}
        for name in parameters:
            value = given.get(name)
            if value is None:
                raise Unsupported(
                    f"it binds no value to the parameter {name!r} of {where} (DMN "
                    "passes null)",
                    "invocation",
                )
            if local(value) != "literalExpression":
                raise Unsupported(
                    f"its binding of {name!r} is a {local(value)}, not a literal "
                    "expression",
                    "invocation",
                )
            text = self.rewrite(self.doc.text(value) or "", scope, owner, depth, closed)
            bound[name] = self.bound(text)
        try:
            resolved = self.resolve(body, bound, owner, depth + 1, closed=True)
            return self.typed(body, resolved, parameters)
        except Unsupported as exc:
            if exc.text.startswith("it invokes") or where in exc.text:
                raise
            raise Unsupported(f"{where}: {exc.text}", exc.topic) from None

    def typed(
        self, body: ET.Element, logic: ET.Element, parameters: dict[str, str]
    ) -> ET.Element:
        """LOGIC (BODY inlined) with each input expression that has no typeRef and
        names a parameter in BODY typed by that formalParameter's typeRef."""
        if local(body) != "decisionTable" or local(logic) != "decisionTable":
            return logic
        tag = self.doc.q("inputExpression")
        for before, after in zip(body.iter(tag), logic.iter(tag), strict=True):
            type_ref = parameters.get(collapse(self.doc.text(before) or ""))
            if type_ref and not after.get("typeRef"):
                after.set("typeRef", type_ref)
        return logic

    def signature(self, bkm: ET.Element) -> tuple[dict[str, str], ET.Element]:
        """A BKM's parameters (name -> typeRef) and its body."""
        where = _bkm(bkm)
        logic = self.doc.child(bkm, "encapsulatedLogic")
        if logic is None:
            raise Unsupported(f"{where} has no logic", "business knowledge model")
        kind = logic.get("kind", "FEEL")
        if kind.upper() != "FEEL":
            raise Unsupported(
                f"{where} is of kind {kind!r}; only FEEL logic is inlined",
                "not FEEL",
            )
        parameters = {
            collapse(p.get("name", "")): p.get("typeRef", "")
            for p in self.doc.children(logic, "formalParameter")
        }
        body = logic_of(logic)
        if body is None:
            raise Unsupported(f"{where} has no body", "business knowledge model")
        return parameters, body

    def context(
        self, node: ET.Element, scope: Scope, owner: str, depth: int, closed: bool
    ) -> str | _Table:
        """A context's result: each entry's value bound to its name for the entries
        after it; the last entry (without a name) is the result."""
        inner: Scope = dict(scope)
        entries = self.doc.children(node, "contextEntry")
        for index, entry in enumerate(entries):
            variable = self.doc.child(entry, "variable")
            value = logic_of(entry)
            name = collapse(variable.get("name", "")) if variable is not None else ""
            if value is None:
                raise Unsupported(
                    f"the context entry {name or index + 1!r} has no value", "context"
                )
            last = index == len(entries) - 1
            if not name:
                if not last:
                    raise Unsupported(
                        "a context entry without a name is not the last", "context"
                    )
                if local(value) == "literalExpression":
                    return self.literal(value, inner, owner, depth, closed)
                result = self.resolve(value, inner, owner, depth + 1, closed)
                if local(result) == "literalExpression":
                    return self.doc.text(result) or ""
                return _Table(owner, "", node.get("id", ""), result)
            if local(value) == "literalExpression":
                found = self.literal(value, inner, owner, depth, closed)
                inner[name] = found if isinstance(found, _Table) else self.bound(found)
                continue
            if local(value) == "context":
                found = self.context(value, inner, owner, depth + 1, closed)
                inner[name] = found if isinstance(found, _Table) else self.bound(found)
                continue
            result = self.resolve(value, inner, owner, depth + 1, closed)
            if local(result) == "literalExpression":
                inner[name] = self.bound(self.doc.text(result) or "")
            else:
                type_ref = variable.get("typeRef", "") if variable is not None else ""
                ident = variable.get("id", "") if variable is not None else ""
                inner[name] = _Table(name, type_ref, ident, result)
        raise Unsupported(
            "the context has no result entry (it returns a context)", "context"
        )

    # -- text --------------------------------------------------------------------------

    def rewrite(
        self, text: str, scope: Scope, owner: str, depth: int, closed: bool
    ) -> str:
        """TEXT with each name of SCOPE replaced, and each call of a BKM inlined;
        Unsupported when a CLOSED text reads a name of the model outside SCOPE."""
        calls = [n for n in self.bkms if n not in scope]
        out: list[str] = []
        last = 0
        for start, end, name, arguments in _calls(text, calls):
            out.append(self.substitute(text[last:start], scope, owner, closed))
            values = [self.rewrite(a, scope, owner, depth, closed) for a in arguments]
            out.append(self.call(name, values, owner, depth))
            last = end
        out.append(self.substitute(text[last:], scope, owner, closed))
        return "".join(out)

    def substitute(self, text: str, scope: Scope, owner: str, closed: bool) -> str:
        if not scope and not closed:
            return text
        names = [*scope, *(self.model_names() if closed else ())]
        parts: list[str] = []
        for kind, raw in split_names(text, names).pieces:
            if kind == "text":
                parts.append(raw)
                continue
            value = scope.get(raw)
            if value is None:
                raise Unsupported(
                    f"its body reads {raw!r}, which is not one of its parameters "
                    "(a BKM sees only its parameters)",
                    "business knowledge model",
                )
            parts.append(
                self.materialize(value, owner) if isinstance(value, _Table) else value
            )
        return "".join(parts)

    def materialize(self, entry: _Table, owner: str) -> str:
        """The name of the decision that the context table ENTRY becomes."""
        base = f"{owner} / {entry.name}"
        name, n = base, 2
        taken = {*self.doc.input_data, *self.doc.decisions}
        while name in taken or (
            name in self.extra
            and self.extra[name].find(self.doc.q("decisionTable")) is not entry.logic
        ):
            name, n = f"{base} ({n})", n + 1
        if name not in self.extra:
            decision = ET.Element(
                self.doc.q("decision"), {"name": name, "id": entry.id}
            )
            variable = ET.SubElement(decision, self.doc.q("variable"), {"name": name})
            if entry.type_ref:
                variable.set("typeRef", entry.type_ref)
            decision.append(entry.logic)
            self.extra[name] = decision
        return name

    def call(self, name: str, arguments: list[str], owner: str, depth: int) -> str:
        """A BKM called in an expression, inlined: its literal body, in parentheses."""
        bkm = self.bkms[name]
        parameters, body = self.signature(bkm)
        self.used.add(name)
        where = _bkm(bkm)
        if len(arguments) != len(parameters):
            raise Unsupported(
                f"{name}(...) passes {len(arguments)} arguments to {where}, which "
                f"takes {len(parameters)}",
                "invocation",
            )
        bound: Scope = {
            p: self.bound(a) for p, a in zip(parameters, arguments, strict=True)
        }
        result = self.resolve(body, bound, owner, depth + 1, closed=True)
        if local(result) == "literalExpression":
            return f"({self.doc.text(result) or ''})"
        if local(result) != "decisionTable":
            raise Unsupported(
                f"an expression calls {where}, whose body is a {local(result)} (a "
                "literal body or a decision table is inlined into an expression)",
                "invocation",
            )
        # a table: a decision of its own that the expression reads (a `from` column),
        # each argument that is not a name (or a path) a literal decision it reads
        title = collapse(bkm.get("name", ""))
        named: Scope = {}
        for parameter, argument in bound.items():
            assert isinstance(argument, str)
            if self.simple(argument):
                named[parameter] = argument
                continue
            named[parameter] = self.extra_decision(
                f"{owner} / {title} {parameter}",
                self.literal_element(body, argument),
                "",
            )
        table = self.resolve(body, named, owner, depth + 1, closed=True)
        assert local(table) == "decisionTable"
        for clause in table.iter(self.doc.q("input")):
            # the arguments' values reach the table whatever the branch taken (DMN
            # calls the BKM only where the expression needs it), so its inputs take
            # the types and values of what they read, not the parameters' ranges
            for values in self.doc.children(clause, "inputValues"):
                clause.remove(values)
            for expression in self.doc.children(clause, "inputExpression"):
                expression.attrib.pop("typeRef", None)
        return self.extra_decision(f"{owner} / {title}", table, "")

    def extra_decision(self, base: str, logic: ET.Element, type_ref: str) -> str:
        """A new decision of the model (a name of its own from BASE) holding LOGIC."""
        taken = {*self.doc.input_data, *self.doc.decisions, *self.extra}
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        decision = ET.Element(self.doc.q("decision"), {"name": name, "id": ""})
        variable = ET.SubElement(decision, self.doc.q("variable"), {"name": name})
        if type_ref:
            variable.set("typeRef", type_ref)
        decision.append(logic)
        self.extra[name] = decision
        return name


def _bkm(bkm: ET.Element) -> str:
    ident = bkm.get("id", "")
    shown = f"business knowledge model {collapse(bkm.get('name', ''))!r}"
    return f"{shown} ({ident})" if ident else shown


def _calls(text: str, names: list[str]) -> Iterator[tuple[int, int, str, list[str]]]:
    """The calls of NAMES in TEXT, outside strings and not inside one another:
    (start, end, name, argument texts)."""
    if not names:
        return
    ordered = sorted(names, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w.])("
        + "|".join(r"\s+".join(map(re.escape, n.split())) for n in ordered)
        + r")\s*\("
    )
    by_words = {" ".join(n.split()): n for n in names}
    i = 0
    while i < len(text):
        if text[i] == '"':
            match = _STRING.match(text, i)
            i = match.end() if match else len(text)
            continue
        found = pattern.match(text, i)
        if found is None or (i and (text[i - 1].isalnum() or text[i - 1] in "_.")):
            i += 1
            continue
        arguments, end = _arguments(text, found.end())
        yield i, end, by_words[" ".join(found.group(1).split())], arguments
        i = end


def _arguments(text: str, at: int) -> tuple[list[str], int]:
    """The top-level arguments of a call whose `(` ends before AT, and the end."""
    depth, start, parts = 0, at, []
    i = at
    while i < len(text):
        char = text[i]
        if char == '"':
            match = _STRING.match(text, i)
            i = match.end() if match else len(text)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                parts.append(text[start:i])
                if parts == [""] or (len(parts) == 1 and not parts[0].strip()):
                    parts = []
                for part in parts:
                    if _NAMED_ARGUMENT.match(part):
                        raise Unsupported(
                            f"a call passes named arguments ({part.strip()!r})",
                            "invocation",
                        )
                return parts, i + 1
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    raise Unsupported("a call is not closed: ')' is missing", "invocation")


__all__ = ["expand", "logic_of"]
