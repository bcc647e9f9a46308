"""Update migrations: the changes `copier update` cannot express as a diff.

copier runs these from `_migrations` in copier.yml, in the project being updated, only when the
update crosses the version that needs them (so never on `copier copy`). Each operation is
idempotent: running it twice, or on a project that never had the old layout, changes nothing.

    python hooks/migrate.py rename-path OLD NEW       # `after` stage: a template file moved
    python hooks/migrate.py rename-answer OLD NEW     # `before` stage: a question was renamed

Why rename-path needs code: copier replays the user's edits as a diff against the old render, so
an edited file whose template moved ends up deleted, edits and all. After the update, this puts
the user's version back at the new path, three-way merged (`git merge-file`) with the new
template's version; the common base is the old template version, rendered again from the answers
the project recorded. A real conflict is left with the usual markers, as copier itself does.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ANSWERS_FILE = Path(".copier-answers.yml")


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=check)


def committed(path: Path | str) -> str | None:
    """The file as the project's last commit (the state before the update) has it."""
    shown = git("show", f"HEAD:{path}", check=False)
    return shown.stdout if shown.returncode == 0 else None


def render_previous_template(dst: Path) -> Path:
    """The old template version, rendered with the answers recorded before the update."""
    import copier  # the interpreter copier runs migrations with has it

    answers = yaml.safe_load(committed(ANSWERS_FILE) or "{}")
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    copier.run_copy(
        answers["_src_path"], dst, data=data, vcs_ref=answers["_commit"], defaults=True, quiet=True
    )
    return dst


def rename_path(old: Path, new: Path) -> str:
    ours = committed(old)
    if ours is None:
        return f"skip: {old} was not in the project"
    theirs = new.read_text() if new.exists() else ""
    with tempfile.TemporaryDirectory() as tmp:
        base_file = render_previous_template(Path(tmp) / "previous") / old
        base = base_file.read_text() if base_file.exists() else ""
        if ours == base:
            merged = theirs  # the user never edited it: the new template version stands
        else:
            files = [Path(tmp, name) for name in ("ours", "base", "theirs")]
            for file, text in zip(files, (ours, base, theirs), strict=True):
                file.write_text(text)
            labels = ["-L", "before updating", "-L", "last update", "-L", "after updating"]
            result = git("merge-file", "-p", *labels, *map(str, files), check=False)
            if result.returncode < 0 or result.returncode > 127:
                raise SystemExit(f"migrate: git merge-file failed: {result.stderr}")
            merged = result.stdout
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_text(merged)
    old.unlink(missing_ok=True)
    return f"moved {old} -> {new} (three-way merged with the new template)"


def rename_answer(old: str, new: str, answers_file: Path = ANSWERS_FILE) -> str:
    # Line-based so the file keeps its comments and order; answers are top-level keys.
    text = answers_file.read_text()
    if re.search(rf"^{re.escape(new)}:", text, flags=re.MULTILINE):
        return f"skip: answer {new!r} already recorded"
    renamed, count = re.subn(rf"^{re.escape(old)}:", f"{new}:", text, flags=re.MULTILINE)
    if not count:
        return f"skip: no answer {old!r}"
    answers_file.write_text(renamed)
    return f"renamed answer {old!r} -> {new!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="migrate", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("rename-path", "rename-answer"):
        command = commands.add_parser(name)
        command.add_argument("old")
        command.add_argument("new")
    args = parser.parse_args(argv)
    if args.command == "rename-path":
        message = rename_path(Path(args.old), Path(args.new))
    else:
        message = rename_answer(args.old, args.new)
    print(f"migrate: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
