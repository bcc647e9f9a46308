"""First run: `serve` says where it is, and a service it cannot use stops it with one line.

Through `python -m my_mcp_server ...` subprocesses, as `make run`, `make db-migrate` run it.
"""

import subprocess
import sys

import pytest

from my_mcp_server.settings import Settings
from my_mcp_server.startup_line import mask, startup_line
from tests.conftest import ENV_PREFIX, PACKAGE

from loadtest.run import free_port


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_module(env, PACKAGE, *args)


def run_module(env: dict[str, str], module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], setting: str, *words: str) -> str:
    """Exit 1, and stderr is one line naming the setting, the problem words and a fix."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith(f"{ENV_PREFIX}{setting}: "), line
    assert all(word in line for word in words), line
    return line


def test_mask_hides_only_the_password() -> None:
    assert mask("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert mask("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert mask("http://127.0.0.1:8001") == "http://127.0.0.1:8001"


def test_startup_line_names_the_endpoint_and_masks_secrets() -> None:
    settings = Settings(
        host="127.0.0.1",
        port=9123,
        workers=2,
        upstream_url="https://user:upstream-secret@api.example/v1",
    )
    line = startup_line(settings, "http")
    assert "http://127.0.0.1:9123/mcp" in line
    assert "2 workers" in line
    assert "secret" not in line
    assert f"SQLite {settings.sqlite_path}" in line
    assert "auth: none" in line
    assert "MCP over stdio" in startup_line(settings, "stdio")


@pytest.mark.slow
def test_serve_prints_its_url_at_start(server_env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", PACKAGE, "serve", "--port", str(port)],
        env=server_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert first.startswith(f"serving MCP at http://127.0.0.1:{port}/mcp"), first
