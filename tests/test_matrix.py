"""Every combination of the choice questions: render, inspect, lint, and test it like a user.

Every combination renders, has its files and config files checked, installs, lints (ruff, ruff
format, mypy --strict) and runs its deployment tests (tests/test_deploy.py,
tests/test_helm_chart.py) when it has deployment files. The generated suite runs once per
distinct source tree (tests/source_tree.py): whole (`make test`) in the trees of a pairwise cover
(tests/suite_plan.py), without its tests marked slow (`make test-quick`) in the others. The
README's quick start (tests/readme_runner.py: make install, make db-create, make test, make run
and a client call) runs once per README fingerprint (the tree, the runnable blocks and the
`make -n` recipes they call), its `make test` line only where the whole suite is due: the first
combination of a run to reach a key claims it; the others with that key (they differ only in the
deployment answer) run only their deployment tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.expectations import expected_files, template_leftovers
from tests.project_checks import invalid_config_files, run, service_settings
from tests.questions import combination_id, combinations, questions
from tests.readme_runner import readme_fingerprint, run_readme
from tests.sdk_boundary import sdk_boundary_violations
from tests.source_tree import DEPLOYMENT_TESTS, suite_tree_hash
from tests.suite_plan import pairwise_cover, tree_answers
from tests.template_repo import TemplateRepo, render

COMBINATIONS = combinations()
WHOLE_SUITE = pairwise_cover(COMBINATIONS)
IDENTITY = {"project_name": "Matrix Probe", "package_name": "matrix_probe"}
SLUG = "matrix-probe"  # copier.yml's project_slug for IDENTITY's project_name


def one_combination(spec: str) -> dict[str, str]:
    """`"database=postgresql cache=redis"` -> a full combination, defaults for the rest."""
    given = dict(item.split("=", 1) for item in spec.split())
    names = list(COMBINATIONS[0])
    unknown = sorted(set(given) - set(names))
    assert not unknown, f"not choice questions: {unknown} (choose from {names})"
    answers = {name: str(given.get(name, questions()[name]["default"])) for name in names}
    assert answers in COMBINATIONS, f"not a valid combination: {answers}"
    return answers


def suites_first(combos: list[dict[str, str]]) -> list[dict[str, str]]:
    """The combinations of the first deployment answer first: they are one per source tree, so
    the full suites are claimed by the first items xdist hands out, and the short deployment-only
    combinations fill the end of the run instead of one late suite running on its own."""
    order = list(dict.fromkeys(c["deployment"] for c in combos))
    return sorted(combos, key=lambda c: order.index(c["deployment"]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ != "test_combination":
        return
    spec = metafunc.config.getoption("--combination")
    chosen = [one_combination(spec)] if spec is not None else suites_first(COMBINATIONS)
    metafunc.parametrize("answers", chosen, ids=combination_id)


def claim(claims: Path, key: str, answers: dict[str, str]) -> bool:
    """True for the first combination of this run (any xdist worker) to claim `key`."""
    try:
        fd = os.open(claims / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, combination_id(answers).encode())
    os.close(fd)
    return True


@pytest.mark.matrix
def test_combination(
    template_repo: TemplateRepo,
    project_dir: Path,
    suite_claims: Path,
    answers: dict[str, str],
    record_property: Callable[[str, object], None],
    request: pytest.FixtureRequest,
) -> None:
    record_property("combination", combination_id(answers))
    data = {**IDENTITY, **answers}
    steps: dict[str, float] = {}
    started = time.monotonic()
    render(template_repo.path, project_dir, template_repo.tag, data)
    steps["render"] = time.monotonic() - started
    tree_hash = suite_tree_hash(project_dir)

    recorded = yaml.safe_load((project_dir / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in data} == data
    assert recorded["_commit"] == template_repo.tag

    present, absent = expected_files(answers, IDENTITY["package_name"], SLUG)
    assert sorted(p for p in present if not (project_dir / p).exists()) == []
    assert sorted(p for p in absent if (project_dir / p).exists()) == []
    assert template_leftovers(project_dir) == []
    assert invalid_config_files(project_dir) == []
    assert sdk_boundary_violations(project_dir) == []

    steps["install"] = run(project_dir, "make", "install")
    steps["lint"] = run(project_dir, "make", "lint")
    # The README's quick start as written (make install, make db-create, make test, make run, a
    # client call) once per README fingerprint (source tree + runnable blocks + the recipes they
    # call); its `make test` line (the full suite) once per source tree.
    only_one = request.config.getoption("--combination") is not None
    tree_suite = only_one or claim(suite_claims, f"suite-{tree_hash}", answers)
    full_suite = tree_suite and (only_one or tree_answers(answers) in WHOLE_SUITE)
    fingerprint = readme_fingerprint(project_dir, tree_hash)
    run_the_readme = only_one or claim(suite_claims, f"readme-{fingerprint}", answers)
    record_property("suite", "full" if full_suite else "quick" if tree_suite else None)
    if run_the_readme:
        started = time.monotonic()
        with service_settings(answers, IDENTITY["package_name"]) as env:
            ran = run_readme(
                project_dir / "README.md",
                project_dir,
                env,
                skip_line=lambda line: not full_suite and line.split()[:2] == ["make", "test"],
            )
        assert any("make run" in r for r in ran), ran
        steps["readme+suite" if full_suite else "readme"] = time.monotonic() - started
    elif full_suite:
        steps["suite"] = run(project_dir, "make", "test")
    if tree_suite and not full_suite:
        steps["quick-suite"] = run(project_dir, "make", "test-quick")
    deploy_tests = [t for t in DEPLOYMENT_TESTS if (project_dir / t).exists()]
    if not tree_suite and deploy_tests:
        steps["deploy-tests"] = run(project_dir, "make", "test-deploy")
    record_property("steps", steps)
    figures = " ".join(f"{step}={seconds:.1f}s" for step, seconds in steps.items())
    print(f"{combination_id(answers)}: tree={tree_hash} {figures}")


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
