"""Deployment files, validated offline: the Dockerfile (hadolint; it runs what `make run` runs),
compose.yaml against the compose specification, and every reference in it resolves.
"""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from my_mcp_server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read here, not from tests/conftest.py: `make test-deploy` runs these files without the conftest
# (it would import the MCP SDK and the test services for nothing).
PACKAGE = "my_mcp_server"
ENV_PREFIX = str(Settings.model_config["env_prefix"])


def tool(name: str) -> str:
    """A validator installed by the dev dependencies (next to this interpreter)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found is not None, f"{name} not found: run `make install`"
    return found


def run_tool(*args: str) -> None:
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def settings_field(variable: str) -> str:
    """`<PKG>_DB_POOL_MAX_SIZE` -> `db_pool_max_size`, failing for anything settings.py lacks."""
    assert variable.upper().startswith(ENV_PREFIX), variable
    field = variable[len(ENV_PREFIX) :].lower()
    assert field in Settings.model_fields or field == "secrets_dir", f"{variable}: no such setting"
    return field


# --------------------------------------------------------------------------------- Dockerfile
def dockerfile_instructions(name: str) -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [line.split(None, 1)[1] for line in lines if line.startswith(name + " ")]


def make_recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = lines.index(next(line for line in lines if line.startswith(target + ":")))
    return shlex.split(lines[start + 1].strip())


def test_dockerfile_passes_hadolint() -> None:
    run_tool(tool("hadolint"), "--failure-threshold", "info", "Dockerfile")


def test_image_runs_the_command_make_run_runs() -> None:
    image_cmd = json.loads(dockerfile_instructions("CMD")[-1])
    make_run = make_recipe("run")
    assert make_run[:2] == ["$(UV)", "run"]
    assert image_cmd[:4] == make_run[2:6] == ["python", "-m", PACKAGE, "serve"]
    options = {arg for arg in image_cmd if arg.startswith("--")}
    assert options == {arg for arg in make_run if arg.startswith("--")}


def test_image_is_multi_stage_non_root_and_checks_health() -> None:
    stages = dockerfile_instructions("FROM")
    assert len(stages) >= 3, stages
    user = dockerfile_instructions("USER")[-1].split(":")[0]
    assert user not in {"root", "0"}
    health = dockerfile_instructions("HEALTHCHECK")[-1]
    assert json.loads(health[health.index("[") :]) == ["python", "-m", PACKAGE, "healthcheck"]
    runtime = (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]
    assert "uv sync" not in runtime, "build tools in the runtime stage"
    assert "apt-get" not in runtime, "build tools in the runtime stage"


# --------------------------------------------------------------------------------- compose
COMPOSE = ROOT / "compose.yaml"


def compose() -> dict[str, Any]:
    return load(COMPOSE)


def test_compose_file_follows_the_compose_specification() -> None:
    run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))


def test_every_compose_reference_resolves() -> None:
    spec = compose()
    services, volumes = spec["services"], spec.get("volumes") or {}
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in volumes, f"{name} uses undeclared volume {source}"
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file()


def test_server_environment_names_real_settings() -> None:
    environment = compose()["services"]["server"]["environment"]
    for variable in environment:
        if variable.startswith(ENV_PREFIX):
            settings_field(variable)


def test_observability_configs_point_at_compose_services() -> None:
    services = compose()["services"]
    observability = ROOT / "observability"
    scrape = load(observability / "prometheus" / "prometheus.yml")["scrape_configs"]
    targets = [t for job in scrape for c in job["static_configs"] for t in c["targets"]]
    datasources = load(observability / "grafana/provisioning/datasources/prometheus.yml")
    otlp = services["server"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    hosts = [target.split(":")[0] for target in targets]
    hosts += [urlsplit(source["url"]).hostname for source in datasources["datasources"]]
    hosts.append(urlsplit(otlp).hostname)
    assert [host for host in hosts if host not in services] == []


def test_stop_grace_period_outlasts_a_request() -> None:
    grace = compose()["services"]["server"]["stop_grace_period"]
    assert float(grace.removesuffix("s")) > Settings().request_timeout_s
