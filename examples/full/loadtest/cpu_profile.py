"""`make profile`: where the server's CPU time goes under the load of a scenario.

Starts a server if none answers at --host (as `make loadtest` does), drives the scenario at the
SLA rate for --duration with locust, and samples every worker process with py-spy meanwhile
(`--subprocesses` on the server's top process, non-blocking: the server is never paused). Writes
reports/<name>.svg (flame graph), reports/<name>.txt (collapsed stacks: speedscope.app and
flamegraph.pl read it) and reports/<name>.md, and prints the own time by group and the top 15
functions.

py-spy reads the server's memory through ptrace: in a container that needs the SYS_PTRACE
capability (see PTRACE_HINT).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil

from my_mcp_server.settings import Settings

from loadtest.profile_groups import Profile, render_markdown, summarize
from loadtest.run import PACKAGE, REPORTS, is_up, run_locust, started_server
from loadtest.scenarios import DEFAULT_ITEMS, SCENARIO_NAMES, users_for

PTRACE_HINT = (
    "py-spy may not read the server's memory (ptrace denied): grant SYS_PTRACE"
    " (docker run --cap-add SYS_PTRACE; Kubernetes: securityContext.capabilities.add:"
    " [SYS_PTRACE]; on a host: run as root or sysctl kernel.yama.ptrace_scope=0)"
)
_DENIED = ("Permission Denied", "Operation not permitted", "os error 1)", "ptrace")


class ProfilerError(SystemExit):
    pass


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise ProfilerError("py-spy not found: `make install` installs it (dev dependency)")
    return found


def server_root_pid(port: int) -> int:
    """The top process of the server listening on `port` (uvicorn's supervisor with workers)."""
    pids = {
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.pid and c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
    }
    if not pids:
        raise ProfilerError(
            f"no process of this user listens on port {port}: profile needs its pid"
        )
    root: int = min(pids, key=lambda pid: (psutil.Process(pid).ppid() in pids, pid))
    return root


def denied(stderr: str) -> bool:
    return any(word in stderr for word in _DENIED)


@contextmanager
def sampling(root_pid: int, name: str, rate: int) -> Iterator[list[Path]]:
    """py-spy on `root_pid` and its children until the block ends: a flame graph and the
    collapsed stacks (two samplers: py-spy writes one format per run)."""
    REPORTS.mkdir(exist_ok=True)
    outputs = [REPORTS / f"{name}.svg", REPORTS / f"{name}.txt"]
    samplers = []
    for output, fmt in zip(outputs, ("flamegraph", "raw"), strict=True):
        output.unlink(missing_ok=True)
        command = [
            py_spy(), "record", "--pid", str(root_pid), "--subprocesses", "--nonblocking",
            "--rate", str(rate), "--format", fmt, "--nolineno", "--output", str(output),
        ]  # fmt: skip
        samplers.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        )
    time.sleep(1.0)  # attached (or refused) before the load starts
    for sampler in samplers:
        if sampler.poll() is not None:
            _fail(sampler)
    try:
        yield outputs
    finally:
        for sampler in samplers:
            if sampler.poll() is None:
                sampler.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        for sampler in samplers:
            try:
                sampler.wait(timeout=60)
            except subprocess.TimeoutExpired:
                sampler.kill()
                sampler.wait()
            if sampler.returncode not in (0, -signal.SIGINT):
                _fail(sampler)


def _fail(sampler: subprocess.Popen[str]) -> None:
    stderr = sampler.stderr.read() if sampler.stderr else ""
    if denied(stderr):
        raise ProfilerError(PTRACE_HINT)
    raise ProfilerError(f"py-spy failed ({sampler.returncode}): {stderr.strip()[-500:]}")


def profile_server(
    url: str, root_pid: int, args: argparse.Namespace, items: int
) -> tuple[Profile, Path]:
    """Load + sampling; returns the summary and writes reports/<name>.md."""
    with sampling(root_pid, args.name, args.rate) as (svg, collapsed):
        code = run_locust(url, args.scenario, args.duration, args.users, f"{args.name}-load", items)
    if code not in (0, 1):  # 1: the SLA was missed, which does not spoil the profile
        raise ProfilerError(f"locust failed with exit code {code}")
    if not collapsed.is_file() or not svg.is_file():
        raise ProfilerError("py-spy wrote no profile: did the server run any Python code?")
    with collapsed.open() as stacks:
        profile = summarize(stacks, PACKAGE)
    report = REPORTS / f"{args.name}.md"
    lines = [
        f"# Where the time goes: scenario `{args.scenario}`, {args.users} users, {args.duration}",
        "",
        *render_markdown(profile),
        "",
        f"Flame graph: [{svg.name}]({svg.name}); collapsed stacks: [{collapsed.name}]"
        f"({collapsed.name}) (speedscope.app opens it).",
        "",
    ]
    report.write_text("\n".join(lines))
    return profile, report


def parser(description: str | None = __doc__) -> argparse.ArgumentParser:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="profile", description=description)
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="mixed")
    parser.add_argument("--duration", default="30s", help="locust run time, e.g. 30s, 2m")
    parser.add_argument(
        "--users", type=int, default=users_for(settings.sla_rps), help="default: sla_rps / 10"
    )
    parser.add_argument("--host", default=f"http://{settings.host}:{settings.port}")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="seeded items")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--name", default="profile", help="report file prefix under reports/")
    return parser


def print_profile(profile: Profile, report: Path) -> None:
    print("\n".join(render_markdown(profile)))
    print(f"\nreports: {report}, {report.with_suffix('.svg')}, {report.with_suffix('.txt')}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with ExitStack() as stack:
        url = args.host.rstrip("/")
        if is_up(url):
            root_pid = server_root_pid(int(url.rpartition(":")[2]))
        else:
            host, _, port = url.removeprefix("http://").partition(":")
            print(f"no server at {url}: starting one", flush=True)
            server = stack.enter_context(
                started_server(host, int(port or 80), os.environ, args.items)
            )
            assert server.process is not None
            url, root_pid = server.url, server.process.pid
        try:
            profile, report = profile_server(url, root_pid, args, args.items)
        except ProfilerError as error:
            print(error.code, file=sys.stderr)
            return 2
    print_profile(profile, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
