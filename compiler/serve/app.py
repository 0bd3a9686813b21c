"""The decision service as an ASGI application (Starlette), served by uvicorn.

    POST /decisions/{table}           one case: {"outputs": ..., "matched": [...]}
    POST /decisions/{table}/batch     a JSON array of cases: {"results": [...]}
    POST /decisions/{table}/explain   why: the generated explain(), as JSON
    GET  /tables                      what is served
    GET  /health, /ready              liveness, and readiness (with --reload, the
                                      errors of the last save)
    GET  /openapi.json                the OpenAPI 3.1 document, from the tables

Handlers run the generated code directly (a decision takes microseconds; no thread
pool). Every answer is JSON: errors are `{"error": {"status", "code", "message",
...}}`, from `RequestError`, from Starlette's own 404 and 405, and from `log.Guard`
for anything unexpected (500, never a traceback).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from compiler.reading.sheets import suggest
from compiler.serve import decisions
from compiler.serve.catalog import Catalog, Service
from compiler.serve.decisions import RequestError, ServedTable
from compiler.serve.log import Guard, dumps


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(data), status, headers, media_type="application/json")


def create_app(
    service: Service, *, reload_poll: bool | None = None, watch: bool = False
) -> Starlette:
    """The app serving SERVICE's catalog; with WATCH, it recompiles on every save
    while it runs (RELOAD_POLL: poll the folder instead of file events)."""
    limits = service.limits

    def catalog() -> Catalog:
        current = service.catalog
        if current is None:
            raise RequestError(
                503,
                "not_ready",
                "no tables are served yet: the tables have errors (see /ready)",
            )
        return current

    def table(request: Request) -> ServedTable:
        name = request.path_params["table"]
        current = catalog()
        found = current.tables.get(name)
        if found is None:
            hint = suggest(name, current.tables)
            raise RequestError(
                404,
                "unknown_table",
                f"no table named {name!r}" + (f"; {hint}" if hint else ""),
                tables=list(current.tables),
            )
        return found

    async def body(request: Request) -> Any:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limits.max_body:
            raise _too_large(limits.max_body)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body:
                raise _too_large(limits.max_body)
            chunks.append(chunk)
        return decisions.parse_json(b"".join(chunks))

    def answering(
        work: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                return json_response(await work(request))
            except RequestError as exc:
                error = exc.body()
                error["error"]["request_id"] = request.state.request_id
                return json_response(error, exc.status)

        return endpoint

    async def decide(request: Request) -> Any:
        served = table(request)
        return decisions.decide(served, await body(request))

    async def batch(request: Request) -> Any:
        served = table(request)
        return decisions.batch(served, await body(request), limits.max_batch)

    async def explain(request: Request) -> Any:
        served = table(request)
        return decisions.explain(served, await body(request))

    async def tables(request: Request) -> Any:
        return catalog().listing

    async def openapi(request: Request) -> Any:
        return catalog().openapi

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def ready(request: Request) -> Response:
        status, data = service.readiness()
        return json_response(data, status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http"
        )
        return json_response(
            {
                "error": {
                    "status": exc.status_code,
                    "code": code,
                    "message": str(exc.detail),
                    "request_id": request.state.request_id,
                }
            },
            exc.status_code,
            dict(exc.headers or {}),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if watch:
            service.start_watching(poll=reload_poll)
        try:
            yield
        finally:
            if watch:
                service.stop_watching()

    return Starlette(
        routes=[
            Route("/decisions/{table}", answering(decide), methods=["POST"]),
            Route("/decisions/{table}/batch", answering(batch), methods=["POST"]),
            Route("/decisions/{table}/explain", answering(explain), methods=["POST"]),
            Route("/tables", answering(tables), methods=["GET"]),
            Route("/openapi.json", answering(openapi), methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
        ],
        middleware=[Middleware(Guard)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )


def _too_large(limit: int) -> RequestError:
    return RequestError(
        413,
        "too_large",
        f"the request body is larger than {limit} bytes",
        limit=limit,
    )
