"""`python -m compiler` runs the `compile-rules` command."""

from compiler.cli import main

main(prog_name="compile-rules")
