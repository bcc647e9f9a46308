"""Every combination of the choice questions: render, inspect, then lint and test it like a user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.expectations import expected_files, template_leftovers
from tests.project_checks import invalid_config_files, make
from tests.questions import combination_id, combinations
from tests.template_repo import TemplateRepo, render

COMBINATIONS = combinations()
IDENTITY = {"project_name": "Matrix Probe", "package_name": "matrix_probe"}


def test_matrix_is_the_full_product() -> None:
    # 3 databases x 3 caches x 3 deployments x 3 auth modes, computed from copier.yml.
    assert len(COMBINATIONS) == 3 * 3 * 3 * 3
    assert len({combination_id(c) for c in COMBINATIONS}) == len(COMBINATIONS)


@pytest.mark.matrix
@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_combination(
    template_repo: TemplateRepo, project_dir: Path, answers: dict[str, str]
) -> None:
    data = {**IDENTITY, **answers}
    render(template_repo.path, project_dir, template_repo.tag, data)

    recorded = yaml.safe_load((project_dir / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in data} == data
    assert recorded["_commit"] == template_repo.tag

    present, absent = expected_files(answers, IDENTITY["package_name"])
    assert sorted(p for p in present if not (project_dir / p).exists()) == []
    assert sorted(p for p in absent if (project_dir / p).exists()) == []
    assert template_leftovers(project_dir) == []
    assert invalid_config_files(project_dir) == []

    make(project_dir, "install")
    make(project_dir, "lint")
    make(project_dir, "test")


@pytest.mark.parametrize("answers", [COMBINATIONS[0], COMBINATIONS[-1]], ids=combination_id)
def test_long_names_still_lint(
    template_repo: TemplateRepo, project_dir: Path, answers: dict[str, str]
) -> None:
    """Names are pasted into code: a long package name must not push lines past ruff's limit."""
    data = {
        "project_name": "A" * 60,
        "package_name": "a_rather_long_package_name_for_a_server",
        **answers,
    }
    render(template_repo.path, project_dir, template_repo.tag, data)
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
