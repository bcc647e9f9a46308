"""Which tools read the request's `Context`: the tools/call executor builds one only for those.

Through the SDK's entry every tools/call builds a `Context` (a pydantic model, validated on each
call) whether or not the tool looks at it. A tool sees it only through a parameter annotated
`Context` or through a resolver (`Resolve(...)`); for any other tool, `MCPServer.call_tool`
never reads it. `ContextAwareServer` is an `MCPServer` that notes, for each tool as it is
registered, whether it has either, using the SDK's own `Tool.from_function` to tell; the
executor calls the other tools with one request-less `Context` built once, the same kind
`call_tool` makes for itself when given none. A tool the server did not see registered (or one
registered again under a name already taken, which the SDK ignores) counts as reading it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.lowlevel.server import LifespanResultT
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_types import Icon, ToolAnnotations


def _reads_context(tool: Tool) -> bool:
    return tool.context_kwarg is not None or bool(tool.resolved_params)


class ContextAwareServer(MCPServer[LifespanResultT]):
    """An `MCPServer` that can say whether calling a tool may read the request's `Context`."""

    def __init__(self, *args: Any, tools: list[Tool] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, tools=tools, **kwargs)
        # Tool name -> whether it reads the Context; the first registration of a name wins, as
        # in the SDK's tool manager.
        self._context_readers: dict[str, bool] = {}
        for tool in tools or ():
            self._context_readers.setdefault(tool.name, _reads_context(tool))

    def reads_context(self, name: str) -> bool:
        """False only for a tool registered here that has no Context parameter and no resolver."""
        return self._context_readers.get(name, True)

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
        # What the SDK just built from `fn`, built again: its own reading of the signature.
        tool = Tool.from_function(fn, name=name, structured_output=structured_output)
        self._context_readers.setdefault(tool.name, _reads_context(tool))

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self._context_readers.pop(name, None)
