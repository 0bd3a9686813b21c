"""The service's log: one JSON object per line, and the guard around every request.

`Guard` is the outermost ASGI middleware the app's own code runs in: it gives each
request an id (the `X-Request-Id` header of the response, and of its error body),
writes one access line per request (method, path, status, duration, bytes, client),
and turns any exception that escaped a handler into a structured `500` whose body
holds no traceback (the traceback goes to the log, under the same request id).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any

ACCESS = logging.getLogger("compile_rules.access")
LOG = logging.getLogger("compile_rules.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def dumps(data: Any) -> bytes:
    """DATA as compact JSON bytes, ASCII only (any text, lone surrogates included,
    stays valid), never NaN."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode("ascii")


class JsonLines(logging.Formatter):
    """A log record as one JSON object: time, level, logger, then the record's
    `fields` (access lines) or its message (and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(*, access: bool = True, stream: IO[str] | None = None) -> None:
    """Log JSON lines to STREAM (default: stderr): the service's, uvicorn's own
    (warnings and errors: a request that is not HTTP, a port in use), and the access
    lines unless not ACCESS."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    for logger in (ACCESS, LOG, logging.getLogger("uvicorn.error")):
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    ACCESS.disabled = not access


class Guard:
    """Request ids, access lines, and no traceback in any response."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        sent: dict[str, int] = {"status": 0, "bytes": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        except Exception:
            LOG.exception(
                "internal error",
                extra={"fields": {"event": "internal_error", "request_id": request_id}},
            )
            if not sent["status"]:
                await _internal_error(send_logged, request_id)
        finally:
            if ACCESS.isEnabledFor(logging.INFO):
                client = scope.get("client")
                ACCESS.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": sent["status"],
                            "ms": round((time.perf_counter() - started) * 1000, 3),
                            "bytes": sent["bytes"],
                            "client": client[0] if client else None,
                        }
                    },
                )


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


async def _internal_error(send: Send, request_id: str) -> None:
    body = dumps(
        {
            "error": {
                "status": 500,
                "code": "internal",
                "message": "internal error in the decision service; the log has the "
                f"details under request id {request_id}",
                "request_id": request_id,
            }
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
