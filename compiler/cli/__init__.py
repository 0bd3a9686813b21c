"""The `compile-rules` command: a thin Click layer over the library functions."""

from compiler.cli.commands import main

__all__ = ["main"]
