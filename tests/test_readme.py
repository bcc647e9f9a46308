"""The template's own README quick start, run as written: copier copy, make install, make test,
make run and the client call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.project_checks import project_env
from tests.readme_runner import run_readme
from tests.template_repo import ROOT, TemplateRepo


@pytest.mark.matrix
def test_template_readme_quick_start_runs_as_written(
    template_repo: TemplateRepo, tmp_path: Path
) -> None:
    ran = run_readme(
        ROOT / "README.md",
        tmp_path,
        project_env(),
        substitute={"gh:<org>/mcp-perf-template": str(template_repo.path)},
    )
    assert (tmp_path / "my-server" / ".copier-answers.yml").is_file()
    assert [r.split(":")[0] for r in ran] == ["sh", "sh", "python"], ran
