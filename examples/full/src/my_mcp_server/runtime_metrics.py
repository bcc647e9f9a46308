"""Garbage-collector and process figures for `/metrics`, read when metrics are collected.

Collections, collected and uncollectable objects per generation come from `gc.get_stats()` at
collection time (the interpreter keeps them anyway: free). GC pause time needs a clock around
every collection, so `install()` adds one `gc.callbacks` hook that sums the time per generation.
Open file descriptors count /proc/self/fd (Linux; absent elsewhere). RSS and event-loop lag are
runtime_gauges.py's (`process.memory.usage`, `mcp.server.event_loop.lag`). Every worker reports
its own figures: worker_metrics.py's snapshots label them `worker=<pid>`.

While the app serves, what start-up built is frozen out of the collector's sight
(`startup_heap_frozen`): a full collection then walks only what requests keep alive, so its pause
no longer grows with the imported modules, schemas and pools.

With `tracemalloc_frames > 0` (make profile-memory) this module also starts tracemalloc, reports
the traced bytes, and on SIGUSR1 writes a tracemalloc snapshot to `memory_snapshot_dir`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, ClassVar

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

GENERATION = "cpython.gc.generation"

logger = logging.getLogger(__name__)
meter = metrics.get_meter(__name__)


class _GcPauses:
    """Seconds spent in collections, per generation, summed by the gc.callbacks hook."""

    seconds: ClassVar[list[float]] = [0.0, 0.0, 0.0]
    started = 0.0
    installed = False


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _GcPauses.started = time.perf_counter()
    elif _GcPauses.started:
        _GcPauses.seconds[info["generation"]] += time.perf_counter() - _GcPauses.started
        _GcPauses.started = 0.0


def _per_generation(key: str) -> Iterable[Observation]:
    return [
        Observation(stats[key], {GENERATION: str(generation)})
        for generation, stats in enumerate(gc.get_stats())
    ]


def _collections(_: CallbackOptions) -> Iterable[Observation]:
    return _per_generation("collections")


def _collected(_: CallbackOptions) -> Iterable[Observation]:
    return _per_generation("collected")


def _uncollectable(_: CallbackOptions) -> Iterable[Observation]:
    return _per_generation("uncollectable")


def _pauses(_: CallbackOptions) -> Iterable[Observation]:
    if not _GcPauses.installed:
        return []
    return [
        Observation(seconds, {GENERATION: str(generation)})
        for generation, seconds in enumerate(_GcPauses.seconds)
    ]


def open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _fds(_: CallbackOptions) -> Iterable[Observation]:
    count = open_fds()
    return [] if count is None else [Observation(count)]


def _traced(_: CallbackOptions) -> Iterable[Observation]:
    if not tracemalloc.is_tracing():
        return []
    current, peak = tracemalloc.get_traced_memory()
    return [Observation(current, {"state": "current"}), Observation(peak, {"state": "peak"})]


# OTel semantic conventions for CPython GC and process file descriptors.
meter.create_observable_counter(
    "cpython.gc.collections",
    [_collections],
    unit="{collection}",
    description="Garbage collections per generation",
)
meter.create_observable_counter(
    "cpython.gc.collected_objects",
    [_collected],
    unit="{object}",
    description="Objects the garbage collector freed, per generation",
)
meter.create_observable_counter(
    "cpython.gc.uncollectable_objects",
    [_uncollectable],
    unit="{object}",
    description="Unreachable objects the garbage collector could not free, per generation",
)
meter.create_observable_counter(
    "mcp.server.gc.pause.time",
    [_pauses],
    unit="s",
    description="Time the process spent stopped in garbage collections, per generation",
)
meter.create_observable_up_down_counter(
    "process.open_file_descriptor.count",
    [_fds],
    unit="{file_descriptor}",
    description="File descriptors the process holds open",
)
meter.create_observable_gauge(
    "mcp.server.memory.traced",
    [_traced],
    unit="By",
    description="Memory tracemalloc traces (only while tracemalloc_frames > 0)",
)


def install(tracemalloc_frames: int = 0) -> None:
    """Hook the GC clock (once per process); trace allocations `tracemalloc_frames` deep (0: off)."""
    if not _GcPauses.installed:
        gc.callbacks.append(_on_gc)
        _GcPauses.installed = True
    if tracemalloc_frames > 0 and not tracemalloc.is_tracing():
        tracemalloc.start(tracemalloc_frames)


@contextlib.asynccontextmanager
async def startup_heap_frozen() -> AsyncIterator[None]:
    """What start-up built (modules, schemas, pools) moved out of the collector's sight while
    serving: a full collection no longer walks it, so its pauses scale with what requests keep
    alive, not with the whole heap. Unfrozen on the way out, so an app built again in the same
    process (tests) leaves nothing behind that the collector cannot reach."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write_memory_snapshot(directory: Path) -> Path:
    """This process's tracemalloc snapshot as <dir>/<pid>-<monotonic ns>.tracemalloc."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}-{time.monotonic_ns()}.tracemalloc"
    tmp = path.with_suffix(".tmp")
    tracemalloc.take_snapshot().dump(str(tmp))
    tmp.replace(path)  # atomic: a reader never loads half a snapshot
    return path


@contextlib.asynccontextmanager
async def memory_snapshots(snapshot_dir: str) -> AsyncIterator[None]:
    """While tracemalloc traces: SIGUSR1 writes a snapshot to `snapshot_dir` (off the loop)."""
    if not tracemalloc.is_tracing() or not snapshot_dir:
        yield
        return
    loop = asyncio.get_running_loop()
    directory = Path(snapshot_dir)
    pending: set[asyncio.Task[Path]] = set()

    def on_signal() -> None:
        task = loop.create_task(asyncio.to_thread(write_memory_snapshot, directory))
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGUSR1, on_signal)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
        await asyncio.gather(*pending, return_exceptions=True)
