"""Import: a DMN file parsed (with defusedxml, under a size limit), its namespace checked,
its BKM invocations inlined (`invocations`), its decisions drafted (`drafts`) and the drafts built into tables (`tables`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as SafeET

from compiler.interop.dmn import contexts, imports
from compiler.interop.dmn.document import Document
from compiler.interop.dmn.drafts import Drafter
from compiler.interop.dmn.invocations import expand
from compiler.interop.dmn.messages import Message
from compiler.interop.dmn.tables import Builder, Conversion

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
MAX_MODEL_BYTES = 64 * 1024 * 1024


def read_dmn(source: Path | bytes, model: str = "") -> Conversion:
    """Read a DMN 1.1-1.5 model (a file or its bytes) into tables and messages."""
    if isinstance(source, Path):
        model = model or source.name
        try:
            if source.stat().st_size > MAX_MODEL_BYTES:
                return _failed(
                    model, f"the model is larger than {MAX_MODEL_BYTES // 2**20} MiB"
                )
            data = source.read_bytes()
        except OSError as exc:
            return _failed(model, f"cannot read the model: {exc.strerror or exc}")
    else:
        data = source
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        return _failed(model, f"not a readable XML document: {exc}")
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if root.tag.split("}")[-1] != "definitions" or namespace not in DMN_NAMESPACES:
        return _failed(
            model,
            f"not a DMN 1.1-1.5 model (root element {root.tag!r}); known namespaces: "
            + ", ".join(DMN_NAMESPACES),
        )
    doc = Document(root, model)
    imports.read_imports(doc, source if isinstance(source, Path) else None)
    contexts.expand(doc)  # boxed contexts as the decisions of their entries
    refused = expand(doc)  # BKMs inlined where decisions invoke them
    conversion = Builder(doc, Drafter(doc, refused).run()).run()
    return contexts.without_orphans(doc, conversion)


def _failed(model: str, text: str) -> Conversion:
    """A conversion of nothing, with the one error that says why."""
    return Conversion(
        model,
        (),
        {},
        (Message("error", "model", model, "", text, "unreadable"),),
        {},
        {},
    )
