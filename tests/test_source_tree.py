"""The hash that lets the matrix skip repeated suites must cover every file the suite reads."""

from __future__ import annotations

import re
from pathlib import Path

from tests.source_tree import DEPLOYMENT_ONLY, DEPLOYMENT_VALIDATORS, deployment_only

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
# Generated code the suite runs: its tests, the package, the load tests, the tooling config.
SUITE_CODE = ("tests/", "src/", "loadtest/", "pyproject.toml")


def rendered_name(source: Path) -> str:
    """`tests/{% if x %}test_deploy.py{% endif %}.jinja` -> `tests/test_deploy.py`."""
    rel = re.sub(r"{%.*?%}", "", source.relative_to(TEMPLATE).as_posix())
    return rel.removesuffix(".jinja")


def references(text: str) -> list[str]:
    """Deployment-only files (by base name; folders as a path or a quoted name) and deployment
    validators that `text` mentions."""
    found = []
    for pattern in DEPLOYMENT_ONLY:
        if pattern.endswith("/*"):
            name = re.escape(pattern.removesuffix("/*"))
            regex = rf"[\"']{name}[\"']|(?<![\w.-]){name}/"
        else:
            regex = rf"(?<![\w.-]){re.escape(pattern.rsplit('/', 1)[-1])}\b"
        if re.search(regex, text):
            found.append(pattern)
    return found + [v for v in DEPLOYMENT_VALIDATORS if v in text]


def test_suite_code_names_no_deployment_only_file() -> None:
    offenders = []
    for source in sorted(TEMPLATE.rglob("*")):
        rel = rendered_name(source)
        if not source.is_file() or deployment_only(rel) or not rel.startswith(SUITE_CODE):
            continue
        text = source.read_text()
        if rel == "pyproject.toml":
            # The validators it installs (on lines not hashed), and README.md as the package's
            # long description: metadata, which no test reads.
            text = "\n".join(
                line
                for line in text.splitlines()
                if not any(v in line for v in (*DEPLOYMENT_VALIDATORS, "test_deploy.py"))
                and line != 'readme = "README.md"'
            )
        if found := references(text):
            offenders.append(f"{rel}: {found}")
    assert not offenders, "\n".join(
        [
            "generated code outside tests/source_tree.py's DEPLOYMENT_ONLY names files in it; "
            "take them out of the list (the suite then runs per deployment) or stop reading them",
            *offenders,
        ]
    )


def test_references_finds_a_named_file() -> None:
    assert references('ROOT / "compose.yaml"') == ["compose.yaml"]
    assert references("a deploy never reads the old format") == []
    assert references("subprocess.run(['make', '-f', 'Makefile'])") == ["Makefile"]
    assert references("kubectl apply -k deploy/k8s") == ["deploy/*"]
    assert references('(ROOT / "deploy" / "k8s")') == ["deploy/*"]
    assert references("ROOT / 'docs' / 'architecture.md'") == []
