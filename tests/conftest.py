"""Shared pytest settings of the test suite."""

# tests/golden holds generated modules to compare against, including generated test
# modules: they are data here, not tests to collect.
collect_ignore = ["golden"]
