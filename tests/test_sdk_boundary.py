"""The SDK-boundary check itself (tests/sdk_boundary.py): it finds each kind of breach."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.sdk_boundary import import_violations, reach_violations, sdk_boundary_violations

BREACHES = [
    ("from mcp.server._streamable_http_modern import handle_modern_request", "private module"),
    ("from mcp.server.runner import _dump_result", "private name"),
    ("from mcp_types._v2026_07_28 import CallToolResult", "private module"),
    ("import mcp.server._otel", "private module"),
]
REACHES = [
    ("server._tool_manager.call_tool()", "private attribute"),
    ("route.app = wrapper", "assigns attribute route.app"),
    ("app.router.lifespan_context = lifespan", "assigns attribute app.router.lifespan_context"),
    ("holder.app += 1", "assigns attribute holder.app"),
]
FINE = [
    "from mcp.server.mcpserver import MCPServer",
    "import mcp.server.runner",
    "class Box:\n    value = 1\n\nBox.value = 2",
    "class A:\n    def f(self):\n        self._x = 1\n        return self._x",
    "from collections import namedtuple",
    "x = obj.__class__",
    "url = urlsplit(u)._replace(path='/x')",
    "logger.propagate = False",
]


@pytest.mark.parametrize(("source", "what"), BREACHES)
def test_private_imports_are_found(source: str, what: str) -> None:
    hits = import_violations(ast.parse(source))
    assert len(hits) == 1 and what in hits[0][1], hits


@pytest.mark.parametrize(("source", "what"), REACHES)
def test_reaching_in_is_found(source: str, what: str) -> None:
    hits = reach_violations(ast.parse(source))
    assert len(hits) == 1 and what in hits[0][1], hits


@pytest.mark.parametrize("source", FINE)
def test_public_use_passes(source: str) -> None:
    tree = ast.parse(source)
    assert import_violations(tree) + reach_violations(tree) == []


def test_a_project_is_checked_where_each_rule_applies(tmp_path: Path) -> None:
    """Imports are checked everywhere; reaching in only in the server's own code (src/)."""
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "app.py").write_text("route.app = 1\n")
    (tmp_path / "tests" / "test_x.py").write_text(
        "from mcp.server.runner import _dump_result\ncache._l1 = {}\n"
    )
    (tmp_path / ".venv" / "lib" / "sdk.py").write_text("from mcp._x import y\n")
    assert sdk_boundary_violations(tmp_path) == [
        "src/pkg/app.py:1: assigns attribute route.app",
        "tests/test_x.py:1: imports private name _dump_result from mcp.server.runner",
    ]
