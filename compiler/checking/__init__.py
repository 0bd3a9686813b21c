"""Stage 2, checking: cross checks (`validate`) and static analysis (`analyse`) of the
model, with the reference interpreter (`interpret`) that states the semantics."""
