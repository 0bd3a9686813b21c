"""The `compile-rules` command: a thin Click layer over the library functions.

One module per group of commands: `build` (compile, check), `decide` (eval,
explain, run), `serve`, `analysis` (analyse, lint), `authoring` (show, diff, new,
watch, report) and `dmn` (import-dmn, export-dmn); `options` holds what they share. A
command imports the heavy modules it needs inside its function, so that `--help`
starts fast.

Exit codes (docs/commands.md): 0 ok, 1 generated files out of date, 2 usage, 3 invalid
tables or unreadable workbook (or `run` input), 4 `run` rejected rows, 123 internal
error. User errors never show a traceback.
"""

from __future__ import annotations

import click

from compiler.cli import analysis, authoring, build, decide, dmn, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compile-rules")
def main() -> None:
    """Compile Excel decision tables into Python evaluators and their tests."""


for _command in (
    build.compile_command,
    build.check_command,
    decide.eval_command,
    decide.explain_command,
    decide.run_command,
    decide.impact_command,
    serve.serve_command,
    analysis.analyse_command,
    dmn.import_dmn_command,
    dmn.export_dmn_command,
    analysis.lint_command,
    authoring.show_command,
    authoring.diff_command,
    authoring.new_command,
    authoring.watch_command,
    authoring.report_command,
):
    main.add_command(_command)

__all__ = ["main"]
