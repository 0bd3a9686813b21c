"""Imported models: a DMN `<import>` names another model by its namespace and gives
it a prefix (`name="myimport"`); the importing model then reads that model's names
qualified by the prefix (`myimport.tPerson`, `myimport.Say Hello`).

Import looks for the imported model beside the model read: the file its
`locationURI` names (a relative path inside that folder), else the `.dmn` file of the
folder whose `definitions@namespace` is the import's namespace. The item definitions
of a model found are added to the importing model's under their qualified names
(`myimport.tPerson`, the typeRefs inside them qualified too), so that typeRefs to
them resolve; the model itself is kept in `Document.imports` by prefix for the steps
that read its decisions and business knowledge models (not converted yet: a warning
says so). A model given as bytes has no folder: its imports are not read. Each
import not read is a warning naming it, and whatever reads its names is refused
(`unknown type`).
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as SafeET

from compiler.interop.dmn.document import Document

MAX_IMPORTED_BYTES = 64 * 1024 * 1024
_DMN_MODEL = "/MODEL/"  # importType of DMN models (1.2+); 1.1 names the dmn.xsd


def read_imports(doc: Document, model: Path | None) -> None:
    """Resolve the `<import>`s of DOC, read from the file MODEL (None: from bytes)."""
    for node in doc.children(doc.root, "import"):
        prefix = node.get("name", "")
        namespace = node.get("namespace", "")
        shown = prefix or node.get("locationURI") or namespace
        kind = node.get("importType", "")
        if kind and _DMN_MODEL not in kind and not kind.endswith("dmn.xsd"):
            _warn(doc, node, shown, f"an import of type {kind!r} is not read")
            continue
        if model is None:
            _warn(
                doc, node, shown, "imported models are not read from bytes (no folder)"
            )
            continue
        found = _find(model, namespace, node.get("locationURI", ""))
        if found is None:
            _warn(
                doc,
                node,
                shown,
                f"no .dmn file beside {model.name!r} has the namespace {namespace!r}, "
                "so the imported names are unknown",
            )
            continue
        path, root = found
        imported = Document(root, path.name)
        doc.imports[prefix] = imported
        for name, item in imported.items.items():
            doc.items[_qualified(prefix, name)] = _item(imported, item, prefix)
        shown_prefix = f"{prefix}.<name>" if prefix else "their own names"
        text = f"read {path.name!r}: its item definitions as {shown_prefix}"
        bkms = imported.children(root, "businessKnowledgeModel")
        if bkms and imported.ns == doc.ns:
            text += (
                ", its business knowledge models inlined where this model invokes them"
            )
        elif bkms:
            text += "; its business knowledge models are not read (another DMN version)"
        if imported.decisions:
            count = len(imported.decisions)
            text += f"; its {count} decision{'s' if count > 1 else ''} not converted"
        _warn(doc, node, shown, text)


def _qualified(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _item(imported: Document, item: ET.Element, prefix: str) -> ET.Element:
    """A copy of the imported ITEM whose typeRefs to the imported model's own item
    definitions are qualified by PREFIX."""
    found = copy.deepcopy(item)
    for ref in found.iter(imported.q("typeRef")):
        if ref.text and ref.text.strip() in imported.items:
            ref.text = _qualified(prefix, ref.text.strip())
    return found


def _find(model: Path, namespace: str, location: str) -> tuple[Path, ET.Element] | None:
    """The model file beside MODEL of NAMESPACE (its LOCATION first), parsed."""
    folder = model.parent.resolve()
    candidates: list[Path] = []
    if location and "://" not in location:
        path = (folder / location).resolve()
        if path.is_relative_to(folder):
            candidates.append(path)
    candidates += sorted(
        p for p in folder.glob("*.dmn") if p.resolve() != model.resolve()
    )
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size > MAX_IMPORTED_BYTES:
                continue
            root = SafeET.fromstring(path.read_bytes())
        except (OSError, ET.ParseError, DefusedXmlException):
            continue
        if root.tag.endswith("}definitions") and root.get("namespace") == namespace:
            return path, root
    return None


def _warn(doc: Document, node: ET.Element, name: str, text: str) -> None:
    doc.report("warning", "import", node, text, "import", name)
