"""Open workbooks in LibreOffice Calc, as an author would, and print what Calc shows.

Run by the system Python, which has LibreOffice's `uno` module (Debian: python3-uno):

    python3 tests/libreoffice_uno.py PROFILE_DIR BOOK.xlsx ...

Prints JSON: per workbook the sheet order and active sheet, and per sheet its frozen
panes, comments, filled cells, list validations and hyperlinks, each link with the
cell Calc jumps to when it is followed. test_libreoffice.py runs it; a conversion
with `soffice --convert-to` cannot show these, since it drops the view settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def _prop(name: str, value: Any) -> Any:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _ref(column: int, row: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _sheet(doc: Any, ctrl: Any, frame: Any, dispatcher: Any, sheet: Any) -> dict:
    ctrl.setActiveSheet(sheet)
    notes = sheet.Annotations
    comments = {}
    for i in range(notes.Count):
        note = notes.getByIndex(i)
        comments[_ref(note.Position.Column, note.Position.Row)] = note.String
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    end = cursor.RangeAddress
    fills: dict[str, str] = {}
    validations: dict[str, list[str]] = {}
    links: dict[str, list[str]] = {}
    for row in range(end.EndRow + 1):
        for column in range(end.EndColumn + 1):
            cell = sheet.getCellByPosition(column, row)
            ref = _ref(column, row)
            if cell.CellBackColor != -1:
                fills[ref] = f"{cell.CellBackColor & 0xFFFFFF:06X}"
            if cell.Validation.Type.value == "LIST":
                validations.setdefault(cell.Validation.Formula1, []).append(ref)
            fields = cell.getTextFields().createEnumeration()
            while fields.hasMoreElements():
                url = fields.nextElement().URL
                links[ref] = [url, _follow(doc, ctrl, frame, dispatcher, url)]
                ctrl.setActiveSheet(sheet)
    return {
        "frozen": (
            [ctrl.getSplitColumn(), ctrl.getSplitRow()]
            if ctrl.hasFrozenPanes()
            else None
        ),
        "comments": comments,
        "fills": fills,
        "validations": validations,
        "links": links,
    }


def _follow(doc: Any, ctrl: Any, frame: Any, dispatcher: Any, url: str) -> str:
    """The cell Calc selects when the internal link URL is followed."""
    if not url.startswith("#"):
        return ""
    ctrl.select(doc.Sheets.getByIndex(0).getCellByPosition(0, 0))
    dispatcher.executeDispatch(
        frame, ".uno:JumpToMark", "", 0, (_prop("Bookmark", url[1:]),)
    )
    where = ctrl.getSelection().getRangeAddress()
    name = doc.Sheets.getByIndex(where.Sheet).Name
    return f"{name}!{_ref(where.StartColumn, where.StartRow)}"


def main(profile: Path, books: list[Path]) -> dict:
    pipe = f"compile-rules-{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        for _ in range(300):
            try:
                ctx = resolver.resolve(
                    f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
                )
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise SystemExit("LibreOffice did not start")
        smgr = ctx.ServiceManager
        desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        dispatcher = smgr.createInstanceWithContext(
            "com.sun.star.frame.DispatchHelper", ctx
        )
        seen = {}
        try:
            for book in books:
                doc = desktop.loadComponentFromURL(
                    uno.systemPathToFileUrl(str(book.resolve())),
                    "_blank",
                    0,
                    (_prop("Hidden", True),),
                )
                ctrl = doc.getCurrentController()
                frame = ctrl.getFrame()
                active = ctrl.getActiveSheet().Name
                names = list(doc.Sheets.ElementNames)
                sheets = {
                    name: _sheet(
                        doc, ctrl, frame, dispatcher, doc.Sheets.getByName(name)
                    )
                    for name in names
                }
                seen[str(book)] = {"sheets": names, "active": active, "sheet": sheets}
                doc.close(True)
        finally:
            desktop.terminate()
        office.wait(timeout=60)
    finally:
        if office.poll() is None:
            office.kill()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])))
