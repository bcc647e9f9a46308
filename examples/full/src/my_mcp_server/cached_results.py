"""What a tool builds from a cached value (its result, say), built once for each value.

The cache's in-process layer hands out the same object on every hit, so what a tool builds from
it stays right for as long as the cache hands out that object: a refill, an invalidation or an
expiry hands out a new one, and the result is built again from it. On a hot key a call then
costs the lookup and an identity check instead of building the result's models again.

A built object is shared by every call that reads the same value, so it must never be changed
once built: the SDK only reads a tool's result to write it (a server middleware sees the written
dict, not the result), and a tool hands it on as it is. A result built here can say so
(`tool_results.never_changed`), and the tools/call executor then writes its wire form once too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BuiltPerValue(Generic[T]):
    """`build(value)` for a key's cached `value`, remembered while the cache hands out `value`.

    Holds at most `size` entries (emptied when full, then refilled by the calls that follow);
    each entry keeps its value alive, so at most `size` values the cache has already let go of.
    """

    def __init__(self, build: Callable[[Any], T], size: int) -> None:
        self._build = build
        self._size = size
        self._built: dict[str, tuple[Any, T]] = {}

    def get(self, key: str, value: Any) -> T:
        known = self._built.get(key)
        if known is not None and known[0] is value:
            return known[1]
        built = self._build(value)
        if len(self._built) >= self._size:
            self._built.clear()
        self._built[key] = (value, built)
        return built
