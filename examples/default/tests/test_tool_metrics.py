"""DurationHistogram: the exposition OpenTelemetry's Prometheus exporter gives the same histogram."""

import math

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from my_mcp_server.tool_metrics import (
    DURATION_BUCKETS_S,
    DurationHistogram,
)

# (seconds, method, tool, error type): on bounds, between them, past the last, and a tool error
CALLS = [
    (DURATION_BUCKETS_S[0], "tools/call", "get_item", ""),
    (DURATION_BUCKETS_S[0] / 2, "tools/call", "get_item", ""),
    ((DURATION_BUCKETS_S[2] + DURATION_BUCKETS_S[3]) / 2, "tools/call", "get_item", ""),
    (DURATION_BUCKETS_S[-1] * 3, "tools/call", "put_item", "tool_error"),
    (0.0, "tools/list", "", ""),
    (DURATION_BUCKETS_S[-1], "tools/call", "put_item", "-32602"),
]
NAME = "mcp_server_operation_duration_seconds"


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the histogram; a label OpenTelemetry leaves out reads as empty."""
    found = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        if family.name != NAME:
            continue
        for sample in family.samples:
            labels = {"gen_ai_tool_name": "", "error_type": ""} | sample.labels
            found[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return found


def test_the_exposition_is_opentelemetrys() -> None:
    otel_registry = CollectorRegistry()
    reader = PrometheusMetricReader(
        disable_target_info=True, scope_info_enabled=False, registry=otel_registry
    )
    view = View(
        instrument_name="mcp.server.operation.duration",
        aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS_S),
    )
    meter = MeterProvider(metric_readers=[reader], views=[view]).get_meter("test")
    otel = meter.create_histogram(
        "mcp.server.operation.duration",
        unit="s",
        description="MCP request duration by method, tool and error type",
    )
    plain = DurationHistogram(DURATION_BUCKETS_S)
    plain_registry = CollectorRegistry()
    plain_registry.register(plain)
    for seconds, method, tool, error_type in CALLS:
        plain.record(seconds, method, tool, error_type)
        attributes = {"mcp.method.name": method}
        if tool:
            attributes["gen_ai.tool.name"] = tool
        if error_type:
            attributes["error.type"] = error_type
        otel.record(seconds, attributes)

    expected, got = samples(otel_registry), samples(plain_registry)
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        assert math.isclose(got[key], value, abs_tol=1e-12), key
    assert sum(1 for name, _ in got if name == NAME + "_count") == 4  # one series per label set
