"""Shared fixtures: real services, a real server process, a real MCP client."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from loadtest.mcp_wire import request_headers, tools_call_body
from loadtest.run import SSL_CONTEXT, free_port, ready
from loadtest.scenarios import Call

PACKAGE = "my_mcp_server"
ENV_PREFIX = PACKAGE.upper() + "_"
# Base URL -> each running server process (for signals and memory readings).
SERVERS: dict[str, subprocess.Popen[bytes]] = {}
Mode = Literal["auto", "legacy"]
MODES: tuple[Mode, ...] = ("auto", "legacy")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


START_ATTEMPTS = 3


def environ_without_settings() -> dict[str, str]:
    """This process's environment minus every setting of the server, so a test sets exactly
    the ones it means."""
    return {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


class Upstream(BaseHTTPRequestHandler):
    """A local upstream for `fetch_upstream`: /status and /slow/<delay> answer, else 404."""

    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        Upstream.hits[self.path] = Upstream.hits.get(self.path, 0) + 1
        if self.path.startswith("/slow"):  # a slow backend: /slow/<seconds>, default 5
            time.sleep(float(self.path.removeprefix("/slow").strip("/") or 5))
        if self.path.startswith(("/status", "/slow")):
            body = b'{"status": "green"}'
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the caller gave up
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def upstream_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def server_env(
    tmp_path_factory: pytest.TempPathFactory,
    upstream_url: str,
) -> dict[str, str]:
    """Environment for a server process isolated from every other test session."""
    workdir = tmp_path_factory.mktemp("server")
    env = environ_without_settings()
    env.update(
        {
            ENV_PREFIX + "UPSTREAM_URL": upstream_url,
            ENV_PREFIX + "LOG_LEVEL": "WARNING",
            ENV_PREFIX + "SQLITE_PATH": str(workdir / "test.sqlite3"),
            # One key for every server of the session, as for a deployment's replicas.
            ENV_PREFIX + "REQUEST_STATE_KEYS": secrets.token_hex(32),
        }
    )
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    return env


def wait_until_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before becoming healthy")
        if ready(base_url, proc):
            return
        time.sleep(0.1)
    raise TimeoutError(f"server at {base_url} not ready within {timeout_s} s")


# The two paths a tools/call can take, by test id: the owned executor, or the SDK's own entry
# (FAST_PATH=false); the values are keys of the `servers` fixture.
PATHS = {"executor": "fast", "sdk entry": "sdk"}


@contextmanager
def running_server(env: dict[str, str], **overrides: str) -> Iterator[str]:
    """A real server process (the same command `make run` uses) on a free port; yields its URL.

    `overrides` are settings by field name, e.g. `running_server(env, request_timeout_s="0.5")`.
    """
    with logged_server(env, None, **overrides) as url:
        yield url


@contextmanager
def logged_server(env: dict[str, str], log_path: Path | None, **overrides: str) -> Iterator[str]:
    """`running_server` whose log output goes to `log_path` (None: to the test's)."""
    proc_env = env | {ENV_PREFIX + name.upper(): value for name, value in overrides.items()}
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", PACKAGE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=proc_env,
            stdout=log,
            stderr=log,
            # Its own process group: a server that never got ready is killed with its workers.
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, proc)
        except RuntimeError:  # it exited
            # Another process took the port between free_port and the server's bind: try another.
            if attempt < START_ATTEMPTS and port_taken(port):
                continue
            raise
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            raise
        break
    try:
        SERVERS[url] = proc
        yield url
    finally:
        SERVERS.pop(url, None)
        proc.terminate()
        proc.wait(timeout=30)
        if log is not None:
            log.close()


@pytest.fixture
def server_settings(server_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The session server's settings in this process's environment, for in-process apps."""
    for name, value in server_env.items():
        if name.startswith(ENV_PREFIX):
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's servers log (at INFO): `fast.log` and `sdk.log`."""
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def fast_url(server_env: dict[str, str], server_logs: Path) -> Iterator[str]:
    """The session's server process (the owned tools/call executor on, as by default)."""
    with logged_server(server_env, server_logs / "fast.log", log_level="INFO") as url:
        yield url


@pytest.fixture(scope="session")
def sdk_url(server_env: dict[str, str], server_logs: Path) -> Iterator[str]:
    """The session's second server on the same data and key, with the executor switched off."""
    with logged_server(
        server_env, server_logs / "sdk.log", log_level="INFO", fast_path="false"
    ) as url:
        yield url


@pytest.fixture(scope="session")
def servers(fast_url: str, sdk_url: str) -> dict[str, str]:
    """The session's servers by the path a tools/call takes: "fast" (executor) and "sdk"."""
    return {"fast": fast_url, "sdk": sdk_url}


@pytest.fixture(scope="module", params=list(PATHS.values()), ids=list(PATHS))
def url_on_each_path(request: pytest.FixtureRequest, servers: dict[str, str]) -> str:
    """The session's server with the executor on, then the one with it off: a module whose
    tests ask for it runs them on both."""
    url: str = servers[request.param]
    return url


@pytest.fixture(scope="session")
def base_url(fast_url: str) -> str:
    """The session's server, as most tests see it: the executor on."""
    return fast_url


@pytest.fixture(scope="session")
def mcp_url(base_url: str) -> str:
    return base_url + "/mcp"


Connect = Callable[[Mode], AbstractAsyncContextManager[Client]]


@asynccontextmanager
async def client_for(mcp_url: str, mode: Mode, **options: Any) -> AsyncIterator[Client]:
    """The official MCP client on `mcp_url`: mode `auto` (2026-07-28) or `legacy`; `options`
    go to `Client` (e.g. an `elicitation_callback`)."""
    headers: dict[str, str] = {}
    # The client's own HTTP client, to share SSL_CONTEXT (the default one builds a context per
    # client); 30 s is the SDK's default timeout (its 300 s read timeout is for SSE streams).
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30, verify=SSL_CONTEXT) as http,
        Client(streamable_http_client(mcp_url, http_client=http), mode=mode, **options) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def connect(mcp_url: str) -> Connect:
    """Opens the official MCP client on the session's server."""
    return partial(client_for, mcp_url)


@pytest.fixture(scope="session")
def auth_headers() -> dict[str, str]:
    """Headers a raw HTTP request needs to reach /mcp."""
    return {}


async def call_tool(
    http: httpx.AsyncClient, auth_headers: dict[str, str], tool: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """One raw 2026-07-28 tools/call (what the load test sends); returns the JSON-RPC result."""
    response = await http.post(
        "/mcp",
        content=tools_call_body(1, Call(tool, arguments, tool)),
        headers=request_headers(tool) | auth_headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result
