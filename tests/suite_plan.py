"""Which source trees run the whole generated suite and which run it without its slow tests.

The generated suite marks `slow` the tests whose time goes to starting extra processes
(profilers, load tests, several workers or replicas, one-shot commands). Every source tree runs
the rest (`make test-quick`); the slow tests run in the trees of a pairwise cover: a few
combinations of the answers that change the source tree which together hold every pair of
answers of every two questions (database x cache, database x auth, cache x auth). A fault that
needs two answers together to show is caught as surely as by running them everywhere; one that
needs three is the risk this takes, for about a third of the matrix's suite time.
"""

from __future__ import annotations

import itertools

# The answer that does not change the source tree (tests/source_tree.py's DEPLOYMENT_ONLY).
NOT_IN_TREE = ("deployment",)

Answers = dict[str, str]
Pair = tuple[str, str, str, str]


def tree_answers(answers: Answers) -> Answers:
    """The answers that decide the source tree."""
    return {k: v for k, v in answers.items() if k not in NOT_IN_TREE}


def _pairs(point: Answers) -> set[Pair]:
    return {(a, point[a], b, point[b]) for a, b in itertools.combinations(sorted(point), 2)}


def pairwise_cover(combinations: list[Answers]) -> list[Answers]:
    """Tree answers of a few combinations that together hold every pair of answers any two
    combinations' tree answers hold: the smallest of the greedy covers started from each point
    (the first on ties). With fewer than two questions every point is in it."""
    points: list[Answers] = []
    for answers in combinations:
        point = tree_answers(answers)
        if point not in points:
            points.append(point)
    if len(points[0]) < 2:
        return points
    return min((_greedy_cover(points, first) for first in points), key=len)


def _greedy_cover(points: list[Answers], first: Answers) -> list[Answers]:
    """`first`, then the point covering most pairs yet uncovered (first in order on ties),
    until every pair of `points` is covered. (Started from one fixed point, greedy all-pairs
    can take one point more than needed: 10 instead of 9 for three questions of three.)"""
    uncovered = set().union(*(_pairs(p) for p in points)) - _pairs(first)
    chosen = [first]
    while uncovered:
        best = max(points, key=lambda p: len(_pairs(p) & uncovered))
        chosen.append(best)
        uncovered -= _pairs(best)
    return chosen
