"""The documentation site under docs/: it builds strictly, the README's links into it
resolve, and its diagnostic code table lists exactly the codes the compiler emits.

`mkdocs build --strict` fails on a broken link or anchor and on a page left out of the
nav (mkdocs.yml sets every validation to warn); its home page is the README itself
(docs/hooks/readme_home.py), so the README says nothing the site does not.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE = re.compile(r"[EWIA]\d{3}")
SEVERITY = {"E": "error", "W": "warning", "I": "info"}
ROW = re.compile(r"^\| ([EWIA]\d{3}) \| (error|warning|info) \| (.+) \|$")
DOCS_LINK = re.compile(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)")
ANY_LINK = re.compile(r"\]\(([^)\s]+)\)")
CONTRACT = ROOT.parent / "shared" / "workbook-format.md"


def emitted_codes() -> dict[str, list[str]]:
    """Every diagnostic code written as a string literal in compiler/, with where.
    Literals, not mentions: a code left only in a docstring no longer exists."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "compiler").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.fullmatch(node.value):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.value, []).append(where)
    return found


def documented_codes() -> dict[str, tuple[str, str]]:
    """The rows of docs/diagnostics.md: code -> (severity, meaning)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in (DOCS / "diagnostics.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            code, severity, meaning = match.groups()
            assert code not in rows, f"{code} is listed twice in docs/diagnostics.md"
            rows[code] = (severity, meaning.strip())
    return rows


def test_the_diagnostic_table_lists_exactly_the_codes_the_compiler_emits() -> None:
    emitted, documented = emitted_codes(), documented_codes()
    assert len(emitted) > 50, "the scan of compiler/ found almost no codes"
    missing = {code: emitted[code] for code in sorted(emitted.keys() - documented)}
    assert not missing, f"codes emitted but not in docs/diagnostics.md: {missing}"
    gone = sorted(documented.keys() - emitted)
    assert not gone, f"docs/diagnostics.md lists codes compiler/ no longer has: {gone}"
    for code, (severity, meaning) in documented.items():
        if code[0] in SEVERITY:
            assert severity == SEVERITY[code[0]], f"{code} is listed as {severity}"
        assert len(meaning) > 10, f"{code} has no meaning in docs/diagnostics.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with `mkdocs build --strict`, outside the repository."""
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: python -m pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        # the command reference imports compiler.cli from this checkout
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "NO_MKDOCS_2_WARNING": "1",  # the theme's banner, not a warning of the build
    }
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def anchors(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def built_page(site: Path, source: str) -> Path:
    """Where mkdocs writes docs/SOURCE (directory URLs: page.md -> page/index.html)."""
    name = source.removesuffix(".md")
    return site / ("index.html" if name == "index" else f"{name}/index.html")


def test_the_site_builds_strictly_with_every_page_and_the_command_reference(
    site: Path,
) -> None:
    for source in sorted(DOCS.glob("*.md")):
        assert built_page(site, source.name).is_file(), source.name
    reference = anchors(built_page(site, "reference.md"))
    from compiler.cli import main

    for name in main.commands:
        assert f"compile-rules-{name}" in reference, f"{name} is not in the reference"


def test_the_readme_is_the_home_page_and_its_links_into_the_docs_resolve(
    site: Path,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    home = anchors(site / "index.html")
    for heading in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE):
        assert re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-") in home, heading
    assert not (DOCS / "index.md").exists(), "the home page is README.md, not a copy"

    links = DOCS_LINK.findall(readme)
    assert len(links) >= 10, "the README should link to the site's pages"
    for target, anchor in links:
        page = built_page(site, target.removeprefix("docs/"))
        assert (ROOT / target).is_file() and page.is_file(), target
        assert not anchor or anchor in anchors(page), f"{target}#{anchor}"
    for target in ANY_LINK.findall(readme):
        assert target.startswith(("docs/", "https://", "http://")), target


def test_the_workbook_format_page_covers_every_part_of_the_contract() -> None:
    if not CONTRACT.is_file():
        pytest.skip(f"the format contract is not beside the repository ({CONTRACT})")
    ours = (DOCS / "workbook-format.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (.+)$", ours, flags=re.MULTILINE))
    contract = CONTRACT.read_text(encoding="utf-8")
    for heading in re.findall(r"^## (.+)$", contract, flags=re.MULTILINE):
        assert heading in headings, f"docs/workbook-format.md has no {heading!r}"
