"""The executor's replies are the bytes the SDK's entry writes: `json.dumps`, compact, ASCII."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp_types import ErrorData, JSONRPCError, JSONRPCResponse

from my_mcp_server.reply_encoding import encode_reply


def sdk_bytes(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "result",
    [
        {"content": [{"type": "text", "text": "é"}], "isError": False, "meta": None},
        {"when": datetime(2026, 1, 1, tzinfo=UTC)},  # a raw dict JSON cannot hold as is
        {"ratio": float("nan")},
        {"tiny": 1.5e-05, "huge": 1e16, "big": 2**70, "del": "\x7f", "ctl": "\x00\x1f\n"},
    ],
)
def test_dumped_messages_are_written_as_json_dumps_writes_them(result: dict[str, Any]) -> None:
    for message in (
        JSONRPCResponse(jsonrpc="2.0", id=3, result=result),
        JSONRPCError(
            jsonrpc="2.0", id="a", error=ErrorData(code=-32602, message="bad", data=result)
        ),
    ):
        dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert encode_reply(dumped) == sdk_bytes(dumped)
        assert encode_reply(dumped, json_mode=True) == sdk_bytes(dumped)


# What a JSON-mode dump holds: JSON's types (NaN and infinity too, as a middleware may add them).
JSON_MODE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(result=JSON_MODE_VALUES, request_id=st.integers(-(2**63), 2**63 - 1) | st.text())
def test_any_json_mode_reply_is_written_as_json_dumps_writes_it(
    result: Any, request_id: int | str
) -> None:
    reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
    assert encode_reply(reply, json_mode=True) == sdk_bytes(reply)


def test_what_a_middleware_may_leave_in_place_is_written_as_json_writes_it() -> None:
    """`json_mode` holds a result a middleware may have changed in place: NaN and infinity
    (orjson writes null) and subclasses of built-in types still come out as json writes them."""

    class Text(str):
        pass

    for value in (float("nan"), float("-inf"), Text("x"), [None, True]):
        reply = {"jsonrpc": "2.0", "id": 1, "result": {"value": value}}
        assert encode_reply(reply, json_mode=True) == sdk_bytes(reply), value


def test_floats_of_every_magnitude_and_every_ascii_character() -> None:
    floats = [m * 10.0**e for e in range(-323, 308) for m in (1.0, -1.5, 9.999999, 3.14159)]
    text = "".join(map(chr, range(128))) + "é\u2028\U0001f600"
    for value in [*floats, 5e-324, 2.0**53, 1e-4, 1e-5, 123.0, -0.0, text, *text]:
        reply = {"jsonrpc": "2.0", "id": 1, "result": {"value": value}}
        assert encode_reply(reply, json_mode=True) == sdk_bytes(reply), value
