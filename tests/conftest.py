"""Fixtures and the matrix summary line for the template's own tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.template_repo import TemplateRepo, snapshot_working_tree


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    """The working tree (uncommitted edits included) as a tagged git repository."""
    return snapshot_working_tree(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return tmp_path / "project"


_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many combinations of the matrix passed, and the wall time."""
    outcomes = {"passed": 0, "failed": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if report.when == "call" and "matrix" in report.keywords:
                outcomes[outcome] += 1
    total = sum(outcomes.values())
    if total:
        terminalreporter.write_line(
            f"matrix: {outcomes['passed']}/{total} combinations passed "
            f"(wall time {time.monotonic() - _STARTED:.0f} s)"
        )
