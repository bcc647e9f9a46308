"""The SLA gate: pass or fail a load test from its measured figures.

The targets are the copier answers (the server's `sla_*` settings), so the gate, the alerts and
the sizing all move together when the SLA changes. Pure logic: the locustfile feeds it locust's
totals; the unit tests feed it numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

# Achieved throughput counts as meeting `rps` down to this share of it: the users ramp up during
# the first second and locust averages over the whole run, so an exact match is unattainable.
THROUGHPUT_TOLERANCE = 0.9


@dataclass(frozen=True)
class SlaTargets:
    p95_ms: float
    p99_ms: float
    rps: float
    error_rate: float


@dataclass(frozen=True)
class Measured:
    requests: int
    failures: int
    p95_ms: float
    p99_ms: float
    rps: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def violations(targets: SlaTargets, measured: Measured) -> list[str]:
    """One phrase per missed target, empty when the SLA is met."""
    if measured.requests == 0:
        return ["no request completed"]
    missed = []
    if measured.p95_ms > targets.p95_ms:
        missed.append(f"p95 {measured.p95_ms:g} ms > {targets.p95_ms:g} ms")
    if measured.p99_ms > targets.p99_ms:
        missed.append(f"p99 {measured.p99_ms:g} ms > {targets.p99_ms:g} ms")
    if measured.error_rate > targets.error_rate:
        missed.append(f"error rate {measured.error_rate:.4%} > {targets.error_rate:.4%}")
    if measured.rps < targets.rps * THROUGHPUT_TOLERANCE:
        missed.append(
            f"throughput {measured.rps:.1f} rps < {targets.rps:g} rps"
            f" (x{THROUGHPUT_TOLERANCE:g} tolerance)"
        )
    return missed


def verdict(targets: SlaTargets, measured: Measured) -> tuple[bool, str]:
    """(met, one line saying why) for the end of a run."""
    missed = violations(targets, measured)
    if missed:
        return False, "SLA MISSED: " + "; ".join(missed)
    return True, (
        f"SLA met: p95 {measured.p95_ms:g} ms <= {targets.p95_ms:g}, "
        f"p99 {measured.p99_ms:g} ms <= {targets.p99_ms:g}, "
        f"errors {measured.error_rate:.4%} <= {targets.error_rate:.4%}, "
        f"{measured.rps:.1f} rps >= {targets.rps * THROUGHPUT_TOLERANCE:g}"
        f" ({targets.rps:g} x{THROUGHPUT_TOLERANCE:g} tolerance)"
    )
