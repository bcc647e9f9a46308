"""The `/metrics` body: this process's metrics, or every worker's when there are several.

Each uvicorn worker is a process with its own counters, and a scrape lands on one of them at
random. prometheus_client's multiprocess mode cannot help (the values live in the OpenTelemetry
SDK, not in prometheus_client metrics), so every worker writes its own exposition to a shared
directory every few seconds (`snapshot_writer`), and `/metrics` answers with all live workers'
series, each labelled `worker=<pid>`: every series stays a correct per-process counter (a restart
is a counter reset that `rate()` handles) and the rules add workers up with `sum by`. Other
workers' figures are at most SNAPSHOT_INTERVAL_S old, well under a 15 s scrape interval.

`/metrics` is served by the app, or on a port of its own (`metrics_listener`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Metric, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families

SNAPSHOT_INTERVAL_S = 5.0

logger = logging.getLogger(__name__)


class _Exposed:
    """What telemetry.setup configured: this process's registry, the workers' shared directory."""

    registry: CollectorRegistry | None = None
    snapshot_dir: Path | None = None


def configure(registry: CollectorRegistry, snapshot_dir: Path | None) -> None:
    """Expose `registry`; with several workers, share snapshots through `snapshot_dir`."""
    _Exposed.registry = registry
    _Exposed.snapshot_dir = snapshot_dir
    if snapshot_dir is not None:
        snapshot_dir.mkdir(parents=True, exist_ok=True)


def configured() -> bool:
    """Whether `configure` was called in this process (telemetry.setup installs once)."""
    return _Exposed.registry is not None


# The OTel Prometheus reader keeps one queue of collected data per registry: two collections at
# once (a scrape and a snapshot, or two scrapes) would take each other's data and can raise.
_COLLECT_LOCK = threading.Lock()


def _own_families() -> list[Metric]:
    if _Exposed.registry is None:
        return []
    with _COLLECT_LOCK:
        return list(_Exposed.registry.collect())


def _own_exposition() -> bytes:
    if _Exposed.registry is None:
        return b""
    with _COLLECT_LOCK:
        return generate_latest(_Exposed.registry)


def _snapshot_path(pid: int) -> Path | None:
    return None if _Exposed.snapshot_dir is None else _Exposed.snapshot_dir / f"{pid}.prom"


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
    if _Exposed.snapshot_dir is None:
        return
    for path in _Exposed.snapshot_dir.glob("*.prom"):
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
        if _Exposed.snapshot_dir is not None:
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
async def snapshot_writer() -> AsyncIterator[None]:
    """Writes this worker's snapshot every SNAPSHOT_INTERVAL_S (with several workers only)."""
    if _Exposed.snapshot_dir is None:
        yield
        return

    async def snapshots() -> None:
        while True:
            try:
                await asyncio.to_thread(write_snapshot)
            except OSError:
                # A full or read-only disk must not stop later snapshots (nor the server).
                logger.exception("writing the metrics snapshot failed")
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)

    task = asyncio.create_task(snapshots())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        path = _snapshot_path(os.getpid())
        if path is not None:
            path.unlink(missing_ok=True)
