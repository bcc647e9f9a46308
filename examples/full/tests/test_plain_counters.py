"""PlainCounter: plain-int counts reach OpenTelemetry at collection, as the same kind of sum."""

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Sum

from my_mcp_server.plain_counters import PlainCounter


def collect(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: metric.data
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def points(data: Sum) -> dict[tuple[tuple[str, Any], ...], float]:
    return {tuple(sorted((p.attributes or {}).items())): p.value for p in data.data_points}


def test_counts_by_label_values_reach_the_reader() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    lookups = PlainCounter(meter, "t.lookups", ("layer", "result"), unit="1", description="d")
    inflight = PlainCounter(
        meter, "t.inflight", ("method",), unit="1", description="d", monotonic=False
    )
    lookups.add(1, "l1", "hit")
    lookups.add(2, "l1", "hit")
    lookups.add(1, "l2", "miss")
    inflight.add(1, "tools/call")
    inflight.add(1, "tools/call")
    inflight.add(-1, "tools/call")

    data = collect(reader)
    assert isinstance(data["t.lookups"], Sum)
    assert data["t.lookups"].is_monotonic
    assert points(data["t.lookups"]) == {
        (("layer", "l1"), ("result", "hit")): 3,
        (("layer", "l2"), ("result", "miss")): 1,
    }
    assert isinstance(data["t.inflight"], Sum)
    assert not data["t.inflight"].is_monotonic
    assert points(data["t.inflight"]) == {(("method", "tools/call"),): 1}

    lookups.add(1, "l1", "hit")  # cumulative: the next collection carries the running total
    assert points(collect(reader)["t.lookups"])[(("layer", "l1"), ("result", "hit"))] == 4
