"""Checks run on one rendered project: its files, its config files, and its own make targets."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

# Per make target, generous: a cold `uv sync` or a slow CI machine must not time out.
COMMAND_TIMEOUT_S = 900
# mypy's cache, one per test worker (no two mypy runs write one cache at once), shared by the
# projects that worker checks: the third-party packages (mcp, pydantic, opentelemetry, ...) are
# the same in every combination and take most of a cold run (18 s -> 2.5 s per project here).
# mypy revalidates every cached module against its file's hash, so a project's own code is
# always checked afresh.
MYPY_CACHE = Path(__file__).resolve().parents[1] / "build" / "mypy-cache"


def project_env() -> dict[str, str]:
    """The environment a developer of the generated project would have, plus test service URLs."""
    # PYTHONDONTWRITEBYTECODE is a container-image setting (python images set it), not a
    # developer's: with it every process of a generated project (pytest, each server and worker,
    # each `uv run`) compiles the SDK, pydantic and the rest from source again. Without it each
    # project's venv compiles them once.
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.setdefault("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    env.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    env["MCP_TEMPLATE_REQUIRE_TOOLS"] = "1"  # a missing promtool etc. fails instead of skipping
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # Each project's fuzz test runs 2000 bodies by default (twice: executor on and off); the
    # matrix runs 27 suites on two cores.
    env.setdefault("FUZZ_EXAMPLES", "150")
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    env["MYPY_CACHE_DIR"] = str(MYPY_CACHE / os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return env


def run(project: Path, *command: str) -> float:
    """Run `command` in the project as its developer would; the seconds it took."""
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        raise AssertionError(
            f"`{' '.join(command)}` failed in {project} ({result.returncode}):\n{output}"
        )
    return time.monotonic() - started


@contextmanager
def service_settings(answers: dict[str, str], package: str) -> Iterator[dict[str, str]]:
    """project_env() plus the settings a user would export for the README: the project's
    database (a fresh name on TEST_POSTGRES_URL's server, dropped afterwards) and Redis."""
    env = project_env()
    prefix = package.upper() + "_"
    database = None
    if answers["database"] == "postgresql":
        database = f"readme_{uuid.uuid4().hex[:12]}"
        admin_url = env["TEST_POSTGRES_URL"]
        env[prefix + "DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + database
    if answers["cache"] == "redis":
        env[prefix + "REDIS_URL"] = env["TEST_REDIS_URL"]
    try:
        yield env
    finally:
        if database is not None:
            subprocess.run(
                ["psql", env["TEST_POSTGRES_URL"], "-qc", f"DROP DATABASE IF EXISTS {database}"],
                capture_output=True,
                timeout=60,
                check=False,
            )


def invalid_config_files(root: Path) -> list[str]:
    """YAML and JSON files that do not parse."""
    bad: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or ".venv" in rel.parts:
            continue
        if rel.parts[:2] == ("deploy", "helm") and "templates" in rel.parts:
            continue  # Go templates, not YAML: the generated tests render them with Helm
        try:
            if path.suffix in {".yml", ".yaml"}:
                list(yaml.safe_load_all(path.read_text()))
            elif path.suffix == ".json":
                json.loads(path.read_text())
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            bad.append(f"{rel}: {exc}")
    return bad
