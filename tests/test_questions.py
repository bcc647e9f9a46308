"""The questionnaire: defaults, validators (each refuses with its rule), computed sizing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.questions import COPIER_YML, asked, assert_known
from tests.template_repo import TemplateRepo
from tests.template_repo import render as render_project

# One refused answer per rule; the message is the rule the user must read.
BAD_ANSWERS: list[tuple[dict[str, Any], str, str]] = [
    ({"project_name": "9lives"}, "project_name", "must start with a letter"),
    ({"project_name": "a" * 65}, "project_name", "max 64 characters"),
    ({"package_name": "My-Pkg"}, "package_name", "valid lower-case Python identifier"),
    ({"package_name": "class"}, "package_name", "must not be a Python keyword"),
    ({"package_name": "mcp"}, "package_name", "shadow a module"),
    ({"description": 'say "hi"'}, "description", "without double quotes"),
    ({"description": "x" * 81}, "description", "1 to 80 characters"),
    ({"author_email": "not-an-email"}, "author_email", "e-mail address"),
    ({"sla_p95_ms": 0}, "sla_p95_ms", "positive number of milliseconds"),
    ({"sla_p99_ms": -5}, "sla_p99_ms", "positive number of milliseconds"),
    ({"sla_p95_ms": 300, "sla_p99_ms": 200}, "sla_p99_ms", "must be >= sla_p95_ms (300 ms)"),
    ({"sla_rps": 0}, "sla_rps", "positive number of calls per second"),
    ({"sla_error_rate": 0.0}, "sla_error_rate", "strictly between 0 and 1"),
    ({"sla_error_rate": 1.0}, "sla_error_rate", "strictly between 0 and 1"),
    ({"database": "mysql"}, "database", "'mysql' is not in"),
]


def render(repo: TemplateRepo, dst: Path, **data: Any) -> Path:
    return render_project(repo.path, dst, repo.tag, data)


def test_every_validator_has_a_bad_answer_test() -> None:
    validated = {name for name, spec in asked().items() if spec.get("validator")}
    tested = {question for _, question, _ in BAD_ANSWERS}
    assert validated <= tested, f"validators without a refusal test: {validated - tested}"


@pytest.mark.parametrize(
    ("data", "question", "rule"),
    BAD_ANSWERS,
    ids=[f"{q}-{i}" for i, (_, q, _) in enumerate(BAD_ANSWERS)],
)
def test_bad_answer_is_refused_naming_question_and_rule(
    template_repo: TemplateRepo, tmp_path: Path, data: dict[str, Any], question: str, rule: str
) -> None:
    assert_known(data)
    with pytest.raises(ValueError, match=re.escape(rule)) as refused:
        render(template_repo, tmp_path / "p", **data)
    assert f"'{question}'" in str(refused.value)
    assert not (tmp_path / "p" / "pyproject.toml").exists(), "a refused answer must write nothing"


def test_defaults_are_the_embedded_stack(template_repo: TemplateRepo, tmp_path: Path) -> None:
    project = render(template_repo, tmp_path / "p")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["database"], answers["cache"], answers["deployment"], answers["auth"]) == (
        "sqlite",
        "memory",
        "compose",
        "none",
    )
    # Computed sizing is derived on every render, never stored as an answer.
    assert not [k for k in answers if k.startswith("sizing_")]


def test_copy_needs_no_trust() -> None:
    config = yaml.safe_load(COPIER_YML.read_text())
    assert "_tasks" not in config
    assert "_jinja_extensions" not in config


@pytest.mark.parametrize(
    ("sla", "expected"),
    [
        # Little's law: in flight = rps x p95; admission 2x; pool = rps x p95/5 x 2 in [4, 50].
        ({"sla_rps": 500, "sla_p95_ms": 100, "sla_p99_ms": 250}, (100, 20, 5, 0.25, 2.5)),
        ({"sla_rps": 2000, "sla_p95_ms": 50, "sla_p99_ms": 80}, (200, 40, 10, 0.08, 1.0)),
        ({"sla_rps": 10, "sla_p95_ms": 20, "sla_p99_ms": 40}, (8, 4, 1, 0.04, 1.0)),
        ({"sla_rps": 10_000, "sla_p95_ms": 200, "sla_p99_ms": 1000}, (4000, 50, 12, 1.0, 10.0)),
    ],
)
def test_sizing_follows_the_sla(
    template_repo: TemplateRepo,
    tmp_path: Path,
    sla: dict[str, int],
    expected: tuple[int, int, int, float, float],
) -> None:
    project = render(template_repo, tmp_path / "p", database="postgresql", **sla)
    settings = (project / "src/my_mcp_server/settings.py").read_text()

    def default(field: str) -> float:
        match = re.search(rf"^\s+{field}: \w+ = Field\(default=([0-9.]+)", settings, re.MULTILINE)
        assert match, f"no default for {field}"
        return float(match.group(1))

    concurrency, pool_max, pool_min, acquire_s, request_s = expected
    assert default("concurrency_limit") == concurrency
    assert default("db_pool_max_size") == pool_max
    assert default("db_pool_min_size") == pool_min
    assert default("db_acquire_timeout_s") == pytest.approx(acquire_s)
    assert default("request_timeout_s") == pytest.approx(request_s)
    assert default("sla_rps") == sla["sla_rps"]
