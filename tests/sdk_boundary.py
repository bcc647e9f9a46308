"""The generated code stays on the mcp SDK's public API: what a rendered project must not contain.

Rules, by the code's AST (comments and docstrings may name private things to explain a twin):
- no import from a module the SDK calls private (a path component starting with `_`), and no
  imported name starting with `_`, from `mcp` or `mcp_types` (any file);
- in the server's own code (`src/`): no attribute starting with `_` read from anything but
  `self` / `cls` (how private SDK state is reached: `server._tool_manager`), and no assignment to
  an attribute of an object the module does not own (how SDK objects get patched:
  `route.app = ...`, `app.router.lifespan_context = ...`).
"""

from __future__ import annotations

import ast
from pathlib import Path

SDK_PACKAGES = ("mcp", "mcp_types")
OWN = ("self", "cls")
# Attributes of other libraries' objects that their own APIs tell you to set.
SETTABLE = {
    "row_factory",  # sqlite3 / aiosqlite: how rows come back
    "propagate",  # logging.Logger: whether records reach the parent's handlers
}
# Public methods that start with an underscore: namedtuple's (urllib's SplitResult is one).
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_sdk(module: str) -> bool:
    return module.split(".")[0] in SDK_PACKAGES


def import_violations(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _is_sdk(node.module):
            if any(_private(part) for part in node.module.split(".")):
                found.append((node.lineno, f"imports from private module {node.module}"))
            found += [
                (node.lineno, f"imports private name {alias.name} from {node.module}")
                for alias in node.names
                if _private(alias.name)
            ]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"imports private module {alias.name}")
                for alias in node.names
                if _is_sdk(alias.name) and any(_private(p) for p in alias.name.split("."))
            ]
    return found


def reach_violations(tree: ast.AST) -> list[tuple[int, str]]:
    """Private attributes read off, and attributes assigned on, objects the code does not own."""
    owned = set(OWN) | {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        reads_own = isinstance(node, ast.Attribute) and (
            isinstance(node.value, ast.Name) and node.value.id in OWN
        )
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and node.attr not in NAMEDTUPLE_API
            and not reads_own
        ):
            found.append((node.lineno, f"reaches private attribute {ast.unparse(node)}"))
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr not in SETTABLE
                and not (isinstance(target.value, ast.Name) and target.value.id in owned)
            ):
                found.append((node.lineno, f"assigns attribute {ast.unparse(target)}"))
    return found


def sdk_boundary_violations(project: Path) -> list[str]:
    """Every breach of the rules above in a rendered project, as `path:line: what`."""
    found: list[str] = []
    for path in sorted(project.rglob("*.py")):
        rel = path.relative_to(project)
        if ".venv" in rel.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(rel))
        hits = import_violations(tree)
        if rel.parts[0] == "src":
            hits += reach_violations(tree)
        found += [f"{rel}:{line}: {what}" for line, what in sorted(hits)]
    return found
