"""The template's own README quick start, run as written: copier copy, make install, make test,
make run and the client call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.project_checks import project_env
from tests.readme_runner import readme_fingerprint, run_readme
from tests.source_tree import suite_tree_hash
from tests.template_repo import ROOT, TemplateRepo, render


# It runs a whole generated suite, the longest item of a run: collected after the matrix, it
# started last and ran on one core while the others idled.
@pytest.mark.runs_first
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


def test_deployment_variants_share_the_readme_fingerprint_under_an_outer_make(
    template_repo: TemplateRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The matrix runs under `make test`: what `make -n` prints there must not name the project's
    folder, or every combination would run its README (and none would share it)."""
    monkeypatch.setenv("MAKELEVEL", "1")
    base = {"project_name": "Probe", "database": "sqlite", "cache": "memory", "auth": "none"}
    prints = {}
    for name, answers in {
        "compose": {**base, "deployment": "compose"},
        "none": {**base, "deployment": "none"},
        "other tree": {**base, "deployment": "none", "cache": "none"},
    }.items():
        project = render(template_repo.path, tmp_path / name, template_repo.tag, answers)
        prints[name] = readme_fingerprint(project, suite_tree_hash(project))
    assert prints["compose"] == prints["none"]
    assert prints["other tree"] != prints["none"]
