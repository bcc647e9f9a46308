"""`make perf-report`: the same scenario against the baseline and the optimized server.

baseline  = the naive server (loadtest/naive_server.py: caching off, a connection per database call)
optimized = the project's server as configured (pools, caches)

Each gets its own server process (same code, settings from the environment), the same
locust scenario, users and duration. The result is reports/performance.md, a before/after table
with the change in %, reports/latency.png (when matplotlib is installed), and where the optimized
server's CPU time goes (a short py-spy profile: reports/perf-profile.svg).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from my_mcp_server.settings import Settings

from loadtest import naive_server
from loadtest.cpu_profile import ProfilerError, profile_server
from loadtest.profile_groups import render_markdown as profile_table
from loadtest.run import (
    PACKAGE,
    REPORTS,
    ServerProcess,
    free_port,
    run_locust,
    started_server,
)
from loadtest.scenarios import DEFAULT_ITEMS, SCENARIO_NAMES, users_for

# A sample of the /metrics exposition: (sample name, its labels) -> value.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Figures:
    """What one run measured."""

    requests: int
    failures: int
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float
    peak_rss_mb: float | None
    cache_hit_rate: float | None
    pool_utilization: float | None
    sla_met: bool

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def read_aggregated(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                return row
    raise SystemExit(f"{stats_csv} has no Aggregated row: did locust run?")


def parse_metrics(text: str) -> Samples:
    """Every sample of a Prometheus text exposition ("" when the server has no /metrics)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _sum(values: Samples, name: str, **labels: str) -> float | None:
    """Sum of the samples `name` that carry every given label (None if there is none)."""
    found = [v for (sample, have), v in values.items() if sample == name and labels.items() <= have]
    return sum(found) if found else None


def cache_hit_rate(before: Samples, after: Samples) -> float | None:
    """Share of lookups served by L1 or L2 during the run (every lookup starts at L1)."""

    def delta(**labels: str) -> float:
        name = "mcp_server_cache_lookups_total"
        return (_sum(after, name, **labels) or 0.0) - (_sum(before, name, **labels) or 0.0)

    lookups = delta(cache_layer="l1")
    if lookups <= 0:
        return None
    hits = delta(cache_layer="l1", cache_result="hit") + delta(cache_layer="l2", cache_result="hit")
    return hits / lookups


def pool_utilization(values: Samples) -> float | None:
    """Connections in use / largest pool size, from the db.client.connection gauges."""
    used = _sum(values, "db_client_connection_count", db_client_connection_state="used")
    size = _sum(values, "db_client_connection_max")
    if used is None or not size:
        return None
    return used / size


class PoolSampler:
    """Samples pool utilization from /metrics once a second while locust runs."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: list[float] = []

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            utilization = pool_utilization(parse_metrics(self._server.metrics()))
            if utilization is not None:
                self.samples.append(utilization)

    def __enter__(self) -> PoolSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def measure(name: str, module: str, args: argparse.Namespace, *, seeded: bool) -> Figures:
    """One locust run against the server `module` serves (the project's or the naive one)."""
    settings = Settings()
    port = free_port()
    with started_server(
        settings.host, port, os.environ, args.items, seeded=seeded, module=module
    ) as server:
        before = parse_metrics(server.metrics())
        with PoolSampler(server) as pool:
            code = run_locust(
                server.url, args.scenario, args.duration, args.users, f"perf-{name}", args.items
            )
        after = parse_metrics(server.metrics())
        rss = server.peak_rss_bytes()
    row = read_aggregated(REPORTS / f"perf-{name}_stats.csv")
    return Figures(
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        avg_ms=float(row["Average Response Time"]),
        p50_ms=float(row["50%"]),
        p95_ms=float(row["95%"]),
        p99_ms=float(row["99%"]),
        rps=float(row["Requests/s"]),
        peak_rss_mb=None if rss is None else rss / 2**20,
        cache_hit_rate=cache_hit_rate(before, after),
        pool_utilization=pool.mean,
        sla_met=code == 0,
    )


def _change(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "n/a"
    if before == 0:
        return "n/a" if after == 0 else "new"
    return f"{(after - before) / before:+.1%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _num(unit: str) -> Callable[[float | None], str]:
    return lambda value: "n/a" if value is None else f"{value:,.1f} {unit}"


Row = tuple[str, Callable[[Figures], float | None], Callable[[float | None], str]]
ROWS: list[Row] = [
    ("avg latency", lambda f: f.avg_ms, _ms),
    ("p50 latency", lambda f: f.p50_ms, _ms),
    ("p95 latency", lambda f: f.p95_ms, _ms),
    ("p99 latency", lambda f: f.p99_ms, _ms),
    ("throughput", lambda f: f.rps, _num("rps")),
    ("error rate", lambda f: f.error_rate, _pct),
    ("peak RSS", lambda f: f.peak_rss_mb, _num("MiB")),
    ("cache hit rate", lambda f: f.cache_hit_rate, _pct),
    ("pool utilization (mean)", lambda f: f.pool_utilization, _pct),
]


def where_the_time_goes(args: argparse.Namespace) -> list[str]:
    """A short py-spy profile of the optimized server under the same scenario (make profile)."""
    settings = Settings()
    run = argparse.Namespace(
        scenario=args.scenario,
        duration=args.profile_duration,
        users=args.users,
        rate=100,
        name="perf-profile",
    )
    heading = ["## Where the time goes", ""]
    with started_server(settings.host, free_port(), os.environ, args.items, seeded=False) as server:
        assert server.process is not None
        try:
            profile, _ = profile_server(server.url, server.process.pid, run, args.items)
        except ProfilerError as error:
            return [*heading, f"No profile: {error.code}", ""]
    return [
        *heading,
        f"py-spy sampling the optimized server (every worker) for {args.profile_duration} of the"
        " same scenario; own time is the time a function is on the CPU itself (`make profile`).",
        "",
        *profile_table(profile),
        "",
        "Flame graph: [perf-profile.svg](perf-profile.svg); collapsed stacks:"
        " [perf-profile.txt](perf-profile.txt) (speedscope.app opens it).",
        "",
    ]


def render_markdown(
    base: Figures, best: Figures, args: argparse.Namespace, profile: Sequence[str] = ()
) -> str:
    table = [
        f"| {label} | {show(get(base))} | {show(get(best))} | {_change(get(base), get(best))} |"
        for label, get, show in ROWS
    ]
    table.append(f"| SLA met | {_yes(base.sla_met)} | {_yes(best.sla_met)} | |")
    s = Settings()
    lines = [
        "# Performance report",
        "",
        f"Scenario `{args.scenario}`, {args.users} users for {args.duration} each,"
        f" SLA p95 {s.sla_p95_ms} ms / p99 {s.sla_p99_ms} ms at {s.sla_rps} rps,"
        f" error rate <= {s.sla_error_rate:.2%}.",
        "",
        f"- **baseline**: {naive_server.DESCRIPTION}.",
        "- **optimized**: the default configuration (pools, caches).",
        "",
        "| metric | baseline | optimized | change |",
        "| --- | ---: | ---: | ---: |",
        *table,
        "",
        "How to read it: latencies are measured by locust on the client, so they include the",
        "HTTP round trip; the load generator runs on the same machine as the server. Throughput",
        "is what was achieved against the offered load (sla_rps); a server that keeps up shows",
        "the same throughput in both columns and the difference is in the latencies. Peak RSS",
        "is the server's high-water mark (all workers). Cache hit rate and pool utilization",
        "(mean of 1 s samples) come from the server's /metrics; n/a: it exposes no such metric.",
        "",
    ]
    if (REPORTS / "latency.png").exists():
        lines += ["![latency](latency.png)", ""]
    lines += profile
    return "\n".join(lines)


def _yes(met: bool) -> str:
    return "yes" if met else "no"


def p95_over_time(history_csv: Path) -> tuple[list[float], list[float]]:
    """(seconds since start, p95 ms of the last window) from locust's stats history."""
    seconds: list[float] = []
    p95: list[float] = []
    with history_csv.open(newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["Name"] == "Aggregated"]
    start = float(rows[0]["Timestamp"]) if rows else 0.0
    for row in rows:
        if row["Total Request Count"] != "0" and row["95%"] not in ("N/A", ""):
            seconds.append(float(row["Timestamp"]) - start)
            p95.append(float(row["95%"]))
    return seconds, p95


def draw_chart(base: Figures, best: Figures, path: Path) -> bool:
    """Latency before/after: percentiles, and p95 over the run; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sla_p95_ms = Settings().sla_p95_ms
    labels = ["avg", "p50", "p95", "p99"]
    before = [base.avg_ms, base.p50_ms, base.p95_ms, base.p99_ms]
    after = [best.avg_ms, best.p50_ms, best.p95_ms, best.p99_ms]
    positions = range(len(labels))
    figure, (bars, timeline) = plt.subplots(1, 2, figsize=(11, 4))
    bars.bar([p - 0.2 for p in positions], before, width=0.4, label="baseline")
    bars.bar([p + 0.2 for p in positions], after, width=0.4, label="optimized")
    bars.axhline(sla_p95_ms, color="red", linestyle="--", label="SLA p95")
    bars.set_xticks(list(positions), labels)
    bars.set_ylabel("latency (ms)")
    bars.set_title("Tool-call latency over the run")
    bars.legend()
    for name in ("baseline", "optimized"):
        seconds, p95 = p95_over_time(REPORTS / f"perf-{name}_stats_history.csv")
        timeline.plot(seconds, p95, label=name)
    timeline.axhline(sla_p95_ms, color="red", linestyle="--", label="SLA p95")
    timeline.set_xlabel("seconds")
    timeline.set_ylabel("p95 latency (ms)")
    timeline.set_title("p95 over time")
    timeline.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="perf-report", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="mixed")
    parser.add_argument("--duration", default="30s")
    parser.add_argument("--users", type=int, default=users_for(settings.sla_rps))
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS)
    parser.add_argument("--profile-duration", default="10s", help="py-spy profile, optimized")
    args = parser.parse_args(argv)

    # Optimized first: it seeds the database quickly; the naive server then reads the same data.
    best = measure("optimized", PACKAGE, args, seeded=True)
    base = measure("baseline", naive_server.__name__, args, seeded=False)
    profile = where_the_time_goes(args)
    REPORTS.mkdir(exist_ok=True)
    if not draw_chart(base, best, REPORTS / "latency.png"):
        print("matplotlib not installed: no chart (uv sync installs it with the dev group)")
    report = REPORTS / "performance.md"
    report.write_text(render_markdown(base, best, args, profile))
    print(report.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
