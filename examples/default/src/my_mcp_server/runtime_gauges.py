"""The process's own health as gauges: event-loop lag, resident memory, readiness.

Read at collection time from the latest readings; `runtime_monitor` takes them (a lag probe every
LAG_PROBE_INTERVAL_S, a readiness probe every READY_PROBE_INTERVAL_S), and `/readyz` records its
verdict too. The interpreter's own figures (GC, allocations) are runtime_metrics.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

LAG_PROBE_INTERVAL_S = 0.25
READY_PROBE_INTERVAL_S = 10.0

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


@contextlib.asynccontextmanager
async def runtime_monitor(
    check_ready: Callable[[], Awaitable[bool]], *, enabled: bool = True
) -> AsyncIterator[None]:
    """Measures event-loop lag and probes readiness (nothing while telemetry is off)."""
    if not enabled:
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

    tasks = [asyncio.create_task(probe_lag()), asyncio.create_task(probe_ready())]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
