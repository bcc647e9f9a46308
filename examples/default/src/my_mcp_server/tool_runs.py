"""A registered tool run as `MCPServer.call_tool` runs it, without its per-call private reads.

`MCPServer.call_tool` is `Tool.run(..., convert_result=True)` on the tool its manager holds. For
a tool with an output model, the conversion checks the result against that model through a
`TypeAdapter` that `FuncMetadata` keeps in a pydantic private attribute; pydantic reads such an
attribute through two raised and caught `AttributeError`s (pydantic/pydantic#12081), and the
conversion reads it three times a call: more than the check itself costs.

`ToolRunner` runs the tool with the conversion left out (`Tool.run(..., convert_result=False)`)
and converts after it, as the SDK does, with an adapter of the same output model kept here in a
plain dict: the same `TypeAdapter(output_model)` the SDK builds, so the same verdict and the
same structured content. A returned `CallToolResult` is checked; any other value becomes its
content blocks and its validated, dumped structured content. A tool without an output model
(whose conversion reads no adapter), or whose model the SDK rebuilds, gets the SDK's own
`FuncMetadata.convert_result`. A returned result declared never changed (`never_changed`,
tool_results.py) is checked once: its content cannot change, so neither can the verdict. A
failure of the conversion is raised as `Tool.run` raises it from inside its own. tests/test_tool_runs.py holds the runner to `Tool.run`'s results and errors for
every kind of return value, and the executor's differential tests to the SDK's bytes.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any, is_typeddict

import pydantic_core
from mcp.server.mcpserver import Audio, Context, Image
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ToolError,
    UnexpectedResourceError,
    UnexpectedToolError,
)
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ContentBlock, InputRequiredResult, TextContent
from pydantic import BaseModel, TypeAdapter

from my_mcp_server.memos import BuiltPerObject
from my_mcp_server.tool_results import is_never_changed

# Results declared never changed that passed their check, kept at most.
_PASSED_MAX = 4096


class ToolRunner:
    """Runs registered tools as `MCPServer.call_tool` would (see the module's docstring)."""

    def __init__(self) -> None:
        # Output model -> its adapter. Keyed by the model, as the SDK's own is: a model
        # reassigned on the tool's metadata gets an adapter of its own.
        self._adapters: dict[Any, TypeAdapter[Any]] = {}
        # (id of a result declared never changed, an adapter whose check it passed) -> None
        self._passed = BuiltPerObject[tuple[int, TypeAdapter[Any]], CallToolResult, None](
            _PASSED_MAX
        )

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
        """Twin of `FuncMetadata.convert_result` for a tool with an output model; the SDK's own
        conversion for a tool without one (it reads no adapter) or for a model it rebuilds."""
        metadata = tool.fn_metadata
        if isinstance(result, InputRequiredResult):
            return result
        # A schema published without a model is advertised but not checked, as in the SDK.
        model = metadata.output_model if metadata.output_schema is not None else None
        adapter = None if model is None else self._adapter(model)
        if adapter is None:
            return metadata.convert_result(result)
        if isinstance(result, CallToolResult):
            if not result.is_error:
                self._check(adapter, result)
            return result
        content = content_blocks(result)
        if metadata.wrap_output:
            result = {"result": result}
        # The tool hands back Python-side names; the wire (and outputSchema) use aliases.
        validated = adapter.validate_python(result, by_alias=True, by_name=True)
        if isinstance(validated, BaseModel):
            # Dumped by the instance, so a returned subclass keeps its own fields.
            structured = validated.model_dump(mode="json", by_alias=True)
        else:
            structured = adapter.dump_python(validated, mode="json", by_alias=True)
        return CallToolResult(content=content, structured_content=structured)

    def _check(self, adapter: TypeAdapter[Any], result: CallToolResult) -> None:
        """`result`'s structured content checked against the output model (raises if it fails);
        once for a result declared never changed."""
        if is_never_changed(result):
            self._passed.get((id(result), adapter), result, partial(_validate, adapter))
        else:
            _validate(adapter, result)

    def _adapter(self, model: Any) -> TypeAdapter[Any] | None:
        """The SDK's adapter for `model`, built once; None for a model the SDK rebuilds."""
        adapter = self._adapters.get(model)
        if adapter is None:
            if _rebuilt_by_the_sdk(model):
                return None
            adapter = self._adapters[model] = TypeAdapter(model)
        return adapter


def _validate(adapter: TypeAdapter[Any], result: CallToolResult) -> None:
    adapter.validate_python(result.structured_content)


def content_blocks(result: Any) -> list[ContentBlock]:
    """Twin of the SDK's `_convert_to_content`: a tool's return value as content blocks."""
    if result is None:
        return []
    if isinstance(result, ContentBlock):
        return [result]
    if isinstance(result, Image):
        return [result.to_image_content()]
    if isinstance(result, Audio):
        return [result.to_audio_content()]
    if isinstance(result, list | tuple):
        return [block for item in result for block in content_blocks(item)]
    if not isinstance(result, str):
        result = pydantic_core.to_json(result, fallback=str, indent=2).decode()
    return [TextContent(type="text", text=result)]


def _rebuilt_by_the_sdk(model: Any) -> bool:
    """Whether the SDK checks against a rebuilt copy of `model` instead of `model` itself: a
    `typing.TypedDict` below Python 3.12, which pydantic cannot read there."""
    return sys.version_info < (3, 12) and is_typeddict(model) and type(model).__module__ == "typing"
