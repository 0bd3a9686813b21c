"""Stage 3, emitting: the model to Python modules, Markdown pages and tests
(`codegen`), written atomically (`output`); `runtime/` is shipped with them."""
