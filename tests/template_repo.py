"""A tagged git clone of the working tree: tests meet the template as `copier copy gh:...` does."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier

from tests.questions import assert_known

ROOT = Path(__file__).resolve().parents[1]
# Higher than any real release, so it is always the newest version copier sees.
SNAPSHOT_TAG = "v9999.0.0"


@dataclass(frozen=True)
class TemplateRepo:
    path: Path
    tag: str


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def snapshot_working_tree(dst: Path, tag: str = SNAPSHOT_TAG) -> TemplateRepo:
    """Copy tracked + untracked (not ignored) files, uncommitted edits included, commit and tag."""
    listing = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    dst.mkdir(parents=True, exist_ok=True)
    for rel in filter(None, listing.split("\0")):
        src = ROOT / rel
        if src.is_file():  # deleted-but-tracked files are listed too
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    git(dst, "init", "-q", "-b", "main")
    commit_and_tag(dst, tag, "snapshot")
    return TemplateRepo(path=dst, tag=tag)


def commit_and_tag(repo: Path, tag: str, message: str) -> None:
    """Commit everything in `repo` as a template release `tag`."""
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", message)
    git(repo, "tag", tag)


def render(src: Path, dst: Path, tag: str, data: dict[str, Any]) -> Path:
    """`copier copy` as a newcomer runs it: release `tag`, no --trust, defaults for the rest."""
    assert_known(data)
    copier.run_copy(str(src), dst, data=data, vcs_ref=tag, defaults=True, unsafe=False, quiet=True)
    return dst
