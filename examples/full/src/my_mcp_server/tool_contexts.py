"""The server's tools as registered: which read the request's `Context`, and the `Tool` itself.

Through the SDK's entry every tools/call builds a `Context` (a pydantic model, validated on each
call) whether or not the tool looks at it. A tool sees it only through a parameter annotated
`Context` or through a resolver (`Resolve(...)`); for any other tool, `MCPServer.call_tool`
never reads it. `ContextAwareServer` is an `MCPServer` that keeps, for each tool as it is
registered, the `Tool` the SDK's tool manager builds from it (the SDK's own `Tool.from_function`
with the same arguments, or the `Tool` handed to the constructor). The executor calls a tool that
reads neither with one request-less `Context` built once, the same kind `call_tool` makes for
itself when given none, and runs a registered tool directly (tool_runs.py) unless a subclass
changed what `call_tool` does. A tool the server did not see registered (or one registered
again under a name already taken, which the SDK ignores) counts as reading it and is called
through `call_tool`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.lowlevel.server import LifespanResultT
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_types import Icon, ToolAnnotations


def reads_context(tool: Tool | None) -> bool:
    """Whether calling `tool` may read the request's `Context`; None (a tool the server did not
    see registered, see `ContextAwareServer.registered_tool`) counts as reading it."""
    return tool is None or tool.context_kwarg is not None or bool(tool.resolved_params)


class ContextAwareServer(MCPServer[LifespanResultT]):
    """An `MCPServer` that can say whether calling a tool may read the request's `Context`."""

    def __init__(self, *args: Any, tools: list[Tool] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, tools=tools, **kwargs)
        # Tool name -> the tool; the first registration of a name wins, as in the SDK's tool
        # manager.
        self._registered: dict[str, Tool] = {}
        for tool in tools or ():
            self._registered.setdefault(tool.name, tool)
        # A subclass that changes what `call_tool` does may run something else for a name.
        self._runs_registered = type(self).call_tool is MCPServer.call_tool

    def registered_tool(self, name: str) -> Tool | None:
        """The tool `call_tool` would run for `name`, while `call_tool` is MCPServer's own."""
        return self._registered.get(name) if self._runs_registered else None

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        super().add_tool(
            fn,
            name=name,
            title=title,
            description=description,
            annotations=annotations,
            icons=icons,
            meta=meta,
            structured_output=structured_output,
        )
        # What the SDK's tool manager just built from `fn`, built again with the same arguments.
        tool = Tool.from_function(
            fn,
            name=name,
            title=title,
            description=description,
            annotations=annotations,
            icons=icons,
            meta=meta,
            structured_output=structured_output,
        )
        self._registered.setdefault(tool.name, tool)

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self._registered.pop(name, None)
