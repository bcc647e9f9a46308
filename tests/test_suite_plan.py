"""The pairwise cover that decides where the generated suite's slow tests run."""

from __future__ import annotations

import itertools

from tests.questions import combinations
from tests.suite_plan import pairwise_cover, tree_answers


def test_the_cover_holds_every_pair_of_the_matrix() -> None:
    combos = combinations()
    cover = pairwise_cover(combos)
    names = sorted(tree_answers(combos[0]))
    for a, b in itertools.combinations(names, 2):
        wanted = {(c[a], c[b]) for c in combos}
        held = {(p[a], p[b]) for p in cover}
        assert held == wanted, (a, b, sorted(wanted - held))
    trees = {tuple(sorted(tree_answers(c).items())) for c in combos}
    assert len(cover) < len(trees), "the cover saves nothing"


def test_three_questions_of_three_answers_take_nine_points() -> None:
    """The fewest that can hold all 27 pairs of each two of three questions (a Latin square)."""
    answers = (("pg", "sqlite", "none"), ("redis", "memory", "none"), ("none", "bearer", "oauth"))
    combos = [
        {"db": d, "cache": c, "auth": a, "deployment": "none"}
        for d, c, a in itertools.product(*answers)
    ]
    assert len(pairwise_cover(combos)) == 9


def test_a_pair_only_one_point_holds_is_chosen() -> None:
    combos = [
        {"db": "pg", "cache": "redis", "deployment": "k8s"},
        {"db": "pg", "cache": "memory", "deployment": "k8s"},
        {"db": "pg", "cache": "redis", "deployment": "none"},
        {"db": "sqlite", "cache": "memory", "deployment": "k8s"},
    ]
    assert pairwise_cover(combos) == [
        {"db": "pg", "cache": "redis"},
        {"db": "pg", "cache": "memory"},
        {"db": "sqlite", "cache": "memory"},
    ]


def test_with_one_question_every_answer_is_in_it() -> None:
    combos = [{"db": d, "deployment": "k8s"} for d in ("pg", "sqlite", "none")]
    assert pairwise_cover(combos) == [{"db": "pg"}, {"db": "sqlite"}, {"db": "none"}]
