"""`compile-rules report DIR`: a static site with an index and a page per table; every
cell escaped; opened in headless Chromium when it is installed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.html_report import write_report

from .helpers import write_tables
from .workbooks import decision_table, tests_sheet

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def books() -> dict[str, dict[str, list[list[object]]]]:
    table = decision_table(
        "age_band",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("band", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        rules=[
            ("R1", "< 18", "child", XSS),
            ("R2", "[18..64]", "adult", "covered"),
            ("R3", "[18..64]", "adult", "a copy of R2: never decides"),
            ("R4", "-", "senior", "no test"),
        ],
        title="Age bands & <friends>",
        metadata={"Source": "Policy 7 <section 2>"},
    )
    tests = tests_sheet(
        "age_band",
        [("age", "input"), ("band", "expected"), ("expected rule", "expected rule")],
        [
            ("T1", 5, "child", "R1"),
            ("T2", 30, "adult", "R2"),
            ("T3", 40, "senior", None),  # wrong on purpose: the report says it fails
        ],
    )
    return {"a.xlsx": {"Bands": table, "Band tests": tests}}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    tables = write_tables(tmp_path, books())
    dest = tmp_path / "site"
    written, diagnostics = write_report(tables, dest)
    assert {p.name for p in written} == {"index.html", "age_band.html"}
    assert any(d.code == "W406" for d in diagnostics)
    return dest


def test_index_lists_tables_with_coverage(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert '<a href="age_band.html">age_band</a>' in index
    assert "Age bands &amp; &lt;friends&gt;" in index
    assert "tables/a.xlsx: Bands" in index
    assert ">50%<" in index  # R1 and R2 decide a case; R3 and R4 do not
    assert '<svg id="coverage-chart"' in index
    assert "2 of 4 rules covered (50%)" in index


def test_table_page(site: Path) -> None:
    page = (site / "age_band.html").read_text()
    assert '<dd id="hit-policy">FIRST</dd>' in page
    assert '<dd id="source">Policy 7 &lt;section 2&gt;</dd>' in page
    rows = dict(re.findall(r'<tr id="rule-(R\d)" class="([^"]*)"', page))
    assert rows["R1"] == "" and rows["R2"] == ""
    assert "uncovered" in rows["R3"] and "problem" in rows["R3"]  # W406 on R3
    assert "uncovered" in rows["R4"]
    assert "W406" in page and "repeats the rule" in page
    assert '<span class="fail">fails</span>' in page  # T3
    assert page.count('<span class="pass">passes</span>') == 2
    assert "2 of 4 rules covered (50%)" in page
    assert '<td class="entry">&lt; 18</td>' in page


def test_cell_text_is_escaped(site: Path) -> None:
    for page in site.glob("*.html"):
        html = page.read_text()
        assert "<script" not in html and "<img" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
        in (site / "age_band.html").read_text()
    )


def test_analysis_findings_and_uncovered_rules(site: Path) -> None:
    page = (site / "age_band.html").read_text()
    assert "Analysis findings" in page
    uncovered = re.search(r'<p id="uncovered">(.*?)</p>', page, re.S)
    if uncovered is not None:  # when analyse.uncovered_rules exists
        assert "R4" in uncovered.group(1)


def test_cli_report_on_shipped_tables(tmp_path: Path) -> None:
    dest = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["report", "-q", "--tables", str(ROOT / "tables"), str(dest)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 16 page(s)" in result.stderr
    index = (dest / "index.html").read_text()
    assert index.count('<a href="') == 15
    for name in ("imaging_guideline_document", "lab_policy_for_test"):
        assert (dest / f"{name}.html").is_file()
    chained = (dest / "imaging_guideline_document.html").read_text()
    assert '<a href="imaging_guideline_set.html">imaging_guideline_set</a>' in chained
    versioned = (dest / "lab_policy_for_test.html").read_text()
    assert "in force … to 2025-12-31" in versioned


def test_cli_report_with_errors_still_writes_and_exits_3(tmp_path: Path) -> None:
    broken = books()
    broken["a.xlsx"]["Bands"][7][1] = "<< 3"
    tables = write_tables(tmp_path, broken)
    result = CliRunner().invoke(
        main, ["report", "--tables", str(tables), str(tmp_path / "site")]
    )
    assert result.exit_code == 3
    index = (tmp_path / "site" / "index.html").read_text()
    assert "static analysis did not run" in index


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_pages_render_in_chromium(site: Path, tmp_path: Path) -> None:
    dom = _chromium("--dump-dom", (site / "age_band.html").as_uri())
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    assert "<h1>age_band</h1>" in html
    assert 'id="rule-R4"' in html and "<svg" in html
    assert "<script" not in html  # the note stayed text in the rendered DOM
    shot = tmp_path / "page.png"
    done = _chromium(
        f"--screenshot={shot}", "--window-size=1280,900", (site / "index.html").as_uri()
    )
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a page, not a blank image


def test_report_needs_no_network_or_scripts(site: Path) -> None:
    for page in site.glob("*.html"):
        html = page.read_text()
        assert "http://" not in html and "https://" not in html
        assert "<link" not in html


def test_pages_of_removed_tables_are_removed(site: Path, tmp_path: Path) -> None:
    (site / "notes.html").write_text("<p>mine</p>")
    other = decision_table(
        "flag",
        columns=[("a", "input", "boolean", None), ("b", "output", "boolean", None)],
        rules=[("R1", "-", True)],
    )
    tables = write_tables(tmp_path / "later", {"f.xlsx": [other]})
    write_report(tables, site)
    assert sorted(p.name for p in site.glob("*.html")) == [
        "flag.html",
        "index.html",
        "notes.html",
    ]
