"""Fixtures, the `--combination` option and the matrix summary line for the template's tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.template_repo import TemplateRepo, snapshot_working_tree


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--combination",
        default=None,
        help='run the matrix for one combination only, e.g. "database=postgresql cache=redis" '
        "(unspecified answers take their defaults; its full suite always runs)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Items marked `runs_first` first (a stable sort: the rest keep their order)."""
    items.sort(key=lambda item: item.get_closest_marker("runs_first") is None)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    """The working tree (uncommitted edits included) as a tagged git repository."""
    return snapshot_working_tree(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture(scope="session")
def suite_claims(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One folder all xdist workers of this run share: a file per source-tree hash whose full
    suite a combination has taken on (pytest-xdist's documented way to share a temp folder)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    claims = shared / "suite-claims"
    claims.mkdir(exist_ok=True)
    return claims


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return tmp_path / "project"


_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many combinations passed, how many ran the full suite, the wall time."""
    passed = total = full = quick = 0
    step_times: dict[str, list[float]] = {}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            props = dict(report.user_properties)
            if report.when != "call" or "combination" not in props:
                continue
            total += 1
            passed += outcome == "passed"
            full += props.get("suite") == "full"
            quick += props.get("suite") == "quick"
            for step, seconds in props.get("steps", {}).items():
                step_times.setdefault(step, []).append(seconds)
    if step_times:
        terminalreporter.write_line(
            "matrix steps (mean s, count): "
            + ", ".join(
                f"{step} {sum(times) / len(times):.1f} ({len(times)})"
                for step, times in step_times.items()
            )
        )
    if total:
        terminalreporter.write_line(
            f"matrix: {passed}/{total} combinations passed, {full} full suites, "
            f"{quick} quick suites (slow tests left out) "
            f"(wall time {time.monotonic() - _STARTED:.0f} s)"
        )
