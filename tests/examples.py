"""The rendered examples under examples/: which answers, and how to (re)render them.

`make examples` (python -m tests.examples) rewrites examples/ from the working tree;
tests/test_examples.py fails when they differ from a fresh render.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.template_repo import ROOT, render, snapshot_working_tree

EXAMPLES_DIR = ROOT / "examples"
EXAMPLES: dict[str, dict[str, str]] = {
    "default": {},  # the embedded default: SQLite + in-process cache, compose, no auth
    "full": {
        "database": "postgresql",
        "cache": "redis",
        "deployment": "kubernetes",
        "auth": "bearer",
    },
}
# The answers file records where and at which commit the project came from; for an example that
# would be a temporary clone, so both are fixed (update a real project from the real template).
STABLE_ANSWERS = {"_commit": "examples", "_src_path": "gh:<org>/mcp-perf-template"}


def render_examples(dst: Path) -> None:
    """Render every example into dst/<name> from the working tree (uncommitted edits included)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = snapshot_working_tree(Path(tmp) / "repo")
        for name, answers in EXAMPLES.items():
            project = dst / name
            render(repo.path, project, repo.tag, answers)
            answers_file = project / ".copier-answers.yml"
            lines = answers_file.read_text().splitlines(keepends=True)
            answers_file.write_text(
                "".join(
                    f"{key}: {STABLE_ANSWERS[key]}\n"
                    if (key := line.split(":", 1)[0]) in STABLE_ANSWERS
                    else line
                    for line in lines
                )
            )


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def differences(expected: Path, actual: Path) -> list[str]:
    """Files that are missing, extra or different in `actual`, one line each."""
    want, have = tree(expected), tree(actual)
    return [
        f"{'missing' if rel not in have else 'extra' if rel not in want else 'differs'}: {rel}"
        for rel in sorted(want.keys() | have.keys())
        if want.get(rel) != have.get(rel)
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        render_examples(Path(tmp))
        shutil.rmtree(EXAMPLES_DIR, ignore_errors=True)
        shutil.copytree(tmp, EXAMPLES_DIR)
    print(f"examples: {', '.join(EXAMPLES)} rendered into {EXAMPLES_DIR.relative_to(ROOT)}/")


if __name__ == "__main__":
    sys.exit(main())
