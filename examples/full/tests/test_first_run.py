"""First run: `serve` says where it is, and a service it cannot use stops it with one line.

Through `python -m my_mcp_server ...` subprocesses, as `make run`, `make db-migrate` run it.
"""

import subprocess
import sys
import uuid

import pytest
from pydantic import SecretStr

from my_mcp_server.settings import Settings
from my_mcp_server.startup_line import mask, startup_line
from tests.conftest import ENV_PREFIX, PACKAGE
from tests.services import drop_database

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
        database_url=SecretStr("postgresql://app:db-secret@db.internal:5432/items"),
        redis_url=SecretStr("redis://:redis-secret@cache.internal:6379/0"),
        auth_tokens=SecretStr("token-secret-1,token-secret-2"),
        upstream_url="https://user:upstream-secret@api.example/v1",
    )
    line = startup_line(settings, "http")
    assert "http://127.0.0.1:9123/mcp" in line
    assert "2 workers" in line
    assert "secret" not in line
    assert "postgresql://app:***@db.internal:5432/items" in line
    assert "Redis redis://:***@cache.internal:6379/0" in line
    assert "auth: bearer (2 tokens)" in line
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


def with_database_url(server_env: dict[str, str], url: str) -> dict[str, str]:
    return {**server_env, ENV_PREFIX + "DATABASE_URL": url}


@pytest.mark.slow
def test_unreachable_database_stops_serve_with_one_line(server_env: dict[str, str]) -> None:
    env = with_database_url(server_env, f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert_one_line(cli(env, "serve", "--port", str(free_port())), "DATABASE_URL", "no PostgreSQL")


@pytest.mark.slow
def test_unreachable_database_stops_the_load_test_with_one_line(
    server_env: dict[str, str],
) -> None:
    env = with_database_url(server_env, f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    url = f"http://127.0.0.1:{free_port()}"
    done = run_module(env, "loadtest.run", "--duration", "1s", "--host", url)
    assert_one_line(done, "DATABASE_URL", "no PostgreSQL")


@pytest.mark.slow
def test_missing_database_stops_serve_and_seed_with_make_db_create(
    server_env: dict[str, str], database_url: str
) -> None:
    missing = database_url.rsplit("/", 1)[0] + f"/missing_{uuid.uuid4().hex[:10]}"
    env = with_database_url(server_env, missing)
    for args in (["serve", "--port", str(free_port())], ["seed", "--items", "1"]):
        assert_one_line(cli(env, *args), "DATABASE_URL", "does not exist", "make db-create")


@pytest.mark.slow
def test_refused_credentials_stop_migrate_with_one_line(
    server_env: dict[str, str], database_url: str
) -> None:
    role = f"nobody_{uuid.uuid4().hex[:8]}"
    url = database_url.replace("postgres@", f"{role}:pw@", 1)
    assert role in url, "TEST_POSTGRES_URL has no user to replace"
    line = assert_one_line(cli(with_database_url(server_env, url), "migrate"), "DATABASE_URL")
    assert "refused the credentials" in line
    assert ":pw@" not in line


@pytest.mark.slow
def test_migrate_and_db_create_create_a_missing_database(
    server_env: dict[str, str], database_url: str
) -> None:
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    for command in ("migrate", "db-create"):
        url = database_url.rsplit("/", 1)[0] + f"/first_run_{uuid.uuid4().hex[:10]}"
        try:
            done = cli(with_database_url(server_env, url), command)
            assert done.returncode == 0, done.stderr
            again = cli(with_database_url(server_env, url), "db-create")
            assert "exists" in again.stdout, again.stdout + again.stderr
        finally:
            drop_database(admin_url, url)


@pytest.mark.slow
def test_unreachable_redis_stops_serve_with_one_line(server_env: dict[str, str]) -> None:
    env = {**server_env, ENV_PREFIX + "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    line = assert_one_line(cli(env, "serve", "--port", str(free_port())), "REDIS_URL", "no Redis")
    assert "start Redis" in line
