"""`make bench`: the generated server against a naive one and against the bare HTTP stack.

Renders the postgresql + redis combination into build/bench/project, seeds a throwaway database,
then measures, one after the other, on the same harness (the generated project's own locustfile,
hot-read scenario, closed loop: every user sends its next call as soon as the last one returns):

  generated  the rendered server, default settings (pools, L1 + Redis cache)
  naive      bench/naive_server.py: same SDK, same get_item, a new connection per call, no cache
  bare       bench/bare_server.py: Starlette returning the recorded tools/call response

The last line is `vs_naive=<x> vs_bare=<y> p95_ms=<z> rps=<r>` (throughput ratios; p95 and rps
of the generated server). The load generator shares the machine with the servers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
BUILD = ROOT / "build" / "bench"
PROJECT = BUILD / "project"
PACKAGE = "my_mcp_server"  # the default package name of a render
ENV_PREFIX = PACKAGE.upper() + "_"
ANSWERS = {"database": "postgresql", "cache": "redis", "deployment": "none", "auth": "none"}


@dataclass
class Result:
    name: str
    requests: int
    failures: int
    rps: float
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def render() -> Path:
    """The postgresql + redis project from the working tree, with its environment synced."""
    shutil.rmtree(PROJECT, ignore_errors=True)
    copier = Path(sys.executable).with_name("copier")
    answers = [arg for key, value in ANSWERS.items() for arg in ("-d", f"{key}={value}")]
    command = [str(copier), "copy", "-q", "--defaults", "--vcs-ref", "HEAD", *answers]
    subprocess.run([*command, str(ROOT), str(PROJECT)], check=True)
    subprocess.run(["uv", "sync", "-q"], cwd=PROJECT, check=True)
    return PROJECT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(0.5)  # the lifespan (pools) opens right after the socket is bound
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listening on port {port} within {timeout_s:g} s")


@contextmanager
def server(command: Sequence[str], port: int, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, cwd=PROJECT)
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def locust(python: Path, url: str, name: str, args: argparse.Namespace, seconds: float) -> Path:
    prefix = BUILD / name
    command = [
        str(python), "-m", "locust", "-f", str(PROJECT / "loadtest" / "locustfile.py"),
        "--headless", "--only-summary", "--scenario", "hot", "--unpaced",
        "--items", str(args.items), "-u", str(args.users), "-r", str(args.users),
        "-t", f"{seconds:g}s", "--host", url, "--csv", str(prefix),
    ]  # fmt: skip
    subprocess.run(command, cwd=PROJECT, check=False, capture_output=True)
    return prefix.with_name(prefix.name + "_stats.csv")


def measure(python: Path, url: str, name: str, args: argparse.Namespace) -> Result:
    locust(python, url, f"{name}-warmup", args, args.warmup)
    stats = locust(python, url, name, args, args.seconds)
    with stats.open(newline="") as file:
        row = next(r for r in csv.DictReader(file) if r["Name"] == "Aggregated")
    return Result(
        name=name,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=float(row["Requests/s"]),
        avg_ms=float(row["Average Response Time"]),
        p50_ms=float(row["50%"]),
        p95_ms=float(row["95%"]),
        p99_ms=float(row["99%"]),
    )


def record_response(url: str) -> Path:
    """The generated server's answer to a hot get_item, for the bare endpoint to replay."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "get_item",
            "arguments": {"key": "item-000001"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
    request = urllib.request.Request(
        url + "/mcp",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call",
            "Mcp-Name": "get_item",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        recorded = response.read()
    if json.loads(recorded)["result"].get("isError"):
        raise SystemExit(f"the generated server could not read item-000001: {recorded!r}")
    path = BUILD / "recorded-response.json"
    path.write_bytes(recorded)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=64, help="closed-loop locust users")
    parser.add_argument("--seconds", type=float, default=15, help="measured run per server")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured run before each")
    parser.add_argument("--items", type=int, default=10_000, help="seeded items")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers, every server")
    args = parser.parse_args(argv)

    BUILD.mkdir(parents=True, exist_ok=True)
    print("rendering postgresql + redis ...", flush=True)
    python = render()
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    database = f"bench_{uuid.uuid4().hex[:10]}"
    seed = [str(python), str(BENCH / "seed.py"), admin_url, database]
    seeded = subprocess.run(
        [*seed, "--items", str(args.items)], check=True, capture_output=True, text=True
    )
    database_url = seeded.stdout.strip().splitlines()[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env |= {
        ENV_PREFIX + "DATABASE_URL": database_url,
        ENV_PREFIX + "REDIS_URL": redis_url,
        ENV_PREFIX + "CACHE_NAMESPACE": database,
    }
    results: list[Result] = []
    try:
        port = free_port()
        workers = ["--workers", str(args.workers)]
        generated = [str(python), "-m", PACKAGE, "serve", "--port", str(port), *workers]
        with server(generated, port, env) as url:
            print(f"generated: {args.users} users, {args.seconds:g} s ...", flush=True)
            recorded = record_response(url)
            results.append(measure(python, url, "generated", args))
        port = free_port()
        naive = [str(python), str(BENCH / "naive_server.py"), "--port", str(port), *workers]
        with server([*naive, "--database-url", database_url], port, env) as url:
            print("naive ...", flush=True)
            results.append(measure(python, url, "naive", args))
        port = free_port()
        bare = [str(python), str(BENCH / "bare_server.py"), "--port", str(port), *workers]
        with server([*bare, "--response", str(recorded)], port, env) as url:
            print("bare ...", flush=True)
            results.append(measure(python, url, "bare", args))
    finally:
        subprocess.run([*seed, "--drop"], check=False)

    print()
    print(f"{'server':<10} {'rps':>9} {'avg ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'requests':>9} {'errors':>7}")  # fmt: skip
    for r in results:
        print(f"{r.name:<10} {r.rps:>9.1f} {r.avg_ms:>8.1f} {r.p50_ms:>7.0f} {r.p95_ms:>7.0f} "
              f"{r.p99_ms:>7.0f} {r.requests:>9} {r.failures:>7}")  # fmt: skip
    gen, naive_r, bare_r = results
    print(f"(hot-read scenario, {args.users} closed-loop users, {args.seconds:g} s each, "
          f"{args.workers} worker(s) per server, load generator on the same "
          f"{os.cpu_count()}-core machine)")  # fmt: skip
    vs_naive = gen.rps / naive_r.rps if naive_r.rps else float("inf")
    vs_bare = gen.rps / bare_r.rps if bare_r.rps else 0.0
    print(f"vs_naive={vs_naive:.2f} vs_bare={vs_bare:.2f} p95_ms={gen.p95_ms:g} rps={gen.rps:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
