"""Where the time goes: py-spy's collapsed stacks summed by function and grouped by origin.

Pure logic (no py-spy, no server), shared by `make profile` and `make perf-report`.
A collapsed line is `frame;frame;...;leaf count`; a frame is `function (path)` with the path
relative to its sys.path entry (`mcp/server/lowlevel/server.py`), so the first path component
names the top-level package the frame's code belongs to.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

YOUR_CODE = "your code"
MCP_SDK = "MCP SDK"
WEB_STACK = "web stack"
DRIVERS = "drivers"
OTHER = "other"
GROUPS = (YOUR_CODE, MCP_SDK, WEB_STACK, DRIVERS, OTHER)

_MCP = {"mcp", "mcp_types"}
_WEB = {"starlette", "uvicorn", "httptools", "anyio", "pydantic", "pydantic_core", "uvloop", "h11"}
_WEB |= {"sse_starlette", "orjson"}
_DRIVERS = {"asyncpg", "aiosqlite", "sqlite3", "redis", "httpx", "httpcore"}

_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*)\)$")


def group_of(path: str, package: str) -> str:
    """The group of a frame's file: `path` as py-spy prints it, `package` the project's package."""
    parts = [part for part in re.split(r"[/\\]", path) if part and part != "."]
    if "site-packages" in parts:  # a full path: what follows site-packages is the import path
        parts = parts[parts.index("site-packages") + 1 :]
    top = parts[0].removesuffix(".py") if parts else ""
    if top == package or package in parts:
        return YOUR_CODE
    if top in _MCP:
        return MCP_SDK
    if top in _WEB:
        return WEB_STACK
    if top in _DRIVERS:
        return DRIVERS
    return OTHER


def leaf_counts(lines: Iterable[str]) -> Counter[str]:
    """Samples per leaf frame (the function on the CPU: its own time) from collapsed stacks."""
    counts: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        counts[stack.rsplit(";", 1)[-1]] += int(count)
    return counts


@dataclass(frozen=True)
class FunctionTime:
    function: str
    path: str
    group: str
    samples: int
    share: float


@dataclass(frozen=True)
class Profile:
    total: int
    by_group: dict[str, int]
    top: list[FunctionTime]

    def share(self, group: str) -> float:
        return self.by_group.get(group, 0) / self.total if self.total else 0.0


def summarize(lines: Iterable[str], package: str, top_n: int = 15) -> Profile:
    """Own time by group and the `top_n` functions by own time."""
    counts = leaf_counts(lines)
    total = sum(counts.values())
    by_group: Counter[str] = Counter()
    functions: list[FunctionTime] = []
    for frame, samples in counts.items():
        match = _FRAME.match(frame)
        function, path = (match["function"], match["path"]) if match else (frame, "")
        group = group_of(path, package)
        by_group[group] += samples
        functions.append(FunctionTime(function, path, group, samples, samples / total))
    functions.sort(key=lambda f: (-f.samples, f.function))
    return Profile(total, {g: by_group[g] for g in GROUPS}, functions[:top_n])


def render_markdown(profile: Profile) -> list[str]:
    """The grouped table and the top functions, as Markdown lines."""
    lines = [
        f"Own time (CPU samples: {profile.total}) by where the code comes from:",
        "",
        "| group | own time |",
        "| --- | ---: |",
        *(f"| {group} | {profile.share(group):.1%} |" for group in GROUPS),
        "",
        f"Top {len(profile.top)} functions by own time:",
        "",
        "| function | file | group | own time |",
        "| --- | --- | --- | ---: |",
        *(f"| `{f.function}` | {f.path} | {f.group} | {f.share:.1%} |" for f in profile.top),
    ]
    return lines
