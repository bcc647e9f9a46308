"""tools/call results in wire form: twin of the SDK runner's serialization, written directly for
the common shape.

The SDK's entry dumps a tool's result (`model_dump`: JSON mode, by alias, no None), passes it
through the caller's version's sieve (`serialize_server_result`, which validates it against
that version's result type and dumps it again in that version's field order), sets `resultType`
if absent and stamps the server's identity into `_meta`.

For the result most tools return, a complete `CallToolResult` of plain text blocks, with or
without structured content made of JSON values, and no `_meta`, each of those steps passes the
values through unchanged: what comes out is the result's attribute values in the sieve's key
order, plus the stamp. `ResultWriter` writes such a result straight from its attributes, once the first
result of its shape, written both ways, came out byte for byte the same (that also learns the
order). Anything else (other blocks, annotations, `_meta`, values JSON mode would convert, such
as a tuple, an infinite float or a non-string key; subclasses) always takes the SDK's steps.

A result in the direct form (written directly, or the first of its shape, found the same) also
says whether it holds no float: reply_encoding.py can then skip its checks for the float forms
where orjson and json differ, provided nothing changed the result in place on its way out (the
middleware around the tool are all `KeepsResults`).

A result its builder declares never changed (`never_changed`: get_item's results of a
cached value) has its wire form written once and handed out again for as long as the result is
alive, when the caller says that nothing changes a written form in place either (`reuse`).
"""

from __future__ import annotations

import math
import weakref
from functools import partial
from typing import Any, NamedTuple, TypeVar

import orjson
from mcp_types import SERVER_INFO_META_KEY, CallToolResult, TextContent
from mcp_types.methods import serialize_server_result
from pydantic import BaseModel

from my_mcp_server.memos import BuiltPerObject

METHOD = "tools/call"
_ABSENT: Any = object()
# Deeper structured content takes the SDK's steps (a bound on the recursive copy below).
_MAX_DEPTH = 64
# The integers orjson writes (64-bit, signed or not).
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


class _NotPlain(Exception):
    """A value JSON-mode dumping would not pass through unchanged."""


class KeepsResults:
    """Marks server middleware that hands on the result it gets without changing it in place
    (it may still return another one): what the executor wrote is then what it sends."""


T = TypeVar("T")
# id -> result, for the results declared never changed while they are alive (pydantic models are
# not hashable, so not a WeakSet; a dead result's entry goes with it, so an id used again by
# another object is not found here).
_UNCHANGING: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
# Written forms kept at most, per writer.
_REUSED_MAX = 4096


def never_changed(result: T) -> T:
    """`result`, declared never changed once built: its wire form may be written once, and its
    check against the tool's output model made once (tool_runs.py)."""
    _UNCHANGING[id(result)] = result
    return result


def is_never_changed(result: object) -> bool:
    """Whether `result` was declared never changed (`never_changed`)."""
    return _UNCHANGING.get(id(result)) is result


class _Plain(NamedTuple):
    """What a plain text result's wire form is made of."""

    texts: list[str]
    is_error: bool
    result_type: str
    structured: Any  # a fresh copy, or _ABSENT for none
    float_free: bool  # no float in `structured`


# (result keys in the sieve's order, whether a text block's "type" comes before its "text")
_Order = tuple[tuple[str, ...], bool]


class ResultWriter:
    """Twin of `ServerRunner._serialize` for tools/call results (which take no cache hints).

    Raises what the sieve raises (a `ValidationError` for a result invalid in that version).
    """

    def __init__(self, server_info_stamp: dict[str, Any]) -> None:
        # Every result gets a fresh copy of the stamp; decoding these bytes is the cheapest copy.
        self._stamp = orjson.dumps(server_info_stamp)
        stamp = _plain_copy(server_info_stamp)
        self._stamp_float_free = stamp is not None and stamp[1]
        # shape (see `write`) -> the order, or None: the SDK's steps. A few dozen entries at
        # most: the versions are the SDK's modern ones (the executor serves no other).
        self._orders: dict[tuple[str, bool, bool, str], _Order | None] = {}
        # (version, id of a result declared never changed) -> its written form
        self._written = BuiltPerObject[tuple[str, int], BaseModel, tuple[dict[str, Any], bool]](
            _REUSED_MAX
        )

    def write(
        self, version: str, result: BaseModel, *, reuse: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """The result's wire form, and whether it is in the direct form and holds no float.

        With `reuse` (nothing will change the form in place), the form of a result declared
        never changed is written once and handed out again.
        """
        if reuse and is_never_changed(result):
            return self._written.get((version, id(result)), result, partial(self._write, version))
        return self._write(version, result)

    def _write(self, version: str, result: BaseModel) -> tuple[dict[str, Any], bool]:
        plain = _plain(result)
        if plain is None:
            return self._through_sdk_steps(version, result), False
        # What the sieve could treat differently: the version, whether there are blocks, the
        # error flag, and the kind of structured content (its values are `Any` to the sieve).
        structured_kind = "" if plain.structured is _ABSENT else type(plain.structured).__name__
        key = (version, bool(plain.texts), plain.is_error, structured_kind)
        if key in self._orders:
            order = self._orders[key]
            if order is None:
                return self._through_sdk_steps(version, result), False
            return self._direct(plain, order), plain.float_free and self._stamp_float_free
        written = self._through_sdk_steps(version, result)
        order = _order_of(written)
        if order is not None and not self._writes_the_same(plain, order, written):
            order = None
        self._orders[key] = order
        # Byte-equal to the direct form, so the direct form's float verdict holds for it too.
        return written, order is not None and plain.float_free and self._stamp_float_free

    def _writes_the_same(self, plain: _Plain, order: _Order, written: dict[str, Any]) -> bool:
        try:
            direct = self._direct(plain, order)
        except KeyError:  # the SDK wrote a key the direct form does not have
            return False
        try:
            return orjson.dumps(direct) == orjson.dumps(written)
        except orjson.JSONEncodeError:  # nothing to compare by: the SDK's steps it is
            return False

    def _through_sdk_steps(self, version: str, result: BaseModel) -> dict[str, Any]:
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        dumped = serialize_server_result(METHOD, version, dumped)
        if dumped.get("resultType") is None:
            dumped["resultType"] = "complete"
        raw_meta = dumped.get("_meta")
        if raw_meta is None:
            dumped["_meta"] = {SERVER_INFO_META_KEY: orjson.loads(self._stamp)}
        elif isinstance(raw_meta, dict) and raw_meta.get(SERVER_INFO_META_KEY) is None:
            dumped["_meta"] = {**raw_meta, SERVER_INFO_META_KEY: orjson.loads(self._stamp)}
        return dumped

    def _direct(self, plain: _Plain, order: _Order) -> dict[str, Any]:
        keys, type_first = order
        values: dict[str, Any] = {
            "content": [{"type": "text", "text": text} for text in plain.texts]
            if type_first
            else [{"text": text, "type": "text"} for text in plain.texts],
            "isError": plain.is_error,
            "resultType": plain.result_type,
            "_meta": {SERVER_INFO_META_KEY: orjson.loads(self._stamp)},
        }
        if plain.structured is not _ABSENT:
            values["structuredContent"] = plain.structured
        return {k: values[k] for k in keys}


def _plain(result: BaseModel) -> _Plain | None:
    """The parts of a `CallToolResult` of plain text blocks and JSON values; None otherwise."""
    if type(result) is not CallToolResult or result.meta is not None:
        return None
    texts = []
    for block in result.content:
        if not (
            type(block) is TextContent
            and block.type == "text"
            and type(block.text) is str
            and block.annotations is None
            and block.meta is None
        ):
            return None
        texts.append(block.text)
    is_error, result_type = result.is_error, result.result_type
    if type(is_error) is not bool or result_type != "complete" or type(result_type) is not str:
        return None
    structured = result.structured_content
    if structured is None:
        return _Plain(texts, is_error, result_type, _ABSENT, True)
    # A copy, as `model_dump` makes: what a middleware does to the answer stays off the tool's
    # object (which may be a cached value).
    copied = _plain_copy(structured)
    return None if copied is None else _Plain(texts, is_error, result_type, *copied)


def _plain_copy(value: Any) -> tuple[Any, bool] | None:
    """A copy of `value` and whether it holds no float, if JSON-mode dumping passes it through
    unchanged; None otherwise."""
    floats: list[float] = []
    try:
        copy = _json_copy(value, 0, floats)
    except _NotPlain:
        return None
    return copy, not floats


def _json_copy(value: Any, depth: int, floats: list[float]) -> Any:
    """A copy of `value` if JSON-mode dumping passes it through unchanged (else `_NotPlain`); the
    floats met on the way are added to `floats`."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if _INT_MIN <= value <= _INT_MAX:
            return value
        raise _NotPlain  # past what orjson writes: the SDK's steps (and json.dumps) write it
    if kind is float:
        if math.isfinite(value):
            floats.append(value)
            return value
        raise _NotPlain  # JSON mode writes an infinite float or NaN as null
    if depth >= _MAX_DEPTH:
        raise _NotPlain
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain  # JSON mode writes other keys as strings
            copy[key] = _json_copy(item, depth + 1, floats)
        return copy
    if kind is list:
        return [_json_copy(item, depth + 1, floats) for item in value]
    raise _NotPlain


def _order_of(written: dict[str, Any]) -> _Order | None:
    """The key order of a written result and of its text blocks (None if they differ)."""
    content = written.get("content")
    if not isinstance(content, list):
        return None
    block_orders = {tuple(block) for block in content if isinstance(block, dict)}
    if len(block_orders) > 1 or any(set(keys) != {"type", "text"} for keys in block_orders):
        return None
    block_keys = next(iter(block_orders), ("type", "text"))
    return (tuple(written), block_keys == ("type", "text"))
