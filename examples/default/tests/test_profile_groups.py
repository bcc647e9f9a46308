"""The profile's grouping (loadtest/profile_groups.py): pure logic, no py-spy."""

import pytest

from loadtest.profile_groups import (
    DRIVERS,
    GROUPS,
    MCP_SDK,
    OTHER,
    WEB_STACK,
    YOUR_CODE,
    group_of,
    leaf_counts,
    render_markdown,
    summarize,
)


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("shop/tools/items.py", YOUR_CODE),
        ("/srv/app/src/shop/cache.py", YOUR_CODE),
        ("mcp/server/lowlevel/server.py", MCP_SDK),
        ("mcp_types/jsonrpc.py", MCP_SDK),
        ("starlette/routing.py", WEB_STACK),
        ("uvicorn/protocols/http/httptools_impl.py", WEB_STACK),
        ("anyio/_core/_tasks.py", WEB_STACK),
        ("pydantic/main.py", WEB_STACK),
        ("asyncpg/connection.py", DRIVERS),
        ("aiosqlite/core.py", DRIVERS),
        ("redis/asyncio/client.py", DRIVERS),
        ("httpx/_client.py", DRIVERS),
        ("/venv/lib/python3.11/site-packages/redis/connection.py", DRIVERS),
        ("asyncio/runners.py", OTHER),
        ("<frozen runpy>", OTHER),
        ("opentelemetry/metrics/_internal/__init__.py", OTHER),
        ("", OTHER),
        # A package whose name merely starts like the project's is someone else's.
        ("shopping/cart.py", OTHER),
    ],
)
def test_group_of(path: str, group: str) -> None:
    assert group_of(path, "shop") == group


STACKS = [
    'process 1:"python -m shop serve";Runner.run (asyncio/runners.py);spin (shop/tools/items.py) 50',
    "Runner.run (asyncio/runners.py);Route.handle (starlette/routing.py) 20",
    "Runner.run (asyncio/runners.py);spin (shop/tools/items.py) 10",
    "Runner.run (asyncio/runners.py);Connection._execute (asyncpg/connection.py) 15",
    "Runner.run (asyncio/runners.py) 5",
    "not a stack line",
]


def test_own_time_is_the_leaf_frame_summed_over_stacks() -> None:
    counts = leaf_counts(STACKS)
    assert counts["spin (shop/tools/items.py)"] == 60
    assert counts["Runner.run (asyncio/runners.py)"] == 5
    assert sum(counts.values()) == 100


def test_summary_groups_and_ranks_functions() -> None:
    profile = summarize(STACKS, "shop", top_n=3)
    assert profile.total == 100
    assert profile.by_group == {YOUR_CODE: 60, MCP_SDK: 0, WEB_STACK: 20, DRIVERS: 15, OTHER: 5}
    assert [(f.function, f.group) for f in profile.top] == [
        ("spin", YOUR_CODE),
        ("Route.handle", WEB_STACK),
        ("Connection._execute", DRIVERS),
    ]
    assert profile.top[0].share == pytest.approx(0.6)
    lines = render_markdown(profile)
    assert "| your code | 60.0% |" in lines
    assert sum(line.startswith(f"| {group} |") for group in GROUPS for line in lines) == 5


def test_an_empty_profile_renders_without_dividing_by_zero() -> None:
    profile = summarize([], "shop")
    assert profile.total == 0
    assert profile.top == []
    assert "| your code | 0.0% |" in render_markdown(profile)
