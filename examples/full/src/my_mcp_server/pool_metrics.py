"""Connection-pool metrics, in the OpenTelemetry semantic conventions for database clients.

Instruments come from the global OpenTelemetry API: without a configured MeterProvider they are
no-ops that cost a function call, so the pools record unconditionally. Gauges are read at
collection time from every live pool of the process (weakly referenced, so a closed pool drops
out by itself).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

meter = metrics.get_meter(__name__)


@dataclass(frozen=True)
class PoolStats:
    name: str
    used: int
    idle: int
    max: int
    pending: int  # callers waiting for a connection


class ObservablePool(Protocol):
    def pool_stats(self) -> PoolStats: ...


_POOLS: weakref.WeakSet[ObservablePool] = weakref.WeakSet()


def register(pool: ObservablePool) -> None:
    _POOLS.add(pool)


def _stats() -> list[PoolStats]:
    return [pool.pool_stats() for pool in list(_POOLS)]


def _count(_: CallbackOptions) -> Iterable[Observation]:
    for s in _stats():
        yield Observation(
            s.used, {"db.client.connection.pool.name": s.name, "db.client.connection.state": "used"}
        )
        yield Observation(
            s.idle, {"db.client.connection.pool.name": s.name, "db.client.connection.state": "idle"}
        )


def _max(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(s.max, {"db.client.connection.pool.name": s.name}) for s in _stats()]


def _pending(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(s.pending, {"db.client.connection.pool.name": s.name}) for s in _stats()]


meter.create_observable_up_down_counter(
    "db.client.connection.count", [_count], unit="{connection}", description="Connections by state"
)
meter.create_observable_up_down_counter(
    "db.client.connection.max", [_max], unit="{connection}", description="Largest pool size allowed"
)
meter.create_observable_up_down_counter(
    "db.client.connection.pending_requests",
    [_pending],
    unit="{request}",
    description="Callers waiting for a connection",
)
wait_time = meter.create_histogram(
    "db.client.connection.wait_time",
    unit="s",
    description="Time to obtain a connection from the pool",
)
timeouts = meter.create_counter(
    "db.client.connection.timeouts",
    unit="{timeout}",
    description="Connection requests that timed out (the call failed as 'database busy')",
)
