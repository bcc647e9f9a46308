"""MCP 2026-07-28 beyond tools: prompts, completions, `server/discover`, and the error the
specification prescribes for each client mistake, on both paths (the tools/call fast path and
`FAST_PATH=false`), with the official client and on the raw wire (HTTP status included).

Cases that mcp 2.3.0 answered wrongly, corrected by `errors.ClientMistakes`: unknown tool (the SDK
answered a result with isError), unknown prompt and missing prompt argument (the SDK answered
-32603 and logged an ERROR traceback), a not-found resource for a legacy client (the SDK
answered -32602, 2025-11-25 prescribes -32002).
"""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import PromptReference, ResourceTemplateReference, TextContent

from tests.conftest import client_for

from loadtest.run import HTTP

VERSION = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": VERSION,
    "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
INVALID_PARAMS, METHOD_NOT_FOUND = -32602, -32601
PATHS = ("fast", "sdk")


@pytest.fixture(scope="module", autouse=True)
def log_start(servers: dict[str, str], server_logs: Path) -> dict[str, int]:
    """Where each session server's log stood when this module began: its mistakes come after."""
    return {path: (server_logs / f"{path}.log").stat().st_size for path in PATHS}


def raw(
    base_url: str,
    auth_headers: dict[str, str],
    method: str,
    params: dict[str, Any],
    name: str | None = None,
    meta: dict[str, Any] | None = META,
) -> httpx.Response:
    """One 2026-07-28 request on the wire, as a client would send it."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": method,
        **auth_headers,
    }
    if name is not None:
        headers["Mcp-Name"] = name
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    if meta is not None:
        body["params"] = params | {"_meta": meta}
    return HTTP.post(base_url + "/mcp", content=json.dumps(body), headers=headers, timeout=30)


# (case, method, params, Mcp-Name, HTTP status, JSON-RPC error code)
WIRE_ERRORS = [
    (
        "unknown tool",
        "tools/call",
        {"name": "no_such_tool", "arguments": {}},
        "no_such_tool",
        400,
        INVALID_PARAMS,
    ),
    (
        "unknown prompt",
        "prompts/get",
        {"name": "no_such_prompt"},
        "no_such_prompt",
        400,
        INVALID_PARAMS,
    ),
    (
        "prompt argument missing",
        "prompts/get",
        {"name": "explain_sla", "arguments": {}},
        "explain_sla",
        400,
        INVALID_PARAMS,
    ),
    ("unknown resource", "resources/read", {"uri": "nope://x"}, "nope://x", 400, INVALID_PARAMS),
    (
        "completion of an unknown prompt",
        "completion/complete",
        {
            "ref": {"type": "ref/prompt", "name": "no_such_prompt"},
            "argument": {"name": "a", "value": ""},
        },
        None,
        400,
        INVALID_PARAMS,
    ),
    ("unknown method", "no/such_method", {}, None, 404, METHOD_NOT_FOUND),
    (
        "item resource not found",
        "resources/read",
        {"uri": "item://no-such-key"},
        "item://no-such-key",
        400,
        INVALID_PARAMS,
    ),
    (
        "prompt on a missing item",
        "prompts/get",
        {"name": "describe_item", "arguments": {"key": "no-such-key"}},
        "describe_item",
        400,
        INVALID_PARAMS,
    ),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("case", "method", "params", "name", "status", "code"),
    WIRE_ERRORS,
    ids=[c[0] for c in WIRE_ERRORS],
)
def test_client_mistakes_get_the_specified_error_and_status(
    servers: dict[str, str],
    auth_headers: dict[str, str],
    path: str,
    case: str,
    method: str,
    params: dict[str, Any],
    name: str | None,
    status: int,
    code: int,
) -> None:
    response = raw(servers[path], auth_headers, method, params, name)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "meta",
    [
        None,
        {"io.modelcontextprotocol/protocolVersion": VERSION},  # no clientCapabilities
        META | {"io.modelcontextprotocol/protocolVersion": "2099-01-01"},
    ],
    ids=["no _meta", "_meta incomplete", "_meta names another version"],
)
def test_a_bad_meta_is_refused_before_any_tool_runs(
    servers: dict[str, str], auth_headers: dict[str, str], path: str, meta: dict[str, Any] | None
) -> None:
    response = raw(
        servers[path],
        auth_headers,
        "tools/call",
        {"name": "server_info", "arguments": {}},
        "server_info",
        meta,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {INVALID_PARAMS, -32020, -32022}, response.text


@pytest.mark.parametrize("path", PATHS)
def test_bad_tool_arguments_are_a_tool_error_the_model_can_correct(
    servers: dict[str, str], auth_headers: dict[str, str], path: str
) -> None:
    """Since 2025-11-25 argument validation is a tool execution error (isError), not -32602."""
    response = raw(
        servers[path],
        auth_headers,
        "tools/call",
        {"name": "fetch_upstream", "arguments": {"path": 5}},
        "fetch_upstream",
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["isError"] is True


@pytest.mark.anyio
@pytest.mark.parametrize("path", PATHS)
async def test_the_official_client_gets_each_error_code(servers: dict[str, str], path: str) -> None:
    async with client_for(servers[path] + "/mcp", "auto") as client:
        with pytest.raises(MCPError) as unknown_tool:
            await client.call_tool("no_such_tool", {})
        with pytest.raises(MCPError) as unknown_prompt:
            await client.get_prompt("no_such_prompt", {})
        with pytest.raises(MCPError) as missing_argument:
            await client.get_prompt("explain_sla", {})
        with pytest.raises(MCPError) as unknown_resource:
            await client.read_resource("nope://x")
    codes = [
        e.value.code for e in (unknown_tool, unknown_prompt, missing_argument, unknown_resource)
    ]
    assert codes == [INVALID_PARAMS] * 4


@pytest.mark.anyio
@pytest.mark.parametrize("path", PATHS)
async def test_legacy_clients_get_their_versions_codes(servers: dict[str, str], path: str) -> None:
    async with client_for(servers[path] + "/mcp", "legacy") as client:
        with pytest.raises(MCPError) as unknown_tool:
            await client.call_tool("no_such_tool", {})
        with pytest.raises(MCPError) as unknown_prompt:
            await client.get_prompt("no_such_prompt", {})
        with pytest.raises(MCPError) as item_not_found:
            await client.read_resource("item://no-such-key")
    # 2025-11-25: "Resource not found" is -32002 (2026-07-28 moved it to -32602).
    assert item_not_found.value.code == -32002
    assert [unknown_tool.value.code, unknown_prompt.value.code] == [INVALID_PARAMS] * 2


@pytest.mark.anyio
@pytest.mark.parametrize("path", PATHS)
async def test_prompts_render_with_their_arguments(servers: dict[str, str], path: str) -> None:
    async with client_for(servers[path] + "/mcp", "auto") as client:
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
        sla = await client.get_prompt("explain_sla", {"audience": "operators"})
        assert not (
            await client.call_tool("put_item", {"key": "prompted", "value": "a blue door"})
        ).is_error
        item = await client.get_prompt("describe_item", {"key": "prompted", "style": "detailed"})
    assert [a.name for a in prompts["explain_sla"].arguments or []] == ["audience"]
    text = sla.messages[0].content
    assert isinstance(text, TextContent)
    assert "operators" in text.text
    assert "p95 latency" in text.text
    embedded = item.messages[0].content
    assert embedded.type == "resource"
    assert str(embedded.resource.uri) == "item://prompted"
    assert "a blue door" in embedded.resource.model_dump_json()


@pytest.mark.anyio
@pytest.mark.parametrize("path", PATHS)
async def test_completions_for_prompt_arguments_and_item_keys(
    servers: dict[str, str], path: str
) -> None:
    async with client_for(servers[path] + "/mcp", "auto") as client:
        audience = await client.complete(
            PromptReference(type="ref/prompt", name="explain_sla"),
            {"name": "audience", "value": "op"},
        )
        for key in ("complete-a1", "complete-a2", "complete-b1"):
            assert not (await client.call_tool("put_item", {"key": key, "value": "v"})).is_error
        by_template = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="item://{key}"),
            {"name": "key", "value": "complete-a"},
        )
        by_prompt = await client.complete(
            PromptReference(type="ref/prompt", name="describe_item"),
            {"name": "key", "value": "complete-"},
        )
    assert audience.completion.values == ["operators"]
    assert by_template.completion.values == ["complete-a1", "complete-a2"]
    assert by_prompt.completion.values == ["complete-a1", "complete-a2", "complete-b1"]
    assert by_prompt.completion.has_more is False


@pytest.mark.parametrize("path", PATHS)
def test_server_discover_declares_what_is_served(
    servers: dict[str, str], auth_headers: dict[str, str], path: str
) -> None:
    response = raw(servers[path], auth_headers, "server/discover", {})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert VERSION in result["supportedVersions"]
    capabilities = result["capabilities"]
    assert {"tools", "prompts", "resources", "completions"} <= capabilities.keys()
    # No list-change or resource-update events are ever sent: none may be promised.
    assert capabilities["resources"].get("subscribe") is not True
    assert not any(
        capabilities[kind].get("listChanged") for kind in ("tools", "prompts", "resources")
    )


def test_no_client_mistake_logged_an_error(server_logs: Path, log_start: dict[str, int]) -> None:
    """Runs last in this module: every mistake above was made; none may page anyone."""
    for path in PATHS:
        with open(server_logs / f"{path}.log", "rb") as log:
            log.seek(log_start[path])
            text = log.read().decode()
        # The refusals are logged at INFO, so the log would show them (the SDK's console handler
        # wraps long lines: the name may sit on the next one).
        assert "refused: Unknown prompt:" in text, text[-2000:]
        assert "no_such_prompt" in text, text[-2000:]
        assert "Traceback" not in text, text
        assert not re.search(r"\bERROR\b", text), text
