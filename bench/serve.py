"""Load test of `compile-rules serve` on the loopback address, beside `evaluate`.

    python bench/serve.py [--requests 4000] [--batches 200] [--batch-size 100]
                          [--concurrency 4] [--tables imaging_guideline_set,...]

Starts `compile-rules serve` (uvicorn, its own process, access log on as by default,
written to /dev/null) on a free port of 127.0.0.1 and waits for /ready. Then, per
table, a client in another process (asyncio, CONCURRENCY kept-alive connections)
sends REQUESTS single decisions (POST /decisions/TABLE), then BATCHES
batch requests of BATCH_SIZE cases (POST /decisions/TABLE/batch), and the same
inputs go through the table's `evaluate` in this process, one call at a time.
Inputs are the table's Tests-sheet cases and generated examples, in turn; every
answer is checked against `evaluate`. Prints decisions per second and the p50 and
p99 latency of a request (of a call, in process), and writes bench/serve.md and
bench/serve.json. Bounded: fixed counts, a 10 s timeout per request, 300 s per
client, and the server is stopped at the end. The client and the server share the
machine's cores, so the HTTP figures include the client's own cost (a plain
HTTP/1.1 client on asyncio streams, to keep it small; httpx only waits for /ready).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TABLES = "imaging_guideline_set,imaging_guideline_document,lab_policy_for_test"


# -- the client (its own process) ----------------------------------------------------


async def _load(
    url: str, path: str, bodies: list[bytes], count: int, concurrency: int
) -> tuple[list[float], float, list[Any]]:
    """COUNT requests of BODIES (in turn) to PATH, CONCURRENCY at a time on kept-alive
    connections, after a warm-up: each latency, the wall time, and the answers to
    the first len(BODIES). A plain HTTP/1.1 client on asyncio streams, so that the
    client's own cost stays small beside the server's."""
    host, port = url.removeprefix("http://").split(":")
    requests = [
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(b)}\r\n\r\n".encode()
        + b
        for b in bodies
    ]

    async def run(total: int) -> tuple[list[float], dict[int, Any]]:
        latencies: list[float] = []
        answers: dict[int, Any] = {}
        issued = 0

        async def worker() -> None:
            nonlocal issued
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                while issued < total:
                    i = issued
                    issued += 1
                    start = time.perf_counter()
                    writer.write(requests[i % len(requests)])
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                    status = int(head.split(b" ", 2)[1])
                    length = next(
                        int(line.split(b":", 1)[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    )
                    payload = await asyncio.wait_for(reader.readexactly(length), 10)
                    latencies.append(time.perf_counter() - start)
                    if status != 200:
                        raise SystemExit(f"{path}: {status} {payload[:300]!r}")
                    if i < len(requests):
                        answers[i] = json.loads(payload)
            finally:
                writer.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, answers

    await run(min(count, 4 * concurrency))  # warm-up: connections, caches
    start = time.perf_counter()
    latencies, answers = await run(count)
    wall = time.perf_counter() - start
    return latencies, wall, [answers[i] for i in sorted(answers)]


def client(argv: list[str]) -> int:
    """`python bench/serve.py client URL PATH BODIES.json COUNT CONCURRENCY`: one
    JSON line on stdout."""
    url, path, bodies_file, count, concurrency = argv
    bodies = [json.dumps(b).encode() for b in json.loads(Path(bodies_file).read_text())]
    latencies, wall, answers = asyncio.run(
        _load(url, path, bodies, int(count), int(concurrency))
    )
    print(json.dumps({"latencies": latencies, "wall": wall, "answers": answers}))
    return 0


def _run_client(
    url: str, path: str, bodies: list[Any], count: int, concurrency: int
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(bodies, handle)
    try:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "client",
                url,
                path,
                handle.name,
                str(count),
                str(concurrency),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise SystemExit(f"the client failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- the server and the run ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_server(port: int, max_batch: int) -> subprocess.Popen[bytes]:
    import httpx

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compiler",
            "serve",
            "-q",
            "--tables",
            str(ROOT / "tables"),
            "--port",
            str(port),
            "--max-batch",
            str(max_batch),
            "--max-body",
            str(16 << 20),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code
                == 200
            ):
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start in 120 s")


def _cases(project: Any, name: str) -> list[dict[str, Any]]:
    """The Tests-sheet cases and generated examples of NAME, as JSON request bodies."""
    from compiler.checking import analyse
    from compiler.emitting.runtime._explain import to_json

    versioned = project.chain_versioned(name)
    found = [
        (c.inputs, c.as_of) for s in project.suites if s.table == name for c in s.cases
    ]
    found += [(e.inputs, e.as_of) for e in analyse.examples(project).get(name, ())]
    bodies = []
    for inputs, as_of in found:
        body = {k: to_json(v) for k, v in inputs}
        if versioned:
            body["as_of"] = (as_of or dt.date(2026, 6, 1)).isoformat()
        bodies.append(body)
    return bodies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _in_process(
    module: Any, kwargs: list[dict[str, Any]], count: int
) -> dict[str, float]:
    calls = [kwargs[i % len(kwargs)] for i in range(count)]
    latencies = []
    evaluate = module.evaluate
    start = time.perf_counter()
    for call in calls:
        before = time.perf_counter_ns()
        evaluate(**call)
        latencies.append((time.perf_counter_ns() - before) / 1e9)
    wall = time.perf_counter() - start
    begin = time.perf_counter()
    for call in calls:  # without the timer around each call
        evaluate(**call)
    bare = time.perf_counter() - begin
    return {
        "per_s": count / bare,
        "p50_s": _percentile(latencies, 0.5),
        "p99_s": _percentile(latencies, 0.99),
        "timed_wall_s": wall,
    }


def _summary(run: dict[str, Any], decisions_per_request: int) -> dict[str, float]:
    latencies = run["latencies"]
    return {
        "requests": len(latencies),
        "per_s": len(latencies) * decisions_per_request / run["wall"],
        "p50_s": _percentile(latencies, 0.5),
        "p99_s": _percentile(latencies, 0.99),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["client"]:
        return client(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python bench/serve.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tables", default=TABLES)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, default=HERE / "serve")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from compiler.emitting.loader import load_modules, result_json, sibling
    from compiler.pipeline import compile_tables
    from compiler.serve.decisions import ServedTable, arguments

    compilation = compile_tables(ROOT / "tables")
    assert compilation.project is not None and compilation.files is not None
    project = compilation.project
    names = args.tables.split(",")
    modules = load_modules(compilation.files, names)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cores",
        "load_before": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "concurrency": args.concurrency,
        # what uvicorn picks ("auto"): its C parser and loop when they are installed
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "batch_size": args.batch_size,
        "tables": [],
    }
    server = _start_server(port, args.batch_size)
    try:
        for name in names:
            module = modules[name]
            bodies = _cases(project, name)
            served = ServedTable(
                name,
                module,
                sibling(module, "_runtime"),
                {c.name: c.type for c in project.chain_inputs(name)},
                project.chain_versioned(name),
            )
            kwargs = [arguments(served, b) for b in bodies]
            expected = [result_json(module.evaluate(**k)) for k in kwargs]
            single = _run_client(
                url, f"/decisions/{name}", bodies, args.requests, args.concurrency
            )
            if single["answers"] != expected[: len(single["answers"])]:
                raise SystemExit(f"{name}: the service and evaluate disagree")
            batches = [
                [
                    bodies[(b * args.batch_size + i) % len(bodies)]
                    for i in range(args.batch_size)
                ]
                for b in range(max(1, len(bodies) // args.batch_size) + 1)
            ]
            batch = _run_client(
                url, f"/decisions/{name}/batch", batches, args.batches, args.concurrency
            )
            if batch["answers"][0]["results"] != [
                expected[i % len(expected)] for i in range(args.batch_size)
            ]:
                raise SystemExit(f"{name}: the batch and evaluate disagree")
            row = {
                "table": name,
                "rules": sum(len(t.rules) for t in project.decision(name).versions),
                "cases": len(bodies),
                "evaluate": _in_process(module, kwargs, 200_000),
                "single": _summary(single, 1),
                "batch": _summary(batch, args.batch_size),
            }
            results["tables"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["load_after"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = report(results)
    print(text)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps(results, indent=1) + "\n", encoding="utf-8"
    )
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def _rate(value: float) -> str:
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value:,.0f}"


def report(results: dict[str, Any]) -> str:
    size = results["batch_size"]
    lines = [
        "# Benchmark: the decision service on loopback, beside evaluate in process",
        "",
        f"Run `python bench/serve.py` ({results['when']}, Python {results['python']}, "
        f"{results['machine']} shared with other work: load average {results['load_before']} "
        f"before, {results['load_after']} after). One uvicorn process ({results['http']}, "
        f"{results['loop']}, access log on); one "
        f"client process (a plain HTTP/1.1 client on asyncio, {results['concurrency']} kept-alive connections) on "
        "the same machine. Decisions per second; latency per request (in process: per "
        "call, timed one by one).",
        "",
        f"| table | rules | evaluate in process /s | p50 µs | p99 µs | HTTP single /s | p50 ms | p99 ms | HTTP batch of {size} /s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["tables"]:
        e, s, b = row["evaluate"], row["single"], row["batch"]
        lines.append(
            f"| {row['table']} | {row['rules']} | {_rate(e['per_s'])} | {_us(e['p50_s'])} | "
            f"{_us(e['p99_s'])} | {_rate(s['per_s'])} | {_ms(s['p50_s'])} | {_ms(s['p99_s'])} | "
            f"{_rate(b['per_s'])} | {_ms(b['p50_s'])} | {_ms(b['p99_s'])} |"
        )
    lines += [
        "",
        "Every answer of the service was checked against `evaluate` on the same inputs "
        "(the table's Tests-sheet cases and generated examples, in turn).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
