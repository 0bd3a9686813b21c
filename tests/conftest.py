"""Shared pytest settings of the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# tests/golden holds generated modules to compare against, including generated test
# modules: they are data here, not tests to collect.
collect_ignore = ["golden"]


@pytest.fixture(autouse=True)
def _compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test has a compile cache of its own (compiler/cache.py), so that none
    writes to the user's cache folder nor sees another test's compilation (commands
    run in subprocesses inherit it through the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPILE_RULES_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield
