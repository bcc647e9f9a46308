"""The owned tools/call executor (call_executor.py) against the SDK's own HTTP entry.

Two servers on the same data: the session's (fast path on, the default) and one with
`FAST_PATH=false`. Every request below gets the same status, headers and body bytes from both,
whether the fast path serves it or hands it back; the official client's calls take the fast
path; and with the switch off nothing does.
"""

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import httpx
import pytest
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import (
    CallToolResult,
    ImageContent,
    TextContent,
)
from mcp_types.methods import serialize_server_result
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from starlette.testclient import TestClient

from my_mcp_server import app as app_module
from my_mcp_server import call_executor, telemetry, tool_results
from my_mcp_server.call_executor import ToolCallExecutor
from my_mcp_server.server import build_server
from my_mcp_server.settings import Settings
from tests.conftest import MODES, Connect, Mode, client_for

from loadtest.run import HTTP

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


def nested(depth: int) -> list[Any]:
    """A list `depth` lists deep: deeper than orjson writes (254), not than JSON parsers read."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@dataclass
class Case:
    id: str
    body: Any
    outcome: Outcome | None  # None: not an executor candidate by its headers
    # Header overrides; None removes the header.
    headers: dict[str, str | None] = field(default_factory=dict)
    tool: str = "server_info"
    extra_headers: list[tuple[str, str]] = field(default_factory=list)  # sent as well (repeats)
    chunks: int = 1  # >1: the body arrives in this many pieces, slowly


def raw(text: str) -> bytes:
    """A body given as JSON text, for what `json.dumps` would not write (NaN, repeated keys)."""
    return text.encode()


META_JSON = json.dumps(META)
OVERSIZED = "/" + "x" * 1_100_000  # past max_request_bytes (1 MiB by default)

CASES = [
    Case("no arguments", call("server_info", {}), "served"),
    Case("arguments absent", call("server_info"), "served"),
    Case("arguments null", call("server_info", arguments=None), "served"),
    Case("string id", call("server_info", {}) | {"id": "call-1"}, "served"),
    Case("id zero", call("server_info", {}) | {"id": 0}, "served"),
    Case("negative id", call("server_info", {}) | {"id": -5}, "served"),
    Case("id past 64 bits", call("server_info", {}) | {"id": 2**70}, "handed_back"),
    Case("float id", call("server_info", {}) | {"id": 1.5}, "handed_back"),
    Case("integer past 64 bits in arguments", call("server_info", {"n": 2**64 + 1}), "handed_back"),
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
    Case("required argument missing", call("fetch_upstream", {}), "served", tool="fetch_upstream"),
    Case(
        "argument of the wrong type",
        call("fetch_upstream", {"path": 42}),
        "served",
        tool="fetch_upstream",
    ),
    Case("unexpected argument", call("server_info", {"surplus": True}), "served"),
    Case(
        "unicode arguments",
        call("fetch_upstream", {"path": "/ünïcødé-✓-\u2028-😀"}),
        "served",
        tool="fetch_upstream",
    ),
    Case(
        "large arguments",
        call("fetch_upstream", {"path": "/" + "é" * 100_000}),
        "served",
        tool="fetch_upstream",
    ),
    Case(
        "nested arguments",
        call("server_info", {"deep": {"a": [1, {"b": [None, 2.5e-7, 1e16, True]}]}}),
        "served",
    ),
    Case(
        "lone surrogate in arguments",
        raw(
            '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"fetch_upstream",'
            '"arguments":{"path":"/\\ud800"},"_meta":' + META_JSON + "}}"
        ),
        "handed_back",
        tool="fetch_upstream",
    ),
    Case(
        "NaN in arguments",
        raw(
            '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"server_info",'
            '"arguments":{"x":NaN},"_meta":' + META_JSON + "}}"
        ),
        "handed_back",
    ),
    Case(
        "repeated key",
        raw(
            '{"jsonrpc":"2.0","id":7,"id":8,"method":"tools/call","params":{"name":"server_info",'
            '"_meta":' + META_JSON + "}}"
        ),
        "served",
    ),
    Case("wrong argument type", call("server_info", arguments=[]), "handed_back"),
    Case("name not a string", call("server_info", {}, name=5), "handed_back"),
    Case("progress token", call("server_info", {}, _meta=META | {"progressToken": 3}), "served"),
    Case(
        "boolean progress token",
        call("server_info", {}, _meta=META | {"progressToken": True}),
        "served",
    ),
    Case("unknown _meta key", call("server_info", {}, _meta=META | {"x-trace": "1"}), "served"),
    Case(
        "_meta nested 300 deep",
        call("server_info", {}, _meta=META | {"x-deep": nested(300)}),
        "handed_back",
    ),
    Case("arguments nested 300 deep", call("server_info", {"deep": nested(300)}), "served"),
    Case("_meta not an object", call("server_info", {}, _meta=5), "handed_back"),
    Case(
        "clientInfo malformed",
        call("server_info", {}, _meta=META | {"io.modelcontextprotocol/clientInfo": 5}),
        "handed_back",
    ),
    Case(
        "clientCapabilities malformed",
        call("server_info", {}, _meta=META | {"io.modelcontextprotocol/clientCapabilities": []}),
        "handed_back",
    ),
    Case(
        "clientInfo absent",
        call(
            "server_info",
            {},
            _meta={k: v for k, v in META.items() if not k.endswith("clientInfo")},
        ),
        "served",
    ),
    Case("requestState", call("server_info", {}, requestState="forged"), "handed_back"),
    Case("inputResponses", call("server_info", {}, inputResponses={}), "handed_back"),
    Case("unknown tool", call("no_such_tool", {}), "handed_back", tool="no_such_tool"),
    Case("Mcp-Name mismatch", call("server_info", {}), "handed_back", tool="fetch_upstream"),
    Case("Mcp-Name missing", call("server_info", {}), "handed_back", {"Mcp-Name": None}),
    Case(
        "Mcp-Name repeated",
        call("server_info", {}),
        None,
        extra_headers=[("Mcp-Name", "server_info")],
    ),
    Case("Mcp-Method missing", call("server_info", {}), None, {"Mcp-Method": None}),
    Case(
        "protocol version header missing",
        call("server_info", {}),
        None,
        {"MCP-Protocol-Version": None},
    ),
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
        "another method in the body",
        call("server_info", {}) | {"method": "tools/list"},
        "handed_back",
    ),
    Case(
        "notification",
        {k: v for k, v in call("server_info", {}).items() if k != "id"},
        "handed_back",
    ),
    Case("not JSON", b'{"jsonrpc": ', "handed_back"),
    Case("empty body", b"", "handed_back"),
    Case("batch", [call("server_info", {})], "handed_back"),
    Case("slow body", call("server_info", {}), "served", chunks=4),
    Case(
        "oversized body",
        call("fetch_upstream", {"path": OVERSIZED}),
        None,
        tool="fetch_upstream",
    ),
    Case(
        "oversized body, streamed",
        call("fetch_upstream", {"path": OVERSIZED}),
        None,
        tool="fetch_upstream",
        chunks=3,
    ),
    Case(
        "SSE-only Accept", call("server_info", {}), "handed_back", {"Accept": "text/event-stream"}
    ),
    # (httpx sends `Accept: */*` when a request has none)
    Case("Accept empty", call("server_info", {}), "handed_back", {"Accept": ""}),
    Case("Accept wildcard", call("server_info", {}), "served", {"Accept": "*/*"}),
    Case(
        "Accept with parameters",
        call("server_info", {}),
        "served",
        {"Accept": "application/json;q=0.9, text/event-stream;q=0.1"},
    ),
    Case("foreign Host", call("server_info", {}), "handed_back", {"Host": "attacker.example"}),
    Case("Host on another port", call("server_info", {}), "served", {"Host": "localhost:1"}),
    Case(
        "foreign Origin",
        call("server_info", {}),
        "handed_back",
        {"Origin": "http://attacker.example"},
    ),
    Case("allowed Origin", call("server_info", {}), "served", {"Origin": "http://localhost:3000"}),
    Case(
        "wrong Content-Type", call("server_info", {}), "handed_back", {"Content-Type": "text/plain"}
    ),
    Case(
        "Content-Type with charset",
        call("server_info", {}),
        "served",
        {"Content-Type": "application/json; charset=utf-8"},
    ),
    Case("Mcp-Param header", call("server_info", {}), None, {"Mcp-Param-Path": "/status"}),
    Case("unknown version", call("server_info", {}), None, {"MCP-Protocol-Version": "2099-01-01"}),
    Case("legacy version", call("server_info", {}), None, {"MCP-Protocol-Version": "2025-06-18"}),
    Case("another method", call("server_info", {}), None, {"Mcp-Method": "tools/list"}),
]


def post(base_url: str, case: Case, auth_headers: dict[str, str]) -> httpx.Response:
    headers: dict[str, str | None] = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": case.tool,
        **auth_headers,
        **case.headers,
    }
    sent = [(k, v) for k, v in headers.items() if v is not None] + case.extra_headers
    body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    content: bytes | Iterator[bytes] = body
    if case.chunks > 1:
        size = len(body) // case.chunks + 1

        def slowly() -> Iterator[bytes]:
            for start in range(0, len(body), size):
                time.sleep(0.05)
                yield body[start : start + size]

        content = slowly()
    return HTTP.post(base_url + "/mcp", content=content, headers=sent, timeout=30)


def fast_path_counts(base_url: str) -> dict[str, float]:
    """This server's `mcp_server_fast_path_requests_total` by outcome."""
    counts: dict[str, float] = {"served": 0.0, "handed_back": 0.0}
    for family in text_string_to_metric_families(HTTP.get(base_url + "/metrics").text):
        for sample in family.samples:
            if sample.name == "mcp_server_fast_path_requests_total":
                counts[sample.labels["outcome"]] += sample.value
    return counts


def test_every_answer_is_the_sdks_own(
    base_url: str, sdk_url: str, auth_headers: dict[str, str]
) -> None:
    for case in CASES:
        fast, sdk = post(base_url, case, auth_headers), post(sdk_url, case, auth_headers)
        assert (fast.status_code, fast.content) == (sdk.status_code, sdk.content), case.id
        assert answer_headers(fast) == answer_headers(sdk), case.id
    assert fast_path_counts(sdk_url) == {"served": 0.0, "handed_back": 0.0}
    assert HTTP.get(base_url + "/healthz").status_code == 200


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_case_takes_its_path(
    base_url: str, sdk_url: str, auth_headers: dict[str, str], case: Case
) -> None:
    """One case at a time: the executor serves or hands back exactly the cases it should."""
    before = fast_path_counts(base_url)
    fast = post(base_url, case, auth_headers)
    after = fast_path_counts(base_url)
    moved = {k for k in after if after[k] != before[k]}
    assert moved == ({case.outcome} if case.outcome else set()), (case.id, fast.status_code)


def answer_headers(response: httpx.Response) -> dict[str, str]:
    """Every response header but the date, which only says when it was sent."""
    return {k: v for k, v in response.headers.items() if k != "date"}


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


TEXT = TextContent(type="text", text="é \n {}")
IMAGE = ImageContent(type="image", data="AA==", mime_type="image/png")
INFO = {"name": "test", "version": "1"}
STAMP = {"io.modelcontextprotocol/serverInfo": INFO}
# name -> (result, whether the writer may write it directly once it learned its shape)
SHAPES: dict[str, tuple[CallToolResult, bool]] = {
    "one text block": (CallToolResult(content=[TEXT]), True),
    "structured": (CallToolResult(content=[TEXT], structured_content={"a": [1, 2.5]}), True),
    "structured, nested": (
        CallToolResult(
            content=[TEXT], structured_content={"a": {"b": [None, True, -3, "é", {"c": []}]}}
        ),
        True,
    ),
    "structured list": (CallToolResult(content=[TEXT], structured_content=[1, "x"]), True),
    "error": (CallToolResult(content=[TEXT], is_error=True), True),
    "no blocks": (CallToolResult(content=[]), True),
    "three blocks": (CallToolResult(content=[TEXT, TEXT, TEXT]), True),
    "annotated block": (
        CallToolResult(content=[TextContent(type="text", text="x", annotations={"priority": 1})]),
        False,
    ),
    "image": (CallToolResult(content=[IMAGE]), False),
    "with _meta": (CallToolResult(content=[TEXT], _meta={"k": "v"}), False),
    # What JSON mode converts: infinity and NaN to null, tuples to lists, keys to strings.
    "structured infinity": (
        CallToolResult(content=[TEXT], structured_content={"a": float("inf")}),
        False,
    ),
    "structured tuple": (CallToolResult(content=[TEXT], structured_content={"a": (1, 2)}), False),
    "structured integer key": (CallToolResult(content=[TEXT], structured_content={1: "a"}), False),
    "structured integer past 64 bits": (
        CallToolResult(content=[TEXT], structured_content={"a": 2**70}),
        False,
    ),
}


@pytest.mark.parametrize(("result", "direct"), SHAPES.values(), ids=SHAPES.keys())
def test_the_result_writer_writes_what_the_sdks_steps_write(
    result: CallToolResult, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twice per shape: the first result goes through the sieve and learns the shape, the second
    is written directly where it may be, and both write the same bytes."""
    sieved: list[int] = []

    def counted(method: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
        sieved.append(1)
        return serialize_server_result(method, version, data)

    monkeypatch.setattr(tool_results, "serialize_server_result", counted)
    writer = tool_results.ResultWriter(INFO)
    first = writer.write(VERSION, result)[0]
    assert first["_meta"]["io.modelcontextprotocol/serverInfo"] == INFO
    second = writer.write(VERSION, result)[0]
    assert json.dumps(second) == json.dumps(first)
    assert len(sieved) == (1 if direct else 2)


@pytest.mark.parametrize(("result", "direct"), SHAPES.values(), ids=SHAPES.keys())
def test_only_a_directly_written_result_without_floats_is_float_free(
    result: CallToolResult, direct: bool
) -> None:
    """What lets the reply's encoding skip its float checks: said only of a result of a shape
    written directly that holds no float; the first of its shape (the SDK's steps, found equal
    to the direct form) gets the same verdict as the ones after it."""
    writer = tool_results.ResultWriter(INFO)
    expected = direct and not floats_in(result.structured_content)
    assert writer.write(VERSION, result)[1] is expected
    assert writer.write(VERSION, result)[1] is expected


def floats_in(value: Any) -> bool:
    if isinstance(value, dict):
        return any(floats_in(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(floats_in(item) for item in value)
    return isinstance(value, float)


def test_a_directly_written_result_is_a_copy() -> None:
    """What a middleware does to the written answer stays off the tool's (maybe cached) value."""
    structured: dict[str, Any] = {"a": {"b": [1]}}
    result = CallToolResult(content=[TEXT], structured_content=structured)
    writer = tool_results.ResultWriter(INFO)
    writer.write(VERSION, result)
    written = writer.write(VERSION, result)[0]
    written["structuredContent"]["a"]["b"].append(2)
    written["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] = "changed"
    assert structured == {"a": {"b": [1]}}
    assert writer.write(VERSION, result)[0]["_meta"] == STAMP


def test_the_form_of_a_result_never_changed_is_written_once_where_nothing_changes_it() -> None:
    """Reused only for a result declared never changed, and only when the caller says nothing
    changes the written form in place; every form is the SDK's."""
    writer = tool_results.ResultWriter(INFO)
    shared = tool_results.never_changed(CallToolResult(content=[TEXT], structured_content={"a": 1}))
    other = CallToolResult(content=[TEXT], structured_content={"a": 1})
    sdks = writer.write(VERSION, other)[0]  # the first of the shape: the SDK's steps
    first = writer.write(VERSION, shared, reuse=True)[0]
    assert first == sdks
    assert writer.write(VERSION, shared, reuse=True)[0] is first
    assert writer.write(VERSION, shared)[0] is not first
    reused_other = writer.write(VERSION, other, reuse=True)[0]
    assert writer.write(VERSION, other, reuse=True)[0] is not reused_other


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def in_process_answer(
    fast_path: bool, auth_headers: dict[str, str], body: Any, *, times: int = 1
) -> tuple[int, bytes]:
    """A request to an in-process app (settings from the environment) with the executor on or
    off, sent `times` times: the last answer's status and body (the first result of a shape
    takes the SDK's steps, later ones are written directly: tool_results.py)."""
    with TestClient(app_module.create_app(Settings(fast_path=fast_path))) as client:
        headers = {
            "Accept": "application/json",
            "MCP-Protocol-Version": VERSION,
            "Mcp-Method": "tools/call",
            "Mcp-Name": "server_info",
            "Host": "127.0.0.1:8000",
            **auth_headers,
        }
        for _ in range(times):
            answer = client.post("/mcp", json=body, headers=headers)
        return answer.status_code, answer.content


async def echo(text: str) -> str:
    return text


def build_servers_with(
    monkeypatch: pytest.MonkeyPatch,
    *middleware: ServerMiddleware[Any],
    tools: tuple[Callable[..., Any], ...] = (echo,),
) -> None:
    """In-process apps built from now on carry `middleware` (appended) and `tools`."""

    def build(*args: Any, **kwargs: Any) -> MCPServer[Any]:
        server = build_server(*args, **kwargs)
        for tool in tools:
            server.add_tool(tool)
        server.middleware.extend(middleware)
        return server

    monkeypatch.setattr(app_module, "build_server", build)


@pytest.mark.usefixtures("server_settings")
def test_a_users_server_middleware_runs_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str]
) -> None:
    """Middleware added to the server sees the call (its validated `_meta` too) and shapes the
    answer, executor or not."""
    seen: list[tuple[str, Any]] = []

    async def tag(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        seen.append((ctx.method, ctx.meta))
        result = await call_next(ctx)
        assert isinstance(result, dict)
        return {**result, "structuredContent": {"tagged": True}}

    build_servers_with(monkeypatch, tag, tools=())
    body = call("server_info", {}, _meta=META | {"progressToken": 3})
    answers = {on: in_process_answer(on, auth_headers, body) for on in (True, False)}
    assert answers[True] == answers[False]
    assert json.loads(answers[True][1])["result"]["structuredContent"] == {"tagged": True}
    assert [method for method, _ in seen] == ["tools/call", "tools/call"]
    assert seen[0][1] == seen[1][1]
    assert seen[0][1]["progress_token"] == 3  # as the SDK's params model names it


@pytest.mark.usefixtures("server_settings")
def test_a_middleware_that_changes_the_result_in_place_gets_the_sdks_bytes(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str]
) -> None:
    """Floats put into a float-free written result in place, in forms orjson and json write
    apart: the middleware is not marked `KeepsResults`, so the executor checks the reply's
    floats again and writes what the SDK writes."""

    async def put_floats(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        assert isinstance(result, dict)
        result["structuredContent"] = {"small": 1e-07, "big": 1e16, "mid": 1.5e-05}
        return result

    build_servers_with(monkeypatch, put_floats)
    headers = auth_headers | {"Mcp-Name": "echo"}
    answers = {
        on: in_process_answer(on, headers, call("echo", {"text": "sent"}), times=2)
        for on in (True, False)
    }
    assert answers[True] == answers[False]
    assert b'"small":1e-07,"big":1e+16,"mid":1.5e-05' in answers[True][1]


SHARED = tool_results.never_changed(
    CallToolResult(content=[TEXT], structured_content={"seen": ["built"]})
)


async def shared_result() -> Annotated[CallToolResult, dict[str, list[str]]]:
    return SHARED


@pytest.mark.usefixtures("server_settings")
def test_a_middleware_that_changes_a_never_changed_results_form_gets_a_fresh_one(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str]
) -> None:
    """A tool's result declared never changed, and a middleware (not `KeepsResults`) that adds to
    the written form in place: every call gets a form of its own, as through the SDK."""

    async def append(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        assert isinstance(result, dict)
        result["structuredContent"]["seen"].append("middleware")
        return result

    build_servers_with(monkeypatch, append, tools=(shared_result,))
    headers = auth_headers | {"Mcp-Name": "shared_result"}
    answers = {
        on: in_process_answer(on, headers, call("shared_result", {}), times=3)
        for on in (True, False)
    }
    assert answers[True] == answers[False]
    result = json.loads(answers[True][1])["result"]
    assert result["structuredContent"] == {"seen": ["built", "middleware"]}
    assert SHARED.structured_content == {"seen": ["built"]}


@pytest.mark.usefixtures("server_settings")
def test_a_middleware_that_replaces_the_params_is_honoured_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str]
) -> None:
    """A middleware hands the call on with params of its own (here: other arguments); the
    executor validates and calls with those, as the SDK does."""

    async def rewrite(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = {**(ctx.params or {}), "arguments": {"text": "rewritten"}}
        return await call_next(dataclasses.replace(ctx, params=params))

    build_servers_with(monkeypatch, rewrite)
    headers = {"Mcp-Name": "echo"}
    answers = {
        on: in_process_answer(on, auth_headers | headers, call("echo", {"text": "sent"}))
        for on in (True, False)
    }
    assert answers[True] == answers[False]
    assert answers[True][0] == 200
    assert json.loads(answers[True][1])["result"]["content"][0]["text"] == "rewritten"


class Point(BaseModel):
    x: int


async def checked(x: Any) -> Annotated[CallToolResult, Point]:
    return CallToolResult(content=[TextContent(type="text", text="t")], structured_content={"x": x})


@pytest.mark.usefixtures("server_settings")
@pytest.mark.parametrize("x", [1, "not a number"], ids=["fits", "violates"])
def test_a_returned_results_check_against_its_output_model_is_the_sdks(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str], x: Any
) -> None:
    """A tool returning a CallToolResult has its structured content checked against its output
    model by the executor's own runner (tool_runs.py): the same answer as through the SDK, a
    failed check included (an isError result that keeps the reason on the server)."""
    build_servers_with(monkeypatch, tools=(checked,))
    headers = auth_headers | {"Mcp-Name": "checked"}
    answers = {
        on: in_process_answer(on, headers, call("checked", {"x": x}), times=2)
        for on in (True, False)
    }
    assert answers[True] == answers[False]
    result = json.loads(answers[True][1])["result"]
    assert result["isError"] is (x != 1)
    if x != 1:
        assert result["content"][0]["text"] == "Error executing tool checked"


@pytest.mark.usefixtures("server_settings")
def test_only_a_tool_that_reads_its_context_gets_one_built(
    monkeypatch: pytest.MonkeyPatch, auth_headers: dict[str, str]
) -> None:
    """server_info takes a Context: the executor builds it one per call; a tool that does not
    is called with none of the request's (tool_contexts.py). Both served."""
    built: list[str] = []

    class Counted(Context[Any, Any]):
        def __init__(self, **kwargs: Any) -> None:
            if kwargs.get("request_context") is not None:
                built.append(kwargs["input_params"].name)
            super().__init__(**kwargs)

    monkeypatch.setattr(call_executor, "Context", Counted)
    build_servers_with(monkeypatch)
    with TestClient(app_module.create_app(Settings())) as client:

        def served() -> float:
            text = client.get("/metrics").text
            return sum(
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "mcp_server_fast_path_requests_total"
                and sample.labels["outcome"] == "served"
            )

        before = served()
        for tool, args in (("server_info", {}), ("echo", {"text": "x"})):
            headers = {
                "Accept": "application/json",
                "MCP-Protocol-Version": VERSION,
                "Mcp-Method": "tools/call",
                "Mcp-Name": tool,
                "Host": "127.0.0.1:8000",
                **auth_headers,
            }
            answer = client.post("/mcp", json=call(tool, args), headers=headers)
            assert answer.status_code == 200, answer.text
        assert served() - before == 2
    assert built == ["server_info"]


@pytest.mark.usefixtures("server_settings")
def test_the_span_is_the_sdks_and_continues_the_callers_trace(
    auth_headers: dict[str, str],
) -> None:
    exporter = InMemorySpanExporter()
    telemetry.enable_tracing(SimpleSpanProcessor(exporter))
    body = call("server_info", {}, _meta=META | {"traceparent": TRACEPARENT})
    spans = {}
    for fast_path in (True, False):
        exporter.clear()
        assert in_process_answer(fast_path, auth_headers, body)[0] == 200
        spans[fast_path] = [s for s in exporter.get_finished_spans() if s.name.startswith("tools/")]
    for fast_path, found in spans.items():
        assert [s.name for s in found] == ["tools/call server_info"], fast_path
        assert found[0].parent is not None
        assert f"{found[0].context.trace_id:032x}" == TRACE_ID
    assert dict(spans[True][0].attributes or {}) == dict(spans[False][0].attributes or {})


def probe_executor(server: MCPServer[None], *, tracing: Callable[[], bool]) -> ToolCallExecutor:
    """An executor for a probe server: no lifespan state, no subscriptions, no host checks."""
    return ToolCallExecutor(
        server,
        None,
        fallback=server.session_manager.handle_request,
        security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        subscriptions=None,  # type: ignore[arg-type]
        max_body_bytes=1024,
        tracing=tracing,
    )


def test_the_sdks_span_middleware_runs_only_while_tracing() -> None:
    """The middleware a call runs through: every one on the server, the SDK's span middleware
    only while a tracer is configured (its spans would go nowhere)."""
    server: MCPServer[None] = MCPServer("probe")
    server.streamable_http_app(stateless_http=True, json_response=True)
    everything = list(server.session_manager.app.middleware)
    tracing = [False]
    executor = probe_executor(server, tracing=lambda: tracing[0])
    spans = [m for m in everything if "OpenTelemetry" in type(m).__name__]
    assert spans  # the SDK installs its span middleware by default
    assert executor.middleware_in_use == [m for m in everything if m not in spans]
    tracing[0] = True
    assert executor.middleware_in_use == everything


def test_the_executor_steps_aside_for_another_tools_call_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tools/call handler that is not MCPServer's own (an extension's interceptor, or one
    registered by hand) is something the executor cannot reproduce: it serves nothing."""
    server: MCPServer[None] = MCPServer("probe")
    server.streamable_http_app(stateless_http=True, json_response=True)
    lowlevel = server.session_manager.app
    entry = lowlevel.get_request_handler("tools/call")
    assert entry is not None

    def executor() -> ToolCallExecutor:
        return probe_executor(server, tracing=lambda: False)

    assert executor().enabled
    lowlevel.add_request_handler("tools/call", entry.params_type, entry.handler)
    assert executor().enabled  # the same handler again: still MCPServer's own

    async def intercepted(ctx: ServerRequestContext[Any, Any], params: Any) -> HandlerResult:
        return await entry.handler(ctx, params)

    lowlevel.add_request_handler("tools/call", entry.params_type, intercepted)
    with caplog.at_level("WARNING"):
        assert not executor().enabled
    assert any("steps aside" in r.getMessage() for r in caplog.records)
