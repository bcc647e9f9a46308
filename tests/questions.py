"""The questions of copier.yml, read from the file itself so tests never hand-list them."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import yaml

COPIER_YML = Path(__file__).resolve().parents[1] / "copier.yml"


@cache
def questions() -> dict[str, dict[str, Any]]:
    raw = yaml.safe_load(COPIER_YML.read_text())
    return {k: v for k, v in raw.items() if not k.startswith("_") and isinstance(v, dict)}


def asked() -> dict[str, dict[str, Any]]:
    """Questions a user answers (computed `when: false` values excluded)."""
    return {k: v for k, v in questions().items() if v.get("when", True) is not False}


def choice_questions() -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, spec in asked().items():
        choices = spec.get("choices")
        if choices:
            result[name] = list(choices.values()) if isinstance(choices, dict) else list(choices)
    return result


def combinations() -> list[dict[str, str]]:
    """The full Cartesian product of every choice question."""
    choices = choice_questions()
    names = list(choices)  # copier.yml order: database, cache, deployment, auth
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(choices[n] for n in names))
    ]


def combination_id(answers: dict[str, str]) -> str:
    """e.g. `postgresql-redis-kubernetes-bearer` (usable in `pytest -k`)."""
    return "-".join(answers.values())


def assert_known(data: dict[str, Any]) -> None:
    """Every key a test passes must be a real question: a typo would silently test the default."""
    unknown = sorted(set(data) - set(asked()))
    assert not unknown, f"not questions in copier.yml: {unknown}"
