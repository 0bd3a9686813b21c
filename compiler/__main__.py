"""`python -m compiler` runs the `compile-rules` command."""

from .cli import main

main(prog_name="compile-rules")
