"""`delete_item`, a multi-round tool call (2026-07-28 `input_required`), with the official client.

The second round may reach any worker of any replica: with `debug_worker_pid` every answer names
the worker process that produced it (`_meta`), so the tests prove from the answers that the rounds
were served by different workers of one server; replicas are separate server processes. Each
accepted the others' `requestState`.
"""

import asyncio
import secrets
import subprocess
import sys
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, InputRequiredResult

from tests.conftest import ENV_PREFIX, PACKAGE, Mode, client_for, running_server

pytestmark = pytest.mark.anyio
PID = f"{PACKAGE}/workerPid"
INVALID_PARAMS = -32602
PATHS = ("fast", "sdk")


def answering(action: str, confirm: bool = True) -> Any:
    """An elicitation callback that answers every question with `action`."""

    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        content = {"confirm": confirm} if action == "accept" else None
        return ElicitResult(action=action, content=content)

    return answer


ACCEPT = answering("accept")


@pytest.fixture(scope="module")
def key() -> str:
    return secrets.token_hex(32)


async def put(url: str, key: str) -> None:
    async with client_for(url + "/mcp", "auto") as client:
        assert not (await client.call_tool("put_item", {"key": key, "value": "v"})).is_error


async def exists(url: str, key: str) -> bool:
    async with client_for(url + "/mcp", "auto") as client:
        return not (await client.call_tool("get_item", {"key": key})).is_error


async def first_round(url: str, key: str) -> InputRequiredResult:
    """Round 1 on its own connection: the server asks for confirmation."""
    async with client_for(url + "/mcp", "auto", elicitation_callback=ACCEPT) as client:
        result = await client.session.call_tool(
            "delete_item", {"key": key}, allow_input_required=True
        )
    assert isinstance(result, InputRequiredResult), result
    assert result.request_state is not None
    return result


async def second_round(
    url: str, key: str, asked: InputRequiredResult, state: str | None = None
) -> CallToolResult | MCPError:
    """Round 2 on a new connection: the user's acceptance and the echoed (or given) state."""
    assert asked.input_requests is not None
    answer = ElicitResult(action="accept", content={"confirm": True})
    async with client_for(url + "/mcp", "auto", elicitation_callback=ACCEPT) as client:
        try:
            return await client.call_tool(
                "delete_item",
                {"key": key},
                input_responses=dict.fromkeys(asked.input_requests, answer),
                request_state=state if state is not None else asked.request_state,
            )
        except MCPError as exc:
            return exc


async def completed_round(url: str, key: str, asked: InputRequiredResult) -> CallToolResult:
    result = await second_round(url, key, asked)
    assert isinstance(result, CallToolResult), result
    return result


async def refused_round(
    url: str, key: str, asked: InputRequiredResult, state: str | None = None
) -> int:
    """The error code of a second round the server must refuse."""
    result = await second_round(url, key, asked, state)
    assert isinstance(result, MCPError), result
    return result.code


def pid(result: InputRequiredResult | CallToolResult) -> int:
    assert result.meta is not None, result
    return int(result.meta[PID])


@pytest.mark.parametrize("path", PATHS)
async def test_an_accepted_confirmation_deletes(servers: dict[str, str], path: str) -> None:
    url, key = servers[path], f"mr-accept-{path}"
    await put(url, key)
    asked = []

    async def confirm(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with client_for(url + "/mcp", "auto", elicitation_callback=confirm) as client:
        result = await client.call_tool("delete_item", {"key": key})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["deleted"] is True
    assert asked == [f"Delete item {key!r}? This cannot be undone."]
    assert not await exists(url, key)  # and the cached copy went with it


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("action", "confirm"), [("decline", True), ("cancel", True), ("accept", False)]
)
async def test_no_confirmation_deletes_nothing(
    servers: dict[str, str], path: str, action: str, confirm: bool
) -> None:
    url, key = servers[path], f"mr-{action}-{confirm}-{path}"
    await put(url, key)
    async with client_for(
        url + "/mcp", "auto", elicitation_callback=answering(action, confirm)
    ) as client:
        result = await client.call_tool("delete_item", {"key": key})
    assert result.structured_content is not None
    assert result.structured_content["deleted"] is False
    assert await exists(url, key)


@pytest.mark.parametrize("path", PATHS)
async def test_a_tampered_request_state_is_refused_and_deletes_nothing(
    servers: dict[str, str], path: str
) -> None:
    url, key = servers[path], f"mr-tampered-{path}"
    await put(url, key)
    asked = await first_round(url, key)
    assert asked.request_state is not None
    state = asked.request_state
    flipped = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
    for bad in (flipped, "v1.forged", state + "x"):
        assert await refused_round(url, key, asked, state=bad) == INVALID_PARAMS
    # State minted for one item cannot delete another.
    other = f"mr-other-{path}"
    await put(url, other)
    assert await refused_round(url, other, asked) == INVALID_PARAMS
    assert await exists(url, key)
    assert await exists(url, other)


@pytest.mark.slow
async def test_an_expired_request_state_is_refused(server_env: dict[str, str], key: str) -> None:
    with running_server(server_env, request_state_keys=key, request_state_ttl_s="1") as url:
        await put(url, "mr-expired")
        asked = await first_round(url, "mr-expired")
        await asyncio.sleep(1.5)
        assert await refused_round(url, "mr-expired", asked) == INVALID_PARAMS
        assert await exists(url, "mr-expired")


@pytest.mark.slow
async def test_the_rounds_are_served_by_different_workers(
    server_env: dict[str, str], key: str
) -> None:
    """Two workers, one key: flows until one's rounds land on different workers (each round
    is a new connection, so the kernel picks the worker); that flow must complete."""
    crossed: list[tuple[int, int]] = []
    with running_server(
        server_env, workers="2", request_state_keys=key, debug_worker_pid="true"
    ) as url:
        for attempt in range(40):
            item = f"mr-workers-{attempt}"
            await put(url, item)
            asked = await first_round(url, item)
            done = await completed_round(url, item, asked)
            assert not done.is_error, done.content
            assert done.structured_content is not None
            assert done.structured_content["deleted"] is True
            if pid(asked) != pid(done):
                crossed.append((pid(asked), pid(done)))
                break
    assert crossed, "40 flows, every second round on the first round's worker"


@pytest.mark.slow
async def test_the_rounds_are_served_by_two_replicas_sharing_the_key(
    server_env: dict[str, str], servers: dict[str, str]
) -> None:
    """The session's two server processes share the session's key, as a deployment's replicas
    do (and take different paths: the executor, the SDK's entry)."""
    first, second = servers["fast"], servers["sdk"]
    with running_server(server_env, request_state_keys=secrets.token_hex(32)) as stranger:
        await put(first, "mr-replicas")
        asked = await first_round(first, "mr-replicas")
        # A replica with another key refuses the state (and deletes nothing) ...
        assert await refused_round(stranger, "mr-replicas", asked) == INVALID_PARAMS
        assert await exists(second, "mr-replicas")
        # ... one with the same key completes the call the first began.
        done = await completed_round(second, "mr-replicas", asked)
        assert done.structured_content is not None
        assert done.structured_content["deleted"] is True
        assert not await exists(first, "mr-replicas")


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings",
    [{"WORKERS": "2"}, {"WORKERS": "1", "REQUEST_STATE_KEYS_REQUIRED": "true"}],
    ids=["two workers", "one worker, replicas (Kubernetes)"],
)
def test_no_key_where_several_processes_serve_is_a_start_up_error(
    server_env: dict[str, str], settings: dict[str, str]
) -> None:
    env = server_env | {ENV_PREFIX + name: value for name, value in settings.items()}
    env.pop(ENV_PREFIX + "REQUEST_STATE_KEYS", None)
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "REQUEST_STATE_KEYS" in lines[0]


@pytest.mark.parametrize(
    ("mode", "elicits", "code"),
    [
        # 2026-07-28 without the elicitation capability: -32021, the capability named.
        ("auto", False, -32021),
        # 2025-11-25 over stateless HTTP: the SDK would ask with a server-to-client request
        # mid-call, which has no channel here; it answers -32600 (mcp 2.3.0) saying so.
        ("legacy", True, -32600),
    ],
)
async def test_a_client_that_cannot_be_asked_deletes_nothing(
    servers: dict[str, str], mode: Mode, elicits: bool, code: int
) -> None:
    url, key = servers["sdk"], f"mr-cannot-ask-{mode}"
    await put(url, key)
    options = {"elicitation_callback": ACCEPT} if elicits else {}
    async with client_for(url + "/mcp", mode, **options) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("delete_item", {"key": key})
    assert refused.value.code == code
    assert await exists(url, key)


@pytest.mark.slow
async def test_legacy_clients_confirm_over_stdio(server_env: dict[str, str]) -> None:
    """2025-11-25 over stdio: the SDK asks with a mid-call `elicitation/create` request."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", PACKAGE, "serve", "--transport", "stdio"],
        env=server_env,
    )
    async with Client(params, mode="legacy", elicitation_callback=ACCEPT) as client:
        assert not (await client.call_tool("put_item", {"key": "mr-stdio", "value": "v"})).is_error
        result = await client.call_tool("delete_item", {"key": "mr-stdio"})
        assert result.structured_content is not None, result.content
        assert result.structured_content["deleted"] is True
        assert (await client.call_tool("get_item", {"key": "mr-stdio"})).is_error
