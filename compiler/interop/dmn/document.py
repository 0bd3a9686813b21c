"""One DMN model being read: its elements by name, the namespace its tags are in, the
types its typeRefs name, and the messages import reports about it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from compiler.interop.dmn.feel import TYPES
from compiler.interop.dmn.messages import Message, Unsupported
from compiler.interop.dmn.names import collapse
from compiler.model import DataType

# The decision logic elements of DMN (a decision's, a BKM's body, a context entry's
# value), each as import's messages name it.
LOGIC = {
    "decisionTable": "a decision table",
    "literalExpression": "a literal expression",
    "context": "a context",
    "invocation": "an invocation",
    "relation": "a relation",
    "list": "a list",
    "functionDefinition": "a function definition",
    "conditional": "a conditional",
    "filter": "a filter",
    "for": "an iterator",
    "some": "a quantified expression",
    "every": "a quantified expression",
}


class Document:
    """The `definitions` element of a model with its item definitions, inputData and
    decisions by name; drafting and building report into its `messages`."""

    def __init__(self, root: ET.Element, model: str) -> None:
        self.root = root
        self.ns = root.tag[1:].split("}")[0]
        self.model = model
        self.messages: list[Message] = []
        self.items = {
            e.get("name", ""): e for e in self.children(root, "itemDefinition")
        }
        self.input_data = {
            collapse(e.get("name", "")): e for e in self.children(root, "inputData")
        }
        self.decisions = {
            collapse(e.get("name", "")): e for e in self.children(root, "decision")
        }
        # decisions reported before drafting (a context that cannot be expanded):
        # drafting skips them, tables that read them are left out
        self.refused: set[ET.Element] = set()
        # the decisions made for context entries -> the decision of the context
        self.entry_of: dict[str, str] = {}
        # imported models by their prefix (`imports`)
        self.imports: dict[str, Document] = {}

    # -- XML helpers ------------------------------------------------------------------

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def children(self, element: ET.Element, name: str) -> list[ET.Element]:
        return element.findall(self.q(name))

    def child(self, element: ET.Element, name: str) -> ET.Element | None:
        return element.find(self.q(name))

    def text(self, element: ET.Element | None, name: str = "text") -> str | None:
        if element is None:
            return None
        found = element.find(self.q(name))
        return None if found is None else (found.text or "")

    def logic(self, element: ET.Element) -> ET.Element | None:
        """The first decision logic child (in this model's namespace) of ELEMENT: a
        decision's, a context entry's, a binding's value; None if it has none."""
        for child in element:
            if child.tag.startswith(f"{{{self.ns}}}") and local(child) in LOGIC:
                return child
        return None

    def report(
        self,
        severity: str,
        element: str,
        node: ET.Element | None,
        text: str,
        topic: str = "",
        name: str = "",
    ) -> None:
        shown = name or (node.get("name", "") if node is not None else "")
        ident = node.get("id", "") if node is not None else ""
        self.messages.append(Message(severity, element, shown, ident, text, topic))

    # -- types ----------------------------------------------------------------------

    def components(self, type_ref: str | None) -> dict[str, str]:
        """The component types of a structured (compound output) item definition."""
        item = self.items.get(_local(type_ref or ""))
        if item is None:
            return {}
        found = {}
        for component in self.children(item, "itemComponent"):
            ref = self.text(component, "typeRef")
            if ref:
                found[collapse(component.get("name", ""))] = ref.strip()
        return found

    def fields(self, element: ET.Element, depth: int = 0) -> list[ET.Element]:
        """The itemComponents of ELEMENT (an inputData's variable, an item definition
        or a component): its own, else those of the item definition its typeRef
        names; [] for a plain or collection type."""
        own = self.children(element, "itemComponent")
        if own or depth > 20:
            return own
        ref = element.get("typeRef") or self.text(element, "typeRef")
        item = self.items.get(_local(ref or ""))
        if item is None or item.get("isCollection") == "true":
            return []
        return self.fields(item, depth + 1)

    def field_type(self, element: ET.Element) -> str | None:
        """The typeRef of the component ELEMENT (attribute or child)."""
        ref = element.get("typeRef") or self.text(element, "typeRef")
        return ref.strip() if ref else None

    def is_collection(self, type_ref: str) -> bool:
        """Whether TYPE_REF names an item definition that is a collection."""
        item = self.items.get(_local(type_ref))
        return item is not None and item.get("isCollection") == "true"

    def resolve_type(
        self, type_ref: str, *, list_ok: bool = False, depth: int = 0
    ) -> tuple[DataType | None, str | None]:
        """A typeRef as (type, allowed values text); (None, None) for Any."""
        local = _local(type_ref)
        by_lower = {name.lower(): type_ for name, type_ in TYPES.items()}
        if local.lower() in by_lower:  # `dateTime`, `dayTimeDuration` (version 2)
            return by_lower[local.lower()], None
        if local.lower() == "any":
            return None, None
        item = self.items.get(local)
        if item is None or depth > 20:
            raise Unsupported(f"unknown type {type_ref!r}", "unknown type")
        if item.get("isCollection") == "true" and not list_ok:
            raise Unsupported(
                f"the type {local!r} is a collection; the format takes single values",
                "list input",
            )
        if self.children(item, "itemComponent"):
            raise Unsupported(
                f"the type {local!r} is structured; the format takes plain values",
                "structured type",
            )
        base = self.text(item, "typeRef")
        if not base:
            raise Unsupported(f"the type {local!r} has no base type", "unknown type")
        type_, allowed = self.resolve_type(base.strip(), depth=depth + 1)
        own = self.text(self.child(item, "allowedValues"))
        return type_, own if own is not None else allowed


def local(element: ET.Element) -> str:
    """The local name of ELEMENT's tag: `{ns}decisionTable` -> `decisionTable`."""
    return element.tag.split("}")[-1]


def _local(type_ref: str) -> str:
    """`feel:string` -> `string`; DMN 1.1 typeRefs are QNames."""
    return type_ref.strip().rpartition(":")[2] if ":" in type_ref else type_ref.strip()


def check_language(element: ET.Element | None) -> None:
    """Raise `Unsupported` when ELEMENT declares an expression language other than FEEL."""
    language = element.get("expressionLanguage") if element is not None else None
    if language and "feel" not in language.lower():
        raise Unsupported(
            f"the expression language is {language!r}, not FEEL", "not FEEL"
        )
