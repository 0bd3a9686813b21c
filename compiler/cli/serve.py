"""`serve`: the decisions of the tables over HTTP (Starlette on uvicorn)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from compiler.cli.options import folders, guarded
from compiler.report import Exit


@click.command("serve")
@folders
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port.",
)
@click.option(
    "--reload",
    "reload_",
    is_flag=True,
    help="Recompile on every save of a workbook (as watch does, in memory); when a "
    "save has errors, keep serving the last good tables and report the errors at "
    "/ready.",
)
@click.option(
    "--poll",
    is_flag=True,
    help="With --reload: poll the folder instead of using file events.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    default=1 << 20,
    show_default=True,
    help="Largest request body, in bytes (413 beyond).",
)
@click.option(
    "--max-batch",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Most cases in one batch request (413 beyond).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One JSON line per request on stderr.",
)
@guarded
def serve_command(
    tables: Path,
    out: Path,
    quiet: bool,
    host: str,
    port: int,
    reload_: bool,
    poll: bool,
    max_body: int,
    max_batch: int,
    access_log: bool,
) -> None:
    """Serve the decisions of the tables over HTTP: POST /decisions/TABLE (one
    case), /decisions/TABLE/batch, /decisions/TABLE/explain; GET /tables, /health,
    /ready and /openapi.json (OpenAPI 3.1, generated from the tables). The tables
    are compiled in memory at start, so the service runs exactly the code `compile`
    writes. Ctrl-C stops."""
    missing = [
        m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise click.UsageError(
            f"serve needs {' and '.join(missing)}: python -m pip install -e '.[serve]'"
        )
    if not tables.is_dir():
        raise click.UsageError(f"--tables {tables}: the folder does not exist")
    _check_address(host, port)
    import uvicorn

    from compiler.serve import log
    from compiler.serve.app import create_app
    from compiler.serve.catalog import Limits, Service

    log.configure(access=access_log)
    service = Service(
        tables, Limits(max_body=max_body, max_batch=max_batch), quiet=quiet
    )
    if not service.compile():  # the diagnostics are printed
        if not reload_:
            click.echo("the tables have errors: nothing to serve", err=True)
            sys.exit(Exit.INVALID)
        click.echo(
            "the tables have errors: /ready answers 503 until a save fixes them",
            err=True,
        )
    count = len(service.catalog.tables) if service.catalog else 0
    click.echo(
        f"serving {count} table(s) on http://{host}:{port} (OpenAPI: /openapi.json"
        f"{'; recompiling on save' if reload_ else ''}; Ctrl-C stops)",
        err=True,
    )
    app = create_app(service, watch=reload_, reload_poll=poll or None)
    # log_config=None: uvicorn keeps the JSON handlers that log.configure set
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)


def _check_address(host: str, port: int) -> None:
    """A usage error (exit 2) when HOST:PORT cannot be listened on (in use, not an
    address of this machine), before compiling: uvicorn would only log it."""
    import socket  # here: the other commands start without it

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise click.UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
