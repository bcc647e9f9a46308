"""`make bench`: the generated server against a naive one and against the bare HTTP stack.

Renders the postgresql + redis combination into build/bench/project, seeds a throwaway database,
then measures every server, one at a time, in interleaved rounds, with the same load: the
hot-read scenario (the generated project's Zipf keys), closed loop (every connection sends its
next call as soon as the last one returns), from wrk (bench/wrk_load.py) or, with
`--harness locust`, from the generated project's own locustfile. The servers with a cache first
read every key of the load several times (wrk_load.WARM_READS), so theirs are figures of cached
calls, as the goals are stated:

  generated      the rendered server, default settings (pools, L1 + Redis cache, the owned
                 tools/call executor)
  generated-sdk  the same server with FAST_PATH=false: every request through the SDK's entry
  naive          bench/naive_server.py: same SDK, same get_item, a connection per call, no cache
  bare           bench/bare_server.py: Starlette returning the recorded tools/call response

Figures are medians over the rounds. Then bench/layers.py splits one cached call's CPU into the
layers it passes (HTTP entry, the tools/call executor, the tool manager, the tool). The last
line is `vs_naive=<x> vs_sdk=<s> vs_bare=<y> p95_ms=<z> rps=<r>` (throughput ratios; p95 and
rps of the generated server). The load generator shares the machine with the servers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import wrk_load
from wrk_load import Load

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
BUILD = ROOT / "build" / "bench"
PROJECT = BUILD / "project"
PACKAGE = "my_mcp_server"  # the default package name of a render
ENV_PREFIX = PACKAGE.upper() + "_"
# Measured in this order in every round; generated-sdk is the generated server, fast path off.
SERVERS = ("generated", "generated-sdk", "naive", "bare")
# Servers with a cache: their measured run follows a warm-up that reads every key of the load
# (wrk_load.WARM_READS times), so the figures are of cached calls, as the goals are stated.
CACHED = ("generated", "generated-sdk")
ANSWERS = {"database": "postgresql", "cache": "redis", "deployment": "none", "auth": "none"}


@dataclass
class Result(Load):
    """One server's run: what the harness saw, and what the server spent."""

    name: str
    cpu_us: float  # CPU time of the server's processes per call (not PostgreSQL's or Redis')


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


@dataclass
class Running:
    url: str
    pid: int


@contextmanager
def server(command: Sequence[str], port: int, env: dict[str, str]) -> Iterator[Running]:
    process = subprocess.Popen(command, env=env, cwd=PROJECT)
    try:
        wait_listening(port, process)
        yield Running(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def locust(python: Path, url: str, name: str, args: argparse.Namespace, seconds: float) -> Load:
    """The generated project's own locustfile, hot scenario, closed loop."""
    prefix = BUILD / name
    command = [
        str(python), "-m", "locust", "-f", str(PROJECT / "loadtest" / "locustfile.py"),
        "--headless", "--only-summary", "--scenario", "hot", "--unpaced",
        "--items", str(args.items), "-u", str(args.users), "-r", str(args.users),
        "-t", f"{seconds:g}s", "--host", url, "--csv", str(prefix),
    ]  # fmt: skip
    subprocess.run(command, cwd=PROJECT, check=False, capture_output=True)
    with prefix.with_name(prefix.name + "_stats.csv").open(newline="") as file:
        row = next(r for r in csv.DictReader(file) if r["Name"] == "Aggregated")
    return Load(
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=float(row["Requests/s"]),
        avg_ms=float(row["Average Response Time"]),
        p50_ms=float(row["50%"]),
        p95_ms=float(row["95%"]),
        p99_ms=float(row["99%"]),
    )


# One load run: (server URL, run name, seconds) -> what the harness measured.
LoadRun = Callable[[str, str, float], Load]


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by process `root` and all its descendants (Linux)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces: fields are counted after its closing ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


# Warms a server's caches (its URL): every key of the load, read several times.
Warm = Callable[[str], None]


def measure(
    load: LoadRun, running: Running, name: str, args: argparse.Namespace, warm: Warm
) -> Result:
    if name in CACHED:
        warm(running.url)
    load(running.url, f"{name}-warmup", args.warmup)
    cpu_before = cpu_seconds(running.pid)
    measured = load(running.url, name, args.seconds)
    cpu = cpu_seconds(running.pid) - cpu_before
    cpu_us = cpu / measured.requests * 1e6 if measured.requests else float("nan")
    return Result(**asdict(measured), name=name, cpu_us=cpu_us)


def forget_cached(python: Path, redis_url: str, namespace: str) -> None:
    """Delete this benchmark's keys from Redis (the cache namespace is the database's name)."""
    forget = (
        "import sys, redis; r = redis.Redis.from_url(sys.argv[1]);"
        "keys = list(r.scan_iter(sys.argv[2] + ':*', count=1000));"
        "keys and r.delete(*keys)"
    )
    subprocess.run([str(python), "-c", forget, redis_url, namespace], check=True)


def record_response(url: str, path: Path) -> None:
    """The generated server's answer to a hot get_item, for the bare endpoint to replay."""
    body = wrk_load.get_item_call(1, "item-000001").encode()
    request = urllib.request.Request(url + "/mcp", data=body, headers=wrk_load.HEADERS)
    with urllib.request.urlopen(request, timeout=10) as response:
        recorded = response.read()
    if json.loads(recorded)["result"].get("isError"):
        raise SystemExit(f"the generated server could not read item-000001: {recorded!r}")
    path.write_bytes(recorded)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--harness",
        choices=["wrk", "locust"],
        default="wrk",
        help="load generator: wrk (C, leaves the CPU to the servers) or the project's locustfile",
    )
    parser.add_argument("--users", type=int, default=64, help="closed-loop users (connections)")
    parser.add_argument("--seconds", type=float, default=10, help="measured run per server")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured run before each")
    parser.add_argument("--items", type=int, default=10_000, help="seeded items")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers, every server")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated subset to measure (the ratios need all four)",
    )
    parser.add_argument("--no-layers", action="store_true", help="skip the in-process layer split")
    args = parser.parse_args(argv)
    servers = [name for name in args.servers.split(",") if name]
    if unknown := set(servers) - set(SERVERS):
        parser.error(f"--servers: unknown {sorted(unknown)}; choose from {', '.join(SERVERS)}")
    if "bare" in servers and "generated" not in servers:
        parser.error("--servers: bare replays the generated server's answer; add generated")
    if args.harness == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("make bench: wrk not found (apt-get install wrk); or --harness locust")

    BUILD.mkdir(parents=True, exist_ok=True)
    print("rendering postgresql + redis ...", flush=True)
    python = render()
    if args.harness == "wrk":
        script, warm_script = wrk_load.write_scripts(python, PROJECT, args.items, BUILD)

        def load(url: str, name: str, seconds: float) -> Load:
            return wrk_load.run(script, url, args.users, seconds)

        def warm(url: str) -> None:
            wrk_load.warm(warm_script, url, args.users)
    else:

        def load(url: str, name: str, seconds: float) -> Load:
            return locust(python, url, name, args, seconds)

        def warm(url: str) -> None:
            load(url, "cache-warmup", 4 * args.warmup)  # locust has no fixed-count run

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
        # Several workers need one key for multi-round calls' requestState (request_state.py).
        ENV_PREFIX + "REQUEST_STATE_KEYS": secrets.token_hex(32),
        # The figures are of cached calls: on a slow machine warming every key and the runs take
        # longer than the SLA-sized TTL, and keys expiring mid-run would measure refills instead.
        ENV_PREFIX + "CACHE_TTL_S": "3600",
    }
    workers = ["--workers", str(args.workers)]
    generated = [str(python), "-m", PACKAGE, "serve", *workers]
    commands = {
        "generated": generated,
        "generated-sdk": generated,  # the same server; only FAST_PATH differs (below)
        "naive": [str(python), str(BENCH / "naive_server.py"), *workers],
        "bare": [str(python), str(BENCH / "bare_server.py"), *workers],
    }
    recorded = BUILD / "recorded-response.json"
    extra = {"naive": ["--database-url", database_url], "bare": ["--response", str(recorded)]}
    runs: dict[str, list[Result]] = {name: [] for name in servers}
    try:
        # Interleaved rounds: a slow spell of a shared machine hits every server alike, and the
        # medians below ignore one bad round. One server at a time, so none holds connections
        # or CPU while another is measured.
        for round_ in range(1, args.rounds + 1):
            for name in servers:
                print(f"round {round_}/{args.rounds}: {name} ...", flush=True)
                port = free_port()
                command = [*commands[name], "--port", str(port), *extra.get(name, [])]
                server_env = env | {ENV_PREFIX + "FAST_PATH": str(name != "generated-sdk").lower()}
                # Every server starts from an empty Redis namespace: otherwise whichever runs
                # right after another finds the Zipf tail it loaded still in L2.
                forget_cached(python, redis_url, database)
                with server(command, port, server_env) as running:
                    if name == "generated" and round_ == 1:
                        record_response(running.url, recorded)
                    runs[name].append(measure(load, running, name, args, warm))
        layers = "" if args.no_layers else split_layers(python, recorded, env)
    finally:
        subprocess.run([*seed, "--drop"], check=False)

    results = {name: median_result(name, measured) for name, measured in runs.items()}
    print()
    print(f"{'server':<14} {'rps':>9} {'avg ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'cpu us/call':>12} {'requests':>9} {'errors':>7}")  # fmt: skip
    for r in results.values():
        print(f"{r.name:<14} {r.rps:>9.1f} {r.avg_ms:>8.1f} {r.p50_ms:>7.0f} {r.p95_ms:>7.0f} "
              f"{r.p99_ms:>7.0f} {r.cpu_us:>12.0f} {r.requests:>9} {r.failures:>7}")  # fmt: skip
    print(f"(medians of {args.rounds} interleaved rounds; hot-read scenario, {args.users} "
          f"closed-loop users, {args.seconds:g} s per run, {args.workers} worker(s) per server, "
          f"{args.harness} on the same {os.cpu_count()}-core machine)")  # fmt: skip
    print()
    print(layers, end="")
    if set(results) != set(SERVERS):
        return 0  # a subset: no ratios
    gen, sdk = results["generated"], results["generated-sdk"]
    print(f"tools/call executor: rps x{ratio(gen.rps, sdk.rps):.2f}, server CPU per call "
          f"x{ratio(gen.cpu_us, sdk.cpu_us):.2f} (generated vs generated-sdk)")  # fmt: skip
    bare = results["bare"]
    print(f"server CPU per call: generated {gen.cpu_us:.0f} us, bare {bare.cpu_us:.0f} us "
          f"(x{ratio(gen.cpu_us, bare.cpu_us):.2f} bare)")  # fmt: skip
    vs_naive = ratio(gen.rps, results["naive"].rps)
    vs_sdk = ratio(gen.rps, sdk.rps)
    vs_bare = ratio(gen.rps, bare.rps)
    print(f"vs_naive={vs_naive:.2f} vs_sdk={vs_sdk:.2f} vs_bare={vs_bare:.2f} "
          f"p95_ms={gen.p95_ms:g} rps={gen.rps:.0f}")  # fmt: skip
    return 0


def split_layers(python: Path, recorded: Path, env: dict[str, str]) -> str:
    """bench/layers.py's table (its errors go straight to the terminal)."""
    print("in-process layers ...", flush=True)
    split = [str(BENCH / "layers.py"), "--package", PACKAGE, "--response", str(recorded)]
    return subprocess.run(
        [str(python), *split], env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=True
    ).stdout


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def median_result(name: str, measured: list[Result]) -> Result:
    """Each figure's median over the rounds (requests and errors: totals)."""
    medians = {
        f.name: statistics.median(getattr(r, f.name) for r in measured) for f in fields(Load)
    }
    totals = {"requests": sum(r.requests for r in measured)}
    totals["failures"] = sum(r.failures for r in measured)
    cpu_us = statistics.median(r.cpu_us for r in measured)
    return Result(**(medians | totals), name=name, cpu_us=cpu_us)


if __name__ == "__main__":
    sys.exit(main())
