"""A tool run by `ToolRunner` (tool_runs.py) against the same tool run by the SDK.

For every kind of result a tool can return, and every way its conversion can fail, the runner
must give what `Tool.run(..., convert_result=True)` gives: an equal result, or an exception of
the same type with the same message.
"""

import typing
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
import typing_extensions
from mcp.server.mcpserver import Audio, Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, TextContent
from pydantic import BaseModel, Field, PlainSerializer, field_validator

from my_mcp_server.tool_contexts import ContextAwareServer
from my_mcp_server.tool_results import never_changed
from my_mcp_server.tool_runs import ToolRunner

TEXT = [TextContent(type="text", text="t")]


class Point(BaseModel):
    x: int


class Strict(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def small(cls, x: int) -> int:
        if x > 9:
            raise ToolError(f"{x} is too large")
        return x


class Crashing(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def crash(cls, x: int) -> int:
        if x < 0:
            raise KeyError("negative")
        return x


class StdlibPoint(typing.TypedDict):
    x: int


class ExtPoint(typing_extensions.TypedDict):
    x: int


class Stamped(typing_extensions.TypedDict):
    when: datetime


def result(content: Any, *, is_error: bool = False) -> CallToolResult:
    return CallToolResult(content=TEXT, structured_content=content, is_error=is_error)


async def model_ok() -> Annotated[CallToolResult, Point]:
    return result({"x": 1})


async def model_violated() -> Annotated[CallToolResult, Point]:
    return result({"x": "not a number"})


async def model_missing() -> Annotated[CallToolResult, Point]:
    return result(None)


async def error_unchecked() -> Annotated[CallToolResult, Point]:
    return result({"x": "not a number"}, is_error=True)


async def validator_tool_error() -> Annotated[CallToolResult, Strict]:
    return result({"x": 10})


async def validator_crash() -> Annotated[CallToolResult, Crashing]:
    return result({"x": -1})


async def stdlib_typeddict_violated() -> Annotated[CallToolResult, StdlibPoint]:
    return result({"x": "no"})


async def stdlib_typeddict_ok() -> Annotated[CallToolResult, StdlibPoint]:
    return result({"x": 2})


async def extensions_typeddict_violated() -> Annotated[CallToolResult, ExtPoint]:
    return result({"x": "no"})


async def unmodelled() -> CallToolResult:
    return result({"anything": [1.5]})


async def returns_model() -> Point:
    return Point(x=3)


async def returns_invalid_dict() -> Point:
    return {"x": "no"}  # type: ignore[return-value]


async def returns_text() -> str:
    return "plain"


async def returns_list() -> list[Point]:
    return [Point(x=1), Point(x=2)]


class Aliased(BaseModel):
    item_count: int = Field(alias="itemCount")
    when: datetime


class Token:
    """Not JSON to pydantic_core, except through `str`."""

    def __str__(self) -> str:
        return "token"


Tokens = dict[str, Annotated[Any, PlainSerializer(str)]]


class PointWithLabel(Point):
    label: str


async def returns_aliased() -> Aliased:
    return Aliased.model_validate({"itemCount": 2, "when": datetime(2026, 1, 2, tzinfo=UTC)})


async def returns_aliased_by_name() -> Aliased:
    return {"item_count": 2, "when": "2026-01-02T03:04:05Z"}  # type: ignore[return-value]


async def returns_subclass() -> Point:
    return PointWithLabel(x=1, label="kept")


async def returns_int() -> int:
    return 7


async def returns_wrong_int() -> int:
    return "seven"  # type: ignore[return-value]


async def returns_datetime() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def returns_stamped() -> Stamped:
    return {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}


async def returns_tokens() -> Tokens:
    return {"a": Token()}


async def returns_tuple() -> tuple[int, str]:
    return (1, "a")


async def returns_optional_none() -> Point | None:
    return None


async def returns_dict() -> dict[str, float]:
    return {"a": 1.5, "b": 1e-07}


async def returns_typeddict() -> ExtPoint:
    return {"x": 4}


async def returns_stdlib_typeddict() -> StdlibPoint:
    return {"x": 4}


async def returns_content_blocks() -> list[TextContent]:
    return [TextContent(type="text", text="a"), TextContent(type="text", text="b")]


async def returns_unserializable() -> Any:
    return {"set": {1}, "object": object.__name__}


async def returns_image() -> Image:
    return Image(data=b"\x89PNG", format="png")


MEDIA = [
    Image(data=b"\x89PNG", format="png"),
    Audio(data=b"RIFF", format="wav"),
    TextContent(type="text", text="a block"),
]


async def returns_media_as_structured() -> list[Annotated[Any, PlainSerializer(str)]]:
    return MEDIA


async def returns_input_required_too() -> Point | InputRequiredResult:
    return InputRequiredResult(request_state="round-1")


async def needs_input() -> InputRequiredResult:
    return InputRequiredResult(request_state="round-1")


async def crashes() -> Annotated[CallToolResult, Point]:
    raise RuntimeError("inside")


TOOLS = [
    model_ok,
    model_violated,
    model_missing,
    error_unchecked,
    validator_tool_error,
    validator_crash,
    stdlib_typeddict_violated,
    stdlib_typeddict_ok,
    extensions_typeddict_violated,
    unmodelled,
    returns_model,
    returns_invalid_dict,
    returns_text,
    returns_list,
    returns_aliased,
    returns_aliased_by_name,
    returns_subclass,
    returns_int,
    returns_wrong_int,
    returns_datetime,
    returns_tokens,
    returns_stamped,
    returns_tuple,
    returns_optional_none,
    returns_dict,
    returns_typeddict,
    returns_stdlib_typeddict,
    returns_content_blocks,
    returns_unserializable,
    returns_image,
    returns_media_as_structured,
    returns_input_required_too,
    needs_input,
    crashes,
]


async def outcome(run: Any) -> tuple[str, Any]:
    try:
        return "result", await run()
    except Exception as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.anyio
@pytest.mark.parametrize("fn", TOOLS, ids=[fn.__name__ for fn in TOOLS])
async def test_the_runner_gives_what_the_sdks_conversion_gives(fn: Any) -> None:
    tool = Tool.from_function(fn)
    context: Context[Any, Any] = Context()
    runner = ToolRunner()
    for _ in range(2):  # the second run uses the adapter the first one kept
        ours = await outcome(lambda: runner.run(tool, {}, context))
        sdks = await outcome(lambda: tool.run({}, context, convert_result=True))
        assert ours == sdks


@pytest.mark.anyio
async def test_a_reassigned_output_model_is_checked_against_the_new_one() -> None:
    tool = Tool.from_function(model_ok)
    context: Context[Any, Any] = Context()
    runner = ToolRunner()
    assert (await outcome(lambda: runner.run(tool, {}, context)))[0] == "result"

    class NeedsY(BaseModel):
        y: int

    tool.fn_metadata.output_model = NeedsY
    ours = await outcome(lambda: runner.run(tool, {}, context))
    assert ours == await outcome(lambda: tool.run({}, context, convert_result=True))
    assert ours[0] == "UnexpectedToolError"


class Counted(BaseModel):
    """An output model whose check leaves a trace."""

    x: int

    @field_validator("x")
    @classmethod
    def counted(cls, value: int) -> int:
        CHECKED.append(value)
        return value


CHECKED: list[int] = []


@pytest.mark.anyio
async def test_a_result_declared_never_changed_is_checked_against_its_model_once() -> None:
    kept = never_changed(result({"x": 1}))

    async def returns_kept() -> Annotated[CallToolResult, Counted]:
        return kept

    async def returns_undeclared() -> Annotated[CallToolResult, Counted]:
        return result({"x": 2})

    context: Context[Any, Any] = Context()
    runner = ToolRunner()
    CHECKED.clear()
    for fn in (returns_kept, returns_undeclared):
        tool = Tool.from_function(fn)
        for _ in range(3):
            assert await runner.run(tool, {}, context) == await fn()
    assert CHECKED == [1, 2, 2, 2]
    # A result not declared so is checked every time, even when the same object comes back.
    changing = result({"x": 3})

    async def returns_changing() -> Annotated[CallToolResult, Counted]:
        return changing

    tool = Tool.from_function(returns_changing)
    await runner.run(tool, {}, context)
    changing.structured_content = {"x": "three"}
    with pytest.raises(UnexpectedToolError):
        await runner.run(tool, {}, context)
    # Checked again against another model: what passed one may not pass the next.
    tool = Tool.from_function(returns_kept)

    class NeedsY(BaseModel):
        y: int

    tool.fn_metadata.output_model = NeedsY
    with pytest.raises(UnexpectedToolError):
        await runner.run(tool, {}, context)


def test_the_registered_tool_is_the_one_call_tool_runs() -> None:
    server: ContextAwareServer[Any] = ContextAwareServer("test")
    assert server.registered_tool("tool") is None
    server.add_tool(model_ok, name="tool")
    server.add_tool(returns_text, name="tool")  # the SDK keeps the first (and warns)
    registered = server.registered_tool("tool")
    assert registered is not None
    assert registered.fn is model_ok
    server.remove_tool("tool")
    assert server.registered_tool("tool") is None
    built = Tool.from_function(returns_model)
    assert ContextAwareServer("test", tools=[built]).registered_tool("returns_model") is built


def test_a_server_whose_call_tool_is_overridden_has_no_registered_tools() -> None:
    class Overriding(ContextAwareServer[Any]):
        async def call_tool(self, *args: Any, **kwargs: Any) -> Any:
            return await MCPServer.call_tool(self, *args, **kwargs)

    server = Overriding("test")
    server.add_tool(model_ok)
    assert server.registered_tool("model_ok") is None
