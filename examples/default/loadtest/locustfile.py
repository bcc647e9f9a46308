"""Locust load test: MCP clients calling tools over Streamable HTTP, gated by the SLA.

Each simulated client sends raw JSON-RPC POSTs through locust's FastHttpUser (geventhttpclient),
so the load generator stays cheaper than the server it measures. The requests are exactly what
the official `mcp` client sends in protocol revision 2026-07-28: one self-contained POST per call,
no session, the routing headers and the `_meta` envelope.

    uv run locust -f loadtest/locustfile.py --headless -u 50 -t 30s --host http://127.0.0.1:8000 \
        --scenario mixed

`make loadtest` does this (and starts a seeded server if none is running). At the end the run is
checked against the SLA (loadtest/sla.py) and locust exits 1 with a one-line reason if it missed.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task
from locust.env import Environment

from my_mcp_server.settings import Settings

from loadtest.mcp_wire import call_error, request_headers, tools_call_body
from loadtest.scenarios import (
    DEFAULT_ITEMS,
    PER_USER_RPS,
    SCENARIO_NAMES,
    SPIKE_FACTOR,
    Scenario,
    build_scenarios,
)
from loadtest.sla import Measured, SlaTargets, verdict


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--scenario",
        choices=SCENARIO_NAMES,
        default="mixed",
        env_var="LOCUST_SCENARIO",
        help="which mix of tool calls to send (loadtest/scenarios.py)",
    )
    parser.add_argument(
        "--unpaced",
        action="store_true",
        env_var="LOCUST_UNPACED",
        help="send calls back to back instead of PER_USER_RPS per user: measures capacity",
    )
    parser.add_argument(
        "--items",
        type=int,
        default=DEFAULT_ITEMS,
        env_var="LOCUST_ITEMS",
        help="how many seeded keys the reads spread over",
    )


def sla_targets() -> SlaTargets:
    """The server's own SLA settings: the copier answers, overridable like any setting."""
    s = Settings()
    return SlaTargets(
        p95_ms=s.sla_p95_ms, p99_ms=s.sla_p99_ms, rps=s.sla_rps, error_rate=s.sla_error_rate
    )


_paced = constant_throughput(PER_USER_RPS)


class McpUser(FastHttpUser):
    """One MCP client, pacing itself to PER_USER_RPS calls per second."""

    # Raw sockets kept alive; the server, not the client, should be the limit.
    connection_timeout = 10.0
    network_timeout = 30.0
    _ids = itertools.count(1)

    def wait_time(self) -> float:
        return 0.0 if self.unpaced else float(_paced(self))

    def on_start(self) -> None:
        options = self.environment.parsed_options
        scenario = options.scenario if options else "mixed"
        items = options.items if options else DEFAULT_ITEMS
        self.scenario: Scenario = build_scenarios(items)[scenario]
        self.rng = random.Random()
        self.unpaced = bool(options and options.unpaced)
        self.headers: dict[str, dict[str, str]] = {}

    @task
    def call_tool(self) -> None:
        call = self.scenario.next_call(self.rng)
        headers = self.headers.get(call.tool)
        if headers is None:
            headers = self.headers[call.tool] = request_headers(call.tool)
        with self.client.post(
            "/mcp",
            data=tools_call_body(next(self._ids), call),
            headers=headers,
            name=call.label,
            catch_response=True,
        ) as response:
            error = call_error(
                response.status_code or 0,
                response.headers.get("content-type", "") if response.headers else "",
                response.content or b"",
            )
            if error:
                response.failure(error)
            else:
                response.success()


class ScenarioShape(LoadTestShape):
    """-u users for the whole run (-t, 60 s if not given), except for `spike`.

    `spike` holds -u users for the first quarter, ramps to SPIKE_FACTOR times as many and holds
    them until three quarters of the run, then drops back: does the SLA survive a burst?
    """

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        assert options is not None
        users = int(options.num_users or 1)
        rate = float(options.spawn_rate or users)
        total_s = float(options.run_time or 60)
        run_s = self.get_run_time()
        if run_s >= total_s:
            return None  # locust waits for the shape in headless runs: it decides the end
        if options.scenario != "spike":
            return users, rate
        share = run_s / total_s
        peak = round(users * SPIKE_FACTOR)
        if share < 0.25 or share >= 0.75:
            return users, float(peak)
        # Ramp from 1x to the peak over 10% of the run, then hold it.
        ramp_s = max(total_s * 0.1, 1.0)
        return peak, max((peak - users) / ramp_s, 1.0)


class SlaGate:
    """Decides locust's exit code while it quits; prints the reason after its summary tables."""

    def __init__(self) -> None:
        self.line = ""

    def on_quitting(self, environment: Environment, **_: Any) -> None:
        total = environment.stats.total
        measured = Measured(
            requests=total.num_requests,
            failures=total.num_failures,
            p95_ms=total.get_response_time_percentile(0.95) or 0.0,
            p99_ms=total.get_response_time_percentile(0.99) or 0.0,
            rps=total.total_rps,
        )
        met, self.line = verdict(sla_targets(), measured)
        environment.process_exit_code = 0 if met else 1

    def on_quit(self, **_: Any) -> None:
        # Last, so the reason is the line a reader sees at the bottom of the run.
        if self.line:
            print(self.line, flush=True)


GATE = SlaGate()
events.quitting.add_listener(GATE.on_quitting)
events.quit.add_listener(GATE.on_quit)
