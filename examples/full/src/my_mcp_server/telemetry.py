"""OpenTelemetry metrics and traces, set up once per process.

Metrics: one MeterProvider feeds a private prometheus_client registry, served on /metrics for
Prometheus (or a collector's Prometheus receiver) to scrape. Every module records through the
global OTel API (`metrics.get_meter(__name__)`), so nothing imports this module to be measured;
the per-request duration histogram is the one exception, kept as plain counts for the hot path
(tool_metrics.py) and added to the same registry.

Traces: the mcp SDK already opens one SERVER span per MCP message (its span middleware); this
module only installs the TracerProvider it reports to, plus the official httpx, asyncpg, redis
instrumentations whose spans nest under it. That happens only when OTEL_EXPORTER_OTLP_ENDPOINT
names a collector (spans go there over OTLP): without one the API stays a no-op and tracing
costs nothing.

The `/metrics` body, one worker's or all workers', is worker_metrics.py's; the process's own
health gauges (event-loop lag, memory, readiness) are runtime_gauges.py's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from prometheus_client import CollectorRegistry

from my_mcp_server import __version__, worker_metrics
from my_mcp_server.settings import Settings
from my_mcp_server.tool_metrics import operation_duration

SERVICE_NAME = "my_mcp_server"
# Pool waits and cache loads: milliseconds matter, seconds already break the SLA.
WAIT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _State:
    tracer_provider: TracerProvider | None = None


def _otlp_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _resource() -> Resource:
    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES still override these.
    return Resource.create({"service.name": SERVICE_NAME, "service.version": __version__})


def setup(settings: Settings) -> None:
    """Install the providers once per process (every worker calls this when it builds its app)."""
    if worker_metrics.configured() or not settings.telemetry_enabled:
        return
    registry = CollectorRegistry(auto_describe=True)
    # Metrics are scraped from /metrics (Prometheus, or a collector's Prometheus receiver); OTLP
    # carries spans only.
    reader = PrometheusMetricReader(
        disable_target_info=True, scope_info_enabled=False, registry=registry
    )
    registry.register(operation_duration)
    if _otlp_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        enable_tracing(BatchSpanProcessor(OTLPSpanExporter()))
    seconds = ExplicitBucketHistogramAggregation(WAIT_BUCKETS_S)
    views = [
        View(instrument_name="db.client.connection.wait_time", aggregation=seconds),
        View(instrument_name="mcp.server.cache.load.duration", aggregation=seconds),
    ]
    metrics.set_meter_provider(
        MeterProvider(
            metric_readers=[reader],
            resource=_resource(),
            views=views,
            # Exemplars (the span a measurement was taken in) cost every measurement, and the
            # Prometheus text format does not carry them.
            exemplar_filter=AlwaysOffExemplarFilter(),
        )
    )
    snapshot_dir = None
    if settings.workers > 1:
        # Shared by the workers of one supervisor (their parent process).
        default = Path(tempfile.gettempdir()) / f"{SERVICE_NAME}-metrics-{os.getppid()}"
        snapshot_dir = Path(settings.metrics_dir) if settings.metrics_dir else default
    worker_metrics.configure(registry, snapshot_dir)


def tracing_enabled() -> bool:
    """Whether spans go anywhere: a tracer provider was installed (OTLP configured, or a test)."""
    return _State.tracer_provider is not None


def enable_tracing(processor: SpanProcessor) -> TracerProvider:
    """Send spans to `processor` (OTLP in production, an in-memory exporter in tests)."""
    if _State.tracer_provider is None:
        _State.tracer_provider = TracerProvider(resource=_resource())
        trace.set_tracer_provider(_State.tracer_provider)
        _instrument_clients()
    _State.tracer_provider.add_span_processor(processor)
    return _State.tracer_provider


def _instrument_clients() -> None:
    """Client spans (SQL, Redis commands, outbound HTTP) as children of the tool-call span."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument()
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()
