"""`python -m compiler.tck [TCK_DIR]`: the DMN TCK runner under the short name the
issue tracker and the docs use; the runner itself is `compiler.interop.tck`."""

from __future__ import annotations

import sys

from compiler.interop.tck import main

if __name__ == "__main__":
    sys.exit(main())
