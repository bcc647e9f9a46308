"""The hot path's bounded memos (memos.py)."""

from my_mcp_server.memos import BuiltPerObject, remember


def test_a_full_memo_is_emptied_before_the_next_entry() -> None:
    memo: dict[str, int] = {}
    for n, key in enumerate("abc"):
        remember(memo, key, n, size=2)
    assert memo == {"c": 2}
    remember(memo, "c", 3, size=2)  # a key it holds is replaced, not counted again
    assert memo == {"c": 3}


def test_a_build_is_remembered_while_the_same_object_is_handed_in() -> None:
    """Built again when another object comes, even an equal one (a refilled cache value)."""
    built: list[dict[str, int]] = []

    def build(value: dict[str, int]) -> list[int]:
        built.append(value)
        return [value["n"]]

    results = BuiltPerObject[str, dict[str, int], list[int]](size=2)
    first, refilled = {"n": 1}, {"n": 1}
    assert results.get("a", first, build) is results.get("a", first, build)
    assert results.get("a", refilled, build) == [1]
    assert built == [first, refilled]
    assert built[1] is refilled
    results.get("b", {"n": 2}, build)
    results.get("c", {"n": 3}, build)  # past `size`: the earlier entries are dropped
    results.get("a", refilled, build)
    assert len(built) == 5
