"""Which tools read their Context (tool_contexts.py), and that the executor honours it."""

from typing import Annotated, Any

import pytest
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.tools import Tool

from my_mcp_server.tool_contexts import ContextAwareServer, reads_context


def plain(x: int) -> int:
    return x


def with_context(x: int, ctx: Context[Any]) -> str:
    return ctx.request_id


def with_optional_context(x: int, ctx: Context[Any] | None = None) -> int:
    return x


def resolved(x: Annotated[int, Resolve(lambda: 1)]) -> int:
    return x


def server(*tools: Tool) -> ContextAwareServer[Any]:
    return ContextAwareServer("test", tools=list(tools))


def gets_context(registered: ContextAwareServer[Any], name: str) -> bool:
    """Whether the executor builds the request's `Context` for the tool `name`."""
    return reads_context(registered.registered_tool(name))


@pytest.mark.parametrize(
    ("fn", "reads"),
    [(plain, False), (with_context, True), (with_optional_context, True), (resolved, True)],
    ids=["plain", "context", "optional context", "resolver"],
)
def test_a_tool_reads_its_context_by_its_signature(fn: Any, reads: bool) -> None:
    registered = server()
    registered.add_tool(fn)
    assert gets_context(registered, fn.__name__) is reads
    # Decorated, under another name.
    decorated = server()
    decorated.tool(name="renamed")(fn)
    assert gets_context(decorated, "renamed") is reads
    # Handed over built, to the constructor.
    assert gets_context(server(Tool.from_function(fn)), fn.__name__) is reads


def test_an_unknown_or_removed_tool_counts_as_reading_it() -> None:
    registered = server()
    assert gets_context(registered, "plain")
    registered.add_tool(plain)
    assert not gets_context(registered, "plain")
    registered.remove_tool("plain")
    assert gets_context(registered, "plain")


def test_the_first_registration_of_a_name_wins_as_in_the_sdk() -> None:
    registered = server()
    registered.add_tool(plain, name="tool")
    registered.add_tool(with_context, name="tool")  # the SDK keeps `plain` (and warns)
    assert not gets_context(registered, "tool")
    registered = server()
    registered.add_tool(with_context, name="tool")
    registered.add_tool(plain, name="tool")
    assert gets_context(registered, "tool")
