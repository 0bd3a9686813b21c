"""The `compile-rules` command: a thin Click layer over the library functions.

One module per group of commands: `build` (compile, check), `decide` (eval,
explain), `batch` (run, impact), `serve`, `analysis` (analyse, lint), `authoring`
(show, diff, new, watch, report) and `dmn` (import-dmn, export-dmn); `options` holds
what they share. A
command's module is imported only when that command is looked up (`_Commands`), and
a command imports the heavy modules it needs inside its function, so that `check`
on a warm cache and `--help` start fast (tests/test_cache.py keeps the other
commands' modules off the `check` path).

Exit codes (docs/commands.md): 0 ok, 1 generated files out of date, 2 usage, 3 invalid
tables or unreadable workbook (or `run` input), 4 `run` rejected rows, 123 internal
error. User errors never show a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

import click

# Command name -> (module of compiler.cli, attribute), in the order `--help` had.
_WHERE = {
    "compile": ("build", "compile_command"),
    "check": ("build", "check_command"),
    "eval": ("decide", "eval_command"),
    "explain": ("decide", "explain_command"),
    "run": ("batch", "run_command"),
    "impact": ("batch", "impact_command"),
    "serve": ("serve", "serve_command"),
    "analyse": ("analysis", "analyse_command"),
    "import-dmn": ("dmn", "import_dmn_command"),
    "export-dmn": ("dmn", "export_dmn_command"),
    "lint": ("analysis", "lint_command"),
    "show": ("authoring", "show_command"),
    "diff": ("authoring", "diff_command"),
    "new": ("authoring", "new_command"),
    "watch": ("authoring", "watch_command"),
    "report": ("authoring", "report_command"),
}


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands by name, each imported from its module on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = _WHERE[name]  # KeyError: no such command
            found = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            assert isinstance(found, click.Command) and found.name == name
            self._loaded[name] = found
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the commands of compile-rules are fixed")

    def __iter__(self) -> Iterator[str]:
        yield from _WHERE
        yield from (name for name in self._loaded if name not in _WHERE)

    def __len__(self) -> int:
        return len(_WHERE.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in _WHERE or name in self._loaded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compile-rules")
def main() -> None:
    """Compile Excel decision tables into Python evaluators and their tests."""


main.commands = _Commands()

__all__ = ["main"]
