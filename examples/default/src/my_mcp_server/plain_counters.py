"""Per-call counters kept as plain integers and handed to OpenTelemetry when metrics are collected.

An OTel `Counter.add` validates and hashes its attributes and walks the views on every call; on a
cached tool call three of them cost more than the rest of the telemetry (make bench). A
`PlainCounter` costs one dict update per call and reports through an observable instrument of the
same name and kind, so the exported series are unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation


class PlainCounter:
    """Counts by label values; `monotonic=False` for an up-down count such as requests in flight."""

    def __init__(
        self,
        meter: Meter,
        name: str,
        labels: tuple[str, ...],
        *,
        unit: str,
        description: str,
        monotonic: bool = True,
    ) -> None:
        self._labels = labels
        self._counts: Counter[tuple[str, ...]] = Counter()
        create = (
            meter.create_observable_counter
            if monotonic
            else meter.create_observable_up_down_counter
        )
        create(name, [self._observe], unit=unit, description=description)

    def add(self, amount: int, *values: str) -> None:
        """Add `amount` to the count of these label values (in the order of `labels`)."""
        self._counts[values] += amount

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        counts = self._counts.copy()  # one C-level copy: safe against the event loop's updates
        return [
            Observation(n, dict(zip(self._labels, key, strict=True))) for key, n in counts.items()
        ]
