"""Stage 1, reading: a workbook file to the model (`workbook` -> `cells` -> `sheets`)."""
