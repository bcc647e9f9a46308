"""Load-test scenarios: which tool calls a simulated MCP client makes, and in what mix.

Pure logic (no locust import), so the key distribution and the mixes are unit-tested on their
own. Every scenario offers the same load, `sla_rps` in total, except `spike`, which ramps to
three times that: a scenario is a mix of calls, not a different rate.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Every simulated user paces itself to this many calls per second (locust's constant_throughput),
# so `users = sla_rps / PER_USER_RPS` offers the SLA rate whatever the latency (an open-ish model:
# a slow server shows up as missed throughput, not as a quietly lower offered load).
PER_USER_RPS = 10.0
SPIKE_FACTOR = 3.0
# Seeded keys look like item-000001 (`make seed`): the hot-read keys are drawn from them.
DEFAULT_ITEMS = 10_000
ZIPF_EXPONENT = 1.1

Arguments = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One MCP tools/call: the tool, its arguments, and the name locust reports it under."""

    tool: str
    arguments: Arguments
    label: str


class ZipfKeys:
    """Ranks 1..n drawn with probability proportional to 1 / rank**s: a few keys are very hot.

    Real read traffic is skewed like this, which is what makes a cache worth having.
    """

    def __init__(self, n: int, exponent: float = ZIPF_EXPONENT) -> None:
        if n < 1:
            raise ValueError("ZipfKeys needs at least one key")
        weights = [1.0 / rank**exponent for rank in range(1, n + 1)]
        self._cumulative = list(itertools.accumulate(weights))
        self.n = n

    def rank(self, rng: random.Random) -> int:
        point = rng.random() * self._cumulative[-1]
        return min(bisect.bisect_left(self._cumulative, point), self.n - 1) + 1


def item_key(rank: int) -> str:
    """The key the seed command gives the item of this rank."""
    return f"item-{rank:06d}"


CallFactory = Callable[[random.Random], Call]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    mix: Sequence[tuple[float, CallFactory]]
    spike: bool = False

    def next_call(self, rng: random.Random) -> Call:
        weights = [weight for weight, _ in self.mix]
        (factory,) = rng.choices([make for _, make in self.mix], weights=weights)
        return factory(rng)


def build_scenarios(items: int = DEFAULT_ITEMS) -> dict[str, Scenario]:
    """Scenarios by name, over `items` seeded keys."""
    keys = ZipfKeys(items)
    serial = itertools.count(1)

    def hot_read(rng: random.Random) -> Call:
        return Call("get_item", {"key": item_key(keys.rank(rng))}, "get_item (hot)")

    def cold_read(rng: random.Random) -> Call:
        # search_items is never cached: every call is a real query on the database.
        prefix = item_key(rng.randint(1, items))[:-2]
        return Call("search_items", {"prefix": prefix, "limit": 10}, "search_items (cold)")

    def write(rng: random.Random) -> Call:
        # Writing a hot key invalidates its cached copy: the next reads of it miss once.
        key = item_key(keys.rank(rng))
        return Call("put_item", {"key": key, "value": f"v{next(serial)}"}, "put_item")

    mixed: list[tuple[float, CallFactory]] = [(90, hot_read), (10, write)]
    scenarios = [
        Scenario("hot", "get_item on Zipf-distributed seeded keys (cache hits)", [(1, hot_read)]),
        Scenario("cold", "search_items: uncached, always a query", [(1, cold_read)]),
        Scenario("write", "put_item + get_item on the hot keys", [(1, write), (1, hot_read)]),
        Scenario("mixed", "90% hot reads, 10% writes", mixed),
        Scenario("spike", "the mixed calls, ramping to 3x sla_rps and back", mixed, spike=True),
    ]
    return {scenario.name: scenario for scenario in scenarios}


SCENARIO_NAMES = ("hot", "cold", "write", "mixed", "spike")


def users_for(rps: float) -> int:
    """Simulated users that together offer `rps` calls per second."""
    return max(1, round(rps / PER_USER_RPS))
