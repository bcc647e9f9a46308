"""`make loadtest`: run a locust scenario headless against the server, gated by the SLA.

If nothing answers at the target URL, a server is started for the run, seeded (item-000001 ...
written through put_item, over MCP) and stopped afterwards; `--seed` seeds a running server.
Writes reports/<name>_stats.csv (+ history, failures) and reports/<name>.html; exits with
locust's code (1 = SLA missed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

from my_mcp_server.settings import Settings

from loadtest.mcp_wire import call_error, request_headers, tools_call_body
from loadtest.scenarios import DEFAULT_ITEMS, SCENARIO_NAMES, Call, item_key, users_for

PACKAGE = "my_mcp_server"
ENV_PREFIX = PACKAGE.upper() + "_"
REPORTS = Path("reports")
# httpx builds an SSL context for every client it makes, parsing the CA bundle again even for the
# plain-HTTP URL of a local server, and `httpx.get` makes a client per call: the probes here and
# the tests share one context, and `HTTP`, a client that keeps no connection open (each request
# opens its own, as `httpx.get` does).
SSL_CONTEXT = httpx.create_ssl_context()
HTTP = httpx.Client(verify=SSL_CONTEXT, limits=httpx.Limits(max_keepalive_connections=0))


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes] | None  # None: a server that was already running

    def peak_rss_bytes(self) -> int | None:
        """High-water mark of resident memory of the server and its worker processes (Linux)."""
        if self.process is None:
            return None
        pids = [self.process.pid, *_children(self.process.pid)]
        peaks = [_vm_hwm(pid) for pid in pids]
        known = [peak for peak in peaks if peak is not None]
        return sum(known) if known else None

    def metrics(self) -> str:
        """The server's Prometheus exposition, or "" when it has no /metrics."""
        try:
            response = HTTP.get(self.url + "/metrics", timeout=5)
        except httpx.HTTPError:
            return ""
        return response.text if response.status_code == 200 else ""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# Ports free_port has handed out: the kernel may give a just-closed port again at once, and two
# servers started together (bench-telemetry's, a test's /mcp and /metrics) must not share one.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def is_up(url: str) -> bool:
    try:
        return HTTP.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def listens(pid: int, port: int) -> bool:
    """Whether process `pid`, or one it started, holds the listening socket on `port`.

    free_port's port is free when handed out, but another program can take it before the server
    binds it, and answer its probes: a server is up only once its own socket is there.
    """
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections):
            return True
    return False


def ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether `process` serves `url` and says it is ready: it (or a child) holds the port, as
    another program that took the port first would not, and `/readyz` answers 200."""
    port = urlsplit(url).port
    if port is None or not listens(process.pid, port):
        return False
    try:
        return HTTP.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            # The server said why on its stderr (one line for a service it cannot use).
            raise SystemExit(process.returncode or 1)
        if ready(url, process):
            return
        time.sleep(0.2)
    raise SystemExit(f"server at {url} not ready within {timeout_s:g} s")


@contextmanager
def started_server(
    host: str,
    port: int,
    env: Mapping[str, str],
    items: int,
    *,
    seeded: bool = True,
    launcher: Sequence[str] = (),
    module: str = PACKAGE,
) -> Iterator[ServerProcess]:
    """A server process with `env`, its database seeded with `items` items; stopped on exit.

    `seeded=False` skips the seeding, for a database an earlier run has seeded already.
    `launcher` runs the server module under another program (memray: `-m memray run ...`);
    `module` is the one whose `serve` command starts it (loadtest.naive_server: the baseline).
    """
    url = f"http://{host}:{port}"
    server_env = dict(env)
    with ExitStack() as stack:
        # The project's database, created (PostgreSQL) and migrated when missing, so a load test
        # works on a fresh machine; `migrate` prints one line and exits 1 if it cannot.
        migrate = [sys.executable, "-m", PACKAGE, "migrate"]
        prepared = subprocess.run(migrate, env=server_env, stdout=subprocess.DEVNULL, check=False)
        if prepared.returncode != 0:
            raise SystemExit(prepared.returncode)
        command = [sys.executable, *launcher, "-m", module, "serve", "--host", host]
        command += ["--port", str(port)]
        process = subprocess.Popen(command, env=server_env)
        stack.callback(_stop, process)
        wait_ready(url, process)
        print(f"server started at {url} (pid {process.pid})", flush=True)
        if seeded:
            seed(url, items)
        yield ServerProcess(url, process)


def seed(url: str, items: int, in_flight: int = 32) -> None:
    """put_item for every key the scenarios read (item-000001 ...), through the MCP endpoint."""
    print(f"seeding {items} items through put_item ...", flush=True)

    async def put_all() -> None:
        gate = asyncio.Semaphore(in_flight)
        async with httpx.AsyncClient(base_url=url, timeout=30, verify=SSL_CONTEXT) as http:

            async def put(rank: int) -> None:
                call = Call("put_item", {"key": item_key(rank), "value": f"seed {rank}"}, "seed")
                async with gate:
                    response = await http.post(
                        "/mcp",
                        content=tools_call_body(rank, call),
                        headers=request_headers(call.tool),
                    )
                error = call_error(
                    response.status_code, response.headers.get("content-type", ""), response.content
                )
                if error:
                    raise SystemExit(f"seeding {item_key(rank)} failed: {error}")

            await asyncio.gather(*(put(rank) for rank in range(1, items + 1)))

    asyncio.run(put_all())


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def run_locust(
    url: str,
    scenario: str,
    duration: str,
    users: int,
    name: str,
    items: int,
) -> int:
    """Locust headless for `duration`; its stats go to reports/<name>*. Returns its exit code."""
    REPORTS.mkdir(exist_ok=True)
    locustfile = Path(__file__).with_name("locustfile.py")
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
        "--host", url, "--scenario", scenario, "--items", str(items),
        "-u", str(users), "-r", str(users), "-t", duration, "--stop-timeout", "5",
        "--csv", str(REPORTS / name), "--csv-full-history", "--html", str(REPORTS / f"{name}.html"),
    ]  # fmt: skip
    print(f"locust: scenario {scenario}, {users} users, {duration} against {url}", flush=True)
    return subprocess.run(command, check=False).returncode


def _parser() -> argparse.ArgumentParser:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="loadtest", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="mixed")
    parser.add_argument("--duration", default="30s", help="locust run time, e.g. 30s, 2m")
    parser.add_argument(
        "--users", type=int, default=users_for(settings.sla_rps), help="default: sla_rps / 10"
    )
    parser.add_argument("--host", default=f"http://{settings.host}:{settings.port}")
    parser.add_argument("--items", type=int, default=None, help="seeded items the reads use")
    parser.add_argument("--name", default="loadtest", help="report file prefix under reports/")
    parser.add_argument("--seed", action="store_true", help="seed a server already running")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    items = args.items or DEFAULT_ITEMS
    with ExitStack() as stack:
        url = args.host.rstrip("/")
        if not is_up(url):
            host, _, port = url.removeprefix("http://").partition(":")
            print(f"no server at {url}: starting one", flush=True)
            server = stack.enter_context(started_server(host, int(port or 80), os.environ, items))
            url = server.url
        elif args.seed:
            seed(url, items)
        code = run_locust(url, args.scenario, args.duration, args.users, args.name, items)
    print(f"reports: {REPORTS / args.name}_stats.csv, {REPORTS / args.name}.html", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
