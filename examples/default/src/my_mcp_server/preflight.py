"""Reach each service a command needs once before it starts, and turn a failure into one line.

The line names the setting, what was wrong and the command that fixes it; the command then exits
with status 1 and no traceback (`ServiceUnavailableError` is a SystemExit). Outages after start-up
are handled where the service is used (retries, the cache's breaker).
"""

from my_mcp_server.settings import Settings

ENV_PREFIX = "MY_MCP_SERVER_"


class ServiceUnavailableError(SystemExit):
    """Exits the command with `<SETTING>: <what was wrong>; <fix>` on stderr."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"{ENV_PREFIX}{setting}: {problem}; {fix}")


async def check_services(settings: Settings, *, create_database: bool = False) -> None:
    """Every service this project is configured with, once (SQLite needs no server)."""
    del settings, create_database  # nothing to reach
