"""The tools/call fast path (fast_calls.py) against the SDK's own HTTP entry.

Two servers on the same data: the session's (fast path on, the default) and one with
`FAST_PATH=false`. Every request below gets the same status, headers and body bytes from both,
whether the fast path serves it or hands it back; the official client's calls take the fast
path; and with the switch off nothing does.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest
from mcp_types import ErrorData, JSONRPCError, JSONRPCResponse
from prometheus_client.parser import text_string_to_metric_families

from my_mcp_server.fast_calls import encode_reply
from tests.conftest import MODES, Connect, Mode, client_for, running_server

VERSION = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": VERSION,
    "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
Outcome = Literal["served", "handed_back"]


def call(tool: str, args: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    """A tools/call body; `params` add to or replace its params (e.g. a malformed `arguments`)."""
    body_params: dict[str, Any] = {"name": tool, "_meta": META}
    if args is not None:
        body_params["arguments"] = args
    body_params |= params
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": body_params}


@dataclass
class Case:
    id: str
    body: Any
    outcome: Outcome | None  # None: not a fast-path candidate by its headers
    headers: dict[str, str] = field(default_factory=dict)
    tool: str = "server_info"


CASES = [
    Case("no arguments", call("server_info", {}), "served"),
    Case("arguments absent", call("server_info"), "served"),
    Case("string id", call("server_info", {}) | {"id": "call-1"}, "served"),
    Case(
        "with arguments",
        call("fetch_upstream", {"path": "/status"}),
        "served",
        tool="fetch_upstream",
    ),
    Case(
        "tool error", call("fetch_upstream", {"path": "/missing"}), "served", tool="fetch_upstream"
    ),
    Case(
        "invalid argument", call("fetch_upstream", {"path": "x"}), "served", tool="fetch_upstream"
    ),
    Case("wrong argument type", call("server_info", arguments=[]), "handed_back"),
    Case("progress token", call("server_info", {}, _meta=META | {"progressToken": 3}), "served"),
    Case("unknown tool", call("no_such_tool", {}), "handed_back", tool="no_such_tool"),
    Case("Mcp-Name mismatch", call("server_info", {}), "handed_back", tool="fetch_upstream"),
    Case(
        "envelope version mismatch",
        call(
            "server_info",
            {},
            _meta=META | {"io.modelcontextprotocol/protocolVersion": "2099-01-01"},
        ),
        "handed_back",
    ),
    Case(
        "capabilities missing",
        call("server_info", {}, _meta={"io.modelcontextprotocol/protocolVersion": VERSION}),
        "handed_back",
    ),
    Case("boolean id", call("server_info", {}) | {"id": True}, "handed_back"),
    Case("extra envelope key", call("server_info", {}) | {"extra": 1}, "handed_back"),
    Case("jsonrpc 1.0", call("server_info", {}) | {"jsonrpc": "1.0"}, "handed_back"),
    Case(
        "notification",
        {k: v for k, v in call("server_info", {}).items() if k != "id"},
        "handed_back",
    ),
    Case("not JSON", b'{"jsonrpc": ', "handed_back"),
    Case("batch", [call("server_info", {})], "handed_back"),
    Case(
        "SSE-only Accept", call("server_info", {}), "handed_back", {"Accept": "text/event-stream"}
    ),
    Case("foreign Host", call("server_info", {}), "handed_back", {"Host": "attacker.example"}),
    Case(
        "wrong Content-Type", call("server_info", {}), "handed_back", {"Content-Type": "text/plain"}
    ),
    Case("Mcp-Param header", call("server_info", {}), None, {"Mcp-Param-Path": "/status"}),
    Case("unknown version", call("server_info", {}), None, {"MCP-Protocol-Version": "2099-01-01"}),
    Case("another method", call("server_info", {}), None, {"Mcp-Method": "tools/list"}),
]


@pytest.fixture(scope="module")
def sdk_url(server_env: dict[str, str]) -> Iterator[str]:
    """A second server on the same data, with the fast path switched off."""
    with running_server(server_env, fast_path="false") as url:
        yield url


def post(base_url: str, case: Case, auth_headers: dict[str, str]) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": case.tool,
        **auth_headers,
        **case.headers,
    }
    body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    return httpx.post(base_url + "/mcp", content=body, headers=headers, timeout=30)


def fast_path_counts(base_url: str) -> dict[str, float]:
    """This server's `mcp_server_fast_path_requests_total` by outcome."""
    counts: dict[str, float] = {"served": 0.0, "handed_back": 0.0}
    for family in text_string_to_metric_families(httpx.get(base_url + "/metrics").text):
        for sample in family.samples:
            if sample.name == "mcp_server_fast_path_requests_total":
                counts[sample.labels["outcome"]] += sample.value
    return counts


def test_every_answer_is_the_sdks_own(
    base_url: str, sdk_url: str, auth_headers: dict[str, str]
) -> None:
    before = fast_path_counts(base_url)
    for case in CASES:
        fast, sdk = post(base_url, case, auth_headers), post(sdk_url, case, auth_headers)
        assert (fast.status_code, fast.content) == (sdk.status_code, sdk.content), case.id
        assert fast.headers.get("content-type") == sdk.headers.get("content-type"), case.id
    after = fast_path_counts(base_url)
    for outcome in ("served", "handed_back"):
        expected = sum(case.outcome == outcome for case in CASES)
        assert after[outcome] - before[outcome] == expected, outcome
    assert fast_path_counts(sdk_url) == {"served": 0.0, "handed_back": 0.0}
    assert httpx.get(base_url + "/healthz").status_code == 200


@pytest.mark.anyio
async def test_the_official_clients_calls_take_the_fast_path(
    connect: Connect, base_url: str
) -> None:
    before = fast_path_counts(base_url)
    async with connect("auto") as client:
        assert not (await client.call_tool("server_info", {})).is_error
        assert (await client.call_tool("fetch_upstream", {"path": "x"})).is_error
        assert not (await client.call_tool("put_item", {"key": "fast-path", "value": "v"})).is_error
        read = await client.call_tool("get_item", {"key": "fast-path"})
        assert not read.is_error
        assert read.structured_content is not None
        assert read.structured_content["value"] == "v"
    after = fast_path_counts(base_url)
    assert after["served"] - before["served"] == 4
    assert after["handed_back"] == before["handed_back"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_official_client_passes_with_the_fast_path_off(sdk_url: str, mode: Mode) -> None:
    async with client_for(sdk_url + "/mcp", mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"server_info", "fetch_upstream"} <= tools
        info = await client.call_tool("server_info", {})
        assert not info.is_error
        assert info.structured_content is not None
        assert (await client.call_tool("fetch_upstream", {"path": "x"})).is_error


@pytest.mark.parametrize(
    "result",
    [
        {"content": [{"type": "text", "text": "é"}], "isError": False, "meta": None},
        {"when": datetime(2026, 1, 1, tzinfo=UTC)},  # a raw dict JSON cannot hold as is
        {"ratio": float("nan")},
    ],
)
def test_replies_are_encoded_as_the_sdk_dumps_them(result: dict[str, Any]) -> None:
    """The SDK's entry writes `json.dumps(message.model_dump(...))`; so must the fast path."""
    for message in (
        JSONRPCResponse(jsonrpc="2.0", id=3, result=result),
        JSONRPCError(
            jsonrpc="2.0", id="a", error=ErrorData(code=-32602, message="bad", data=result)
        ),
    ):
        dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert encode_reply(message) == json.dumps(dumped, separators=(",", ":")).encode()
