"""Observability: rule files pass promtool, every metric a dashboard or rule uses is exported by a
live server (every worker process of it), every alert has its runbook, and a tool call produces a
span tree."""

import asyncio
import gc
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from mcp import Client
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from my_mcp_server import app as app_module
from my_mcp_server import telemetry, worker_metrics
from my_mcp_server.resources import Resources
from my_mcp_server.server import build_server
from my_mcp_server.settings import Settings
from tests.conftest import ENV_PREFIX, Connect, call_tool, running_server

from loadtest.run import HTTP, SSL_CONTEXT, free_port

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "observability" / "prometheus"
DASHBOARDS = ROOT / "observability" / "grafana" / "dashboards"
RUNBOOKS = ROOT / "docs" / "runbooks"

# PromQL words that are not metric names (aggregators and functions are recognised by their "(").
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
KEYWORDS |= {"group_left", "group_right", "inf", "nan"}


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"]
    return groups


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    exprs = []
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            exprs += [target["expr"] for target in panel.get("targets", [])]
    return exprs


def metric_names(expr: str) -> set[str]:
    """Series names a PromQL expression selects: identifiers minus label values, label matchers,
    ranges, grouping label lists, durations, functions and keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\boffset\s+\w+", "", expr)
    names = re.findall(r"(?<![\w:.$])[A-Za-z_:][\w:]*\b(?!\s*\()", expr)
    return {name for name in names if name.lower() not in KEYWORDS}


def used_metric_names() -> set[str]:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    exprs = [rule["expr"] for rule in rules()] + dashboard_exprs()
    return {name for expr in exprs for name in metric_names(expr)} - recorded


def test_expression_parser_finds_metric_names() -> None:
    expr = 'sum by (job, le) (rate(a_total{x="y(z)"}[5m])) / b:rec offset 1h > 14.4 * 0.001 and c'
    assert metric_names(expr) == {"a_total", "b:rec", "c"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("MCP_TEMPLATE_REQUIRE_TOOLS"):
            pytest.fail("promtool not found and MCP_TEMPLATE_REQUIRE_TOOLS is set")
        pytest.skip("promtool not installed (Debian: apt-get install prometheus)")
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["check", "rules", "rules.yml"], ["test", "rules", "rules_test.yml"]]
)
def test_promtool(args: list[str]) -> None:
    done = subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_runbook_and_every_runbook_an_alert() -> None:
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    for name, rule in alerts.items():
        for key in ("summary", "description", "runbook_url"):
            assert rule["annotations"].get(key), f"{name} has no {key}"
        assert (ROOT / rule["annotations"]["runbook_url"]).is_file(), name
    assert {path.stem for path in RUNBOOKS.glob("*.md")} == set(alerts)


@pytest.mark.anyio
async def test_every_metric_in_dashboards_and_rules_is_exported(
    connect: Connect, base_url: str
) -> None:
    async with connect("auto") as client:
        for _ in range(3):
            assert not (await client.call_tool("server_info", {})).is_error
            await client.call_tool("fetch_upstream", {"path": "/status"})
            key = f"obs-{uuid.uuid4().hex[:8]}"
            await client.call_tool("put_item", {"key": key, "value": "v"})
            await client.call_tool("get_item", {"key": key})
    async with httpx.AsyncClient(timeout=10, verify=SSL_CONTEXT) as http:
        await http.get(base_url + "/readyz")
        scrape = await http.get(base_url + "/metrics")
    assert scrape.status_code == 200
    exported = {
        sample.name
        for family in text_string_to_metric_families(scrape.text)
        for sample in family.samples
    }
    used = used_metric_names()
    assert "mcp_server_operation_duration_seconds_bucket" in used
    assert used >= RUNTIME_METRICS, RUNTIME_METRICS - used  # dashboard panels or the lag alert
    assert used - exported == set()


# runtime_metrics.py and runtime_gauges.py's process figures, each reported by every worker.
RUNTIME_METRICS = {
    "cpython_gc_collections_total",
    "cpython_gc_collected_objects_total",
    "mcp_server_gc_pause_time_seconds_total",
    "process_open_file_descriptor_count",
    "process_memory_usage_bytes",
    "mcp_server_event_loop_lag_seconds",
}


def runtime_samples(exposition: str) -> dict[tuple[str, str, str], float]:
    """{(metric, worker, gc generation or ""): value} of the runtime metrics in one scrape."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name in RUNTIME_METRICS:
                generation = sample.labels.get("cpython_gc_generation", "")
                found[sample.name, sample.labels.get("worker", ""), generation] = sample.value
    return found


def tool_calls_by_worker(exposition: str) -> dict[str, float]:
    """tools/call count per `worker` label in one scrape."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            worker = sample.labels.get("worker", "")
            counts.setdefault(worker, 0.0)
            if (
                sample.name == "mcp_server_operation_duration_seconds_count"
                and sample.labels.get("mcp_method_name") == "tools/call"
            ):
                counts[worker] += sample.value
    return counts


@pytest.mark.slow
@pytest.mark.anyio
async def test_one_scrape_covers_every_worker_process(
    server_env: dict[str, str], auth_headers: dict[str, str], tmp_path: Path
) -> None:
    """With several workers, whichever one answers the scrape reports all of them, each labelled."""
    calls = 30
    # No keep-alive: every request is a new connection, accepted by whichever worker wins it.
    limits = httpx.Limits(max_keepalive_connections=0)
    with running_server(server_env, workers="2", metrics_dir=str(tmp_path)) as url:
        client = httpx.AsyncClient(base_url=url, timeout=10, limits=limits, verify=SSL_CONTEXT)
        async with client as http:
            for _ in range(calls):
                await call_tool(http, auth_headers, "server_info", {})
            # Other workers' figures are up to one snapshot interval old: soon every scrape,
            # whichever worker answers it, must show both workers (one may have served none of
            # the calls) and every call. Three intervals, not one: a loaded machine may delay a
            # snapshot, and without snapshots no wait is long enough.
            deadline = time.monotonic() + 3 * worker_metrics.SNAPSHOT_INTERVAL_S
            while True:
                scrapes = [
                    tool_calls_by_worker((await http.get("/metrics")).text) for _ in range(6)
                ]
                if time.monotonic() > deadline or all(
                    len(counts) == 2 and sum(counts.values()) == calls for counts in scrapes
                ):
                    break
                await asyncio.sleep(0.5)
            runtime = runtime_samples((await http.get("/metrics")).text)
    for counts in scrapes:
        assert len(counts) == 2, counts  # two pids, no unlabelled series
        assert sum(counts.values()) == calls, counts
    # GC, fds, RSS and lag per worker: every runtime metric for both pids, GC per generation.
    workers = set(scrapes[-1])
    for name in RUNTIME_METRICS:
        generations = ["0", "1", "2"] if name.startswith(("cpython_gc", "mcp_server_gc")) else [""]
        for worker in workers:
            for generation in generations:
                assert (name, worker, generation) in runtime, (name, worker, generation)
    for worker in workers:
        assert runtime["cpython_gc_collections_total", worker, "0"] > 0
        assert runtime["process_open_file_descriptor_count", worker, ""] >= 3  # stdio + socket
        assert runtime["process_memory_usage_bytes", worker, ""] > 10 * 2**20


@pytest.mark.slow
def test_metrics_can_move_to_their_own_port(server_env: dict[str, str]) -> None:
    port = free_port()
    with running_server(server_env, metrics_port=str(port)) as url:
        assert HTTP.get(url + "/metrics").status_code == 404
        scrape = HTTP.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert HTTP.get(url + "/healthz").status_code == 200
    assert scrape.status_code == 200
    names = {family.name for family in text_string_to_metric_families(scrape.text)}
    assert "process_memory_usage_bytes" in names, names


@pytest.mark.anyio
@pytest.mark.parametrize(("workers", "warned"), [(1, True), (2, False)])
async def test_a_taken_metrics_port_is_reported_by_a_lone_worker(
    caplog: pytest.LogCaptureFixture, workers: int, warned: bool
) -> None:
    """Several workers share the port (one binds it); a lone worker finding it taken says so."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with caplog.at_level(logging.DEBUG, logger=worker_metrics.__name__):
            async with worker_metrics.metrics_listener("127.0.0.1", port, workers):
                pass
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [f":{port}:" in r.getMessage() for r in warnings] == ([True] if warned else [])
    assert any(f":{port}:" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("server_settings")
def test_the_startup_heap_is_frozen_while_the_app_serves_and_released_after() -> None:
    """What start-up built is out of the collector's sight while serving (full collections stay
    short); once the app stops it is handed back, so nothing it held is kept for good."""
    with TestClient(app_module.create_app(Settings())) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


@pytest.mark.anyio
async def test_tool_call_span_has_client_children(
    server_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in server_env.items():
        if name.startswith(ENV_PREFIX):
            monkeypatch.setenv(name, value)
    exporter = InMemorySpanExporter()
    telemetry.enable_tracing(SimpleSpanProcessor(exporter))
    server = build_server(Resources(Settings()))
    key = f"span-{uuid.uuid4().hex[:8]}"
    async with Client(server) as client:
        await client.call_tool("put_item", {"key": key, "value": "v"})
        exporter.clear()
        result = await client.call_tool("get_item", {"key": key})
    assert not result.is_error, result.content
    tool_span = _only(exporter.get_finished_spans(), "tools/call get_item")
    assert tool_span.attributes is not None
    assert tool_span.attributes["gen_ai.tool.name"] == tool_span.name.split()[-1]
    children = _descendants(exporter.get_finished_spans(), tool_span)
    systems = {str((span.attributes or {}).get("db.system", "")) for span in children}
    assert "postgresql" in systems, [span.name for span in children]
    assert "redis" in systems, [span.name for span in children]


def _only(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    matching = [span for span in spans if span.name == name]
    assert len(matching) == 1, [span.name for span in spans]
    return matching[0]


def _descendants(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    ids = {root.context.span_id}
    found: list[ReadableSpan] = []
    grew = True
    while grew:
        grew = False
        for span in spans:
            if span.parent is not None and span.parent.span_id in ids and span not in found:
                assert span.context is not None
                ids.add(span.context.span_id)
                found.append(span)
                grew = True
    return found
