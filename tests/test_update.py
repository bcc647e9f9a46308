"""`copier update` as a user meets it: tagged template releases, a project with its own edits.

Three releases of the template are made from the working tree: OLD (as is), NEXT (new content in
a file users edit, plus a new file) and RENAMED (a template file moved, with a `_migrations` entry
that runs hooks/migrate.py). A project rendered from OLD and edited like a user would, is updated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml
from copier.errors import UnsafeTemplateError

from tests.template_repo import commit_and_tag, git, render, snapshot_working_tree

OLD, NEXT, RENAMED = "v9997.0.0", "v9998.0.0", "v9999.0.0"
IDENTITY = {"project_name": "Update Probe", "package_name": "update_probe"}
# The CLI a user runs (the generated Makefile's default is `uvx copier`; same program).
COPIER_CLI = f"{sys.executable} -m copier"
PKG = f"src/{IDENTITY['package_name']}"
NEW_SECTION = "\n## Added in the next template release\nThis line comes from the template.\n"
MIGRATION = {
    "version": RENAMED,
    "command": [
        "{{ _copier_python }}",
        "{{ _copier_conf.src_path }}/hooks/migrate.py",
        "rename-path",
        "docs/architecture.md",
        "docs/design.md",
    ],
    "when": "{{ _stage == 'after' }}",
}
TEMPLATE_DESIGN_LINE = "\nThe template added this line when it renamed the file.\n"
USER_TOOL = '"""A tool the user added."""\n\nGREETING = "hello"\n'


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = snapshot_working_tree(tmp_path_factory.mktemp("releases") / "repo", tag=OLD).path

    readme = repo / "template/README.md.jinja"
    readme.write_text(readme.read_text() + NEW_SECTION)
    (repo / "template/docs/changelog.md").write_text("# Changelog\n\nNew in the next release.\n")
    commit_and_tag(repo, NEXT, "next release: new README section, new file")

    git(repo, "mv", "template/docs/architecture.md.jinja", "template/docs/design.md.jinja")
    design = repo / "template/docs/design.md.jinja"
    title, rest = design.read_text().split("\n", 1)
    design.write_text(f"{title}\n{TEMPLATE_DESIGN_LINE}{rest}")
    config = repo / "copier.yml"
    text = config.read_text().replace(
        "_migrations: []",
        "_migrations:\n  - "
        + yaml.safe_dump(MIGRATION, default_flow_style=True, width=1000).strip(),
    )
    config.write_text(text)
    assert yaml.safe_load(text)["_migrations"] == [MIGRATION]
    commit_and_tag(repo, RENAMED, "rename docs/architecture.md to docs/design.md, with a migration")
    return repo


def _render(repo: Path, dst: Path, tag: str, **answers: object) -> Path:
    return render(repo, dst, tag, {**IDENTITY, **answers})


def _committed_project(repo: Path, dst: Path, **answers: object) -> Path:
    """A project rendered from OLD, in a git repository of its own, committed."""
    _render(repo, dst, OLD, **answers)
    git(dst, "init", "-q", "-b", "main")
    _commit(dst, "generated")
    return dst


def _user_project(repo: Path, dst: Path, **answers: object) -> Path:
    """A project rendered from OLD, committed, then edited and committed as a user would."""
    _committed_project(repo, dst, **answers)
    (dst / PKG / "tools/greeting.py").write_text(USER_TOOL)
    settings = dst / PKG / "settings.py"
    settings.write_text(settings.read_text().replace("default=8000,", "default=9000,"))
    readme = dst / "README.md"
    readme.write_text(readme.read_text().replace("# Update Probe", "# Update Probe (ours)", 1))
    architecture = dst / "docs/architecture.md"
    architecture.write_text(architecture.read_text() + "\nLocal note: we run two replicas.\n")
    _commit(dst, "user edits")
    return dst


def _commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "-c", "user.name=u", "-c", "user.email=u@example.com", "commit", "-qm", message)


def _update(project: Path, tag: str, *, unsafe: bool = False, **data: object) -> None:
    copier.run_update(
        project,
        data=data,
        vcs_ref=tag,
        defaults=True,
        overwrite=True,
        unsafe=unsafe,
        skip_answered=True,
        quiet=True,
    )


def _conflicted(project: Path) -> list[str]:
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and any(m in path.read_text(errors="replace") for m in ("<<<<<<<", ">>>>>>>"))
    )


def test_update_keeps_user_edits_and_brings_new_content(releases: Path, tmp_path: Path) -> None:
    project = _user_project(releases, tmp_path / "project")
    _update(project, NEXT)

    assert (project / PKG / "tools/greeting.py").read_text() == USER_TOOL
    assert "default=9000," in (project / PKG / "settings.py").read_text()
    readme = (project / "README.md").read_text()
    assert readme.startswith("# Update Probe (ours)")
    assert "This line comes from the template." in readme
    assert (project / "docs/changelog.md").exists()
    assert "Local note: we run two replicas." in (project / "docs/architecture.md").read_text()
    assert _conflicted(project) == []
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == NEXT


def test_renamed_file_keeps_user_edits_through_the_migration(
    releases: Path, tmp_path: Path
) -> None:
    project = _user_project(releases, tmp_path / "project")
    with pytest.raises(UnsafeTemplateError):  # a migration runs code: copier asks for --trust
        _update(project, RENAMED)
    _update(project, RENAMED, unsafe=True)

    assert not (project / "docs/architecture.md").exists()
    design = (project / "docs/design.md").read_text()
    assert "Local note: we run two replicas." in design
    assert TEMPLATE_DESIGN_LINE.strip() in design
    assert _conflicted(project) == []


def test_changed_answers_move_every_derived_value_together(releases: Path, tmp_path: Path) -> None:
    new_answers = {
        "cache": "redis",
        "database": "postgresql",
        "sla_p95_ms": 80,
        "sla_p99_ms": 200,
        "sla_rps": 900,
        "sla_error_rate": 0.005,
    }
    project = _committed_project(releases, tmp_path / "project")
    _update(project, NEXT, **new_answers)
    fresh = _render(releases, tmp_path / "fresh", NEXT, **new_answers)

    # Every file of a fresh render with the new answers is in the updated project, identical:
    # settings, sizing, alert thresholds, dashboards, load-test gate, docs all moved together.
    differing = sorted(
        str(rel)
        for path in fresh.rglob("*")
        if path.is_file() and ".git" not in (rel := path.relative_to(fresh)).parts
        if not (project / rel).is_file() or (project / rel).read_bytes() != path.read_bytes()
    )
    assert differing == [".copier-answers.yml"] or differing == []
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in new_answers} == new_answers


@pytest.mark.parametrize("auth", ["bearer", "oauth"])
def test_update_keeps_the_auth_answer(releases: Path, tmp_path: Path, auth: str) -> None:
    """`auth` gained `oauth`: a project keeps the flavour it chose, and only its files."""
    project = _committed_project(releases, tmp_path / "project", auth=auth)
    _update(project, NEXT)
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["auth"] == auth
    assert (project / PKG / "auth.py").exists() == (auth == "bearer")
    assert (project / PKG / "oauth.py").exists() == (auth == "oauth")
    assert _conflicted(project) == []


@pytest.mark.parametrize(
    ("answers", "question"),
    [({"sla_p99_ms": 10}, "sla_p99_ms"), ({"sla_error_rate": 2}, "sla_error_rate")],
)
def test_update_with_invalid_answers_names_the_question(
    releases: Path, tmp_path: Path, answers: dict[str, object], question: str
) -> None:
    project = _committed_project(releases, tmp_path / "project")
    with pytest.raises(ValueError, match=question):
        _update(project, NEXT, **answers)
    # Nothing was changed: the working tree is still clean.
    assert git(project, "status", "--porcelain") == ""


def _make_update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The generated Makefile's `update` target, to release NEXT, with copier's CLI."""
    return subprocess.run(
        ["make", "update", f"VCS_REF={NEXT}", f"COPIER={COPIER_CLI}", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_update_refuses_an_invalid_answer_in_one_line(releases: Path, tmp_path: Path) -> None:
    project = _committed_project(releases, tmp_path / "project")
    done = _make_update(project, "DATA=sla_p99_ms=10")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        "Validation error for question 'sla_p99_ms': must be >= sla_p95_ms (100 ms)"
    ), done.stderr  # then make's own "Error 1" line
    assert git(project, "status", "--porcelain") == ""


def test_make_update_applies_changed_answers(releases: Path, tmp_path: Path) -> None:
    project = _committed_project(releases, tmp_path / "project")
    done = _make_update(project, "DATA=sla_rps=800")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["sla_rps"] == 800
    assert NEW_SECTION.strip() in (project / "README.md").read_text()


def test_hand_edited_invalid_answers_file_is_refused_and_nothing_changes(
    releases: Path, tmp_path: Path
) -> None:
    project = _render(releases, tmp_path / "project", OLD)
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("sla_rps: 500", "sla_rps: -3"))
    git(project, "init", "-q", "-b", "main")
    _commit(project, "generated, answers edited by hand")
    # copier's CLI shows this message as the last line of a traceback (docs/update.md says so).
    with pytest.raises(ValueError, match="question 'sla_rps': must be a positive number"):
        _update(project, NEXT)
    assert git(project, "status", "--porcelain") == ""
