"""Item tools against the real PostgreSQL database, through the real server."""

import uuid

import pytest

from tests.conftest import MODES, Connect, Mode

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", MODES)
async def test_put_get_search_round_trip(connect: Connect, mode: Mode) -> None:
    prefix = f"rt-{uuid.uuid4().hex[:8]}-"
    async with connect(mode) as client:
        for i in range(3):
            put = await client.call_tool("put_item", {"key": f"{prefix}{i}", "value": f"v{i}"})
            assert not put.is_error, put.content
        got = await client.call_tool("get_item", {"key": f"{prefix}1"})
        found = await client.call_tool("search_items", {"prefix": prefix, "limit": 2})
    assert got.structured_content is not None
    assert got.structured_content["value"] == "v1"
    assert found.structured_content is not None
    assert [i["key"] for i in found.structured_content["result"]] == [f"{prefix}0", f"{prefix}1"]


async def test_write_is_visible_to_the_next_read(connect: Connect) -> None:
    """A write invalidates any cached copy: reads never serve the value it replaced."""
    key = f"fresh-{uuid.uuid4().hex[:8]}"
    async with connect("auto") as client:
        await client.call_tool("put_item", {"key": key, "value": "old"})
        first = await client.call_tool("get_item", {"key": key})
        await client.call_tool("put_item", {"key": key, "value": "new"})
        second = await client.call_tool("get_item", {"key": key})
    assert first.structured_content is not None
    assert second.structured_content is not None
    assert (first.structured_content["value"], second.structured_content["value"]) == ("old", "new")


async def test_missing_item_is_a_tool_error(connect: Connect) -> None:
    async with connect("auto") as client:
        result = await client.call_tool("get_item", {"key": f"absent-{uuid.uuid4().hex}"})
    assert result.is_error
    assert "not found" in str(result.content)


@pytest.mark.parametrize(
    "hostile",
    ["x'; DROP TABLE items; --", "' OR '1'='1", "%", "_", "\\", 'a"; SELECT pg_sleep(5); --'],
)
async def test_sql_injection_is_inert(connect: Connect, hostile: str) -> None:
    marker = f"inj-{uuid.uuid4().hex[:8]}"
    async with connect("auto") as client:
        stored = await client.call_tool("put_item", {"key": marker + hostile, "value": hostile})
        assert not stored.is_error, stored.content
        got = await client.call_tool("get_item", {"key": marker + hostile})
        # Wildcards in the search text match literally: only the one key starting with it.
        found = await client.call_tool("search_items", {"prefix": marker + hostile})
        still_there = await client.call_tool("search_items", {"prefix": marker})
    assert got.structured_content is not None
    assert got.structured_content["value"] == hostile
    assert found.structured_content is not None
    assert [i["key"] for i in found.structured_content["result"]] == [marker + hostile]
    assert still_there.structured_content is not None
    assert len(still_there.structured_content["result"]) == 1


@pytest.mark.parametrize(
    "arguments",
    [{"key": ""}, {"key": "k" * 129}, {"key": 7}, {}],
)
async def test_invalid_keys_are_refused(connect: Connect, arguments: dict[str, object]) -> None:
    async with connect("auto") as client:
        result = await client.call_tool("get_item", arguments)
    assert result.is_error


async def test_search_limit_is_bounded(connect: Connect) -> None:
    async with connect("auto") as client:
        result = await client.call_tool("search_items", {"prefix": "", "limit": 1000})
    assert result.is_error


async def test_item_resource_and_freshness_hints(connect: Connect) -> None:
    key = f"res-{uuid.uuid4().hex[:8]}"
    async with connect("auto") as client:
        await client.call_tool("put_item", {"key": key, "value": "as a resource"})
        tools = await client.list_tools()
        read = await client.read_resource(f"item://{key}")
    assert tools.ttl_ms == 5 * 60 * 1000
    assert '"value":"as a resource"' in read.contents[0].text  # type: ignore[union-attr]
    assert read.ttl_ms == 30000  # the server cache's TTL
    assert read.cache_scope == "private"
