"""Deployment files, validated offline: the Dockerfile (hadolint; it runs what `make run` runs),
the Kubernetes manifests against the Kubernetes schemas, the prometheus-operator resources
structurally, and the sizing they carry against the settings.
"""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
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


# --------------------------------------------------------------------------------- Kubernetes
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
CRDS = {"ServiceMonitor", "PrometheusRule"}


def resource_files(folder: Path) -> list[Path]:
    return [folder / name for name in load(folder / "kustomization.yaml")["resources"]]


def resources(folder: Path) -> list[dict[str, Any]]:
    return [load(path) for path in resource_files(folder)]


def resource(kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in resources(BASE) if doc["kind"] == kind]
    return found


def test_manifests_validate_against_the_kubernetes_schemas() -> None:
    files = [str(path) for path in resource_files(BASE) if load(path)["kind"] not in CRDS]
    files += [str(path) for path in BASE.glob("secret.example.yaml")]
    run_tool(tool("kubernetes-validate"), "--strict", "--quiet", *files)


def test_kustomizations_resolve() -> None:
    """What `kubectl kustomize` needs: listed files exist; patches and images hit base objects."""
    base = {(doc["kind"], doc["metadata"]["name"]) for doc in resources(BASE)}
    overlay = load(OVERLAY / "kustomization.yaml")
    assert [(OVERLAY / path).resolve() for path in overlay["resources"]] == [BASE]
    for patch in overlay["patches"]:
        target = load(OVERLAY / patch["path"])
        assert (target["kind"], target["metadata"]["name"]) in base
    assert [image["name"] for image in overlay["images"]] == [container()["image"]]


def test_prometheus_rule_carries_the_observability_rules() -> None:
    rules = load(ROOT / "observability" / "prometheus" / "rules.yml")
    assert resource("PrometheusRule")["spec"]["groups"] == rules["groups"]


def test_service_monitor_scrapes_the_service() -> None:
    monitor, service = resource("ServiceMonitor"), resource("Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    ports = {port["name"] for port in service["spec"]["ports"]}
    assert [(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]] == [("http", "/metrics")]
    assert "http" in ports


def container() -> dict[str, Any]:
    pod: dict[str, Any] = resource("Deployment")["spec"]["template"]["spec"]
    (found,) = pod["containers"]
    assert isinstance(found, dict)
    return found


def test_pods_are_locked_down_and_probed() -> None:
    security = container()["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert resource("Deployment")["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    assert container()["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container()["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_rollout_lets_in_flight_calls_finish() -> None:
    pod = resource("Deployment")["spec"]["template"]["spec"]
    pause = int(container()["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pause + Settings().request_timeout_s


@pytest.mark.parametrize("folder", [BASE, OVERLAY])
def test_config_map_sets_real_settings(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data: dict[str, str] = {}
    for path in [BASE / "configmap.yaml", *folder.glob("configmap-patch.yaml")]:
        data |= load(path)["data"]
    for variable, value in data.items():
        if variable.startswith(ENV_PREFIX):
            settings_field(variable)
            monkeypatch.setenv(variable, value)
    settings = Settings()  # parses: a malformed value fails here, not in a crash-looping pod
    assert settings.workers == 1
    assert any(host.startswith("my-mcp-server:") for host in settings.allowed_hosts)


def test_secret_template_keys_are_settings_read_from_the_mounted_folder() -> None:
    keys = load(BASE / "secret.example.yaml")["stringData"]
    assert [settings_field(key) for key in keys]
    env = {var["name"]: var["value"] for var in container()["env"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container()["volumeMounts"]}
    assert env[ENV_PREFIX + "SECRETS_DIR"] == mounts["secrets"]


def test_connections_at_max_scale_fit_postgresql() -> None:
    """HPA ceiling x workers x pool size stays under max_connections (100, 10 kept for admins)."""
    replicas = resource("HorizontalPodAutoscaler")["spec"]["maxReplicas"]
    workers = int(resource("ConfigMap")["data"][ENV_PREFIX + "WORKERS"])
    assert replicas * workers * Settings().db_pool_max_size <= 90
