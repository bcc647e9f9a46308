"""`make profile-memory`: a memory profile of one worker under load, then a leak check.

Profile (memray, `--duration` of locust with the scenario): a server with one worker runs under
`memray run`; its allocations are compared with an idle start/stop of the same server, so
"allocations per tool call" excludes start-up (memray counts calls to the system allocator: the
many small objects Python's own allocator serves from its pools are not among them). Writes reports/memory.bin (memray's capture:
`memray flamegraph|table|tree` read it), reports/memory-flamegraph.html and prints the peak, the
top allocation sites by size and by count.

Leak check: another one-worker server with tracemalloc on (`tracemalloc_frames`) takes a warm-up
of the mixed calls, then `leak_check_calls` more (at most `leak_check_max_s` seconds), while its
RSS is sampled every second. The server writes a tracemalloc snapshot on SIGUSR1 (runtime_metrics.py) after
the warm-up and at the end. Exit code 1 when RSS, or the traced Python heap, grew by more than
`leak_check_max_growth` of the warm RSS; the top growing allocation sites are printed either way.
The bounded caches are shrunk for the check (`LEAK_CHECK_L1_ITEMS`), so the warm-up fills them:
a full cache is not a leak, growth past it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from my_mcp_server.settings import Settings

from loadtest.mcp_wire import call_error, request_headers, tools_call_body
from loadtest.perf_report import read_aggregated
from loadtest.run import ENV_PREFIX, PACKAGE, REPORTS, free_port, run_locust, started_server
from loadtest.scenarios import DEFAULT_ITEMS, SCENARIO_NAMES, build_scenarios, users_for

LEAK_CHECK_L1_ITEMS = 1_000
# Deeper tracebacks name the caller of a growing site but slow every allocation further.
TRACEMALLOC_FRAMES = 5
IN_FLIGHT = 16


def one_worker_env(**settings: str) -> dict[str, str]:
    env = {**os.environ, ENV_PREFIX + "WORKERS": "1"}
    env.update({ENV_PREFIX + name.upper(): value for name, value in settings.items()})
    return env


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for process {pid}: the leak check needs Linux /proc")


# --- memray profile -------------------------------------------------------------------------


def memray_stats(capture: Path) -> dict[str, object]:
    """memray's summary of a capture (peak, totals, top sites) as a dict."""
    out = capture.with_suffix(".json")
    command = [sys.executable, "-m", "memray", "stats", "--json", "-f", "-o", str(out)]
    _run([*command, "-n", "100", str(capture)])
    stats: dict[str, object] = json.loads(out.read_text())
    return stats


def _run(command: Sequence[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])} failed: {done.stderr.strip()[-500:]}")


def memray_capture(
    name: str, env: Mapping[str, str], args: argparse.Namespace, *, load: bool
) -> tuple[Path, int]:
    """A one-worker server under memray; with `load`, locust runs the scenario against it.
    Returns the capture file and the calls made."""
    settings = Settings()
    capture = REPORTS / f"{name}.bin"
    launcher = ("-m", "memray", "run", "--force", "--output", str(capture))
    with started_server(
        settings.host, free_port(), env, args.items, seeded=False, launcher=launcher
    ) as server:
        calls = 0
        if load:
            run_locust(server.url, args.scenario, args.duration, args.users, name, args.items)
            calls = int(read_aggregated(REPORTS / f"{name}_stats.csv")["Request Count"])
    return capture, calls


def memory_profile(args: argparse.Namespace) -> list[str]:
    REPORTS.mkdir(exist_ok=True)
    env = one_worker_env()
    idle, _ = memray_capture("memory-idle", env, args, load=False)
    busy, calls = memray_capture("memory", env, args, load=True)
    _run([sys.executable, "-m", "memray", "flamegraph", "-f", "-o",
          str(REPORTS / "memory-flamegraph.html"), str(busy)])  # fmt: skip
    idle_stats, stats = memray_stats(idle), memray_stats(busy)
    allocations = int(str(stats["total_num_allocations"]))
    per_call = (allocations - int(str(idle_stats["total_num_allocations"]))) / max(calls, 1)
    lines = [
        f"## Memory: one worker, scenario `{args.scenario}`, {args.duration} ({calls} calls)",
        "",
        f"- peak memory (memray, heap): {_peak(stats) / 2**20:.1f} MiB",
        f"- allocations (system allocator): {allocations:,}"
        f" ({per_call:,.0f} per tool call, start-up excluded)",
        "",
        "Top allocation sites under load (bytes allocated, idle start/stop subtracted):",
        "",
        *_sites(stats, idle_stats, "top_allocations_by_size", "MiB"),
        "",
        "Top allocation sites under load (allocations, idle start/stop subtracted):",
        "",
        *_sites(stats, idle_stats, "top_allocations_by_count", "allocations"),
        "",
        "Flame graph of live memory at the peak: memory-flamegraph.html; capture: memory.bin.",
    ]
    return lines


def _peak(stats: Mapping[str, object]) -> int:
    metadata = stats.get("metadata")
    return int(metadata.get("peak_memory", 0)) if isinstance(metadata, dict) else 0


def _sites(
    stats: Mapping[str, object], idle: Mapping[str, object], key: str, unit: str, n: int = 10
) -> list[str]:
    """The sites that allocated most under load: the busy run's figure minus the idle run's."""
    field = "size" if unit == "MiB" else "count"

    def by_location(source: Mapping[str, object]) -> dict[str, float]:
        rows = source.get(key)
        if not isinstance(rows, list):
            return {}
        return {str(row["location"]): float(row[field]) for row in rows}

    before = by_location(idle)
    load = {loc: value - before.get(loc, 0.0) for loc, value in by_location(stats).items()}
    top = sorted(((v, loc) for loc, v in load.items() if v > 0), reverse=True)[:n]
    if not top:
        return ["(none above the idle run's)"]
    if unit == "MiB":
        return [f"- {value / 2**20:,.2f} MiB: {location}" for value, location in top]
    return [f"- {value:,.0f} {unit}: {location}" for value, location in top]


# --- leak check --------------------------------------------------------------------------------


class RssSampler:
    """RSS of `pid` once a second while the block runs (the peak shows a transient bloat)."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: list[int] = []

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append(rss_bytes(self._pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class LeakResult:
    calls: int
    seconds: float
    rss_warm: int
    rss_end: int
    traced_warm: int
    traced_end: int
    growing: list[str]
    max_growth: float
    rss_peak: int

    @property
    def rss_growth(self) -> float:
        return (self.rss_end - self.rss_warm) / self.rss_warm

    @property
    def traced_growth(self) -> float:
        return (self.traced_end - self.traced_warm) / self.rss_warm

    @property
    def leaks(self) -> bool:
        return max(self.rss_growth, self.traced_growth) > self.max_growth

    def lines(self) -> list[str]:
        verdict = "FAILED: memory grows" if self.leaks else "passed"
        return [
            f"## Leak check {verdict}",
            "",
            f"After the warm-up, {self.calls:,} calls in {self.seconds:.0f} s"
            f" (allowed growth {self.max_growth:.1%} of the warm RSS):",
            "",
            f"- RSS: {self.rss_warm / 2**20:.1f} -> {self.rss_end / 2**20:.1f} MiB"
            f" ({self.rss_growth:+.2%}), peak {self.rss_peak / 2**20:.1f} MiB (1 s samples)",
            f"- traced Python heap: {self.traced_warm / 2**20:.1f} ->"
            f" {self.traced_end / 2**20:.1f} MiB ({self.traced_growth:+.2%} of the warm RSS)",
            "",
            "Top growing allocation sites (tracemalloc, after the warm-up):",
            "",
            *(f"- {site}" for site in self.growing),
        ]


async def drive(url: str, calls: int, deadline: float, items: int, seed: int) -> int:
    """`calls` mixed-scenario tool calls, IN_FLIGHT at a time, until `deadline`; returns done."""
    scenario = build_scenarios(items)["mixed"]
    rng = random.Random(seed)
    done = 0
    queue = iter(range(calls))

    failed = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal done, failed
        for request_id in queue:
            if time.monotonic() > deadline:
                return
            call = scenario.next_call(rng)
            try:
                response = await http.post(
                    "/mcp",
                    content=tools_call_body(request_id, call),
                    headers=request_headers(call.tool),
                )
            except httpx.TransportError:
                failed += 1  # a cut connection: the memory figures still count
                continue
            error = call_error(
                response.status_code, response.headers.get("content-type", ""), response.content
            )
            if error and response.status_code >= 500:
                failed += 1  # e.g. a request timeout on a busy machine
                continue
            done += 1

    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(worker(http) for _ in range(IN_FLIGHT)))
    if failed > done // 100:
        raise SystemExit(f"{failed} of {done + failed} leak-check calls failed (HTTP 5xx or cut)")
    return done


def snapshot(pid: int, directory: Path, timeout_s: float = 60) -> tracemalloc.Snapshot:
    """Ask the server for a tracemalloc snapshot (SIGUSR1) and load it."""
    before = set(directory.glob("*.tracemalloc"))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = set(directory.glob("*.tracemalloc")) - before
        if new:
            return tracemalloc.Snapshot.load(str(new.pop()))
        time.sleep(0.1)
    raise SystemExit(f"the server wrote no tracemalloc snapshot within {timeout_s:g} s")


def growing_sites(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int = 10
) -> list[str]:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diffs = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    out = []
    own = f"/{PACKAGE}/"
    for diff in [diff for diff in diffs if diff.size_diff > 0][:n]:
        innermost = diff.traceback[-1]  # frames run from the oldest to the most recent
        site = f"{innermost.filename}:{innermost.lineno}"
        caller = next((f for f in reversed(diff.traceback) if own in f.filename), None)
        if caller is not None and caller != innermost:
            site += f" (from {caller.filename}:{caller.lineno})"
        out.append(f"{diff.size_diff / 1024:+,.1f} KiB in {diff.count_diff:+,} blocks: {site}")
    return out


def leak_check(
    args: argparse.Namespace, env_overrides: Mapping[str, str] | None = None
) -> LeakResult:
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="leak-check-") as tmp:
        directory = Path(tmp)
        # Throughput is not what is checked: waits sized for the SLA would refuse calls on a
        # busy machine, and tracemalloc slows every call.
        patient = {"db_acquire_timeout_s": "10", "request_timeout_s": "60"}
        env = one_worker_env(
            tracemalloc_frames=str(args.frames),
            memory_snapshot_dir=tmp,
            cache_l1_max_items=str(LEAK_CHECK_L1_ITEMS),
            **patient,
        )
        env.update(env_overrides or {})
        # Seeding (when asked) comes before the warm-up, so what it allocates is in the baseline.
        with started_server(
            settings.host, free_port(), env, args.items, seeded=args.seed
        ) as server:
            assert server.process is not None
            pid = server.process.pid
            print(f"leak check: warm-up of {args.warmup:,} calls", flush=True)
            far = time.monotonic() + args.max_s
            asyncio.run(drive(server.url, args.warmup, far, args.items, seed=1))
            warm = snapshot(pid, directory)
            rss_warm = rss_bytes(pid)
            print(f"leak check: up to {args.calls:,} calls, at most {args.max_s:g} s", flush=True)
            start = time.monotonic()
            with RssSampler(pid) as sampler:
                done = asyncio.run(
                    drive(server.url, args.calls, start + args.max_s, args.items, seed=2)
                )
            seconds = time.monotonic() - start
            end = snapshot(pid, directory)
            rss_end = rss_bytes(pid)
    return LeakResult(
        calls=done,
        seconds=seconds,
        rss_warm=rss_warm,
        rss_end=rss_end,
        traced_warm=sum(stat.size for stat in warm.statistics("filename")),
        traced_end=sum(stat.size for stat in end.statistics("filename")),
        growing=growing_sites(warm, end),
        max_growth=args.max_growth,
        rss_peak=max([rss_warm, rss_end, *sampler.samples]),
    )


def parser() -> argparse.ArgumentParser:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="profile-memory", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="mixed")
    parser.add_argument("--duration", default="30s", help="memray profile's locust run time")
    parser.add_argument("--users", type=int, default=users_for(settings.sla_rps))
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS)
    parser.add_argument("--calls", type=int, default=settings.leak_check_calls)
    parser.add_argument("--warmup", type=int, default=None, help="default: calls / 10, >= 1000")
    parser.add_argument("--max-s", type=float, default=settings.leak_check_max_s)
    parser.add_argument("--max-growth", type=float, default=settings.leak_check_max_growth)
    parser.add_argument("--frames", type=int, default=TRACEMALLOC_FRAMES, help="tracemalloc depth")
    parser.add_argument("--no-profile", action="store_true", help="only the leak check")
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="already seeded")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.warmup is None:
        args.warmup = max(1_000, args.calls // 10)
    # The leak check runs first: it seeds the database the memray runs then read.
    result = leak_check(args)
    lines = result.lines()
    if not args.no_profile:
        lines = [*memory_profile(args), "", *lines]
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / "memory.md"
    report.write_text("\n".join(["# Memory profile", "", *lines, ""]))
    print("\n".join(lines))
    print(f"\nreport: {report}")
    return 1 if result.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
