"""Logic of the load test: the SLA gate's verdicts, the scenarios' call mixes, and how a
started server is told from another program on its port."""

import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from loadtest.run import listens
from loadtest.scenarios import SCENARIO_NAMES, ZipfKeys, build_scenarios, users_for
from loadtest.sla import THROUGHPUT_TOLERANCE, Measured, SlaTargets, verdict, violations

TARGETS = SlaTargets(p95_ms=100, p99_ms=250, rps=500, error_rate=0.001)
GOOD = Measured(requests=10_000, failures=5, p95_ms=40, p99_ms=90, rps=505)


def test_a_run_within_every_target_meets_the_sla() -> None:
    met, line = verdict(TARGETS, GOOD)
    assert met
    assert line.startswith("SLA met")
    assert violations(TARGETS, GOOD) == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"p95_ms": 101}, "p95 101 ms > 100 ms"),
        ({"p99_ms": 300}, "p99 300 ms > 250 ms"),
        ({"failures": 11}, "error rate 0.1100% > 0.1000%"),
        ({"rps": 500 * THROUGHPUT_TOLERANCE - 1}, "throughput 449.0 rps < 500 rps"),
        ({"requests": 0, "failures": 0}, "no request completed"),
    ],
)
def test_each_missed_target_fails_with_its_reason(changes: dict[str, float], reason: str) -> None:
    measured = Measured(**{**GOOD.__dict__, **changes})
    met, line = verdict(TARGETS, measured)
    assert not met
    assert line.startswith("SLA MISSED: ")
    assert reason in line
    assert "\n" not in line


def test_every_missed_target_is_named_on_the_one_line() -> None:
    bad = Measured(requests=100, failures=50, p95_ms=900, p99_ms=2000, rps=10)
    assert len(violations(TARGETS, bad)) == 4


def test_the_met_line_states_the_throughput_bar_it_applied() -> None:
    """Within the tolerance, the line must not claim the run reached the full target rate."""
    measured = Measured(**{**GOOD.__dict__, "rps": 495.7})
    met, line = verdict(TARGETS, measured)
    assert met
    assert "495.7 rps >= 450 (500 x0.9 tolerance)" in line, line


def test_targets_are_inclusive_bounds() -> None:
    edge = Measured(requests=1000, failures=1, p95_ms=100, p99_ms=250, rps=500)
    assert verdict(TARGETS, edge)[0]


def test_zipf_keys_are_skewed_towards_low_ranks_and_stay_in_range() -> None:
    keys = ZipfKeys(1000)
    rng = random.Random(7)
    counts = Counter(keys.rank(rng) for _ in range(20_000))
    assert min(counts) >= 1
    assert max(counts) <= 1000
    top_ten = sum(counts[rank] for rank in range(1, 11))
    assert top_ten > 0.3 * 20_000  # uniform would give 1%
    assert counts[1] > counts[10] > counts[100]


def test_every_scenario_exists_and_mixed_is_mostly_reads() -> None:
    scenarios = build_scenarios(items=100)
    assert set(scenarios) == set(SCENARIO_NAMES)
    rng = random.Random(3)
    tools = Counter(scenarios["mixed"].next_call(rng).tool for _ in range(5000))
    assert set(tools) == {"get_item", "put_item"}
    assert 0.85 < tools["get_item"] / 5000 < 0.95
    assert scenarios["spike"].spike
    assert not scenarios["mixed"].spike


def test_reads_use_the_seeded_key_format() -> None:
    rng = random.Random(1)
    hot = build_scenarios(items=50)["hot"]
    keys = {hot.next_call(rng).arguments["key"] for _ in range(500)}
    assert "item-000001" in keys
    assert all(key.startswith("item-0000") and 1 <= int(key[5:]) <= 50 for key in keys)


def test_users_offer_the_target_rate() -> None:
    assert users_for(500) == 50
    assert users_for(1) == 1


def test_perf_report_reads_cache_and_pool_figures_from_metrics() -> None:
    from loadtest.perf_report import cache_hit_rate, parse_metrics, pool_utilization

    lookups = "mcp_server_cache_lookups_total"
    before = parse_metrics(
        f'{lookups}{{cache_layer="l1",cache_result="hit"}} 10\n'
        f'{lookups}{{cache_layer="l1",cache_result="miss"}} 10\n'
    )
    after = parse_metrics(
        f"# HELP {lookups} Cache lookups by layer and result\n"
        f'{lookups}{{cache_layer="l1",cache_result="hit",worker="1"}} 80\n'
        f'{lookups}{{cache_layer="l1",cache_result="miss",worker="1"}} 40\n'
        f'{lookups}{{cache_layer="l2",cache_result="hit",worker="1"}} 20\n'
        f'{lookups}{{cache_layer="l2",cache_result="miss",worker="1"}} 10\n'
        'db_client_connection_count{db_client_connection_state="used"} 3\n'
        'db_client_connection_count{db_client_connection_state="idle"} 9\n'
        "db_client_connection_max 12\n"
    )
    # 100 lookups during the run: 70 L1 hits, 20 L2 hits, 10 went to the loader.
    assert cache_hit_rate(before, after) == 90 / 100
    assert pool_utilization(after) == 0.25
    assert cache_hit_rate({}, {}) is None
    assert pool_utilization({}) is None


LISTEN_THEN_WAIT = """
import socket, time
held = socket.create_server(("127.0.0.1", 0))
print(held.getsockname()[1], flush=True)
time.sleep(60)
"""


def test_a_port_is_a_servers_only_while_it_or_a_child_of_it_listens_there() -> None:
    """The readiness probes ask a server only once it holds its port: a program that took the
    port first (another suite's metrics listener, say) would answer them too."""
    server = subprocess.Popen([sys.executable, "-c", LISTEN_THEN_WAIT], stdout=subprocess.PIPE)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        assert listens(server.pid, port)
        assert listens(os.getpid(), port)  # through its child, as `make run` starts the server
        assert not listens(stranger.pid, port)
    finally:
        for process in (server, stranger):
            process.kill()
            process.wait()
    assert not listens(os.getpid(), port)
