"""Graceful shutdown: SIGTERM lets the calls in flight finish, then the process exits cleanly."""

import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import SERVERS, running_server

from loadtest.mcp_wire import request_headers, tools_call_body
from loadtest.run import HTTP
from loadtest.scenarios import Call

CALL_S = 1.0


@pytest.fixture
def slow_server(server_env: dict[str, str]) -> Iterator[str]:
    with running_server(server_env, http_timeout_s="10", request_timeout_s="10") as url:
        yield url


@pytest.mark.slow
def test_sigterm_finishes_the_call_in_flight(
    slow_server: str, auth_headers: dict[str, str]
) -> None:
    body = tools_call_body(1, Call("fetch_upstream", {"path": f"/slow/{CALL_S}"}, "slow"))
    headers = request_headers("fetch_upstream") | auth_headers
    responses: list[httpx.Response] = []
    caller = threading.Thread(
        target=lambda: responses.append(
            HTTP.post(slow_server + "/mcp", content=body, headers=headers, timeout=30)
        )
    )
    caller.start()
    time.sleep(CALL_S / 3)  # the call is now inside the tool, waiting on the upstream
    server = SERVERS[slow_server]
    server.send_signal(signal.SIGTERM)
    caller.join(timeout=30)

    assert len(responses) == 1
    assert responses[0].status_code == 200
    result = responses[0].json()["result"]
    assert not result.get("isError")
    assert result["structuredContent"] == {"result": '{"status": "green"}'}
    # uvicorn re-raises the signal once it has shut down gracefully, so -SIGTERM is a clean exit.
    assert server.wait(timeout=15) in (0, -signal.SIGTERM)
