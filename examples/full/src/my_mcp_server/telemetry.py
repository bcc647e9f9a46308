"""OpenTelemetry metrics and traces, set up once per process, and the Prometheus `/metrics` body.

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

Several workers (`serve --workers N`): each uvicorn worker is a process with its own counters and
a scrape lands on one of them at random. prometheus_client's multiprocess mode cannot help (the
values live in the OTel SDK, not in prometheus_client metrics), so every worker writes its own
exposition to a shared directory every few seconds, and `/metrics` answers with all live workers'
series, each labelled `worker=<pid>`: every series stays a correct per-process counter (a restart
is a counter reset that `rate()` handles) and the rules add workers up with `sum by`. Other
workers' figures are at most SNAPSHOT_INTERVAL_S old, well under a 15 s scrape interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from prometheus_client import CollectorRegistry, Metric, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from my_mcp_server import __version__
from my_mcp_server.settings import Settings
from my_mcp_server.tool_metrics import operation_duration

SERVICE_NAME = "my_mcp_server"
# Pool waits and cache loads: milliseconds matter, seconds already break the SLA.
WAIT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SNAPSHOT_INTERVAL_S = 5.0
LAG_PROBE_INTERVAL_S = 0.25
READY_PROBE_INTERVAL_S = 10.0

logger = logging.getLogger(__name__)
meter = metrics.get_meter(__name__)


class _Runtime:
    """Latest runtime readings; written by the monitor task, read at collection time."""

    lag_s = 0.0
    ready: bool | None = None


def _lag(_: CallbackOptions) -> Iterable[Observation]:
    # The worst lag since the previous collection, so a short stall is not averaged away.
    lag, _Runtime.lag_s = _Runtime.lag_s, 0.0
    return [Observation(lag)]


def _rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        # No procfs (macOS): the peak RSS is the best cheap figure (bytes on macOS).
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(_rss_bytes())]


def _ready(_: CallbackOptions) -> Iterable[Observation]:
    return [] if _Runtime.ready is None else [Observation(int(_Runtime.ready))]


meter.create_observable_gauge(
    "mcp.server.event_loop.lag",
    [_lag],
    unit="s",
    description="Largest event-loop delay seen since the previous collection",
)
meter.create_observable_gauge(
    "process.memory.usage", [_rss], unit="By", description="Resident memory of the process"
)
meter.create_observable_gauge(
    "mcp.server.ready", [_ready], description="1 when /readyz passes, 0 when it fails"
)


def record_ready(ready: bool) -> None:
    _Runtime.ready = ready


class _State:
    registry: CollectorRegistry | None = None
    snapshot_dir: Path | None = None
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
    if _State.registry is not None or not settings.telemetry_enabled:
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
    _State.registry = registry
    if settings.workers > 1:
        # Shared by the workers of one supervisor (their parent process).
        default = Path(tempfile.gettempdir()) / f"{SERVICE_NAME}-metrics-{os.getppid()}"
        _State.snapshot_dir = Path(settings.metrics_dir) if settings.metrics_dir else default
        _State.snapshot_dir.mkdir(parents=True, exist_ok=True)


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


# The OTel Prometheus reader keeps one queue of collected data per registry: two collections at
# once (a scrape and a snapshot, or two scrapes) would take each other's data and can raise.
_COLLECT_LOCK = threading.Lock()


def _own_families() -> list[Metric]:
    if _State.registry is None:
        return []
    with _COLLECT_LOCK:
        return list(_State.registry.collect())


def _own_exposition() -> bytes:
    if _State.registry is None:
        return b""
    with _COLLECT_LOCK:
        return generate_latest(_State.registry)


def _snapshot_path(pid: int) -> Path | None:
    return None if _State.snapshot_dir is None else _State.snapshot_dir / f"{pid}.prom"


def write_snapshot() -> None:
    path = _snapshot_path(os.getpid())
    if path is None:
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_own_exposition())
    tmp.replace(path)  # atomic: a reader never sees half a file


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_expositions() -> Iterator[tuple[str, str]]:
    own = os.getpid()
    yield str(own), _own_exposition().decode()
    if _State.snapshot_dir is None:
        return
    for path in _State.snapshot_dir.glob("*.prom"):
        pid = int(path.stem)
        if pid == own:
            continue
        if not _alive(pid):
            path.unlink(missing_ok=True)
            continue
        with contextlib.suppress(FileNotFoundError):
            yield str(pid), path.read_text()


def _merged_families() -> list[Metric]:
    merged: dict[str, Metric] = {}
    for worker, text in _worker_expositions():
        for family in text_string_to_metric_families(text):
            target = merged.setdefault(
                family.name, Metric(family.name, family.documentation, family.type, family.unit)
            )
            for sample in family.samples:
                target.add_sample(sample.name, sample.labels | {"worker": worker}, sample.value)
    return list(merged.values())


class _AllWorkers:
    """What `/metrics` shows: this process alone, or every live worker labelled by pid."""

    def collect(self) -> list[Metric]:
        if _State.snapshot_dir is not None:
            return _merged_families()
        return _own_families()


_EXPOSED = CollectorRegistry(auto_describe=False)
_EXPOSED.register(_AllWorkers())


def exposition() -> bytes:
    """The `/metrics` body (see _AllWorkers)."""
    return generate_latest(_EXPOSED)


@contextlib.asynccontextmanager
async def metrics_listener(host: str, port: int | None, workers: int = 1) -> AsyncIterator[None]:
    """`/metrics` on a port of its own (`metrics_port`), e.g. one only the monitoring network
    reaches. prometheus_client serves it from a thread, off the event loop. With several workers
    the first to bind the port answers for all of them (the exposition covers every worker); the
    others find it taken and leave it; a restarted worker takes it over if its holder died."""
    if port is None:
        yield
        return
    try:
        server, thread = start_http_server(port, addr=host, registry=_EXPOSED)
    except OSError as error:
        # With one worker nobody else of ours can hold it: say so, or /metrics silently vanishes.
        level = logging.WARNING if workers == 1 else logging.DEBUG
        logger.log(level, "/metrics not served on %s:%d: %s", host, port, error.strerror)
        yield
        return
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=1)


@contextlib.asynccontextmanager
async def runtime_monitor(check_ready: Callable[[], Awaitable[bool]]) -> AsyncIterator[None]:
    """Measures event-loop lag, probes readiness and writes this worker's snapshot."""
    if _State.registry is None:
        yield
        return

    async def probe_lag() -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(LAG_PROBE_INTERVAL_S)
            lag = loop.time() - start - LAG_PROBE_INTERVAL_S
            _Runtime.lag_s = max(_Runtime.lag_s, lag, 0.0)

    async def probe_ready() -> None:
        while True:
            await asyncio.sleep(READY_PROBE_INTERVAL_S)
            record_ready(await check_ready())

    async def snapshots() -> None:
        while True:
            try:
                await asyncio.to_thread(write_snapshot)
            except OSError:
                # A full or read-only disk must not stop later snapshots (nor the server).
                logger.exception("writing the metrics snapshot failed")
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)

    tasks = [asyncio.create_task(probe_lag()), asyncio.create_task(probe_ready())]
    if _State.snapshot_dir is not None:
        tasks.append(asyncio.create_task(snapshots()))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        path = _snapshot_path(os.getpid())
        if path is not None:
            path.unlink(missing_ok=True)
