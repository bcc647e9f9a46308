"""Bounded memos for the hot path: what is worked out once per distinct input, then looked up.

A memo full at its bound is emptied and refilled by the calls that follow: no per-call
bookkeeping, as an LRU would need, and the inputs the hot path remembers are few (a client's
Accept header and `_meta`, the server's tools, the items its cache holds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
S = TypeVar("S")


def remember(memo: dict[K, V], key: K, value: V, size: int) -> None:
    """`memo[key] = value`, the memo emptied first when it holds `size` entries."""
    if len(memo) >= size:
        memo.clear()
    memo[key] = value


class BuiltPerObject(Generic[K, S, V]):
    """`build(source)` remembered by key for as long as the same object is handed in as `source`.

    Another object, even an equal one, is built again: the memo stays right for sources that are
    replaced rather than changed (a cache's value, a tool's schema, a result declared never
    changed). Each entry keeps its source alive: at most `size` of them.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._built: dict[K, tuple[S, V]] = {}

    def get(self, key: K, source: S, build: Callable[[S], V]) -> V:
        known = self._built.get(key)
        if known is not None and known[0] is source:
            return known[1]
        built = build(source)
        remember(self._built, key, (source, built), self._size)
        return built
