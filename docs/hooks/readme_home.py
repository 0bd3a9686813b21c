"""MkDocs hook: the site's home page is the README itself, so the two cannot drift.

The README links into the site as `docs/page.md` (which works on a repository host);
on the site those pages sit beside the home page, so the prefix is dropped.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files


def on_files(files: Files, config: MkDocsConfig) -> Files:
    readme = Path(config.config_file_path).parent / "README.md"
    home = readme.read_text(encoding="utf-8").replace("](docs/", "](")
    files.append(File.generated(config, "index.md", content=home))
    return files
