"""examples/ is what the template renders now: a reader browsing it sees the real output."""

from __future__ import annotations

from pathlib import Path

from tests.examples import EXAMPLES, EXAMPLES_DIR, differences, render_examples


def test_examples_match_a_fresh_render(tmp_path: Path) -> None:
    render_examples(tmp_path)
    stale = [
        f"examples/{name}: {line}"
        for name in EXAMPLES
        for line in differences(tmp_path / name, EXAMPLES_DIR / name)
    ]
    assert not stale, "examples/ is stale; run `make examples` and commit:\n" + "\n".join(stale)
