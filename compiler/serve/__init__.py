"""`compile-rules serve`: the tables' decisions over HTTP, with an OpenAPI contract.

`catalog` (the compiled tables being served, and `--reload`), `decisions` (a JSON
body to the generated evaluator and back), `openapi` (the OpenAPI 3.1 document,
from the tables), `log` (JSON log lines, request ids, the guard that keeps
tracebacks out of responses) and `app` (the Starlette application). Needs the
`serve` extra (Starlette and uvicorn).
"""
