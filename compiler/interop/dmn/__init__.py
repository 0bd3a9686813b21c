"""DMN decision tables in and out: `compile-rules import-dmn` and `export-dmn`.

Teams arrive with tables drawn in Camunda Modeler, Drools or Trisotech. Import turns
the decision tables of a DMN 1.1 to 1.5 model into model `Table`s and writes them as a
workbook in our format; export writes tables of the project as DMN 1.5. What maps to
what:

    DMN (import reads 1.1-1.5, export writes 1.5)     workbook
    ---------------------------------------------     ------------------------------------
    decision with a decisionTable                     a `Decision table` sheet; name: the
                                                      decision name in snake_case; Title:
                                                      its label, else its name when that
                                                      is not already the identifier;
                                                      Source: its description
    decisionTable@hitPolicy, @aggregation             Hit policy (`COLLECT SUM`, ...)
    input whose inputExpression names an inputData    `input` column named after it
      (or is a plain name, Camunda style)
    input naming a decision converted to a table      `from <table>` column named after
      (`Decision`, or `Decision.output`)              that table's output
    input naming a path into a structured inputData   (version 2) a path input column,
      (`structA.price`: item components)              headed `struct_a.price`
    inputExpression@typeRef, else the inputData's     Type: string, number, boolean, date
      (itemDefinitions with a base type resolve)      (Camunda 7: integer, long -> integer,
                                                      double -> number)
    inputValues, else the type's allowedValues        Values of an input
    output (@name; a single output: the decision)     `output` column
    outputValues / defaultOutputEntry                 Values (the priority order) / Default
    annotation + annotationEntry (1.2+)               `annotation` columns, names kept
    rule/description (1.1)                            an annotation column `Description`
    rule@label, else rule/description when it is an   the rule id
      id (R9, not a sentence), else R1, R2, ...
      (never rule@id: modelers fill it with UUIDs)
    inputEntry: S-FEEL unary tests (`-`, literals,    cells in the format's grammar
      lists, not(...), < <= > >= = !=, ranges)
    inputEntry naming inputData (`> dateE`,          (version 2) entries that name other
      `[numB..numC]`) in a number, date or time       inputs, over identifiers (`> date_e`);
      column                                          an input only entries name gets a
                                                      column of its own (`named.py`)
    inputEntry naming a list inputData in a column    (version 2) the value is in that list;
      of its element type (`Flu Symtoms`)             the list gets a `list of` column
    outputEntry: a literal; empty means null          output cells
    outputEntry that computes, in a single-hit        (version 2) a `computed output`
      table, COLLECT without aggregation or           column, its cells FEEL-CR
      RULE ORDER
    decision with a literalExpression                 (version 2) a FIRST table of one
                                                      all-`-` rule `R1` with an input per
                                                      name read and a computed output
    decision with a context (`contexts`)              a table per named entry (`Boxed
                                                      Context Rate`), later entries and
                                                      the result reading them as `from`
                                                      columns; the result entry is the
                                                      decision's table (the last entry's,
                                                      when it only names it); nested
                                                      contexts alike; no result entry:
                                                      a one-rule table, an output per
                                                      entry
    import of a model beside it (`imports`)           its item definitions as
                                                      `prefix.name`
    decisionService with one output decision          (version 2) a table named after
                                                      the service: the output decision's
                                                      logic, its input decisions plain
                                                      inputs
    decision with an invocation of a BKM              (version 2) the BKM's body inlined,
                                                      its parameters replaced by their
                                                      bindings (`invocations`)

Names with spaces or punctuation become snake_case identifiers (`Approval Status` ->
`approval_status`, `isAffordable` -> `is_affordable`); collisions get `_2`, `_3` in
document order, and Python keywords or names the generated code reserves get a `_`.
The original names stay visible: the Title row, a comment on every header cell, and a
`DMN import` note sheet listing each column's DMN name and id.

Not converted, and reported with the element's id and name, never guessed: decisions
whose logic is neither a decision table, a context nor a literal expression
(invocations that cannot be inlined, ...), contexts with an entry that has no
counterpart (`contexts`), decision services of several output
decisions, FEEL beyond unary tests, literals and the entries above in input entries
(names of variables, arithmetic, function calls), expressions FEEL-CR does not type
(`expressions`), whole structured inputs and list inputs read by an input clause
(collection types), and types other than the four above (time,
date and time, durations). A table with such a part is left out whole; a table that
reads a decision that was left out is left out too (an error names that decision):
a required decision never becomes a plain input.

Export is the inverse for the format's tables: inputData per plain input, a decision
with informationRequirement per table, inputs with inputExpression, typeRef and
inputValues, outputs with outputValues and defaultOutputEntry, rules in FEEL (strings
quoted, dates as `date("...")`), annotation columns as annotations, the rule id as
the rule's label (and id, when it is a unique XML id), Title as the decision's label
and Source as its description. DMN has no versions, code columns nor integers: each
version of an effective-dated table is a decision of its own (`rate from 2026-01-01`)
with its table and dates in an extension element that import reads back (tables that
require such a table are not exported), codes become strings (prefixes and code
ranges as `?` tests) and integers numbers. Version 2 tables (computed inputs and
outputs, entries naming other inputs, list inputs, path inputs: an inputData of a
structured item definition per structured input) are written in standard FEEL, with
the workbook's cells in extension attributes (`version2`) that import reads back, so
that a table round-trips unchanged.
"""

from compiler.interop.dmn.export import Export, export_dmn
from compiler.interop.dmn.feel import parse_literal, parse_unary_tests, typed_tests
from compiler.interop.dmn.importer import read_dmn
from compiler.interop.dmn.messages import Message, Unsupported
from compiler.interop.dmn.names import snake_case
from compiler.interop.dmn.tables import Conversion, Origin
from compiler.interop.dmn.workbook import (
    check_workbook,
    names_in_use,
    save_workbook,
    write_workbook,
)

# The modules, in the order data flows: importer (read_dmn) parses a model into a
# document, imports reads the models it imports, contexts expands its boxed contexts
# into decisions of their entries, drafts reads its decisions, tables builds them into a Conversion, workbook
# writes that; export writes tables as DMN. feel, names and messages serve both ways.
__all__ = [
    "Conversion",
    "Export",
    "Message",
    "Origin",
    "Unsupported",
    "check_workbook",
    "export_dmn",
    "names_in_use",
    "parse_literal",
    "parse_unary_tests",
    "read_dmn",
    "save_workbook",
    "snake_case",
    "typed_tests",
    "write_workbook",
]
