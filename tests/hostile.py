"""Hostile input for the hardening tests: text strategies, code inventories, bad files.

Shared by test_injection, test_hostile, test_fuzz and bench/hostile.py, so that the
benchmark measures exactly the files the tests refuse.

`HYPOTHESIS_PROFILE=fuzz` (or any registered profile name) picks a profile for a long
run; without it the suite keeps Hypothesis's defaults, overridden per test.
"""

from __future__ import annotations

import ast
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from compiler.emitting.runtime import SHIPPED
from compiler.reading.cells import clean_text

settings.register_profile(
    "fuzz",
    max_examples=1_000_000,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile("long", max_examples=2_000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


def examples(count: int) -> int:
    """COUNT examples in the suite; the loaded profile's count in a long run."""
    loaded = settings.default
    if os.environ.get("HYPOTHESIS_PROFILE") and loaded is not None:
        return int(loaded.max_examples)
    return count


# -- text ------------------------------------------------------------------------------

# Pieces that break naive code generation, templates or terminals.
PIECES = (
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\n",
    "\\x00",
    "\\N{BULLET}",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "{{ 7*7 }}",
    "{% if true %}",
    "{#",
    "#}",
    "# ",
    "__import__('os').system('echo pwned')",
    '""";import os;os.system("id");"""',
    "\u202e",  # right-to-left override
    "\u202d",
    "\u2066",  # left-to-right isolate .. pop directional isolate
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",  # zero-width space, joiners, word joiner, BOM
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00a0",
    "\u202f",
    "\u201c",
    "\u201d",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0c",
    "\x1b[31m",
    "\x00",
    "\x7f",
    "=cmd|' /C calc'!A0",
    "null",
    "-",
    ",",
    "not(",
    "..",
    "*",
)


def xml_safe(ch: str) -> bool:
    """Whether an .xlsx cell can hold CH: XML 1.0 allows it and openpyxl does not
    refuse it (openpyxl raises IllegalCharacterError for C0 controls other than tab,
    newline and carriage return, and silently writes a broken file for surrogates
    and U+FFFE/U+FFFF, so both are left out of what goes through a real file)."""
    code = ord(ch)
    if ILLEGAL_CHARACTERS_RE.match(ch):
        return False
    return not (0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF))


def hostile_text(*, xml: bool = False, max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Arbitrary Unicode mixed with the pieces above; XML=True keeps to what an .xlsx
    file can carry."""
    chars = st.characters(codec=None) if not xml else st.characters().filter(xml_safe)
    piece = st.one_of(
        st.sampled_from(PIECES), st.text(chars, max_size=6), st.text(max_size=3)
    )
    text = st.lists(piece, max_size=max_pieces).map("".join)
    if xml:
        return text.map(lambda s: "".join(ch for ch in s if xml_safe(ch)))
    return text


def inner(text: str) -> str:
    """The cell grammar's normalisation of text inside quotes: zero-width characters
    dropped, special spaces and tabs made spaces, typographic quotes made straight (the
    strip of `clean_text` applies only outside the quotes)."""
    return clean_text(f"<{text}>")[0][1:-1]


def free(text: str) -> str:
    """The normalisation of free text (ids, titles, notes): `inner`, then stripped."""
    return clean_text(text)[0]


def quoted(text: str) -> str:
    """TEXT as a quoted string cell whose value is `inner(TEXT)`.

    Typographic quotes are made straight before escaping, since the grammar reads
    them as quotes; zero-width characters and special spaces stay in the cell.
    """
    straight = text.translate({ord(ch): '"' for ch in "\u201c\u201d\u201e\u201f\u2033"})
    return '"' + straight.replace("\\", "\\\\").replace('"', '\\"') + '"'


def xml_newlines(text: str) -> str:
    """XML reads CR LF and a lone CR in element text as LF (XML 1.0, 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def printable_source(source: str) -> list[str]:
    """Characters of SOURCE that a reader cannot see or that reorder the text:
    controls other than newline, format characters (bidi, zero-width), line and
    paragraph separators, surrogates. Generated code must hold none of them."""
    return sorted(
        {
            ch
            for ch in source
            if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")
        }
    )


# -- code inventories -------------------------------------------------------------------

_NUMBERED = re.compile(r"\d+")


def code_inventory(source: str) -> set[str]:
    """What a module can do: node types, names, imports, call targets, attributes,
    definitions and keywords (numbers in names made `N`, so that `_HIT_3` and `_HIT_7`
    count as one)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        found.add(f"node:{type(node).__name__}")
        if isinstance(node, ast.Name):
            found.add(f"name:{node.id}")
        elif isinstance(node, ast.Import):
            found.update(f"import:{a.name} as {a.asname}" for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.update(f"from:{base}:{a.name} as {a.asname}" for a in node.names)
        elif isinstance(node, ast.Call):
            found.add(f"call:{ast.unparse(node.func)}")
        elif isinstance(node, ast.Attribute):
            found.add(f"attr:{node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(f"def:{node.name}")
        elif isinstance(node, ast.keyword):
            found.add(f"keyword:{node.arg}")
    return {_NUMBERED.sub("N", item) for item in found}


def package_inventory(files: dict[str, str]) -> set[str]:
    """The inventory of every generated module (the runtime modules are copied
    verbatim, no cell reaches them)."""
    return {
        item
        for name, text in files.items()
        if name.endswith(".py") and name not in SHIPPED
        for item in code_inventory(text)
    }


# -- hostile and broken files -------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(rows: str, *, dimension: str = "", prolog: str = "") -> str:
    """A worksheet part with ROWS (`<row>` elements) as its sheetData."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'{prolog}<worksheet xmlns="{SHEET_NS}">{dim}<sheetData>{rows}</sheetData></worksheet>'
    )


def inline_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(sheet: str | bytes, *, extra: Iterable[tuple[str, bytes]] = ()) -> bytes:
    """A minimal one-sheet workbook, written by hand so that every byte is ours."""
    extra = list(extra)
    types = "".join(
        f'<Override PartName="/{name}" ContentType="{_PART_TYPES[name]}"/>'
        for name, _ in extra
        if name in _PART_TYPES
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", CONTENT_TYPES.replace("</Types>", types + "</Types>")
        )
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


_PART_TYPES = {
    "xl/sharedStrings.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    "xl/styles.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
}


def text_row(row: int, *texts: str) -> str:
    """A `<row>` of inline strings from column A on."""
    cells = "".join(
        inline_cell(f"{chr(ord('A') + i)}{row}", text) for i, text in enumerate(texts)
    )
    return f'<row r="{row}">{cells}</row>'


def table_rows_xml(rules: int) -> str:
    """A valid decision table `big` with RULES rules (FIRST, partial), as rows."""
    rows = [
        text_row(1, "Decision table", "big"),
        text_row(2, "Hit policy", "FIRST"),
        text_row(3, "Complete", "no"),
        text_row(5, "Rule", "n", "out"),
        text_row(6, "Kind", "input", "output"),
        text_row(7, "Type", "integer", "string"),
    ]
    for i in range(rules):
        r = 8 + i
        rows.append(
            f'<row r="{r}">{inline_cell(f"A{r}", f"R{i + 1}")}'
            f'<c r="B{r}"><v>{i}</v></c>{inline_cell(f"C{r}", f"out {i}")}</row>'
        )
    return "".join(rows)


def billion_laughs() -> bytes:
    """Entity expansion: ten levels of ten references, 10^9 copies of `lol`."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    prolog = f"<!DOCTYPE worksheet [{''.join(entities)}]>"
    return xlsx(
        sheet_xml(f'<row r="1">{inline_cell("A1", "&lol9;")}</row>', prolog=prolog)
    )


def external_entity() -> bytes:
    """An external entity that would read a local file into a cell."""
    prolog = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return xlsx(
        sheet_xml(f'<row r="1">{inline_cell("A1", "&xxe;")}</row>', prolog=prolog)
    )


def zip_bomb(megabytes: int = 300) -> bytes:
    """A valid workbook plus a part of zeros that deflates ~1000:1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml(""))
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as handle:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                handle.write(block)
    return buffer.getvalue()


def padded_sheet(megabytes: int) -> bytes:
    """A valid sheet part followed by MEGABYTES of spaces (allowed after the root
    element), which deflate about 1000:1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as handle:
            handle.write(sheet_xml("").encode())
            block = b" " * (1024 * 1024)
            for _ in range(megabytes):
                handle.write(block)
    return buffer.getvalue()


def lying_sizes(data: bytes, part: str, size: int) -> bytes:
    """DATA with the declared uncompressed size of PART set to SIZE in its local header
    and in the central directory, as a bomb would do to slip past a size check."""
    patched = bytearray(data)
    encoded = part.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        offset = archive.getinfo(part).header_offset
    patched[offset + 22 : offset + 26] = size.to_bytes(4, "little")
    central = patched.find(b"PK\x01\x02", 0)
    while central != -1:
        name_length = int.from_bytes(patched[central + 28 : central + 30], "little")
        if bytes(patched[central + 46 : central + 46 + name_length]) == encoded:
            patched[central + 24 : central + 28] = size.to_bytes(4, "little")
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def lying_zip_bomb() -> bytes:
    """300 MiB of sheet part that claims to be 2 KiB."""
    return lying_sizes(padded_sheet(300), "xl/worksheets/sheet1.xml", 2048)


def huge_dimension() -> bytes:
    """A sheet that claims A1:XFD1048576 but stores two cells."""
    rows = f'<row r="1">{inline_cell("A1", "Note")}{inline_cell("B1", "x")}</row>'
    return xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))


def far_cell() -> bytes:
    """One stored cell at the last row and column Excel allows."""
    rows = f'<row r="1048576">{inline_cell("XFD1048576", "far")}</row>'
    return xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))


def many_cells(count: int) -> bytes:
    """COUNT stored numeric cells in one column (for the MAX_CELLS limit)."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, count + 1)
    )
    return xlsx(sheet_xml(rows))


def big_table(rules: int) -> bytes:
    return xlsx(sheet_xml(table_rows_xml(rules)))


def ole_file() -> bytes:
    """The header of an OLE compound file: an old .xls, or an encrypted .xlsx."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"EncryptedPackage" * 8


def valid_workbook() -> bytes:
    """A table `t` that compiles: one rule, and Complete: no."""
    return xlsx(
        sheet_xml(
            f'<row r="1">{inline_cell("A1", "Decision table")}{inline_cell("B1", "t")}</row>'
            f'<row r="2">{inline_cell("A2", "Complete")}{inline_cell("B2", "no")}</row>'
            f'<row r="3">{inline_cell("A3", "Rule")}{inline_cell("B3", "a")}{inline_cell("C3", "b")}</row>'
            f'<row r="4">{inline_cell("A4", "Kind")}{inline_cell("B4", "input")}{inline_cell("C4", "output")}</row>'
            f'<row r="5">{inline_cell("A5", "Type")}{inline_cell("B5", "string")}{inline_cell("C5", "string")}</row>'
            f'<row r="6">{inline_cell("A6", "R1")}{inline_cell("B6", "x")}{inline_cell("C6", "y")}</row>'
        )
    )


def truncated() -> bytes:
    data = valid_workbook()
    return data[: len(data) // 2]


def not_xml_sheet() -> bytes:
    return xlsx(b"\x00\x01 this is not XML <<<")


def missing_sheet_part() -> bytes:
    """A workbook that names a sheet whose part is not in the archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
    return buffer.getvalue()


def deep_nesting(depth: int = 100_000) -> bytes:
    """Elements nested a hundred thousand deep (recursive parsers overflow)."""
    rows = "<x>" * depth + "</x>" * depth
    return xlsx(sheet_xml(rows))


def range_bomb(element: str, ref: str) -> bytes:
    """One merged (`mergeCell`) or hyperlinked (`hyperlink`) range REF: openpyxl
    creates a cell object for each of its cells."""
    wrapper = {"mergeCell": "mergeCells", "hyperlink": "hyperlinks"}[element]
    target = ' location="A1"' if element == "hyperlink" else ""
    extra = f'<{wrapper}><{element} ref="{ref}"{target}/></{wrapper}>'
    body = sheet_xml(text_row(1, "x")).replace("</sheetData>", "</sheetData>" + extra)
    return xlsx(body)


def long_attribute(megabytes: int = 32) -> bytes:
    """One attribute of MEGABYTES: expat re-parses it at every 16 KiB openpyxl feeds."""
    big = "x" * (megabytes << 20)
    return xlsx(sheet_xml(f'<row r="1"><c r="A1" x="{big}"/></row>'))


def namespace_bomb(count: int = 800_000) -> bytes:
    """COUNT namespace declarations on one element."""
    many = " ".join(f'xmlns:n{i}="u"' for i in range(count))
    return xlsx(sheet_xml(f'<row r="1" {many}/>'))


def many_parts(count: int = 20_000) -> bytes:
    return xlsx(sheet_xml(""), extra=[(f"xl/media/{i}.bin", b"") for i in range(count)])


def with_parts(data: bytes, parts: dict[str, str | bytes]) -> bytes:
    """The workbook DATA with PARTS replaced or added."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        kept = {n: archive.read(n) for n in archive.namelist() if n not in parts}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in {**kept, **parts}.items():
            archive.writestr(name, part)
    return buffer.getvalue()


def lfs_pointer() -> bytes:
    """What a Git LFS checkout holds in place of a workbook not fetched."""
    return (
        b"version https://git-lfs.github.com/spec/v1\n"
        b"oid sha256:" + b"0" * 64 + b"\nsize 123456\n"
    )


def case_sheets() -> bytes:
    """Two sheets `Rules` and `RULES`: one name to Excel (openpyxl renames the second
    to RULES1)."""
    second = (
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>'
    )
    sheets = (
        '<sheet name="Rules" sheetId="1" r:id="rId1"/>'
        '<sheet name="RULES" sheetId="2" r:id="rId2"/>'
    )
    data = valid_workbook()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    return with_parts(
        data,
        {
            "xl/workbook.xml": WORKBOOK.replace(
                '<sheet name="Sheet1" sheetId="1" r:id="rId1"/>', sheets
            ),
            "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.replace(
                "</Relationships>", second + "</Relationships>"
            ),
            "xl/worksheets/sheet2.xml": sheet,
        },
    )


def cached_error() -> bytes:
    """The table of `valid_workbook` whose output is a failed VLOOKUP: a formula with
    the cached value #N/A (E122, not the text "#N/A")."""
    with zipfile.ZipFile(io.BytesIO(valid_workbook())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    failed = '<c r="C6" t="e"><f>VLOOKUP(B6,Z1:Z9,2,FALSE)</f><v>#N/A</v></c>'
    return with_parts(
        valid_workbook(),
        {"xl/worksheets/sheet1.xml": sheet.replace(inline_cell("C6", "y"), failed)},
    )


def long_name(length: int = 250) -> bytes:
    """A valid table whose name is too long for a file name (E101)."""
    with zipfile.ZipFile(io.BytesIO(valid_workbook())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    long = inline_cell("B1", "t" * length)
    return with_parts(
        valid_workbook(),
        {"xl/worksheets/sheet1.xml": sheet.replace(inline_cell("B1", "t"), long)},
    )


def with_sheet_xml(data: bytes, edit: Callable[[str], str]) -> bytes:
    """The workbook DATA with its first sheet's XML passed through EDIT."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    changed = edit(sheet)
    assert changed != sheet, "the edit changed nothing"
    return with_parts(data, {"xl/worksheets/sheet1.xml": changed})


def duplicate_cell(second: str = inline_cell("B3", "c")) -> bytes:
    """The table of `valid_workbook` with a second cell B3 (the header row's input
    name) stored after the first: openpyxl keeps the last without a word."""
    return with_sheet_xml(
        valid_workbook(),
        lambda xml: xml.replace(
            inline_cell("B3", "a"), inline_cell("B3", "a") + second
        ),
    )


def boolean_cell(stored: str) -> bytes:
    """A TRUE/FALSE cell (`t="b"`) at B6 holding STORED (`0` and `1` are the only
    values Excel writes)."""
    return with_sheet_xml(
        valid_workbook(),
        lambda xml: xml.replace(
            inline_cell("B6", "x"), f'<c r="B6" t="b"><v>{stored}</v></c>'
        ),
    )


def _streamed(
    sheet: Callable[[BinaryIO], None], strings: Callable[[BinaryIO], None] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        types = CONTENT_TYPES
        if strings:
            name = "xl/sharedStrings.xml"
            types = types.replace(
                "</Types>",
                f'<Override PartName="/{name}" ContentType="{_PART_TYPES[name]}"/></Types>',
            )
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        rels = WORKBOOK_RELS
        if strings:
            rels = rels.replace(
                "</Relationships>",
                '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/sharedStrings" '
                'Target="sharedStrings.xml"/></Relationships>',
            )
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as handle:
            sheet(handle)
        if strings:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as handle:
                strings(handle)
    return buffer.getvalue()


def _in_blocks(handle: BinaryIO, item: bytes, count: int) -> None:
    block = 10_000
    for start in range(0, count, block):
        handle.write(item * min(block, count - start))


def data_validations(count: int = 2_000_000) -> bytes:
    """A one-cell sheet with COUNT data-validation entries (a list of two values on
    A1 each): openpyxl builds an object for each (2,000,000 took `check` 84 s, 3.6 GB)."""
    head, tail = sheet_xml(text_row(1, "x")).split("</sheetData>")

    def sheet(handle: BinaryIO) -> None:
        handle.write(f'{head}</sheetData><dataValidations count="{count}">'.encode())
        _in_blocks(
            handle,
            b'<dataValidation type="list" sqref="A1"><formula1>"a,b"</formula1>'
            b"</dataValidation>",
            count,
        )
        handle.write(f"</dataValidations>{tail}".encode())

    return _streamed(sheet)


def shared_strings(count: int = 10_000_000, declared: str = "") -> bytes:
    """A one-cell sheet whose cell is shared string 0, and COUNT shared strings, the
    rest unused: openpyxl reads them all (10,000,000 took 93 s, 1.6 GB). DECLARED:
    the part's uniqueCount, if not COUNT."""

    def sheet(handle: BinaryIO) -> None:
        handle.write(
            sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>').encode()
        )

    def strings(handle: BinaryIO) -> None:
        handle.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{SHEET_NS}" '
            f'count="1" uniqueCount="{declared or count}">'.encode()
        )
        _in_blocks(handle, b"<si><t>x</t></si>", count)
        handle.write(b"</sst>")

    return _streamed(sheet, strings)


HOSTILE_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    # name -> (builder, what the message says)
    "empty.xlsx": (lambda: b"", "the file is empty"),
    "old.xls.xlsx": (ole_file, "old .xls file"),
    "encrypted.xlsx": (ole_file, "password-protected"),
    "csv.xlsx": (lambda: b"rule,age,band\nR1,<18,child\n", "not a zip archive"),
    "html.xlsx": (
        lambda: b"<html><body><table><tr><td>1</td></tr></table></body></html>",
        "not a zip archive",
    ),
    "text.xlsx": (lambda: b"Decision table\tt\n", "not a zip archive"),
    "truncated.xlsx": (truncated, "damaged or truncated"),
    "not-xml.xlsx": (not_xml_sheet, "is not well-formed XML"),
    "missing-part.xlsx": (missing_sheet_part, "is missing"),
    "billion-laughs.xlsx": (billion_laughs, "declares XML entities (a DTD)"),
    "external-entity.xlsx": (external_entity, "declares XML entities (a DTD)"),
    "zip-bomb.xlsx": (lambda: zip_bomb(300), "unpacks to more than 256 MiB"),
    "padded-sheet.xlsx": (lambda: padded_sheet(300), "unpacks to more than 256 MiB"),
    "lying-sizes.xlsx": (lying_zip_bomb, "Bad CRC-32"),
    "merge-bomb.xlsx": (
        lambda: range_bomb("mergeCell", "A1:XFD1048576"),
        "more than 1,000,000 cells",
    ),
    "hyperlink-bomb.xlsx": (
        lambda: range_bomb("hyperlink", "A:XFD"),
        "more than 1,000,000 cells",
    ),
    "long-attribute.xlsx": (long_attribute, "a tag longer than 64 KiB"),
    "namespace-bomb.xlsx": (namespace_bomb, "a tag longer than 64 KiB"),
    "many-parts.xlsx": (many_parts, "more than 10,000 files"),
    "lfs-pointer.xlsx": (lfs_pointer, "a Git LFS pointer"),
    "case-sheets.xlsx": (case_sheets, "'Rules' and 'RULES'"),
}


def write_file(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path
