"""The naive server `make perf-report` measures the optimized one against: the project's own app,
CLI and settings, with a new database connection for every call
instead of the pool (naive_db.py), caching off.

    python -m loadtest.naive_server serve --port 8100   # the project's CLI, options and settings
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from my_mcp_server.__main__ import main as project_main

from loadtest.run import ENV_PREFIX

if TYPE_CHECKING:
    from starlette.applications import Starlette

DESCRIPTION = "caching off, a new database connection per call (the naive server)"
FACTORY = "loadtest.naive_server:create_app"


def create_app() -> Starlette:
    """What each worker serves: the project's app on `ConnectionPerCall`."""
    # Imported here, in the worker: perf-report imports this module for DESCRIPTION alone, and
    # the app would load the MCP SDK into it.
    from my_mcp_server.app import create_app as create_project_app
    from my_mcp_server.resources import Resources
    from my_mcp_server.settings import Settings

    from loadtest.naive_db import ConnectionPerCall

    settings = Settings()
    return create_project_app(settings, Resources(settings, database_type=ConnectionPerCall))


def main(argv: Sequence[str] | None = None) -> None:
    # An operator's switch, set before anything reads the settings (start-up line, workers).
    os.environ[ENV_PREFIX + "CACHE_ENABLED"] = "false"
    project_main(argv, factory=FACTORY)


if __name__ == "__main__":
    main()
