"""FEEL-CR, the expression language of workbook format version 2 (a named subset of
FEEL; docs/expressions.md): `syntax` parses cell text into positioned nodes, `typed`
checks them against the inputs' types and emits Python or evaluates them."""
