"""Hostile and broken workbooks: each is refused with exit code 3 and a message that
names the file, never a traceback, and reading stays proportional to the stored
content (entity expansion, zip bombs, lying archive sizes, huge dimensions and ranges,
tags long enough to make XML parsing quadratic, too many cells or parts).

The files are built in code (tests/hostile.py); bench/hostile.py measures their time
and memory. Limits are monkeypatched smaller where the real one would need a large
file; no assertion here depends on time.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import openpyxl.xml.functions
import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.diagnostics import Diagnostic
from compiler.pipeline import compile_tables
from compiler.reading import workbook
from compiler.reading.sheets import table as sheets  # the module MAX_RULES is read in
from compiler.reading.workbook import RawWorkbook, read_workbook

from . import hostile
from .hostile import (
    HOSTILE_FILES,
    inline_cell,
    sheet_xml,
    text_row,
    write_file,
    xlsx,
)


def refused(path: Path) -> Diagnostic:
    result = read_workbook(path, f"tables/{path.name}")
    assert isinstance(result, Diagnostic), f"{path.name} was read: {result}"
    assert result.code == "E001"
    return result


def compile_cli(tables: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["compile", "--tables", str(tables), "--out", str(out)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_file_is_refused_by_name(tmp_path: Path, name: str) -> None:
    builder, says = HOSTILE_FILES[name]
    tables = tmp_path / "tables"
    write_file(tables, name, builder())
    write_file(tables, "good.xlsx", hostile.valid_workbook())
    code, text = compile_cli(tables, tmp_path / "generated")
    assert code == 3, text
    assert f"tables/{name}: error E001" in text
    assert says in text, text
    assert "Traceback" not in text
    assert "tables/good.xlsx:Sheet1: error" not in text  # the other workbook is fine
    assert not (tmp_path / "generated").exists()


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    """One run as a user sees it: a separate process, stderr as printed."""
    tables = tmp_path / "tables"
    for name in ("billion-laughs.xlsx", "truncated.xlsx", "old.xls.xlsx"):
        write_file(tables, name, HOSTILE_FILES[name][0]())
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "--tables", str(tables)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 3
    for name in ("billion-laughs.xlsx", "truncated.xlsx", "old.xls.xlsx"):
        assert f"tables/{name}: error E001" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# -- XML ---------------------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml() -> None:
    """The scan refuses any DTD itself; openpyxl is a second line: it must really be
    using defusedxml (it does when installed, unless OPENPYXL_DEFUSEDXML=False)."""
    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")


def test_openpyxl_alone_refuses_entity_expansion(tmp_path: Path) -> None:
    path = write_file(tmp_path, "laughs.xlsx", hostile.billion_laughs())
    with pytest.raises(Exception) as caught:
        openpyxl.load_workbook(path)
    cause = caught.value.__cause__ or caught.value.__context__
    assert type(cause).__name__ == "EntitiesForbidden"


DTD = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'


@pytest.mark.parametrize(
    "part",
    [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
    ],
)
def test_a_dtd_in_any_part_is_refused(tmp_path: Path, part: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(hostile.valid_workbook())) as source:
        with zipfile.ZipFile(buffer, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == part:
                    data = data.replace(b"?>", b"?>" + DTD.encode(), 1)
                target.writestr(info, data)
            if part not in source.namelist():
                target.writestr(part, f"<?xml version='1.0'?>{DTD}<sst/>")
    diagnostic = refused(write_file(tmp_path, "dtd.xlsx", buffer.getvalue()))
    assert f"the part {part} declares XML entities (a DTD)" in diagnostic.message


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("attribute", '<row r="1"><c r="A1" x="{big}"/></row>'),
        ("comment", '<row r="1"><!--{big}--></row>'),
        ("instruction", '<row r="1"><?pi {big}?></row>'),
        ("element name", '<row r="1"><{big}/></row>'),
        ("namespaces", '<row r="1" {many}/>'),
    ],
)
def test_a_tag_long_enough_to_be_quadratic_is_refused(
    tmp_path: Path, kind: str, body: str
) -> None:
    """expat re-parses an unfinished token at every 16 KiB feed: a 32 MiB attribute
    took openpyxl 19 s, 8 MiB of namespace declarations 8 s (see bench/hostile.py)."""
    big = "x" * (workbook.MAX_TAG_BYTES + 1)
    many = " ".join(f'xmlns:n{i}="u"' for i in range(workbook.MAX_TAG_BYTES // 10))
    path = write_file(
        tmp_path, "tag.xlsx", xlsx(sheet_xml(body.format(big=big, many=many)))
    )
    assert "holds a tag longer than 64 KiB" in refused(path).message


def test_long_text_is_fine(tmp_path: Path) -> None:
    """Text is parsed in pieces: a long cell value is not a long tag."""
    text = "y" * (workbook.MAX_TAG_BYTES * 4)
    rows = f'<row r="1">{inline_cell("A1", "Note")}{inline_cell("B1", text)}</row>'
    result = read_workbook(write_file(tmp_path, "t.xlsx", xlsx(sheet_xml(rows))), "t")
    assert isinstance(result, RawWorkbook)
    assert result.sheets[0].value(1, 2) == text


def test_deep_nesting_is_read_without_recursion(tmp_path: Path) -> None:
    result = read_workbook(write_file(tmp_path, "d.xlsx", hostile.deep_nesting()), "d")
    assert isinstance(result, RawWorkbook)


# -- sizes and counts ------------------------------------------------------------------


def _traced_peak(path: Path) -> tuple[RawWorkbook | Diagnostic, int]:
    tracemalloc.start()
    try:
        result = read_workbook(path, f"tables/{path.name}")
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("builder", [hostile.huge_dimension, hostile.far_cell])
def test_a_huge_dimension_allocates_nothing(tmp_path: Path, builder: object) -> None:
    """`<dimension ref="A1:XFD1048576">` and a cell at XFD1048576: openpyxl keeps only
    the stored cells (17 billion would not fit in any memory)."""
    assert callable(builder)
    result, peak = _traced_peak(write_file(tmp_path, "dim.xlsx", builder()))
    assert isinstance(result, RawWorkbook)
    assert len(result.sheets[0].cells) <= 2
    assert peak < 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("element", "ref"),
    [
        ("mergeCell", "A1:XFD1048576"),
        ("mergeCell", "A1:Z100000"),
        ("hyperlink", "A:A"),
        ("hyperlink", "1:1048576"),
    ],
)
def test_ranges_openpyxl_expands_count_as_cells(
    tmp_path: Path, element: str, ref: str
) -> None:
    """openpyxl creates a cell object for every cell of a merged or hyperlinked range
    (A1:Z100000 took 22 s and 800 MB); the scan counts them by area first."""
    wrapper = {"mergeCell": "mergeCells", "hyperlink": "hyperlinks"}[element]
    extra = f'<{wrapper}><{element} ref="{ref}" location="A1"/></{wrapper}>'
    body = sheet_xml(text_row(1, "x")).replace("</sheetData>", "</sheetData>" + extra)
    path = write_file(tmp_path, "range.xlsx", xlsx(body))
    result, peak = _traced_peak(path)
    assert (
        isinstance(result, Diagnostic) and "more than 1,000,000 cells" in result.message
    )
    assert peak < 32 * 1024 * 1024


def test_small_merged_ranges_are_read(tmp_path: Path) -> None:
    extra = '<mergeCells><mergeCell ref="A1:B2"/></mergeCells>'
    body = sheet_xml(text_row(1, "x")).replace("</sheetData>", "</sheetData>" + extra)
    result = read_workbook(write_file(tmp_path, "m.xlsx", xlsx(body)), "m")
    assert isinstance(result, RawWorkbook) and result.sheets[0].merged == ("A1:B2",)


def test_max_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_CELLS", 100)
    ok = write_file(tmp_path, "ok.xlsx", hostile.many_cells(100))
    assert isinstance(read_workbook(ok, "ok"), RawWorkbook)
    too_many = write_file(tmp_path, "big.xlsx", hostile.many_cells(101))
    assert "more than 100 cells" in refused(too_many).message


def test_max_cells_counts_every_sheet_of_a_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sheets of 60 cells: within a per-sheet limit of 100, not a per-workbook one;
    and one sheet part listed twice counts twice, as openpyxl reads it twice."""
    monkeypatch.setattr(workbook, "MAX_CELLS", 100)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(1, 61))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx(sheet_xml(rows)))) as source:
        with zipfile.ZipFile(buffer, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "xl/workbook.xml":
                    data = data.replace(
                        b"</sheets>",
                        b'<sheet name="Again" sheetId="2" r:id="rId1"/></sheets>',
                    )
                target.writestr(info, data)
    assert (
        "more than 100 cells"
        in refused(write_file(tmp_path, "twice.xlsx", buffer.getvalue())).message
    )


def test_max_uncompressed_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    path = write_file(tmp_path, "padded.xlsx", hostile.padded_sheet(2))
    assert "unpacks to more than 1 MiB" in refused(path).message


def test_lying_sizes_are_caught_by_zipfile(tmp_path: Path) -> None:
    """A part that claims 2 KiB but inflates to 300 MiB: zipfile stops at the claimed
    size and reports a bad CRC, so the claimed sizes are a sound bound."""
    path = write_file(tmp_path, "lying.xlsx", hostile.lying_zip_bomb())
    result, peak = _traced_peak(path)
    assert isinstance(result, Diagnostic) and "Bad CRC-32" in result.message
    assert peak < 64 * 1024 * 1024


def test_max_file_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_FILE_BYTES", 1000)
    path = write_file(tmp_path, "big.xlsx", hostile.big_table(100))
    assert "larger than 1,000 bytes" in refused(path).message


def test_max_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_PARTS", 10)
    extra = [(f"xl/media/x{i}.bin", b"") for i in range(10)]
    path = write_file(tmp_path, "parts.xlsx", xlsx(sheet_xml(""), extra=extra))
    assert "more than 10 files" in refused(path).message


def test_a_part_twice_in_the_archive(tmp_path: Path) -> None:
    extra = [("xl/worksheets/sheet1.xml", sheet_xml("").encode())]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = xlsx(sheet_xml(""), extra=extra)
    assert (
        "two files share a name"
        in refused(write_file(tmp_path, "d.xlsx", data)).message
    )


def test_a_file_named_only_xlsx_is_read(tmp_path: Path) -> None:
    """openpyxl refuses paths whose suffix it does not know (`.xlsx` has none): the
    reader hands it the open file instead."""
    result = read_workbook(write_file(tmp_path, ".xlsx", hostile.valid_workbook()), "x")
    assert isinstance(result, RawWorkbook)


def test_a_damaged_deflate_stream(tmp_path: Path) -> None:
    data = bytearray(hostile.valid_workbook())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 40] = bytes(range(40))
    diagnostic = refused(write_file(tmp_path, "bad.xlsx", bytes(data)))
    assert "damaged" in diagnostic.message or "not well-formed" in diagnostic.message


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """Invalid UTF-8 bytes in a file name reach messages and generated files as
    escapes (a bug: the Markdown page could not be written)."""
    tables = tmp_path / "tables"
    write_file(tables, os.fsdecode(b"caf\xe9.xlsx"), hostile.big_table(3))
    compilation = compile_tables(tables)
    assert compilation.files is not None
    assert all("\udce9" not in text for text in compilation.files.values())
    assert any("caf\\xe9.xlsx" in text for text in compilation.files.values())
    code, text = compile_cli(tables, tmp_path / "generated")
    assert code == 0, text


# -- many rules --------------------------------------------------------------------------


def test_a_large_table_compiles(tmp_path: Path) -> None:
    """2,000 rules here; bench/hostile.py measures 32,768 and 100,000. Masks of large
    tables are written as the positions they set, so the module grows with the rules,
    not with their square."""
    tables = tmp_path / "tables"
    write_file(tables, "big.xlsx", hostile.big_table(2_000))
    compilation = compile_tables(tables)
    assert compilation.files is not None
    source = compilation.files["big.py"]
    assert "bits(2000, 1999)," in source  # the slot of n = 1999: the last rule
    assert len(source) < 600_000


def test_a_table_over_the_rule_limit_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "MAX_RULES", 50)
    tables = tmp_path / "tables"
    write_file(tables, "big.xlsx", hostile.big_table(51))
    code, text = compile_cli(tables, tmp_path / "generated")
    assert code == 3 and "Traceback" not in text
    assert "tables/big.xlsx:Sheet1!A58: error E160: the table has 51 rules" in text
    assert "split it into several tables" in text


def test_a_table_over_the_cell_limit_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_CELLS", 1_000)
    tables = tmp_path / "tables"
    write_file(tables, "big.xlsx", hostile.big_table(1_000))
    code, text = compile_cli(tables, tmp_path / "generated")
    assert code == 3
    assert "tables/big.xlsx: error E001: the workbook has more than 1,000 cells" in text


# -- what openpyxl builds beyond cells ----------------------------------------------------


@pytest.mark.parametrize("declared", ["1", "11"], ids=["count-lies", "count-says"])
def test_max_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str
) -> None:
    """10,000,000 unused shared strings took `check` 93 s and 1.6 GB: more strings
    than MAX_STRINGS are refused, by the count the part declares before any is read,
    and by the strings themselves when the count lies."""
    monkeypatch.setattr(workbook, "MAX_STRINGS", 10)
    ok = write_file(tmp_path, "ok.xlsx", hostile.shared_strings(10))
    book = read_workbook(ok, "tables/ok.xlsx")
    assert isinstance(book, RawWorkbook) and book.sheets[0].value(1, 1) == "x"
    path = write_file(tmp_path, "strings.xlsx", hostile.shared_strings(11, declared))
    message = refused(path).message
    verb = "declares" if declared == "11" else "has"
    assert (
        f"the workbook {verb} 11 shared strings, more than the limit of 10" in message
    )


def test_a_declared_count_beyond_any_number_is_refused(tmp_path: Path) -> None:
    data = hostile.shared_strings(1, "9" * 5000)
    assert (
        "declares ~1e15+ shared strings"
        in refused(write_file(tmp_path, "s.xlsx", data)).message
    )


def test_max_other_elements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000,000 data-validation entries (5.5 MiB) took `check` 84 s and 3.6 GB:
    elements besides cells and strings (styles, validations, conditional formats,
    names, ...) over all parts are limited, and the message names the sheet."""
    found = read_workbook(
        write_file(tmp_path, "v.xlsx", hostile.data_validations(10)), "v"
    )
    assert isinstance(found, RawWorkbook)
    monkeypatch.setattr(workbook, "MAX_OTHER_ELEMENTS", 5_000)
    ok = write_file(tmp_path, "ok.xlsx", hostile.data_validations(2_000))
    assert isinstance(read_workbook(ok, "ok"), RawWorkbook)  # ~4,000 elements
    path = write_file(tmp_path, "dv.xlsx", hostile.data_validations(2_500))
    message = refused(path).message
    assert "more than 5,000 XML elements besides cells and strings" in message
    assert "the sheet 'Sheet1' (xl/worksheets/sheet1.xml) goes over it" in message


def test_max_elements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Elements of cells (rows, values, rich-text runs) count too, in every part."""
    monkeypatch.setattr(workbook, "MAX_ELEMENTS", 1_000)
    ok = write_file(tmp_path, "ok.xlsx", hostile.many_cells(300))  # ~900 elements
    assert isinstance(read_workbook(ok, "ok"), RawWorkbook)
    path = write_file(tmp_path, "many.xlsx", hostile.many_cells(400))
    assert "more than 1,000 XML elements (the limit;" in refused(path).message


def test_the_shipped_tables_are_far_within_the_element_limits() -> None:
    """A tenth of each limit at most, so that a real workbook never meets them."""
    root = Path(__file__).resolve().parents[1] / "tables"
    for path in sorted(root.rglob("*.xlsx")):
        with zipfile.ZipFile(path) as archive:
            scan = workbook._Scan(archive)
            scan.check()
        assert scan.other * 10 < workbook.MAX_OTHER_ELEMENTS, path
        assert scan.elements * 10 < workbook.MAX_ELEMENTS, path
