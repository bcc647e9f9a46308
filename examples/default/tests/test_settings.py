"""Settings: defaults are the copier answers, every field is env-overridable, bad values refused."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from my_mcp_server.settings import Settings
from tests.conftest import ENV_PREFIX, PACKAGE, environ_without_settings


def test_defaults_are_the_sla_answers() -> None:
    s = Settings(_env_file=None)
    assert (s.sla_p95_ms, s.sla_p99_ms, s.sla_rps) == (100, 250, 500)
    assert s.sla_error_rate == pytest.approx(0.001)
    assert s.concurrency_limit == 100
    assert s.sla_p95_ms <= s.sla_p99_ms


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_MCP_SERVER_PORT", "9123")
    monkeypatch.setenv("MY_MCP_SERVER_SLA_P95_MS", "42")
    s = Settings(_env_file=None)
    assert (s.port, s.sla_p95_ms) == (9123, 42)


@pytest.mark.parametrize(
    ("field", "value"),
    [("PORT", "70000"), ("SLA_ERROR_RATE", "1.5"), ("CONCURRENCY_LIMIT", "0"), ("WORKERS", "x")],
)
def test_invalid_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv("MY_MCP_SERVER_" + field, value)
    with pytest.raises(ValidationError, match=field.lower()):
        Settings(_env_file=None)


def test_metrics_port_must_not_be_the_server_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_MCP_SERVER_PORT", "9123")
    monkeypatch.setenv("MY_MCP_SERVER_METRICS_PORT", "9124")
    assert Settings(_env_file=None).metrics_port == 9124
    monkeypatch.setenv("MY_MCP_SERVER_METRICS_PORT", "9123")
    with pytest.raises(ValidationError, match="metrics_port must differ from port"):
        Settings(_env_file=None)


@pytest.mark.slow
def test_a_bad_setting_stops_the_command_with_a_message_not_a_traceback() -> None:
    env = environ_without_settings() | {ENV_PREFIX + "METRICS_PORT": "70000"}
    command = [sys.executable, "-m", PACKAGE, "serve", "--port", "9123"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "invalid settings" in done.stderr
    assert "metrics_port" in done.stderr
    assert "less than or equal to 65535" in done.stderr
    assert "Traceback" not in done.stderr


def test_secret_files_are_read(tmp_path: Path) -> None:
    """A mounted secret file sets a field; the environment still wins over it."""
    secret_file = tmp_path / "my_mcp_server_upstream_url"
    secret_file.write_text("http://upstream.internal:9000")
    env = environ_without_settings() | {ENV_PREFIX + "SECRETS_DIR": str(tmp_path)}
    probe = "from my_mcp_server.settings import Settings; print(Settings().upstream_url)"

    def read(extra: dict[str, str]) -> str:
        command = [sys.executable, "-c", probe]
        done = subprocess.run(command, env=env | extra, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert read({}) == "http://upstream.internal:9000"
    assert read({ENV_PREFIX + "UPSTREAM_URL": "http://from-env:1"}) == "http://from-env:1"
