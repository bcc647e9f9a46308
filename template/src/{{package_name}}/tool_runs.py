"""A registered tool run as `MCPServer.call_tool` runs it, without its per-call private reads.

`MCPServer.call_tool` is `Tool.run(..., convert_result=True)` on the tool its manager holds; the
conversion checks a returned `CallToolResult`'s structured content against the tool's output
model through a `TypeAdapter` that `FuncMetadata` keeps in a pydantic private attribute. pydantic
reads such an attribute through two raised and caught `AttributeError`s (pydantic/pydantic#12081),
and the conversion reads it three times a call: more than the check itself costs.

`ToolRunner` runs the tool with the conversion left out (`Tool.run(..., convert_result=False)`)
and converts after it. A `CallToolResult` is checked with an adapter of the same output model
kept here in a plain dict: the same `TypeAdapter(output_model)` the SDK builds, so the same
verdict. Every other result (a model, a list, text, an `InputRequiredResult`) goes to the SDK's
own `FuncMetadata.convert_result`. A failure of the conversion is raised as `Tool.run` raises it
from inside its own conversion. The tools/call executor's differential tests hold the two to
the same bytes (tests/test_fast_path.py).
"""

from __future__ import annotations

import sys
from typing import Any, is_typeddict

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ToolError,
    UnexpectedResourceError,
    UnexpectedToolError,
)
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import TypeAdapter


class ToolRunner:
    """Runs registered tools as `MCPServer.call_tool` would (see the module's docstring)."""

    def __init__(self) -> None:
        # Output model -> its adapter. Keyed by the model, as the SDK's own is: a model
        # reassigned on the tool's metadata gets an adapter of its own.
        self._adapters: dict[Any, TypeAdapter[Any]] = {}

    async def run(
        self, tool: Tool, arguments: dict[str, Any], context: Context[Any, Any]
    ) -> CallToolResult | InputRequiredResult:
        result = await tool.run(arguments, context, convert_result=False)
        try:
            return self._converted(tool, result)
        # Twin of `Tool.run`'s handling of a failure inside its conversion.
        except MCPError:
            raise
        except (UnexpectedToolError, UnexpectedResourceError) as exc:
            raise UnexpectedToolError(f"Error executing tool {tool.name}: {exc}") from exc
        except (ToolError, ResourceError) as exc:
            raise ToolError(f"Error executing tool {tool.name}: {exc}") from exc
        except Exception as exc:
            raise UnexpectedToolError(f"Error executing tool {tool.name}") from exc

    def _converted(self, tool: Tool, result: Any) -> CallToolResult | InputRequiredResult:
        """Twin of `FuncMetadata.convert_result` for a returned `CallToolResult`; the SDK's own
        conversion for anything else."""
        metadata = tool.fn_metadata
        if not isinstance(result, CallToolResult):
            return metadata.convert_result(result)
        # A schema published without a model is advertised but not checked, as in the SDK.
        model = metadata.output_model if metadata.output_schema is not None else None
        if model is None or result.is_error:
            return result
        adapter = self._adapters.get(model)
        if adapter is None:
            if _rebuilt_by_the_sdk(model):
                return metadata.convert_result(result)
            adapter = self._adapters[model] = TypeAdapter(model)
        adapter.validate_python(result.structured_content)
        return result


def _rebuilt_by_the_sdk(model: Any) -> bool:
    """Whether the SDK checks against a rebuilt copy of `model` instead of `model` itself: a
    `typing.TypedDict` below Python 3.12, which pydantic cannot read there."""
    return sys.version_info < (3, 12) and is_typeddict(model) and type(model).__module__ == "typing"
