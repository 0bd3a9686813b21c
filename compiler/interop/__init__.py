"""Other formats: DMN import and export (`dmn/`) and the DMN TCK runner (`tck`)."""
