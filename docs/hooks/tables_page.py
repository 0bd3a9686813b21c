"""MkDocs hook: the tables page lists every table as the workbooks under tables/ define
it, read when the site is built, so the page cannot drift from them.

docs/tables.md holds the prose and the line MARKER; the hook puts the interface of
every table (`compiler.emitting.markdown.render_interfaces`) in its place. A tables
folder with errors, or a page without the marker, fails the build.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

PAGE = "tables.md"
MARKER = "<!-- every table: generated from tables/ when the site is built -->"


def interfaces(tables: Path) -> str:
    """The generated part of the page: every table of TABLES."""
    from compiler.diagnostics import Severity, has_errors
    from compiler.emitting.markdown import render_interfaces
    from compiler.pipeline import load_tables

    project, diagnostics = load_tables(tables)
    if project is None or has_errors(diagnostics):
        errors = [d.format() for d in diagnostics if d.severity is Severity.ERROR]
        problems = "; ".join(errors)
        raise PluginError(f"{PAGE}: the tables under {tables} have errors: {problems}")
    return render_interfaces(project)


def insert(markdown: str, tables: Path) -> str:
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} has lost the line {MARKER!r}")
    return markdown.replace(MARKER, interfaces(tables), 1)


def on_page_markdown(
    markdown: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    return insert(markdown, Path(config.config_file_path).parent / "tables")
