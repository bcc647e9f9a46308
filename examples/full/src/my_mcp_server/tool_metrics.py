"""Duration, outcome and in-flight count of every MCP request: the figures the SLA is judged on.

`ToolCallMetrics` is server middleware, so it runs on every path a request can take: the SDK's
own entry, stdio, and the tools/call executor, which runs the server's middleware chain. The
duration histogram is kept as plain integers and handed to the Prometheus registry when it is
collected (`DurationHistogram`), with the name and labels OpenTelemetry's exporter would give
`mcp.server.operation.duration`: recording one call costs a dict lookup and a bisect instead of
an OpenTelemetry measurement (attribute validation, hashing, view matching).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult
from mcp_types.methods import SPEC_CLIENT_METHODS
from opentelemetry import metrics
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from pydantic import ValidationError

from my_mcp_server.plain_counters import PlainCounter
from my_mcp_server.tool_results import KeepsResults

# Tool-call duration buckets bracket the SLA targets; the p95 target is a bucket bound so the
# latency SLO (share of calls slower than p95) is exact in PromQL (`le="<p95 in s>"`).
SLA_P95_S = 100 / 1000
SLA_P99_S = 250 / 1000
DURATION_BUCKETS_S = tuple(
    sorted(
        {round(SLA_P95_S * f, 6) for f in (0.05, 0.1, 0.25, 0.5)}
        | {SLA_P95_S, SLA_P99_S}
        | {round(SLA_P99_S * f, 6) for f in (2, 4, 10)}
    )
)
# Tool names come from clients; unknown names must not create unbounded label values.
MAX_TOOL_NAMES = 200
# Method names come from clients too: anything outside the spec's vocabulary is "_other".
KNOWN_METHODS = SPEC_CLIENT_METHODS
LABELS = ("mcp_method_name", "gen_ai_tool_name", "error_type")

meter = metrics.get_meter(__name__)
inflight = PlainCounter(
    meter,
    "mcp.server.requests.inflight",
    ("mcp.method.name",),
    unit="{request}",
    description="MCP requests being handled",
    monotonic=False,
)


class DurationHistogram:
    """`mcp_server_operation_duration_seconds`, aggregated in plain Python.

    A prometheus_client collector: the exposition is built from the counts when the registry is
    collected. Labels absent from a request (no tool, no error) are empty, which Prometheus reads
    as absent, as it reads OpenTelemetry's export of the same histogram.
    """

    name = "mcp_server_operation_duration_seconds"
    documentation = "MCP request duration by method, tool and error type"

    def __init__(self, buckets_s: tuple[float, ...]) -> None:
        self.buckets_s = buckets_s
        # label values -> [count per bucket (the last one: above every bound)..., sum]
        self._series: dict[tuple[str, str, str], list[float]] = {}

    def record(self, seconds: float, method: str, tool: str = "", error_type: str = "") -> None:
        key = (method, tool, error_type)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [0] * (len(self.buckets_s) + 1) + [0.0]
        series[bisect_left(self.buckets_s, seconds)] += 1
        series[-1] += seconds

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self.name, self.documentation, labels=LABELS)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=LABELS)
        # One C-level copy of the dict and of each row: safe against the event loop's updates
        # (a row's sum may trail its counts by the one call being recorded).
        for key, row in [(k, list(v)) for k, v in self._series.copy().items()]:
            cumulative: list[tuple[str, float]] = []
            total = 0.0
            # Bounds written as OpenTelemetry's exporter writes them.
            for bound, count in zip((*self.buckets_s, "+Inf"), row[:-1], strict=True):
                total += count
                cumulative.append((f"{bound}", total))
            family.add_metric(list(key), cumulative, row[-1])
        yield family


operation_duration = DurationHistogram(DURATION_BUCKETS_S)


class ToolCallMetrics(KeepsResults, ServerMiddleware[Any]):
    """Records every MCP request in `operation_duration` and `inflight`.

    Runs inside the SDK's span middleware and classifies errors the way it does, so a span's
    `error.type` and the metric's `error_type` label always agree.
    """

    def __init__(self) -> None:
        self._tool_names: set[str] = set()

    def _tool(self, ctx: ServerRequestContext[Any, Any]) -> str:
        name = ctx.params.get("name") if ctx.params else None
        if not isinstance(name, str):
            return ""
        if name in self._tool_names or len(self._tool_names) < MAX_TOOL_NAMES:
            self._tool_names.add(name)
            return name
        return "_other"

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        method = ctx.method if ctx.method in KNOWN_METHODS else "_other"
        tool = self._tool(ctx) if method == "tools/call" else ""
        inflight.add(1, method)
        start = time.perf_counter()
        error_type = ""
        try:
            result = await call_next(ctx)
            if ctx.method == "tools/call":
                match result:
                    case CallToolResult(is_error=True) | {"isError": True}:
                        error_type = "tool_error"
                    case _:
                        pass
            return result
        except MCPError as e:
            error_type = str(e.error.code)
            raise
        except ValidationError:
            error_type = str(INVALID_PARAMS)
            raise
        except Exception as e:
            error_type = type(e).__qualname__
            raise
        finally:
            inflight.add(-1, method)
            operation_duration.record(time.perf_counter() - start, method, tool, error_type)
